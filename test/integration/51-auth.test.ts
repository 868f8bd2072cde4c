/**
 * Authentication and authorization end to end, with real clients over WebSocket and through the
 * gateway, MQTT 3.1.1 and 5.0: a mosquitto password file made by `mosquitto_passwd`, JWTs (HS256
 * secret, inline JWKS), a mosquitto acl_file with %u and %c, MQTT 5 re-authentication and token
 * expiry. Anonymous clients are refused (the deployed default).
 */
import { readFileSync } from "node:fs";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import type mqttPacket from "mqtt-packet";
import type { Packet } from "mqtt-packet";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Broker, startBroker } from "../helpers/broker.js";
import { collect, connect, connectPacket, quiet, RawClient, uniqueId } from "../helpers/clients.js";
import { startTestGateway, type TestGateway } from "../helpers/gateway.js";

const PASSWORD_FILE = readFileSync(new URL("../../src/auth/fixtures/mosquitto-2.0.11.passwd", import.meta.url), "utf8");
const SECRET = "a-test-secret-of-at-least-32-bytes-long";
const ACL_FILE = [
  "# alice: her own tree; everyone: their client id's tree; nobody reads secrets",
  "user alice",
  "topic readwrite alice/#",
  "topic read shared/#",
  "topic deny shared/secret",
  "user tok-user",
  "topic write shared/#",
  "pattern readwrite clients/%c/#",
  "pattern read users/%u/#",
].join("\n");

let broker: Broker;
let gateway: TestGateway;
beforeAll(async () => {
  broker = await startBroker({ vars: { ALLOW_ANONYMOUS: "false", PASSWORD_FILE, ACL_FILE, JWT_SECRET: SECRET, JWT_AUDIENCE: "mqtt-broker" } });
  gateway = await startTestGateway(broker);
});
afterAll(async () => {
  await gateway.stop();
  await broker.stop();
});

const key = new TextEncoder().encode(SECRET);
function token(claims: Record<string, unknown> = {}, opts: { exp?: number | string; aud?: string; key?: Uint8Array } = {}) {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(String(claims.sub ?? "tok-user"))
    .setAudience(opts.aud ?? "mqtt-broker")
    .setIssuedAt()
    .setExpirationTime(opts.exp ?? "1h")
    .sign(opts.key ?? key);
}

/** The CONNACK code a raw client gets for these credentials (3.1.1 return code or 5.0 reason code). */
async function connackCode(version: 4 | 5, credentials: { username?: string; password?: string }, extra: Partial<mqttPacket.IConnectPacket> = {}): Promise<number> {
  const raw = await RawClient.open(broker.mqttUrl, ["mqtt"], version);
  const { username, password } = credentials;
  raw.send(
    connectPacket(uniqueId(), { protocolVersion: version, ...(username !== undefined ? { username } : {}), ...(password !== undefined ? { password: Buffer.from(password) } : {}), ...extra }),
    version,
  );
  const connack = (await raw.expect("connack")) as mqttPacket.IConnackPacket;
  raw.close();
  return (version === 5 ? connack.reasonCode : connack.returnCode) ?? -1;
}

