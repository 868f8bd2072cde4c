/** The session's durable records and the live connection's state (MQTT §4.1). */
import type { ConnectionAuth } from "./auth-verdict.js";
import type { ProtocolVersion } from "../codec/codec.js";
import type { Message, QoS } from "../message.js";

/** Session Expiry Interval meaning "never" (MQTT 5 §3.1.2.11.2); also what 3.1.1 CleanSession=0 means. */
export const NEVER_EXPIRES = 0xffffffff;

export interface Subscription {
  qos: QoS;
  /** MQTT 5 subscription options (§3.8.3.1). */
  noLocal?: boolean;
  retainAsPublished?: boolean;
  retainHandling?: 0 | 1 | 2;
  /** Subscription Identifier (§3.8.2.1.2). */
  id?: number;
  /**
   * The stamp (`Message.stamp`) of the client's last PUBLISH before this subscription was made:
   * those publishes, handled before the SUBSCRIBE, are not this subscription's [MQTT-4.5.0-1],
   * even when they reach a shard after it.
   */
  madeAfter?: number;
}

export interface Will {
  message: Message;
  /** Will Delay Interval, seconds. */
  delay: number;
  /** Message Expiry Interval of the will, seconds, counted from when it is published. */
  expiryInterval?: number;
}

export interface SessionRecord {
  clientId: string;
  /** Seconds the session outlives its connection: 0 = ends with it, NEVER_EXPIRES = never. */
  expiryInterval: number;
  /** While disconnected, when the session ends (epoch ms); absent while connected or for NEVER. */
  expiresAt?: number;
  subscriptions: Record<string, Subscription>;
  /** A will waiting out its Will Delay Interval [MQTT-3.1.3-9]. */
  delayedWill?: { will: Will; at: number };
}

/**
 * A QoS 1/2 message for the client: `queued` waits for a window slot, `sent` awaits PUBACK or
 * PUBREC, `released` (QoS 2) awaits PUBCOMP.
 */
export interface OutboundEntry {
  seq: number;
  message: Message;
  qos: 1 | 2;
  retain: boolean;
  subscriptionIds?: number[];
  /** The shared subscription it was delivered for, if any. */
  share?: string;
  state: "queued" | "sent" | "released";
  packetId?: number;
  /** Estimated bytes (messageBytes), for the queue's byte limit. */
  bytes: number;
  /** The topic shard and its durable sequence the message came from. */
  origin?: { shard: string; seq: number };
  /**
   * Held in memory only, never written: the shard keeps the durable copy until the client
   * acknowledges it (then the session releases it there) or it is spilled to storage here.
   */
  transient?: { since: number };
}

/**
 * What a session took from one topic shard, for skipping a shard's redelivery of what it already
 * stored: everything up to `upTo`, and the stored sequences above it (messages held in memory in
 * between were not stored, so a redelivery after a restart must not skip them).
 */
export interface ShardMark {
  upTo: number;
  above: number[];
}

/** A QoS 2 PUBLISH received from the client and not yet released by PUBREL. */
export interface IncomingQoS2 {
  packetId: number;
  /** False until every topic shard stored it; a retransmission then routes it again. */
  routed: boolean;
  message?: Message;
}

/** Topic aliases of the live connection (MQTT 5 §3.3.2.3.4), both directions. */
export interface TopicAliases {
  inbound: Record<number, string>;
  outbound: Record<string, number>;
}

/** The live network connection; kept in the socket attachment so it survives hibernation. */
export interface ConnectionState {
  connId: string;
  clientId: string;
  version: ProtocolVersion;
  /** Seconds, after any Server Keep Alive override; 0 turns keepalive off. */
  keepalive: number;
  lastSeen: number;
  /**
   * When the keepalive is next checked (moves only when checked, so packets cost no alarm writes);
   * absent with keepalive 0 or when the edge enforces it (`ConnectRoute.edgeKeepalive`).
   */
  keepaliveCheckAt?: number;
  /** The client's Receive Maximum: QoS 1/2 messages it accepts in flight [MQTT-3.3.4-9]. */
  receiveMaximum: number;
  /** The client's Maximum Packet Size, if it set one [MQTT-3.1.2-24]. */
  maximumPacketSize?: number;
  /** The client's Topic Alias Maximum: aliases the server may use towards it. */
  topicAliasMaximum: number;
  /** Request Problem Information: false means no Reason String / User Properties on acks. */
  problemInformation: boolean;
  /** Session Expiry Interval given in CONNECT (DISCONNECT may not raise it from 0 (MQTT 5 §3.14.2.2.2)). */
  connectExpiry: number;
  /** Who the client authenticated as, and until when. */
  auth: ConnectionAuth;
  /** When its CONNECT was accepted (epoch ms). */
  connectedAt?: number;
}

/** A disconnected session whose expiry passed is gone (MQTT 5 §3.1.2.11.2). */
export const sessionExpired = (record: SessionRecord | undefined, now: number): boolean => record?.expiresAt !== undefined && now >= record.expiresAt;

export function newSessionRecord(clientId: string, expiryInterval: number): SessionRecord {
  return { clientId, expiryInterval, subscriptions: {} };
}
