/**
 * The one place where a packet from a client is checked against the structure MQTT gives it,
 * on its raw bytes, before mqtt-packet decodes it (mqtt-packet reads leniently: fields past their
 * bounds, bytes left over, unknown or misplaced properties, ill-formed UTF-8 rewritten to U+FFFD,
 * flag combinations it does not check). Each rule names its clause; a broken one is a `Violation`
 * of kind "malformed" (0x81), "protocol-error" (0x82) or "duplicate-property" (0x82), as the
 * specification labels it (MQTT 5 §1.2, §4.13; in 3.1.1 every one closes the connection, §4.8).
 * Rules that need the session's state (topic aliases, QoS and retain as offered, packet ids in
 * use) stay with the session handlers.
 */
import { PacketType, readFixedHeader } from "./fixed-header.js";
import { scanProperties } from "./properties.js";
import { ByteReader, Violation, malformed, protocolError } from "./reader.js";

/** A Packet Identifier: non-zero (5.0 [MQTT-2.2.1-3], 3.1.1 [MQTT-2.3.1-1]). */
function packetId(r: ByteReader): number {
  const id = r.u16("the Packet Identifier");
  if (id === 0) throw protocolError(r.v5 ? "[MQTT-2.2.1-3]" : "[MQTT-2.3.1-1]", "Packet Identifier 0");
  return id;
}
import { filterViolation, topicNameViolation } from "./topic-syntax.js";

/**
 * Checks one whole packet from a client. `version` is the connection's (undefined before
 * CONNECT: then only a CONNECT is checked, and its own level says which rules apply).
 */
export function checkPacket(bytes: Uint8Array, version: 3 | 4 | 5 | undefined): Violation | undefined {
  try {
    check(bytes, version);
    return undefined;
  } catch (e) {
    if (e instanceof Violation) return e;
    throw e;
  }
}

function check(bytes: Uint8Array, version: 3 | 4 | 5 | undefined): void {
  const type = bytes[0]! >> 4;
  if (type === PacketType.CONNECT) {
    checkConnect(bytes);
    return;
  }
  if (version === undefined) return; // anything else before CONNECT closes the connection anyway
  const v5 = version === 5;
  const header = readFixedHeader(bytes, v5);
  const body = new ByteReader(bytes, header.bodyStart, bytes.length, v5);
  switch (type) {
    case PacketType.PUBLISH:
      checkPublish(body, (header.flags >> 1) & 0b11, v5);
      return;
    case PacketType.PUBACK:
    case PacketType.PUBREC:
    case PacketType.PUBREL:
    case PacketType.PUBCOMP:
      checkAck(body, type, v5);
      return;
    case PacketType.SUBSCRIBE:
      checkSubscribe(body, v5);
      return;
    case PacketType.UNSUBSCRIBE:
      checkUnsubscribe(body, v5);
      return;
    case PacketType.PINGREQ:
      // No Variable Header, no Payload (§3.12.2, §3.12.3): a Remaining Length of 0.
      if (!body.atEnd) throw malformed("§3.12.1", `PINGREQ with a Remaining Length of ${body.remaining}`);
      return;
    case PacketType.DISCONNECT:
      checkDisconnect(body, v5);
      return;
    case PacketType.AUTH:
      // Packet type 15 is reserved in 3.1.1 (§2.2.1 Table 2.1: "Forbidden").
      if (!v5) throw malformed("§2.2.1", "AUTH does not exist in MQTT 3.1.1");
      checkAuth(body);
      return;
    case 0:
      throw malformed(v5 ? "§2.1.2" : "§2.2.1", "packet type 0 is reserved");
    default:
      return; // server-to-client packets: the session refuses them (a Protocol Error)
  }
}

// CONNECT flags (§3.1.2.3).
const RESERVED = 0x01;
const WILL = 0x04;
const WILL_RETAIN = 0x20;
const PASSWORD = 0x40;
const USERNAME = 0x80;

