/**
 * MQTT reason codes in words: MQTT 5 reason codes (§2.4) and the 3.1.1 CONNACK return codes and
 * SUBACK failure, with a hint where this broker gives the code a specific cause.
 */
export type PacketKind = "connack" | "disconnect" | "suback" | "unsuback" | "puback" | "auth";
export type ProtocolVersion = 4 | 5;

const V5: Readonly<Record<number, string>> = {
  0x00: "Success",
  0x01: "Granted QoS 1",
  0x02: "Granted QoS 2",
  0x04: "Disconnect with Will Message",
  0x10: "No matching subscribers",
  0x11: "No subscription existed",
  0x18: "Continue authentication",
  0x19: "Re-authenticate",
  0x80: "Unspecified error",
  0x81: "Malformed Packet",
  0x82: "Protocol Error",
  0x83: "Implementation specific error",
  0x84: "Unsupported Protocol Version",
  0x85: "Client Identifier not valid",
  0x86: "Bad User Name or Password",
  0x87: "Not authorized",
  0x88: "Server unavailable",
  0x89: "Server busy",
  0x8a: "Banned",
  0x8b: "Server shutting down",
  0x8c: "Bad authentication method",
  0x8d: "Keep Alive timeout",
  0x8e: "Session taken over",
  0x8f: "Topic Filter invalid",
  0x90: "Topic Name invalid",
  0x91: "Packet Identifier in use",
  0x92: "Packet Identifier not found",
  0x93: "Receive Maximum exceeded",
  0x94: "Topic Alias invalid",
  0x95: "Packet too large",
  0x96: "Message rate too high",
  0x97: "Quota exceeded",
  0x98: "Administrative action",
  0x99: "Payload format invalid",
  0x9a: "Retain not supported",
  0x9b: "QoS not supported",
  0x9c: "Use another server",
  0x9d: "Server moved",
  0x9e: "Shared Subscriptions not supported",
  0x9f: "Connection rate exceeded",
  0xa0: "Maximum connect time",
  0xa1: "Subscription Identifiers not supported",
  0xa2: "Wildcard Subscriptions not supported",
};

const V311_CONNACK: Readonly<Record<number, string>> = {
  0: "Connection accepted",
  1: "Unacceptable protocol version",
  2: "Identifier rejected",
  3: "Server unavailable",
  4: "Bad user name or password",
  5: "Not authorized",
};

/** Causes this broker gives these codes (docs/SECURITY.md, README limits). */
const HINTS: Readonly<Partial<Record<PacketKind, Readonly<Record<number, string>>>>> = {
  connack: {
    0x86: "check the user name and the password or token",
    0x87: "the broker does not let this client in: credentials missing (a deployed broker needs them unless ALLOW_ANONYMOUS is set), or the will topic is not allowed",
    0x85: "the client id is too long, has control characters, or differs from ?clientId= in the URL",
    0x8c: "this broker accepts only the JWT authentication method",
    0x9f: "too many takeovers of this client id in a minute (two tabs with one id?)",
    0x88: "the broker could not check the credentials (key server unreachable?): retrying",
  },
  disconnect: {
    0x8e: "another connection with the same client id took over this session",
    0xa0: "the token expired",
    0x8d: "no packet within 1.5 × keepalive",
    0x96: "more publishes per second than the broker allows",
    0x87: "re-authentication refused",
  },
  suback: {
    0x87: "the ACL does not let this client subscribe to this filter",
    0x8f: "not a valid topic filter",
    0x97: "too many subscriptions for this session",
  },
  puback: { 0x87: "the ACL does not let this client publish to this topic" },
};

const HINTS_V311: Readonly<Partial<Record<PacketKind, Readonly<Record<number, string>>>>> = {
  connack: {
    2: "the client id is too long, has control characters, or differs from ?clientId= in the URL",
    3: "the broker is unavailable, or too many takeovers of this client id in a minute",
    4: "check the user name and the password or token",
    5: "the broker does not let this client in: credentials missing (a deployed broker needs them unless ALLOW_ANONYMOUS is set), or the will topic is not allowed",
  },
  suback: { 0x80: "refused (MQTT 3.1.1 gives no reason: usually the ACL)" },
};

/** The reason code in words, e.g. "Not authorized". */
export function reasonText(code: number, kind: PacketKind, version: ProtocolVersion): string {
  if (version === 4) {
    if (kind === "connack") return V311_CONNACK[code] ?? `unknown return code ${code}`;
    if (kind === "suback") return code === 0x80 ? "Failure" : code <= 2 ? `Granted QoS ${code}` : `unknown return code ${code}`;
  }
  if (code === 0) {
    if (kind === "disconnect") return "Normal disconnection";
    if (kind === "suback") return "Granted QoS 0";
  }
  return V5[code] ?? `unknown reason code`;
}

export function hex(code: number): string {
  return `0x${code.toString(16).padStart(2, "0").toUpperCase()}`;
}

/** "0x87 Not authorized: <hint>" */
export function describeReason(code: number, kind: PacketKind, version: ProtocolVersion): string {
  const text = `${hex(code)} ${reasonText(code, kind, version)}`;
  const hint = (version === 4 ? HINTS_V311 : HINTS)[kind]?.[code];
  return hint !== undefined ? `${text}: ${hint}` : text;
}

/** A SUBACK code that refuses the subscription (≥ 0x80 in both versions). */
export function isFailure(code: number): boolean {
  return code >= 0x80;
}

/** Refusals worth retrying with the same settings (the server is busy or rate-limits): the rest need the user. */
export function retryAfterRefusal(code: number, kind: "connack" | "disconnect", version: ProtocolVersion): boolean {
  if (version === 4 && kind === "connack") return code === 3;
  if (kind === "connack") return [0x80, 0x83, 0x88, 0x89, 0x8b, 0x97, 0x9f].includes(code);
  // DISCONNECT from the server: stop when another connection took over, when banned or when the token is spent.
  return ![0x8a, 0x8e, 0x98, 0x9c, 0x9d, 0xa0, 0x87].includes(code);
}