describe.each([4, 5] as const)("MQTT %s: who may connect", (version) => {
  const v5 = version === 5;
  it("refuses anonymous clients: 0x05 / 0x87", async () => {
    expect(await connackCode(version, {})).toBe(v5 ? 0x87 : 5);
  });

  it("takes passwords from a mosquitto_passwd file ($7$ and $6$), and refuses wrong ones: 0x04 / 0x86", async () => {
    expect(await connackCode(version, { username: "alice", password: "correct horse" })).toBe(0);
    expect(await connackCode(version, { username: "carol", password: "legacy-1.x" })).toBe(0);
    expect(await connackCode(version, { username: "dave", password: "ünïcödé pässwörd" })).toBe(0);
    expect(await connackCode(version, { username: "alice", password: "wrong" })).toBe(v5 ? 0x86 : 4);
    expect(await connackCode(version, { username: "mallory", password: "correct horse" })).toBe(v5 ? 0x86 : 4);
  });

  it("takes a JWT as the password, and refuses an expired, wrongly signed or wrong-audience one", async () => {
    // mqtt-packet (like MQTT 3.1.1 [MQTT-3.1.2-22]) sends no password without a user name.
    const as = { username: "tok-user" };
    expect(await connackCode(version, { username: "tok-user", password: await token() })).toBe(0);
    const bad = v5 ? 0x86 : 4;
    expect(await connackCode(version, { ...as, password: await token({}, { exp: Math.floor(Date.now() / 1000) - 60 }) })).toBe(bad);
    expect(await connackCode(version, { ...as, password: await token({}, { key: new TextEncoder().encode("another-secret-of-at-least-32-bytes!!") }) })).toBe(bad);
    expect(await connackCode(version, { ...as, password: await token({}, { aud: "someone-else" }) })).toBe(bad);
    // The username, when given, must be the token's.
    expect(await connackCode(version, { username: "alice", password: await token() })).toBe(bad);
  });

  it("through the gateway too", async () => {
    const ok = await connect(gateway.url, { protocolVersion: version, username: "alice", password: "correct horse" });
    await ok.endAsync();
    const refused = await connect(gateway.url, { protocolVersion: version, username: "alice", password: "nope" }).then(
      () => "connected",
      (e: Error) => e.message,
    );
    expect(refused).toMatch(/Bad username or password|bad user name or password/i);
  });
});

describe.each([4, 5] as const)("MQTT %s: what a client may do (ACL_FILE)", (version) => {
  const v5 = version === 5;
  const alice = (clientId = uniqueId("alice")) => connect(broker.mqttUrl, { protocolVersion: version, clientId, username: "alice", password: "correct horse" });

  it("subscribe: allowed filters granted, a denied one refused on its own (0x87 / 0x80)", async () => {
    const client = await alice();
    // mqtt.js rejects a SUBACK with any refusal; the packet is on the error.
    const suback = await client.subscribeAsync({ "alice/#": { qos: 1 }, "bob/#": { qos: 1 }, "shared/+": { qos: 0 } }).then(
      () => undefined,
      (e: { packet?: mqttPacket.ISubackPacket }) => e.packet,
    );
    expect(suback?.granted).toEqual([1, v5 ? 0x87 : 0x80, 0]);
    await client.endAsync();
  });

  it("publish: allowed ones delivered, a denied one not routed (PUBACK 0x87 in MQTT 5); %c and %u patterns", async () => {
    const clientId = uniqueId("alice");
    const client = await alice(clientId);
    await client.subscribeAsync([`clients/${clientId}/#`, "alice/#"], { qos: 1 });
    const inbox = collect(client);
    await client.publishAsync(`clients/${clientId}/x`, "mine", { qos: 1 });
    await client.publishAsync("alice/y", "hers", { qos: 1 });
    const denied = await client.publishAsync("bob/z", "not hers", { qos: 1 }).then(
      () => "acknowledged",
      (e: Error) => e.message,
    );
    expect(denied).toBe(v5 ? "Publish error: Not authorized" : "acknowledged");
    expect((await inbox.count(2)).map((m) => m.payload).sort()).toEqual(["hers", "mine"]);
    await client.endAsync();
  });

  it("receive: a message on a topic the client may not read is not delivered", async () => {
    const client = await alice();
    await client.subscribeAsync("shared/#", { qos: 1 });
    const inbox = collect(client);
    // A publisher allowed to write there by the ACL file and by its token's acl claim (both must allow).
    const pub = await connect(broker.mqttUrl, { protocolVersion: version, username: "tok-user", password: await token({ acl: { pub: ["shared/#"] } }) });
    const ids = uniqueId();
    await pub.publishAsync("shared/secret", `s-${ids}`, { qos: 1 });
    await pub.publishAsync("shared/open", `o-${ids}`, { qos: 1 });
    expect((await inbox.next()).payload).toBe(`o-${ids}`);
    await quiet(300); // proves the denied message is not delivered
    expect(inbox.messages.map((m) => m.payload)).toEqual([`o-${ids}`]);
    await Promise.all([client.endAsync(), pub.endAsync()]);
  });

  it("a will to a topic the client may not write refuses the CONNECT: 0x05 / 0x87", async () => {
    const code = await connackCode(version, { username: "alice", password: "correct horse" }, { will: { topic: "bob/will", payload: Buffer.from("x"), qos: 0, retain: false } });
    expect(code).toBe(v5 ? 0x87 : 5);
  });
});