/** CONNECT (§3.1). Its rules, numbered in each version's own way. */
function checkConnect(bytes: Uint8Array): void {
  // The level decides the rules; an unknown protocol or level was answered before (CONNACK 0x01 / 0x84).
  const peek = new ByteReader(bytes, readFixedHeader(bytes, true).bodyStart, bytes.length, true);
  peek.binary("the Protocol Name");
  const v5 = peek.byte("the Protocol Level") === 5;
  const r = new ByteReader(bytes, readFixedHeader(bytes, v5).bodyStart, bytes.length, v5);
  r.string("the Protocol Name");
  r.byte("the Protocol Level");
  const flags = r.byte("the Connect Flags");
  // The reserved flag is 0 [MQTT-3.1.2-3]; 5.0 says: else a Malformed Packet.
  if (flags & RESERVED) throw malformed("[MQTT-3.1.2-3]", "CONNECT with the reserved flag set");
  const will = (flags & WILL) !== 0;
  const willQoS = (flags >> 3) & 0b11;
  if (!will && willQoS !== 0) throw malformed(v5 ? "[MQTT-3.1.2-11]" : "[MQTT-3.1.2-13]", "Will QoS set without the Will Flag");
  if (!will && flags & WILL_RETAIN) throw malformed(v5 ? "[MQTT-3.1.2-13]" : "[MQTT-3.1.2-15]", "Will Retain set without the Will Flag");
  // Will QoS 3: 5.0 "a Malformed Packet" (§3.1.2.6, after [MQTT-3.1.2-12]); 3.1.1 [MQTT-3.1.2-14].
  if (will && willQoS === 3) throw malformed(v5 ? "[MQTT-3.1.2-12]" : "[MQTT-3.1.2-14]", "Will QoS 3");
  const username = (flags & USERNAME) !== 0;
  const password = (flags & PASSWORD) !== 0;
  // 3.1.1 only: no password without a user name [MQTT-3.1.2-22] (5.0 allows it, §3.1.2.9).
  if (!v5 && password && !username) throw malformed("[MQTT-3.1.2-22]", "Password Flag set without the User Name Flag");
  r.u16("the Keep Alive");
  if (v5) {
    const props = scanProperties(r, "connect");
    // Authentication Data without an Authentication Method is a Protocol Error (§3.1.2.11.10).
    if (props.has(0x16) && !props.has(0x15)) throw protocolError("§3.1.2.11.10", "Authentication Data without an Authentication Method");
  }
  // The Client Identifier is present and a UTF-8 Encoded String ([MQTT-3.1.3-3], [MQTT-3.1.3-4]).
  r.string("the Client Identifier");
  if (will) {
    if (v5) scanProperties(r, "will");
    // The Will Topic is a UTF-8 Encoded String (5.0 [MQTT-3.1.3-11], 3.1.1 [MQTT-3.1.3-10]).
    const topic = r.string("the Will Topic");
    // A topic name like a PUBLISH's: not empty [MQTT-4.7.3-1], no wildcards [MQTT-3.3.2-2].
    if (topic === "") throw malformed("[MQTT-4.7.3-1]", "an empty Will Topic");
    const bad = topicNameViolation(topic);
    if (bad) throw malformed(bad.clause, `Will Topic: ${bad.why}`);
    r.binary("the Will Payload");
  }
  // A User Name / Password is present when its flag is 1 (5.0 [MQTT-3.1.2-17] / [-19]; 3.1.1
  // [MQTT-3.1.2-19] / [-21]) and absent when it is 0 (5.0 [-16] / [-18]; 3.1.1 [-18] / [-20]).
  if (username) {
    if (r.atEnd) throw malformed(v5 ? "[MQTT-3.1.2-17]" : "[MQTT-3.1.2-19]", "User Name Flag set but no User Name");
    // A UTF-8 Encoded String (5.0 [MQTT-3.1.3-12], 3.1.1 [MQTT-3.1.3-11]).
    r.string("the User Name");
  }
  if (password) {
    if (r.atEnd) throw malformed(v5 ? "[MQTT-3.1.2-19]" : "[MQTT-3.1.2-21]", "Password Flag set but no Password");
    r.binary("the Password");
  }
  if (!r.atEnd) {
    if (!username) throw malformed(v5 ? "[MQTT-3.1.2-16]" : "[MQTT-3.1.2-18]", "bytes after the payload's fields: a User Name without the User Name Flag");
    if (!password) throw malformed(v5 ? "[MQTT-3.1.2-18]" : "[MQTT-3.1.2-20]", "bytes after the payload's fields: a Password without the Password Flag");
    throw malformed("[MQTT-3.1.4-1]", "bytes after the Password");
  }
}

/** PUBLISH (§3.3). */
function checkPublish(r: ByteReader, qos: number, v5: boolean): void {
  // The Topic Name is a UTF-8 Encoded String [MQTT-3.3.2-1].
  const topic = r.string("the Topic Name");
  if (qos > 0) packetId(r);
  const props = v5 ? scanProperties(r, "publish") : undefined;
  if (topic === "") {
    // 5.0: "a Protocol Error if the Topic Name is zero length and there is no Topic Alias" (§3.3.2.1).
    if (v5 && !props!.has(0x23)) throw protocolError("§3.3.2.1", "an empty Topic Name without a Topic Alias");
    // 3.1.1: every Topic Name is at least one character long [MQTT-4.7.3-1].
    if (!v5) throw malformed("[MQTT-4.7.3-1]", "an empty Topic Name");
  }
  const bad = topicNameViolation(topic);
  if (bad) throw malformed(bad.clause, bad.why);
  // The rest is the payload, any bytes (§3.3.3).
}

