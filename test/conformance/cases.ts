/**
 * The conformance table: packets that break a rule of MQTT 3.1.1 or 5.0 a server must enforce,
 * as raw bytes, with the clause and the answer the specification gives. One table drives the
 * codec's unit tests (src/protocol/codec/conformance.test.ts) and the integration test over
 * WebSocket and through the gateway (test/integration/81-conformance.test.ts); docs/CONFORMANCE.md
 * lists it.
 *
 * The answer: MQTT 5 DISCONNECT with 0x81 Malformed Packet or 0x82 Protocol Error (or a more
 * specific code the clause names), then close (§4.13.1); a CONNECT that breaks a rule gets
 * CONNACK with that code instead, which the server MAY send ([MQTT-3.1.4-1]; a DISCONNECT may not
 * come before CONNACK [MQTT-3.14.0-1]). MQTT 3.1.1: the connection is closed with nothing sent
 * ([MQTT-4.8.0-1]; for CONNECT "without sending a CONNACK" [MQTT-3.1.4-1]).
 */

export type Version = 4 | 5;

export interface ConformanceCase {
  /** The statement, as the test is named. */
  name: string;
  /** The clause per version (they are numbered differently), e.g. { 4: "[MQTT-3.8.3-4]", 5: "[MQTT-3.8.3-5]" }. */
  clause: Partial<Record<Version, string>>;
  /**
   * The packet, for a version (a CONNECT when `connect` is set; else sent after a CONNECT that
   * succeeded). With `delivery`, `packetId` is the one the server gave the delivered message.
   */
  bytes: (v: Version, packetId: number) => Uint8Array;
  connect?: true;
  /**
   * For acknowledgements: first the client subscribes at QoS 2 and the server delivers it one
   * message at this QoS (and nothing else is in flight), then `bytes` answers that delivery.
   */
  delivery?: 1 | 2;
  /** MQTT 5's reason code (in DISCONNECT, or in CONNACK for a CONNECT). */
  reason5?: number;
}

export const MALFORMED = 0x81;
export const PROTOCOL_ERROR = 0x82;

// ---- byte builders ----

const enc = new TextEncoder();

/** A whole packet: first byte, Remaining Length, body. */
export function packet(first: number, ...body: (number | Uint8Array | number[])[]): Uint8Array {
  const flat: number[] = [];
  for (const part of body) {
    if (typeof part === "number") flat.push(part);
    else flat.push(...part);
  }
  const length: number[] = [];
  let n = flat.length;
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    length.push(b);
  } while (n > 0);
  return Uint8Array.from([first, ...length, ...flat]);
}

