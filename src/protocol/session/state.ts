/** The session's durable records and the live connection's state (MQTT §4.1). */
import type { ProtocolVersion } from "../codec/codec.js";
import type { Message, QoS } from "../message.js";

export interface Subscription {
  qos: QoS;
}

export interface SessionRecord {
  clientId: string;
  /** CleanSession=0: the session outlives the connection [MQTT-3.1.2-4]. */
  persistent: boolean;
  subscriptions: Record<string, Subscription>;
  /** Highest durable delivery sequence taken from each topic shard, so a retry is not queued twice. */
  shardMarks: Record<string, number>;
}

/**
 * A QoS 1/2 message for the client: `queued` waits for a window slot, `sent` awaits PUBACK or
 * PUBREC, `released` (QoS 2) awaits PUBCOMP.
 */
export interface OutboundEntry {
  seq: number;
  topic: string;
  payload: Uint8Array;
  qos: 1 | 2;
  retain: boolean;
  state: "queued" | "sent" | "released";
  packetId?: number;
}

/** A QoS 2 PUBLISH received from the client and not yet released by PUBREL. */
export interface IncomingQoS2 {
  packetId: number;
  /** False until every topic shard stored it; a retransmission then routes it again. */
  routed: boolean;
  message?: Message;
}

/** The live network connection; kept in the socket attachment so it survives hibernation. */
export interface ConnectionState {
  connId: string;
  clientId: string;
  version: ProtocolVersion;
  /** Seconds; 0 turns keepalive off [MQTT-3.1.2-23]. */
  keepalive: number;
  lastSeen: number;
}

export function newSessionRecord(clientId: string, persistent: boolean): SessionRecord {
  return { clientId, persistent, subscriptions: {}, shardMarks: {} };
}