/** PUBACK, PUBREC, PUBREL, PUBCOMP (§3.4–§3.7). */
function checkAck(r: ByteReader, type: number, v5: boolean): void {
  const section = `§3.${type}.2`;
  // 3.1.1: the Remaining Length is 2, the Packet Identifier only (§3.4.1, §3.5.1, §3.6.1, §3.7.1).
  if (!v5 && r.remaining !== 2) throw malformed(`§3.${type}.1`, `acknowledgement (type ${type}) with a Remaining Length of ${r.remaining}, not 2`);
  // 5.0: a Packet Identifier, then optionally a Reason Code, then optionally properties.
  if (r.remaining < 2) throw malformed(section, `acknowledgement (type ${type}) with a Remaining Length of ${r.remaining}`);
  packetId(r);
  if (r.atEnd) return;
  r.byte("the Reason Code"); // which codes are valid, mqtt-packet checks
  // "If the Remaining Length is less than 4 there is no Property Length" (§3.4.2.2.1 …).
  if (r.atEnd) return;
  scanProperties(r, "ack");
  if (!r.atEnd) throw malformed(section, `acknowledgement (type ${type}) with bytes after its properties`);
}

/** SUBSCRIBE (§3.8). */
function checkSubscribe(r: ByteReader, v5: boolean): void {
  packetId(r);
  if (v5) scanProperties(r, "subscribe");
  // At least one Topic Filter / Subscription Options pair: 5.0 [MQTT-3.8.3-2] "no Payload is a
  // Protocol Error"; 3.1.1 [MQTT-3.8.3-3] (a protocol violation: close).
  if (r.atEnd) throw v5 ? protocolError("[MQTT-3.8.3-2]", "SUBSCRIBE without a Topic Filter") : malformed("[MQTT-3.8.3-3]", "SUBSCRIBE without a Topic Filter");
  while (!r.atEnd) {
    // A UTF-8 Encoded String [MQTT-3.8.3-1].
    const filter = r.string("a Topic Filter");
    const options = r.byte("the Subscription Options");
    if (v5) {
      // Bits 6 and 7 are reserved: malformed if set [MQTT-3.8.3-5].
      if (options & 0xc0) throw malformed("[MQTT-3.8.3-5]", `Subscription Options 0x${options.toString(16)} with reserved bits set`);
      // "It is a Protocol Error if the Maximum QoS field has the value 3" / "to send a Retain
      // Handling value of 3" (§3.8.3.1).
      if ((options & 0b11) === 3) throw protocolError("§3.8.3.1", "Subscription Options with Maximum QoS 3");
      if (((options >> 4) & 0b11) === 3) throw protocolError("§3.8.3.1", "Subscription Options with Retain Handling 3");
    } else if (options & 0xfc || (options & 0b11) === 3) {
      // Reserved bits set or QoS 3: malformed, close [MQTT-3.8.3-4].
      throw malformed("[MQTT-3.8.3-4]", `Requested QoS byte 0x${options.toString(16)}`);
    }
    const bad = filterViolation(filter, v5);
    if (bad) throw malformed(bad.clause, bad.why);
    // No Local on a Shared Subscription is a Protocol Error [MQTT-3.8.3-4] (5.0).
    if (v5 && options & 0x04 && filter.startsWith("$share/")) throw protocolError("[MQTT-3.8.3-4]", `No Local on the shared subscription ${JSON.stringify(filter)}`);
  }
}

/** UNSUBSCRIBE (§3.10). */
function checkUnsubscribe(r: ByteReader, v5: boolean): void {
  packetId(r);
  if (v5) scanProperties(r, "unsubscribe");
  // At least one Topic Filter [MQTT-3.10.3-2]; 5.0: "no Payload is a Protocol Error".
  if (r.atEnd) throw v5 ? protocolError("[MQTT-3.10.3-2]", "UNSUBSCRIBE without a Topic Filter") : malformed("[MQTT-3.10.3-2]", "UNSUBSCRIBE without a Topic Filter");
  while (!r.atEnd) {
    // UTF-8 Encoded Strings [MQTT-3.10.3-1], each a topic filter (§4.7).
    const filter = r.string("a Topic Filter");
    const bad = filterViolation(filter, v5);
    if (bad) throw malformed(bad.clause, bad.why);
  }
}

/** DISCONNECT (§3.14). */
function checkDisconnect(r: ByteReader, v5: boolean): void {
  // 3.1.1: no Variable Header, no Payload (§3.14.2, §3.14.3).
  if (!v5) {
    if (!r.atEnd) throw malformed("§3.14.1", `DISCONNECT with a Remaining Length of ${r.remaining}`);
    return;
  }
  // 5.0: Reason Code and properties may be omitted (§3.14.2.1, §3.14.2.2.1).
  if (r.atEnd) return;
  r.byte("the Reason Code");
  if (r.atEnd) return;
  scanProperties(r, "disconnect");
  if (!r.atEnd) throw malformed("§3.14.3", "DISCONNECT with bytes after its properties (it has no Payload)");
}

/** AUTH (§3.15). */
function checkAuth(r: ByteReader): void {
  // Reason Code and properties may be omitted for 0x00 Success (§3.15.2.1).
  if (r.atEnd) return;
  r.byte("the Reason Code");
  if (r.atEnd) return;
  scanProperties(r, "auth");
  if (!r.atEnd) throw malformed("§3.15.3", "AUTH with bytes after its properties (it has no Payload)");
}
