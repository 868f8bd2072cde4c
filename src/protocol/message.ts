/** An application message as it travels between session and topic-shard objects. */

export type QoS = 0 | 1 | 2;

export interface Message {
  topic: string;
  payload: Uint8Array;
  qos: QoS;
  retain: boolean;
  /** Client id of the publisher (for logs, and MQTT 5's No Local). */
  origin: string;
}

/** One message handed by a topic shard to a session; `seq` is set for QoS 1/2 (durable) ones. */
export interface Delivery {
  seq?: number;
  message: Message;
}

export const minQoS = (a: QoS, b: QoS): QoS => (a < b ? a : b);
export const maxQoS = (a: QoS, b: QoS): QoS => (a > b ? a : b);
