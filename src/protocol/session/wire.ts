/** Builds the broker's outgoing control packets for MQTT 3.1.1 and 5.0 in one place. */
import type { IConnackPacket, Packet } from "mqtt-packet";
import type { ProtocolVersion } from "../codec/codec.js";
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
