/** SUBSCRIBE (MQTT §3.8): store the filters, register them with the shards, SUBACK, retained. */
import type { ISubscribePacket } from "mqtt-packet";
import type { Action } from "../../actions.js";
import { ProtocolError, Reason } from "../../errors.js";
import { minQoS, type Message, type QoS } from "../../message.js";
import { isValidTopicFilter } from "../../topic/validate.js";
import { send, type Session } from "../session.js";
import type { ConnectionState } from "../state.js";

/** SUBACK return code for a refused filter (MQTT 3.1.1 §3.9.3). */
export const SUBACK_FAILURE = 0x80;

export function handleSubscribe(s: Session, conn: ConnectionState, packet: ISubscribePacket): Action[] {
  // Guard: a SUBSCRIBE carries at least one filter [MQTT-3.8.3-3].
  if (packet.subscriptions.length === 0) throw new ProtocolError(Reason.ProtocolError, "SUBSCRIBE without filters");

  // Validate: each filter is granted its QoS or refused with 0x80 [MQTT-3.9.3-2].
  const granted: number[] = [];
  const accepted: { filter: string; qos: QoS }[] = [];
  for (const sub of packet.subscriptions) {
    if (!isValidTopicFilter(sub.topic)) {
      granted.push(SUBACK_FAILURE);
      continue;
    }
    const qos = minQoS(sub.qos as QoS, 2);
    granted.push(qos);
    accepted.push({ filter: sub.topic, qos });
  }

  // Apply: a subscription to an existing filter replaces it [MQTT-3.8.4-3].
  const record = s.record!;
  for (const { filter, qos } of accepted) record.subscriptions[filter] = { qos };
  s.saveRecord();

  const suback = send(conn, { cmd: "suback", messageId: packet.messageId, granted });
  if (accepted.length === 0) return [suback];
  return [{
    type: "subscribe",
    clientId: conn.clientId,
    subscriptions: accepted,
    // Acknowledge once the shards hold the subscriptions, then send retained messages with the
    // retain flag set [MQTT-3.3.1-6], [MQTT-3.3.1-8], at most the granted QoS [MQTT-3.8.4-6].
    after: (retained: Message[][]) => {
      const actions: Action[] = [suback];
      accepted.forEach(({ qos }, i) => {
        for (const message of retained[i] ?? []) {
          actions.push(...s.enqueue(message, minQoS(qos, message.qos), true));
        }
      });
      return actions.concat(s.outbound.pump(s.current));
    },
  }];
}
