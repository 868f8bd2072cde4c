/** Builds the broker's outgoing control packets for MQTT 3.1.1 and 5.0 in one place. */
import type { Packet } from "mqtt-packet";
import type { ProtocolVersion } from "../codec/codec.js";
import { type ReasonCode, toConnackReturnCode } from "../errors.js";

export function connack(version: ProtocolVersion, reason: ReasonCode, sessionPresent: boolean): Packet {
  if (version === 5) return { cmd: "connack", reasonCode: reason, sessionPresent };
  return { cmd: "connack", returnCode: toConnackReturnCode(reason), sessionPresent };
}

/** MQTT 3.1.1 has no server DISCONNECT: the connection is just closed [MQTT-3.14.1]. */
export function serverDisconnect(version: ProtocolVersion, reason: ReasonCode): Packet | null {
  return version === 5 ? { cmd: "disconnect", reasonCode: reason } : null;
}

export function ack(
  cmd: "puback" | "pubrec" | "pubrel" | "pubcomp",
  messageId: number,
): Packet {
  return { cmd, messageId } as Packet;
}
