/** Builds the broker's outgoing control packets for MQTT 3.1.1 and 5.0 in one place. */
import type { IConnackPacket, Packet } from "mqtt-packet";
import { encodePacket, type ProtocolVersion } from "../codec/codec.js";
import { type ReasonCode, toConnackReturnCode, toDisconnectReason } from "../errors.js";

export function connack(version: ProtocolVersion, reason: ReasonCode, sessionPresent: boolean, properties?: IConnackPacket["properties"]): Packet {
  if (version === 5) return { cmd: "connack", reasonCode: reason, sessionPresent, ...(properties ? { properties } : {}) };
  return { cmd: "connack", returnCode: toConnackReturnCode(reason), sessionPresent };
}

/** MQTT 3.1.1 has no server DISCONNECT: the connection is just closed. */
export function serverDisconnect(version: ProtocolVersion, reason: ReasonCode, reasonString?: string): Packet | null {
  if (version !== 5) return null;
  return { cmd: "disconnect", reasonCode: toDisconnectReason(reason), ...(reasonString ? { properties: { reasonString: reasonString.slice(0, 200) } } : {}) };
}

/** PUBACK / PUBREC / PUBREL / PUBCOMP; MQTT 5 carries a reason code (omitted on the wire when 0). */
export function ack(cmd: "puback" | "pubrec" | "pubrel" | "pubcomp", messageId: number, version: ProtocolVersion = 4, reasonCode = 0): Packet {
  return (version === 5 ? { cmd, messageId, reasonCode } : { cmd, messageId }) as Packet;
}

/** Whether `packet`, encoded for MQTT 5, is within a Maximum Packet Size (none: no limit). */
export function fitsMaximum(packet: Packet, maximumPacketSize: number | undefined): boolean {
  return !maximumPacketSize || encodePacket(packet, 5).byteLength <= maximumPacketSize;
}

/**
 * A CONNACK within the client's Maximum Packet Size: the server MUST NOT send a larger packet
 * [MQTT-3.1.2-24], and leaves out the Reason String and User Properties first ([MQTT-3.2.2-19],
 * [MQTT-3.2.2-20]). Next go the properties that only repeat their default (§3.2.2.3: Retain,
 * Wildcard, Subscription Identifier and Shared Subscription Available 1, Topic Alias Maximum 0,
 * Receive Maximum 65,535), then the optional Response Information (§3.2.2.3.15). What remains
 * (the Assigned Client Identifier, limits the client must know) is needed: when it still does
 * not fit (see `fitsMaximum`) the CONNACK must not be sent, and the connection cannot go on.
 */
export function fitConnack(packet: Packet, maximumPacketSize: number | undefined): Packet {
  const props = (packet as IConnackPacket).properties;
  // (0 is no limit but a Protocol Error of its own, §3.1.2.11.4: the CONNACK says so in full.)
  if (packet.cmd !== "connack" || !maximumPacketSize || !props) return packet;
  const fits = (p: Packet) => encodePacket(p, 5).byteLength <= maximumPacketSize;
  if (fits(packet)) return packet;
  const { reasonString: _r, userProperties: _u, ...rest } = props;
  const steps: ((p: NonNullable<IConnackPacket["properties"]>) => void)[] = [
    () => undefined,
    (p) => {
      if (p.retainAvailable === true) delete p.retainAvailable;
      if (p.wildcardSubscriptionAvailable === true) delete p.wildcardSubscriptionAvailable;
      if (p.subscriptionIdentifiersAvailable === true) delete p.subscriptionIdentifiersAvailable;
      if (p.sharedSubscriptionAvailable === true) delete p.sharedSubscriptionAvailable;
      if (p.topicAliasMaximum === 0) delete p.topicAliasMaximum;
      if (p.receiveMaximum === 65535) delete p.receiveMaximum;
    },
    (p) => delete p.responseInformation,
  ];
  const properties = { ...rest };
  let fitted: Packet = packet;
  for (const step of steps) {
    step(properties);
    fitted = { ...packet, properties: { ...properties } } as Packet;
    if (fits(fitted)) return fitted;
  }
  return fitted;
}
