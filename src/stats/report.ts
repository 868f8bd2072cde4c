/**
 * What sessions and topic shards tell the broker's stats object, in batches: never per message.
 * A session reports its client when it connects or disconnects (and its counts every few
 * seconds while busy); a shard reports its subscription and retained counts when they change.
 */
import type { BrokerEvent, ClientSummary } from "../admin/api-types.js";

export interface StatsReport {
  /** Counter deltas since the last report: `messages_received`, `messages_sent`, drops and refusals by name. */
  counters?: Record<string, number>;
  /** The session's client now (absent: unchanged); `{ clientId, gone: true }` when the session ended. */
  client?: ClientSummary | { clientId: string; gone: true };
  /** A topic shard's totals now. */
  shard?: { key: string; subscriptions: number; retained: number };
  /** Notable events (drops, refusals, errors), newest last; at most a few per report. */
  events?: BrokerEvent[];
}

/** Messages in and out, counted by the sessions. */
export const RECEIVED = "messages_received";
export const SENT = "messages_sent";

/** Counters that are drops or refusals (the overview's "dropped by reason"). */
export const isDropCounter = (name: string): boolean => /dropped|refused|denied|not_sent|too_large|expired/.test(name);