export const u16 = (n: number): number[] => [n >> 8, n & 0xff];
export const u32 = (n: number): number[] => [(n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
/** A length-prefixed field of raw bytes (a string whose bytes may be ill-formed). */
export const field = (bytes: number[] | Uint8Array): number[] => [...u16(bytes.length), ...bytes];
export const str = (s: string): number[] => field(enc.encode(s));
/** A property set: its length, then the given bytes. */
export const props = (...bytes: number[]): number[] => [bytes.length, ...bytes];
/** Properties only in MQTT 5. */
const props5 = (v: Version, ...bytes: number[]): number[] => (v === 5 ? props(...bytes) : []);

/** CONNECT with `flags` and payload fields after the client id. */
export function connectBytes(v: Version, o: { flags?: number; clientId?: number[]; properties?: number[]; rest?: number[] } = {}): Uint8Array {
  return packet(0x10, str("MQTT"), v, o.flags ?? 0x02, u16(30), v === 5 ? (o.properties ?? props()) : [], o.clientId ?? str(`c${Math.random().toString(36).slice(2, 10)}`), o.rest ?? []);
}

export const publish = (v: Version, topic: number[], propBytes: number[] = [], payload = "x", first = 0x30): Uint8Array =>
  packet(first, topic, (first >> 1) & 3 ? u16(1) : [], props5(v, ...propBytes), enc.encode(payload));
export const subscribe = (v: Version, pairs: number[], propBytes: number[] = [], id = 1, first = 0x82): Uint8Array => packet(first, u16(id), props5(v, ...propBytes), pairs);
export const unsubscribe = (v: Version, filters: number[], propBytes: number[] = [], first = 0xa2): Uint8Array => packet(first, u16(1), props5(v, ...propBytes), filters);

const ILL_FORMED = [0x61, 0xff, 0x62]; // "a", a byte never in UTF-8, "b"
const SURROGATE = [0x61, 0xed, 0xa0, 0x80]; // "a", an encoded U+D800
const NUL = [0x61, 0x00, 0x62]; // "a", U+0000, "b"

const both = (c5: string, c4 = c5): Partial<Record<Version, string>> => ({ 5: c5, 4: c4 });

export const CASES: ConformanceCase[] = [
  // ---- fixed header (§2.1): reserved flags, QoS 3, lengths ----
  { name: "PUBREL with flags 0000 is malformed", clause: both("[MQTT-3.6.1-1]"), bytes: () => packet(0x60, u16(1)), reason5: MALFORMED },
  { name: "SUBSCRIBE with flags 0000 is malformed", clause: both("[MQTT-3.8.1-1]"), bytes: (v) => subscribe(v, [...str("a"), 0], [], 1, 0x80), reason5: MALFORMED },
  { name: "UNSUBSCRIBE with flags 0000 is malformed", clause: both("[MQTT-3.10.1-1]"), bytes: (v) => unsubscribe(v, str("a"), [], 0xa0), reason5: MALFORMED },
  { name: "PUBACK with a reserved flag bit set is malformed", clause: both("[MQTT-2.1.3-1]", "[MQTT-2.2.2-2]"), bytes: () => packet(0x41, u16(1)), reason5: MALFORMED },
  { name: "DISCONNECT with reserved flag bits set is malformed", clause: both("[MQTT-3.14.1-1]"), bytes: () => packet(0xe1), reason5: MALFORMED },
  { name: "AUTH with reserved flag bits set is malformed", clause: { 5: "[MQTT-3.15.1-1]" }, bytes: () => packet(0xf1), reason5: MALFORMED },
  { name: "PUBLISH with both QoS bits set is malformed", clause: both("[MQTT-3.3.1-4]"), bytes: (v) => publish(v, str("a"), [], "x", 0x36), reason5: MALFORMED },
  { name: "PINGREQ with a Remaining Length of 1 is malformed", clause: both("§3.12.1"), bytes: () => packet(0xc0, 0), reason5: MALFORMED },
  { name: "PUBACK with a Remaining Length of 0 is malformed", clause: both("§3.4.2", "§3.4.1"), bytes: () => packet(0x40), reason5: MALFORMED },
  { name: "PUBACK with a Remaining Length of 1 is malformed", clause: both("§3.4.2", "§3.4.1"), bytes: () => packet(0x40, 0), reason5: MALFORMED },
  { name: "PUBCOMP with a Remaining Length of 1 is malformed", clause: both("§3.7.2", "§3.7.1"), bytes: () => packet(0x70, 0), reason5: MALFORMED },
  { name: "PUBACK with a Remaining Length of 3 is malformed (3.1.1: always 2)", clause: { 4: "§3.4.1" }, bytes: () => packet(0x40, u16(1), 0) },
  { name: "DISCONNECT with a Remaining Length of 1 is malformed (3.1.1: always 0)", clause: { 4: "§3.14.1" }, bytes: () => packet(0xe0, 0) },
  { name: "AUTH in MQTT 3.1.1 (packet type 15 is reserved) is malformed", clause: { 4: "§2.2.1" }, bytes: () => packet(0xf0) },

  // ---- packet identifier 0, DUP on QoS 0 ----
  { name: "SUBSCRIBE with Packet Identifier 0 is a Protocol Error", clause: both("[MQTT-2.2.1-3]", "[MQTT-2.3.1-1]"), bytes: (v) => subscribe(v, [...str("a"), 0], [], 0), reason5: PROTOCOL_ERROR },
  {
    name: "QoS 1 PUBLISH with Packet Identifier 0 is a Protocol Error",
    clause: both("[MQTT-2.2.1-3]", "[MQTT-2.3.1-1]"),
    bytes: (v) => packet(0x32, str("a"), u16(0), props5(v), enc.encode("x")),
    reason5: PROTOCOL_ERROR,
  },
  { name: "QoS 0 PUBLISH with DUP set is malformed", clause: both("[MQTT-3.3.1-2]"), bytes: (v) => publish(v, str("a"), [], "x", 0x38), reason5: MALFORMED },

  // ---- UTF-8 strings (§1.5.4 / 3.1.1 §1.5.3) ----
  { name: "a Topic Name of ill-formed UTF-8 is malformed", clause: both("[MQTT-1.5.4-1]", "[MQTT-1.5.3-1]"), bytes: (v) => publish(v, field(ILL_FORMED)), reason5: MALFORMED },
  { name: "a Topic Name with an encoded surrogate is malformed", clause: both("[MQTT-1.5.4-1]", "[MQTT-1.5.3-1]"), bytes: (v) => publish(v, field(SURROGATE)), reason5: MALFORMED },
  { name: "a Topic Name with U+0000 is malformed", clause: both("[MQTT-1.5.4-2]", "[MQTT-1.5.3-2]"), bytes: (v) => publish(v, field(NUL)), reason5: MALFORMED },
  { name: "a SUBSCRIBE Topic Filter of ill-formed UTF-8 is malformed", clause: both("[MQTT-1.5.4-1]", "[MQTT-1.5.3-1]"), bytes: (v) => subscribe(v, [...field(SURROGATE), 0]), reason5: MALFORMED },
  { name: "an UNSUBSCRIBE Topic Filter with U+0000 is malformed", clause: both("[MQTT-1.5.4-2]", "[MQTT-1.5.3-2]"), bytes: (v) => unsubscribe(v, field(NUL)), reason5: MALFORMED },
  {
    name: "a CONNECT client id with U+0000 is malformed",
    clause: both("[MQTT-1.5.4-2]", "[MQTT-1.5.3-2]"),
    connect: true,
    bytes: (v) => connectBytes(v, { clientId: field(NUL) }),
    reason5: MALFORMED,
  },
  {
    name: "a CONNECT User Name of ill-formed UTF-8 is malformed",
    clause: both("[MQTT-1.5.4-1]", "[MQTT-1.5.3-1]"),
    connect: true,
    bytes: (v) => connectBytes(v, { flags: 0x82, rest: field(ILL_FORMED) }),
    reason5: MALFORMED,
  },
  {
    name: "a CONNECT Will Topic with U+0000 is malformed",
    clause: both("[MQTT-1.5.4-2]", "[MQTT-1.5.3-2]"),
    connect: true,
    bytes: (v) => connectBytes(v, { flags: 0x06, rest: [...(v === 5 ? props() : []), ...field(NUL), ...field([0x78])] }),
    reason5: MALFORMED,
  },
  { name: "a User Property of ill-formed UTF-8 is malformed", clause: { 5: "[MQTT-1.5.7-1]" }, bytes: (v) => publish(v, str("a"), [0x26, ...str("k"), ...field(ILL_FORMED)]), reason5: MALFORMED },

  // ---- topic names and filters (§4.7, §4.8.2), SUBSCRIBE / UNSUBSCRIBE payloads ----
  { name: "a Topic Filter with # not last is malformed", clause: both("[MQTT-4.7.1-1]", "[MQTT-4.7.1-2]"), bytes: (v) => subscribe(v, [...str("a/#/b"), 0]), reason5: MALFORMED },
  { name: "a Topic Filter with + not a whole level is malformed", clause: both("[MQTT-4.7.1-2]", "[MQTT-4.7.1-3]"), bytes: (v) => subscribe(v, [...str("a+"), 0]), reason5: MALFORMED },
  { name: "an empty Topic Filter in SUBSCRIBE is malformed", clause: both("[MQTT-4.7.3-1]"), bytes: (v) => subscribe(v, [...str(""), 0]), reason5: MALFORMED },
  { name: "an ill-formed Topic Filter in UNSUBSCRIBE is malformed", clause: both("[MQTT-4.7.1-1]", "[MQTT-4.7.1-2]"), bytes: (v) => unsubscribe(v, str("a/#/b")), reason5: MALFORMED },
  { name: "an empty Topic Filter in UNSUBSCRIBE is malformed", clause: both("[MQTT-4.7.3-1]"), bytes: (v) => unsubscribe(v, str("")), reason5: MALFORMED },
  { name: "a Shared Subscription without a ShareName is malformed", clause: { 5: "[MQTT-4.8.2-1]" }, bytes: (v) => subscribe(v, [...str("$share//a"), 0]), reason5: MALFORMED },
  { name: "a Shared Subscription without a Topic Filter is malformed", clause: { 5: "[MQTT-4.8.2-2]" }, bytes: (v) => subscribe(v, [...str("$share/g"), 0]), reason5: MALFORMED },
  { name: "SUBSCRIBE without a Topic Filter", clause: both("[MQTT-3.8.3-2]", "[MQTT-3.8.3-3]"), bytes: (v) => subscribe(v, []), reason5: PROTOCOL_ERROR },
  { name: "UNSUBSCRIBE without a Topic Filter", clause: both("[MQTT-3.10.3-2]"), bytes: (v) => unsubscribe(v, []), reason5: PROTOCOL_ERROR },
  {
    name: "Subscription Options with reserved bits set are malformed",
    clause: both("[MQTT-3.8.3-5]", "[MQTT-3.8.3-4]"),
    bytes: (v) => subscribe(v, [...str("a"), v === 5 ? 0xc1 : 0x05]),
    reason5: MALFORMED,
  },
  { name: "Subscription Options with QoS 3", clause: both("§3.8.3.1", "[MQTT-3.8.3-4]"), bytes: (v) => subscribe(v, [...str("a"), 0x03]), reason5: PROTOCOL_ERROR },
  { name: "Subscription Options with Retain Handling 3 are a Protocol Error", clause: { 5: "§3.8.3.1" }, bytes: (v) => subscribe(v, [...str("a"), 0x31]), reason5: PROTOCOL_ERROR },
  { name: "No Local on a Shared Subscription is a Protocol Error", clause: { 5: "[MQTT-3.8.3-4]" }, bytes: (v) => subscribe(v, [...str("$share/g/a"), 0x05]), reason5: PROTOCOL_ERROR },
  { name: "a Topic Name with a wildcard is malformed", clause: both("[MQTT-3.3.2-2]"), bytes: (v) => publish(v, str("a/+")), reason5: MALFORMED },
  {
    name: "a Will Topic with a wildcard is malformed",
    clause: both("[MQTT-3.3.2-2]"),
    connect: true,
    bytes: (v) => connectBytes(v, { flags: 0x06, rest: [...(v === 5 ? props() : []), ...str("w/#"), ...field([0x78])] }),
    reason5: MALFORMED,
  },
  {
    name: "an empty Will Topic is malformed",
    clause: both("[MQTT-4.7.3-1]"),
    connect: true,
    bytes: (v) => connectBytes(v, { flags: 0x06, rest: [...(v === 5 ? props() : []), ...str(""), ...field([0x78])] }),
    reason5: MALFORMED,
  },
  { name: "an empty Topic Name without a Topic Alias", clause: both("§3.3.2.1", "[MQTT-4.7.3-1]"), bytes: (v) => publish(v, str("")), reason5: PROTOCOL_ERROR },

  // ---- MQTT 5 properties (§2.2.2.2) ----
  { name: "PUBLISH with a Session Expiry Interval (not valid on PUBLISH) is malformed", clause: { 5: "§2.2.2.2" }, bytes: (v) => publish(v, str("a"), [0x11, ...u32(10)]), reason5: MALFORMED },
  { name: "PUBLISH with an unknown property identifier is malformed", clause: { 5: "§2.2.2.2" }, bytes: (v) => publish(v, str("a"), [0x7f, 0]), reason5: MALFORMED },
  { name: "PUBACK with a Topic Alias (not valid on PUBACK) is malformed", clause: { 5: "§2.2.2.2" }, bytes: () => packet(0x40, u16(1), 0, props(0x23, ...u16(1))), reason5: MALFORMED },
  { name: "PUBREL with a Content Type (not valid on PUBREL) is malformed", clause: { 5: "§2.2.2.2" }, bytes: () => packet(0x62, u16(1), 0, props(0x03, ...str("t"))), reason5: MALFORMED },
  { name: "SUBSCRIBE with a Reason String (not valid on SUBSCRIBE) is malformed", clause: { 5: "§2.2.2.2" }, bytes: (v) => subscribe(v, [...str("a"), 0], [0x1f, ...str("r")]), reason5: MALFORMED },
  { name: "UNSUBSCRIBE with a Subscription Identifier (not valid on UNSUBSCRIBE) is malformed", clause: { 5: "§2.2.2.2" }, bytes: (v) => unsubscribe(v, str("a"), [0x0b, 1]), reason5: MALFORMED },
  { name: "DISCONNECT with a Will Delay Interval (not valid on DISCONNECT) is malformed", clause: { 5: "§2.2.2.2" }, bytes: () => packet(0xe0, 0, props(0x18, ...u32(1))), reason5: MALFORMED },
  {
    name: "CONNECT with a Topic Alias (not valid on CONNECT) is malformed",
    clause: { 5: "§2.2.2.2" },
    connect: true,
    bytes: (v) => connectBytes(v, { properties: props(0x23, ...u16(1)) }),
    reason5: MALFORMED,
  },
  {
    name: "Will Properties with a Session Expiry Interval (not valid there) are malformed",
    clause: { 5: "§2.2.2.2" },
    connect: true,
    bytes: (v) => connectBytes(v, { flags: 0x06, rest: [...props(0x11, ...u32(1)), ...str("w"), ...field([0x78])] }),
    reason5: MALFORMED,
  },
  { name: "a property set longer than its packet is malformed", clause: { 5: "§2.2.2.1" }, bytes: () => packet(0x30, str("a"), 20, 0x01, 0), reason5: MALFORMED },
  { name: "a property value cut short by its set is malformed", clause: { 5: "§2.2.2.2" }, bytes: () => packet(0x30, str("a"), 3, 0x02, 0, 0, enc.encode("payload")), reason5: MALFORMED },
  { name: "PUBLISH with the Content Type twice is a Protocol Error", clause: { 5: "§3.3.2.3.9" }, bytes: (v) => publish(v, str("a"), [0x03, ...str("t"), 0x03, ...str("u")]), reason5: PROTOCOL_ERROR },
  {
    name: "SUBSCRIBE with the Subscription Identifier twice is a Protocol Error",
    clause: { 5: "§3.8.2.1.2" },
    bytes: (v) => subscribe(v, [...str("a"), 0], [0x0b, 1, 0x0b, 2]),
    reason5: PROTOCOL_ERROR,
  },
  {
    name: "a Payload Format Indicator other than 0 or 1 is a Protocol Error (0xED is never forwarded as 1)",
    clause: { 5: "§3.3.2.3.2" },
    bytes: (v) => publish(v, str("a"), [0x01, 0xed]),
    reason5: PROTOCOL_ERROR,
  },
  { name: "a Topic Alias of 0 is 0x94 Topic Alias invalid", clause: { 5: "[MQTT-3.3.2-8]" }, bytes: (v) => publish(v, str("a"), [0x23, ...u16(0)]), reason5: 0x94 },
  { name: "a Subscription Identifier of 0 is a Protocol Error", clause: { 5: "§3.8.2.1.2" }, bytes: (v) => subscribe(v, [...str("a"), 0], [0x0b, 0]), reason5: PROTOCOL_ERROR },
  { name: "a PUBLISH from a client with a Subscription Identifier is a Protocol Error", clause: { 5: "[MQTT-3.3.4-6]" }, bytes: (v) => publish(v, str("a"), [0x0b, 1]), reason5: PROTOCOL_ERROR },
  {
    name: "CONNECT with Request Problem Information 2 is a Protocol Error",
    clause: { 5: "§3.1.2.11.7" },
    connect: true,
    bytes: (v) => connectBytes(v, { properties: props(0x17, 2) }),
    reason5: PROTOCOL_ERROR,
  },
  {
    name: "CONNECT with Request Response Information 2 is a Protocol Error",
    clause: { 5: "§3.1.2.11.6" },
    connect: true,
    bytes: (v) => connectBytes(v, { properties: props(0x19, 2) }),
    reason5: PROTOCOL_ERROR,
  },
  {
    name: "CONNECT with Receive Maximum 0 is a Protocol Error",
    clause: { 5: "§3.1.2.11.3" },
    connect: true,
    bytes: (v) => connectBytes(v, { properties: props(0x21, ...u16(0)) }),
    reason5: PROTOCOL_ERROR,
  },
  {
    name: "CONNECT with Maximum Packet Size 0 is a Protocol Error",
    clause: { 5: "§3.1.2.11.4" },
    connect: true,
    bytes: (v) => connectBytes(v, { properties: props(0x27, ...u32(0)) }),
    reason5: PROTOCOL_ERROR,
  },
  {
    name: "CONNECT with Authentication Data but no Authentication Method is a Protocol Error",
    clause: { 5: "§3.1.2.11.10" },
    connect: true,
    bytes: (v) => connectBytes(v, { properties: props(0x16, ...field([1, 2])) }),
    reason5: PROTOCOL_ERROR,
  },

  // ---- CONNECT flags (§3.1.2.3) against the payload ----
  { name: "CONNECT with the reserved flag set is malformed", clause: both("[MQTT-3.1.2-3]"), connect: true, bytes: (v) => connectBytes(v, { flags: 0x03 }), reason5: MALFORMED },
  {
    name: "CONNECT with Will QoS 3 is malformed",
    clause: both("[MQTT-3.1.2-12]", "[MQTT-3.1.2-14]"),
    connect: true,
    bytes: (v) => connectBytes(v, { flags: 0x1e, rest: [...(v === 5 ? props() : []), ...str("w"), ...field([0x78])] }),
    reason5: MALFORMED,
  },
  {
    name: "CONNECT with Will QoS 1 but no Will Flag is malformed",
    clause: both("[MQTT-3.1.2-11]", "[MQTT-3.1.2-13]"),
    connect: true,
    bytes: (v) => connectBytes(v, { flags: 0x0a }),
    reason5: MALFORMED,
  },
  {
    name: "CONNECT with Will Retain but no Will Flag is malformed",
    clause: both("[MQTT-3.1.2-13]", "[MQTT-3.1.2-15]"),
    connect: true,
    bytes: (v) => connectBytes(v, { flags: 0x22 }),
    reason5: MALFORMED,
  },
  {
    name: "CONNECT with the User Name Flag but no User Name is malformed",
    clause: both("[MQTT-3.1.2-17]", "[MQTT-3.1.2-19]"),
    connect: true,
    bytes: (v) => connectBytes(v, { flags: 0x82 }),
    reason5: MALFORMED,
  },
  {
    name: "CONNECT with a User Name but no User Name Flag is malformed",
    clause: both("[MQTT-3.1.2-16]", "[MQTT-3.1.2-18]"),
    connect: true,
    bytes: (v) => connectBytes(v, { flags: 0x02, rest: str("user") }),
    reason5: MALFORMED,
  },
  {
    name: "CONNECT with the Password Flag but no Password is malformed",
    clause: both("[MQTT-3.1.2-19]", "[MQTT-3.1.2-21]"),
    connect: true,
    bytes: (v) => connectBytes(v, { flags: 0xc2, rest: str("user") }),
    reason5: MALFORMED,
  },
  {
    name: "CONNECT with a Password but no User Name Flag is malformed (3.1.1)",
    clause: { 4: "[MQTT-3.1.2-22]" },
    connect: true,
    bytes: (v) => connectBytes(v, { flags: 0x42, rest: field([1, 2, 3]) }),
  },
  { name: "a second CONNECT is a Protocol Error", clause: both("[MQTT-3.1.0-2]"), bytes: (v) => connectBytes(v), reason5: PROTOCOL_ERROR },

  // ---- the acknowledgement that does not fit the delivery's QoS (§4.3.2, §4.3.3) ----
  // MQTT 5 names no reason code for these; an acknowledgement "inconsistent with the state of the
  // Server" is a Protocol Error by its definition (§1.2), answered as §4.13.1 says. 3.1.1: a
  // protocol violation, so the connection closes [MQTT-4.8.0-1]; in particular no PUBREL follows.
  {
    name: "PUBACK for a QoS 2 delivery (it waits for PUBREC) is a Protocol Error",
    clause: both("[MQTT-4.3.3-3]", "[MQTT-4.3.3-1]"),
    delivery: 2,
    bytes: (_v, id) => packet(0x40, u16(id)),
    reason5: PROTOCOL_ERROR,
  },
  {
    name: "PUBREC for a QoS 1 delivery (it waits for PUBACK) is a Protocol Error, and gets no PUBREL",
    clause: both("[MQTT-4.3.2-3]", "[MQTT-4.3.2-1]"),
    delivery: 1,
    bytes: (_v, id) => packet(0x50, u16(id)),
    reason5: PROTOCOL_ERROR,
  },
  {
    name: "PUBCOMP for a QoS 1 delivery (it waits for PUBACK) is a Protocol Error",
    clause: both("[MQTT-4.3.2-3]", "[MQTT-4.3.2-1]"),
    delivery: 1,
    bytes: (_v, id) => packet(0x70, u16(id)),
    reason5: PROTOCOL_ERROR,
  },
  {
    name: "PUBCOMP for a QoS 2 delivery before its PUBREC (no PUBREL was sent) is a Protocol Error",
    clause: both("[MQTT-4.3.3-3]", "[MQTT-4.3.3-1]"),
    delivery: 2,
    bytes: (_v, id) => packet(0x70, u16(id)),
    reason5: PROTOCOL_ERROR,
  },
];

/** The (case, version) pairs of the table. */
export function rows(): { c: ConformanceCase; v: Version; clause: string }[] {
  const out: { c: ConformanceCase; v: Version; clause: string }[] = [];
  for (const c of CASES) for (const v of [5, 4] as const) if (c.clause[v]) out.push({ c, v, clause: c.clause[v]! });
  return out;
}
