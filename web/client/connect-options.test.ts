import { describe, expect, it } from "vitest";
import { clientOptions, connectUrl, defaultSettings, generateClientId, jwtClaims, settingsProblems, tokenUser } from "./connect-options.js";

const here = { protocol: "https:", host: "broker.example.workers.dev" };
const b64url = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
const jwt = (claims: object) => `${b64url({ alg: "HS256" })}.${b64url(claims)}.sig`;

describe("connect settings", () => {
  it("default to this broker's own wss URL, a fresh id, MQTT 5, keepalive 60", () => {
    const s = defaultSettings(here, "web-1");
    expect(s.url).toBe("wss://broker.example.workers.dev/mqtt");
    expect(defaultSettings({ protocol: "http:", host: "127.0.0.1:8787" }).url).toBe("ws://127.0.0.1:8787/mqtt");
    expect(s).toMatchObject({ clientId: "web-1", version: 5, keepalive: 60, clean: true, direct: true });
    expect(generateClientId()).toMatch(/^web-[0-9a-f]{10}$/);
  });

  it("use the direct ?clientId= path unless off or the id is empty", () => {
    const s = defaultSettings(here, "a b/c");
    expect(connectUrl(s)).toBe("wss://broker.example.workers.dev/mqtt?clientId=a+b%2Fc");
    expect(connectUrl({ ...s, direct: false })).toBe("wss://broker.example.workers.dev/mqtt");
    expect(connectUrl({ ...s, clientId: "" })).toBe("wss://broker.example.workers.dev/mqtt");
  });

  it("send a token as Authentication Method JWT (5.0) or as the password with the token's subject (3.1.1)", () => {
    const token = jwt({ sub: "alice", exp: 1 });
    expect(jwtClaims(token)).toEqual({ sub: "alice", exp: 1 });
    expect(tokenUser(token)).toBe("alice");
    const v5 = clientOptions({ ...defaultSettings(here, "c"), auth: "token", token });
    expect(v5.properties).toEqual({ authenticationMethod: "JWT", authenticationData: token });
    expect(v5.username).toBe("alice");
    expect(v5.password).toBeUndefined();
    const v4 = clientOptions({ ...defaultSettings(here, "c"), version: 4, auth: "token", token });
    expect(v4).toMatchObject({ username: "alice", password: token, protocolVersion: 4 });
    expect(v4.properties).toBeUndefined();
  });

  it("carry the will, session expiry and keepalive; reconnecting is the page's own", () => {
    const s = defaultSettings(here, "c");
    const o = clientOptions({ ...s, keepalive: 30, sessionExpiry: 300, will: { enabled: true, topic: "w/t", qos: 1, retain: true, payload: "gone", delay: 5 } });
    expect(o).toMatchObject({ keepalive: 30, reconnectPeriod: 0, resubscribe: false, properties: { sessionExpiryInterval: 300 } });
    expect(o.will).toEqual({ topic: "w/t", payload: "gone", qos: 1, retain: true, properties: { willDelayInterval: 5 } });
    expect(typeof o.createWebsocket).toBe("function");
  });

  it("explain what stops a connect", () => {
    const s = defaultSettings(here, "c");
    expect(settingsProblems(s)).toEqual([]);
    expect(settingsProblems({ ...s, url: "http://x/mqtt" })).toEqual(["the URL must start with ws:// or wss://"]);
    expect(settingsProblems({ ...s, auth: "token", token: "nope" })).toEqual(["the token is not a JWT (three base64url parts)"]);
    expect(settingsProblems({ ...s, auth: "password", username: "", password: "p" })[0]).toMatch(/user name/);
    expect(settingsProblems({ ...s, will: { ...s.will, enabled: true, topic: "a/#" } })[0]).toMatch(/^will topic/);
    expect(settingsProblems({ ...s, version: 4, auth: "token", token: jwt({ exp: 1 }) })[0]).toMatch(/sub claim/);
  });
});
