/**
 * When this session's newest subscriptions began, for the messages still in transit when they
 * did. A message reaches a session from its topic's shard or, later, from the wildcard shard; a
 * subscription made after the message was published is not its recipient ([MQTT-4.5.0-1]), and
 * must not make the session wait for a copy from a shard that never had that subscription
 * (review F9: a new `slow/#` beside `#` dropped the wildcard shard's copy of an earlier message).
 * The other way round, a subscription removed after a message was published still counts for
 * it: it designates the shard whose copy the session takes, so removing an overlapping `a/#`
 * while `#` stays cannot drop both copies of a message in transit (F9's removed-filter case).
 * Copies are in transit for seconds, so beginnings and ends are kept for a minute, in memory
 * only; after that (or a restart) a subscription counts as older than any message, and a removed
 * one as gone.
 */
import type { Subscription } from "./state.js";

export const KEEP_MS = 60_000;
const MAX_KEPT = 1000;

export class RecentSubscriptions {
  private readonly since = new Map<string, number>();
  private readonly ended = new Map<string, { sub: Subscription; at: number }>();

  began(filter: string, now: number): void {
    this.ended.delete(filter);
    this.since.delete(filter);
    this.since.set(filter, now);
    forgetOld(this.since, (t) => t, now);
  }

  end(filter: string, sub: Subscription, now: number): void {
    this.since.delete(filter);
    this.ended.delete(filter);
    this.ended.set(filter, { sub, at: now });
    forgetOld(this.ended, (e) => e.at, now);
  }

  /** Subscriptions removed after a message published at `publishedAt`: still its recipients. */
  endedAfter(publishedAt: number): [string, Subscription][] {
    const out: [string, Subscription][] = [];
    for (const [filter, e] of this.ended) if (e.at > publishedAt) out.push([filter, e.sub]);
    return out;
  }

  /** Whether `filter` began after a message published at `publishedAt`. */
  newerThan(filter: string, publishedAt: number): boolean {
    const t = this.since.get(filter);
    return t !== undefined && t > publishedAt;
  }
}

/** Oldest first (insertion order): forgets what no message in transit can still predate. */
function forgetOld<V>(map: Map<string, V>, timeOf: (v: V) => number, now: number): void {
  for (const [key, value] of map) {
    if (now - timeOf(value) < KEEP_MS && map.size <= MAX_KEPT) break;
    map.delete(key);
  }
}
