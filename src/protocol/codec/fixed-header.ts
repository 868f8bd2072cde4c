/**
 * The fixed header of a packet from a client (§2.1): its type, its flag bits, where the body
 * starts. Reserved flag bits must have the value Table 2-2 gives, or the packet is malformed:
 * MQTT 5 [MQTT-2.1.3-1], 3.1.1 [MQTT-2.2.2-1] / [MQTT-2.2.2-2]. The framer already checked that
 * the Remaining Length is well formed and matches the bytes.
 */
import { malformed } from "./reader.js";

export const PacketType = {
  CONNECT: 1,
  CONNACK: 2,
  PUBLISH: 3,
  PUBACK: 4,
  PUBREC: 5,
  PUBREL: 6,
  PUBCOMP: 7,
  SUBSCRIBE: 8,
  SUBACK: 9,
  UNSUBSCRIBE: 10,
  UNSUBACK: 11,
  PINGREQ: 12,
  PINGRESP: 13,
  DISCONNECT: 14,
  AUTH: 15,
} as const;

export interface FixedHeader {
  type: number;
  flags: number;
  /** Offset of the first byte after the Remaining Length. */
  bodyStart: number;
}

/** The flag bits each packet type must carry (Table 2-2); PUBLISH's are DUP, QoS and RETAIN. */
const REQUIRED_FLAGS: Readonly<Record<number, number>> = {
  [PacketType.PUBREL]: 0b0010, // [MQTT-3.6.1-1]
  [PacketType.SUBSCRIBE]: 0b0010, // [MQTT-3.8.1-1]
  [PacketType.UNSUBSCRIBE]: 0b0010, // [MQTT-3.10.1-1]
};

/** Packet types whose own section states the rule on their flags (both versions, except AUTH: 5.0 only). */
const FLAGS_CLAUSE: Readonly<Record<number, string>> = {
  [PacketType.PUBREL]: "[MQTT-3.6.1-1]",
  [PacketType.SUBSCRIBE]: "[MQTT-3.8.1-1]",
  [PacketType.UNSUBSCRIBE]: "[MQTT-3.10.1-1]",
  [PacketType.DISCONNECT]: "[MQTT-3.14.1-1]",
  [PacketType.AUTH]: "[MQTT-3.15.1-1]",
};

export function readFixedHeader(bytes: Uint8Array, v5: boolean): FixedHeader {
  const type = bytes[0]! >> 4;
  const flags = bytes[0]! & 0x0f;
  let bodyStart = 1;
  while (bodyStart < bytes.length && bodyStart <= 4 && (bytes[bodyStart]! & 0x80) !== 0) bodyStart++;
  bodyStart++;
  if (type === PacketType.PUBLISH) {
    // QoS 3 is a Malformed Packet [MQTT-3.3.1-4].
    if (((flags >> 1) & 0b11) === 3) throw malformed("[MQTT-3.3.1-4]", "PUBLISH with both QoS bits set");
    // DUP is 0 on every QoS 0 PUBLISH [MQTT-3.3.1-2]; 5.0 lists it among the flags that must be
    // right (Table 2-2), so another value is malformed [MQTT-2.1.3-1].
    if (((flags >> 1) & 0b11) === 0 && flags & 0b1000) throw malformed("[MQTT-3.3.1-2]", "QoS 0 PUBLISH with DUP set");
  } else if (flags !== (REQUIRED_FLAGS[type] ?? 0)) {
    const clause = FLAGS_CLAUSE[type] ?? (v5 ? "[MQTT-2.1.3-1]" : "[MQTT-2.2.2-2]");
    throw malformed(clause, `packet type ${type} with reserved flag bits 0x${flags.toString(16)}`);
  }
  return { type, flags, bodyStart };
}
