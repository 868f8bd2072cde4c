/**
 * When this session's newest subscriptions began, for the messages still in transit when they
 * did. A message reaches a session from its topic's shard or, later, from the wildcard shard; a
 * subscription made after the message was published is not its recipient ([MQTT-4.5.0-1]), and
 * must not make the session wait for a copy from a shard that never had that subscription
 * (review F9: a new `slow/#` beside `#` dropped the wildcard shard's copy of an earlier message).
 * Copies are in transit for seconds, so beginnings are kept for a minute, in memory only; after
 * that (or a restart) a subscription counts as older than any message.
 */
export const KEEP_MS = 60_000;
const MAX_KEPT = 1000;

export class RecentSubscriptions {
  private readonly since = new Map<string, number>();

  began(filter: string, now: number): void {
    this.since.delete(filter);
    this.since.set(filter, now);
    // Oldest first (insertion order): forget what no message in transit can still predate.
    for (const [f, t] of this.since) {
      if (now - t < KEEP_MS && this.since.size <= MAX_KEPT) break;
      this.since.delete(f);
    }
  }

  /** Whether `filter` began after a message published at `publishedAt`. */
  newerThan(filter: string, publishedAt: number): boolean {
    const t = this.since.get(filter);
    return t !== undefined && t > publishedAt;
  }
}
