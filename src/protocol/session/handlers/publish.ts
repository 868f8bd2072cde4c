/** PUBLISH and PUBREL from the client (MQTT §3.3, §3.6, §4.3): route, then acknowledge. */
import type { IPublishPacket, IPubrelPacket } from "mqtt-packet";
import type { Action } from "../../actions.js";
import { ProtocolError, Reason } from "../../errors.js";
import type { Message } from "../../message.js";
import { isValidTopicName } from "../../topic/validate.js";
import { send, type Session } from "../session.js";
import type { ConnectionState } from "../state.js";
import { ack } from "../wire.js";

export function handlePublish(s: Session, conn: ConnectionState, packet: IPublishPacket): Action[] {
  // Validate: a topic name has no wildcards [MQTT-3.3.2-2].
  if (!isValidTopicName(packet.topic)) {
    throw new ProtocolError(Reason.TopicNameInvalid, `invalid topic name ${JSON.stringify(packet.topic)}`);
  }
  const message: Message = {
    topic: packet.topic,
    // Copy: the decoder's buffer may be a view over a much larger frame.
    payload: typeof packet.payload === "string" ? new TextEncoder().encode(packet.payload) : new Uint8Array(packet.payload),
    qos: packet.qos,
    retain: packet.retain,
    origin: conn.clientId,
  };

  switch (packet.qos) {
    case 0:
      return [{ type: "route", message }];
    case 1:
      // PUBACK only once every shard holds the message [MQTT-4.3.2-2].
      return [{ type: "route", message, after: () => [send(conn, ack("puback", packet.messageId!))] }];
    case 2:
      return publishQoS2(s, conn, packet.messageId!, message);
  }
}

/**
 * QoS 2 exactly once: the packet id is remembered until PUBREL, and a retransmission of a routed
 * message is only acknowledged again, never routed twice [MQTT-4.3.3-2].
 */
function publishQoS2(s: Session, conn: ConnectionState, packetId: number, message: Message): Action[] {
  const pending = s.store.getIncoming(packetId);
  const pubrec = send(conn, ack("pubrec", packetId));
  if (pending?.routed) return [pubrec];
  const toRoute = pending?.message ?? message;
  if (!pending) s.store.putIncoming({ packetId, routed: false, message });
  return [{
    type: "route",
    message: toRoute,
    after: () => {
      s.store.putIncoming({ packetId, routed: true });
      return [pubrec];
    },
  }];
}

/** PUBREL: forget the packet id, answer PUBCOMP [MQTT-4.3.3-2]. */
export function handlePubrel(s: Session, conn: ConnectionState, packet: IPubrelPacket): Action[] {
  s.store.deleteIncoming(packet.messageId!);
  return [send(conn, ack("pubcomp", packet.messageId!))];
}
