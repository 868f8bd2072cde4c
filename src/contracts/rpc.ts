/**
 * The RPCs between the Durable Objects (and from the Worker to them): what each object answers,
 * with the types that cross the wire. The object classes `implement` these interfaces, so a
 * change to a call is a change here first, checked on both sides.
 */
import type { ClientList, ClientSummary, EventList, Overview } from "../admin/api-types.js";
import type { Delivery, DeliveryOutcome, Message, QoS } from "../protocol/message.js";
import type { CostCounters } from "../storage/counting-kv.js";
import type { StatsReport } from "../stats/report.js";
import type { RetainedPage } from "../topics/retained-store.js";
import type { ShardStats as ShardCoreStats } from "../topics/topic-shard.js";
import type { WildcardState } from "../topics/wildcard-link.js";

/** The one stats object's name (`env.STATS.idFromName(STATS_OBJECT)`). */
export const STATS_OBJECT = "broker";

/** A session object's numbers, for GET /stats/sessions/:id and the operator's console. */
export interface SessionStats {
  clientId: string | undefined;
  connected: boolean;
  /** Network address of the live connection, as the Worker believed it. */
  address?: string;
  /** Session Expiry Interval in seconds (4294967295 = never); absent without a session. */
  expiryInterval: number | undefined;
  subscriptions: Record<string, number>;
  queued: number;
  queuedBytes: number;
  counters: Record<string, number>;
  cost: CostCounters;
}

/** A topic shard's numbers, for GET /stats/shards/:key. */
export interface ShardStats extends ShardCoreStats {
  counters: Record<string, number>;
  cost: CostCounters;
}

/** SessionDO, called by topic shards (deliver), the stats object (wake) and the Worker. */
export interface SessionRpc {
  /** A topic shard hands over messages; they are stored before this resolves. */
  deliver(shard: string, deliveries: Delivery[]): Promise<DeliveryOutcome>;
  /** After the stats object restarted: a session whose connection did not survive ends it. */
  wake(): Promise<void>;
  /** The operator's "disconnect"; false when not connected. */
  adminDisconnect(): Promise<boolean>;
  stats(): Promise<SessionStats>;
}

/** TopicShardDO, called by session objects, other shards (forward, wildcardActive) and the Worker. */
export interface TopicShardRpc {
  subscribe(shard: string, clientId: string, subscriptions: { filter: string; qos: QoS; retained: boolean }[]): Promise<RetainedPage[]>;
  retainedPage(shard: string, filter: string, after?: string): Promise<RetainedPage>;
  unsubscribe(shard: string, clientId: string, filters: string[]): Promise<void>;
  publish(shard: string, messages: Message[]): Promise<void>;
  /** A topic shard forwards to the wildcard shard; the answer says whether to keep forwarding. */
  forward(from: string, deliveries: Delivery[]): Promise<WildcardState>;
  release(shard: string, clientId: string, upTo: number): Promise<void>;
  online(shard: string, clientId: string): Promise<void>;
  wildcardActive(state: WildcardState): Promise<void>;
  reshare(shard: string, share: string, message: Message): Promise<void>;
  stats(): Promise<ShardStats>;
}

/** The operator API's client search. */
export interface ClientQuery {
  q?: string;
  connected?: boolean;
  limit?: number;
  after?: string;
}

/** StatsDO (the one named STATS_OBJECT), told by sessions and shards, asked by the Worker. */
export interface StatsRpc {
  report(report: StatsReport): Promise<void>;
  overview(): Promise<Overview>;
  clients(query: ClientQuery): Promise<ClientList>;
  client(clientId: string): Promise<ClientSummary | undefined>;
  events(limit?: number): Promise<EventList>;
  metrics(): Promise<string>;
}
