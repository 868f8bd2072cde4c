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
  /** When its topic shard accepted it (epoch ms): only subscriptions older than that get it. */
  publishedAt?: number;
  /**
   * Set on a client's PUBLISH by its session: grows with each PUBLISH of that client id, so its
   * session can tell the client's publishes made before one of its subscriptions (see
   * `Subscription.madeAfter`) however late they reach it.
   */
  stamp?: number;
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

/**
 * A session's answer to a batch: "gone" when no session exists; indexes of declined shared
 * deliveries; `released`: the highest durable sequence from this shard the session no longer
 * needs the shard to keep (stored by the session, acknowledged by the client, or not wanted).
 * Messages the session holds in memory for its client are released later, by `release` calls.
 * `offline`: the client is not connected, so the shard sends it no QoS 0 messages (which the
 * session would drop) until the session says it is back (review finding F28).
 */
/**
 * `unmatched`: topics of deliveries no filter of the session matches at all: the shard's
 * subscriptions for them are phantoms (left by a failed unsubscribe or discard call, F20).
 */
export type DeliveryOutcome = { gone: true } | { gone: false; declined: number[]; released?: number; offline?: true; unmatched?: string[] };

export const minQoS = (a: QoS, b: QoS): QoS => (a < b ? a : b);
export const maxQoS = (a: QoS, b: QoS): QoS => (a > b ? a : b);

export const isExpired = (message: Message, now: number): boolean => message.expiresAt !== undefined && now >= message.expiresAt;

/**
 * About what a message costs to carry (payload, topic, properties and framing), in bytes: what
 * every byte bound on batches and buffers counts. Strings count 3 bytes per UTF-16 unit, the
 * most they can take in UTF-8, so the estimate never falls short.
 */
export function messageBytes(message: Message): number {
  const p = message.properties;
  let bytes = 64 + message.payload.byteLength + message.topic.length * 3;
  if (p) {
    bytes += (p.contentType?.length ?? 0) * 3 + (p.responseTopic?.length ?? 0) * 3 + (p.correlationData?.byteLength ?? 0);
    if (p.userProperties) bytes += JSON.stringify(p.userProperties).length * 3;
  }
  return bytes;
}