describe("MQTT 5: JWT expiry and re-authentication (§4.12.1)", () => {
  /** A raw MQTT 5 client connected with a JWT in Authentication Data. */
  async function jwtClient(exp: number) {
    const raw = await RawClient.open(broker.mqttUrl, ["mqtt"], 5);
    const first = await token({ sub: "renewer" }, { exp });
    raw.send(
      {
        cmd: "connect",
        protocolId: "MQTT",
        protocolVersion: 5,
        clientId: uniqueId("jwt"),
        clean: true,
        keepalive: 60,
        properties: { authenticationMethod: "JWT", authenticationData: Buffer.from(first) },
      } as Packet,
      5,
    );
    const connack = (await raw.expect("connack")) as mqttPacket.IConnackPacket;
    return { raw, connack };
  }
  const inSeconds = (s: number) => Math.floor(Date.now() / 1000) + s;

  it("a token in Authentication Data connects; when it expires the broker sends DISCONNECT 0xA0", async () => {
    const { raw, connack } = await jwtClient(inSeconds(2));
    expect(connack).toMatchObject({ reasonCode: 0, properties: { authenticationMethod: "JWT" } });
    const disconnect = (await raw.expect("disconnect", 8000)) as mqttPacket.IDisconnectPacket;
    expect(disconnect.reasonCode).toBe(0xa0);
  }, 15_000);

  it("a fresh token in AUTH (0x19) keeps the connection past the first token's expiry", async () => {
    const { raw } = await jwtClient(inSeconds(2));
    raw.send({ cmd: "auth", reasonCode: 0x19, properties: { authenticationMethod: "JWT", authenticationData: Buffer.from(await token({ sub: "renewer" }, { exp: inSeconds(3600) })) } } as Packet, 5);
    expect(await raw.expect("auth")).toMatchObject({ reasonCode: 0 });
    await quiet(3500); // time passing is what this tests: the first token's 2 s expiry passes
    raw.send({ cmd: "pingreq" } as Packet, 5);
    expect(await raw.expect("pingresp")).toBeDefined();
    raw.close();
  }, 15_000);

  it("a bad token in AUTH ends the connection with 0x87", async () => {
    const { raw } = await jwtClient(inSeconds(3600));
    raw.send({ cmd: "auth", reasonCode: 0x19, properties: { authenticationMethod: "JWT", authenticationData: Buffer.from("not.a.token") } } as Packet, 5);
    expect(await raw.expect("disconnect")).toMatchObject({ reasonCode: 0x87 });
  });
});

describe("JWT_JWKS (RS256 / ES256 public keys inline)", () => {
  it("takes tokens signed by a key of the set, and refuses others", async () => {
    const [rsa, ec, stranger] = await Promise.all([generateKeyPair("RS256"), generateKeyPair("ES256"), generateKeyPair("ES256")]);
    const jwks = {
      keys: [
        { ...(await exportJWK(rsa.publicKey)), kid: "r1", alg: "RS256" },
        { ...(await exportJWK(ec.publicKey)), kid: "e1", alg: "ES256" },
      ],
    };
    const jwksBroker = await startBroker({ vars: { ALLOW_ANONYMOUS: "false", JWT_JWKS: JSON.stringify(jwks) } });
    try {
      const sign = (alg: string, kid: string, k: CryptoKey) => new SignJWT({}).setProtectedHeader({ alg, kid }).setSubject("device-7").setExpirationTime("1h").sign(k);
      for (const [tok, expected] of [
        [await sign("RS256", "r1", rsa.privateKey), 0],
        [await sign("ES256", "e1", ec.privateKey), 0],
        [await sign("ES256", "e1", stranger.privateKey), 4],
      ] as const) {
        const raw = await RawClient.open(jwksBroker.mqttUrl);
        raw.send(connectPacket(uniqueId(), { username: "device-7", password: Buffer.from(tok) }));
        expect(((await raw.expect("connack")) as mqttPacket.IConnackPacket).returnCode).toBe(expected);
        raw.close();
      }
    } finally {
      await jwksBroker.stop();
    }
  });
});
