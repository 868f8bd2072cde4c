/** An application message as it travels between session and topic-shard objects. */

export type QoS = 0 | 1 | 2;

/** The PUBLISH properties a broker forwards unchanged (MQTT 5 §3.3.2.3). */
export interface MessageProperties {
  payloadFormatIndicator?: boolean;
  contentType?: string;
  responseTopic?: string;
  correlationData?: Uint8Array;
  userProperties?: Record<string, string | string[]>;
}

export interface Message {
  topic: string;
  payload: Uint8Array;
  qos: QoS;
  retain: boolean;
  /** Client id of the publisher (for logs, and MQTT 5's No Local). */
  origin: string;
  properties?: MessageProperties;
  /** From the Message Expiry Interval: epoch ms after which it is not delivered [MQTT-3.3.2-5]. */
  expiresAt?: number;
}

/** One message handed by a topic shard to a session. */
export interface Delivery {
  /** Set for QoS 1/2 messages, which the shard keeps until the session confirms them. */
  seq?: number;
  message: Message;
  /** Set when the message goes to this session as the chosen member of a shared subscription. */
  share?: string;
  /** A shared delivery every member declined: take it even while offline. */
  force?: boolean;
}

/** A session's answer to a batch: "gone" when no session exists; indexes of declined shared deliveries. */
export type DeliveryOutcome = { gone: true } | { gone: false; declined: number[] };

export const minQoS = (a: QoS, b: QoS): QoS => (a < b ? a : b);
export const maxQoS = (a: QoS, b: QoS): QoS => (a > b ? a : b);

export const isExpired = (message: Message, now: number): boolean =>
  message.expiresAt !== undefined && now >= message.expiresAt;
