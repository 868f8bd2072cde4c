/** The connect form's settings, their defaults and checks, and the mqtt.js options they make. Pure. */
import type { IClientOptions } from "mqtt";
import { pacedWebSocket } from "./paced-socket.js";
import { topicProblem } from "./topic-match.js";

export type AuthMode = "none" | "password" | "token";

export interface WillSettings {
  enabled: boolean;
  topic: string;
  qos: 0 | 1 | 2;
  retain: boolean;
  payload: string;
  /** MQTT 5 Will Delay Interval, seconds. */
  delay: number;
}

export interface ConnectSettings {
  /** The tab's label (empty: the client id). */
  name: string;
  url: string;
  /** Append ?clientId=<id> so the Worker hands the socket straight to the session's object. */
  direct: boolean;
  clientId: string;
  version: 4 | 5;
  auth: AuthMode;
  username: string;
  password: string;
  token: string;
  keepalive: number;
  clean: boolean;
  /** MQTT 5 Session Expiry Interval, seconds. */
  sessionExpiry: number;
  autoReconnect: boolean;
  will: WillSettings;
}

/** "web-" and 10 hex digits (a client id nobody else has). */
export function generateClientId(random: (bytes: Uint8Array) => Uint8Array = (b) => crypto.getRandomValues(b)): string {
  return `web-${[...random(new Uint8Array(5))].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/** This broker's own MQTT endpoint: wss on an https page (a ws URL from https is mixed content). */
export function ownBrokerUrl(location: { protocol: string; host: string }): string {
  return `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/mqtt`;
}

export function defaultSettings(location: { protocol: string; host: string }, clientId = generateClientId()): ConnectSettings {
  return {
    name: "",
    url: ownBrokerUrl(location),
    direct: true,
    clientId,
    version: 5,
    auth: "none",
    username: "",
    password: "",
    token: "",
    keepalive: 60,
    clean: true,
    sessionExpiry: 0,
    autoReconnect: true,
    will: { enabled: false, topic: `clients/${clientId}/status`, qos: 1, retain: false, payload: "offline", delay: 0 },
  };
}

/** The URL to open: with ?clientId= on the direct path (an empty id takes the broker's normal path). */
export function connectUrl(s: ConnectSettings): string {
  if (!s.direct || s.clientId === "") return s.url;
  const url = new URL(s.url);
  url.searchParams.set("clientId", s.clientId);
  return url.toString();
}

function base64UrlDecode(part: string): string {
  const b64 = part.replace(/-/g, "+").replace(/_/g, "/");
  const binary = atob(b64.padEnd(Math.ceil(b64.length / 4) * 4, "="));
  return new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
}

/** A JWT's claims, unverified (the broker verifies), or undefined when it is not a JWT. */
export function jwtClaims(token: string): Record<string, unknown> | undefined {
  const parts = token.trim().split(".");
  if (parts.length !== 3) return undefined;
  try {
    const claims: unknown = JSON.parse(base64UrlDecode(parts[1]!));
    return claims !== null && typeof claims === "object" ? (claims as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The user name the broker expects with a token: its `username` or `sub` claim. */
export function tokenUser(token: string): string | undefined {
  const claims = jwtClaims(token);
  const name = claims?.username ?? claims?.sub;
  return typeof name === "string" ? name : undefined;
}

/** Problems that stop a connect, in words (empty when fine). */
export function settingsProblems(s: ConnectSettings): string[] {
  const problems: string[] = [];
  try {
    const url = new URL(s.url);
    if (url.protocol !== "ws:" && url.protocol !== "wss:") problems.push("the URL must start with ws:// or wss://");
    if (url.protocol === "ws:" && globalThis.location?.protocol === "https:") problems.push("an https page can only open wss:// URLs");
  } catch {
    problems.push("the URL is not a URL");
  }
  if (s.version === 4 && s.clientId === "" && !s.clean) problems.push("MQTT 3.1.1 needs a client id when Clean Session is off");
  if (!(Number.isInteger(s.keepalive) && s.keepalive >= 0 && s.keepalive <= 65535)) problems.push("keepalive must be 0 to 65535 seconds");
  if (!(Number.isInteger(s.sessionExpiry) && s.sessionExpiry >= 0 && s.sessionExpiry <= 0xffffffff)) problems.push("session expiry must be 0 to 4294967295 seconds");
  if (s.auth === "password" && s.password !== "" && s.username === "") problems.push("a password needs a user name (MQTT sends no password without one)");
  if (s.auth === "token") {
    if (s.token.trim() === "") problems.push("the token is empty");
    else if (!jwtClaims(s.token)) problems.push("the token is not a JWT (three base64url parts)");
    else if (s.version === 4 && s.username === "" && !tokenUser(s.token)) problems.push("MQTT 3.1.1 sends the token as password, which needs a user name: the token has no sub claim, so type one");
  }
  if (s.will.enabled) {
    const problem = topicProblem(s.will.topic);
    if (problem) problems.push(`will topic: ${problem}`);
  }
  return problems;
}

/** The mqtt.js options (reconnecting is the page's own, see connection.ts). */
export function clientOptions(s: ConnectSettings): IClientOptions {
  const v5 = s.version === 5;
  const options: IClientOptions = {
    clientId: s.clientId,
    protocolVersion: s.version,
    clean: s.clean,
    keepalive: s.keepalive,
    reconnectPeriod: 0,
    resubscribe: false,
    connectTimeout: 10_000,
    queueQoSZero: false,
    // Incoming data in slices, so a burst cannot hold the main thread (paced-socket.ts).
    createWebsocket: (url: string, protocols: string[]) => pacedWebSocket(url, protocols),
  };
  const properties: NonNullable<IClientOptions["properties"]> = {};
  if (v5 && s.sessionExpiry > 0) properties.sessionExpiryInterval = s.sessionExpiry;
  if (s.auth === "password") {
    if (s.username !== "") options.username = s.username;
    if (s.password !== "") options.password = s.password;
  } else if (s.auth === "token") {
    const token = s.token.trim();
    const user = s.username !== "" ? s.username : tokenUser(token);
    if (user !== undefined) options.username = user;
    if (v5) {
      // Authentication Method JWT: the token in Authentication Data, renewable with AUTH.
      properties.authenticationMethod = "JWT";
      properties.authenticationData = token as unknown as Buffer;
    } else options.password = token;
  }
  if (Object.keys(properties).length > 0) options.properties = properties;
  if (s.will.enabled) {
    options.will = { topic: s.will.topic, payload: s.will.payload, qos: s.will.qos, retain: s.will.retain };
    if (v5 && s.will.delay > 0) options.will.properties = { willDelayInterval: s.will.delay };
  }
  return options;
}
