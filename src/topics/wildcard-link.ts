/**
 * How a topic shard knows whether to forward to the wildcard shard. The wildcard shard numbers
 * each change between "has subscribers" and "has none" (an epoch); a topic shard keeps the state
 * with the highest epoch it heard, from a forward's reply or from the wildcard shard's notice
 * when it gains its first subscriber. A stale reply can then never undo a newer notice.
 *
 * The registry stays small (review finding F8): a topic shard believes "inactive" for at most
 * INACTIVE_VALID_MS after it heard it, then forwards again, which renews its registration; the
 * wildcard shard forgets registrations older than that (plus a margin) and announces only to
 * the shards that may still believe "inactive". A topic layout like `<deviceId>/…` then costs
 * each activation one call per recently active first level, not per level ever published.
 */
import type { SyncKv } from "../storage/sync-kv.js";

export interface WildcardState {
  active: boolean;
  epoch: number;
}

/** How long a topic shard trusts "the wildcard shard has no subscribers". */
export const INACTIVE_VALID_MS = 60_000;
/** The wildcard shard keeps a registration this much longer than a topic shard trusts "inactive". */
const REGISTRATION_MARGIN_MS = 10_000;

const KEY = "wildcard";

export class WildcardLink {
  private state: WildcardState & { heardAt?: number };

  constructor(
    private readonly kv: SyncKv,
    private readonly now: () => number = Date.now,
  ) {
    this.state = kv.get<WildcardState & { heardAt?: number }>(KEY) ?? { active: true, epoch: -1 };
  }

  /** Whether to forward: yes while active, and again once "inactive" is older than INACTIVE_VALID_MS. */
  get active(): boolean {
    return this.state.active || this.now() - (this.state.heardAt ?? 0) >= INACTIVE_VALID_MS;
  }

  /** Takes what the wildcard shard said, if it is newer than what is known (or renews "inactive"). */
  heard(news: WildcardState): void {
    if (news.epoch < this.state.epoch) return;
    const same = news.epoch === this.state.epoch && news.active === this.state.active;
    // Renewing "inactive" is written at most once per half validity period.
    if (same && (news.active || this.now() - (this.state.heardAt ?? 0) < INACTIVE_VALID_MS / 2)) return;
    this.state = news.active ? { ...news } : { ...news, heardAt: this.now() };
    this.kv.put(KEY, this.state);
  }
}

/** The wildcard shard's side: its epoch, and the topic shards to tell when it becomes active. */
export class WildcardRegistry {
  private epoch: number;
  /** When each topic shard last forwarded (kept in storage at a coarser grain). */
  private readonly shards = new Map<string, number>();

  constructor(
    private readonly kv: SyncKv,
    private readonly now: () => number = Date.now,
  ) {
    this.epoch = kv.get<number>("epoch") ?? 0;
    for (const [k, at] of kv.list<number>({ prefix: "forwarder:" })) this.shards.set(k.slice("forwarder:".length), at);
  }

  state(active: boolean): WildcardState {
    return { active, epoch: this.epoch };
  }

  /** A topic shard forwarded here: it will need to hear when this shard becomes active. */
  register(shard: string): void {
    const now = this.now();
    const at = this.shards.get(shard);
    if (at !== undefined && now - at < INACTIVE_VALID_MS / 4) return;
    this.shards.set(shard, now);
    this.kv.put(`forwarder:${shard}`, now);
  }

  /** The subscriber count crossed zero: a new epoch. Becoming active leaves an announcement owed. */
  changed(active: boolean): void {
    this.epoch++;
    this.kv.put("epoch", this.epoch);
    if (active) this.kv.put("announce", this.epoch);
    else this.kv.delete("announce");
  }

  /**
   * The activation still to be told (kept until it was), if any: to every topic shard that
   * forwarded recently enough to still believe "inactive". Older registrations are forgotten.
   */
  owed(): { state: WildcardState; tell: string[] } | null {
    this.forgetStale();
    const epoch = this.kv.get<number>("announce");
    return epoch === undefined ? null : { state: { active: true, epoch }, tell: [...this.shards.keys()] };
  }

  announced(epoch: number): void {
    if (this.kv.get<number>("announce") === epoch) this.kv.delete("announce");
  }

  /** Topic shards registered now. */
  get size(): number {
    return this.shards.size;
  }

  /**
   * The durable forwards of a batch not taken before (a retried forward is skipped); the
   * forwarder's mark moves past them with one write per batch.
   */
  fresh<T extends { seq?: number }>(from: string, deliveries: T[]): T[] {
    const mark = this.kv.get<number>(`mark:${from}`) ?? 0;
    let highest = mark;
    const out = deliveries.filter(({ seq }) => {
      if (seq === undefined) return true;
      if (seq <= mark) return false;
      highest = Math.max(highest, seq);
      return true;
    });
    if (highest > mark) this.kv.put(`mark:${from}`, highest);
    return out;
  }

  private forgetStale(): void {
    const oldest = this.now() - INACTIVE_VALID_MS - REGISTRATION_MARGIN_MS;
    for (const [shard, at] of this.shards) {
      if (at >= oldest) continue;
      this.shards.delete(shard);
      this.kv.delete(`forwarder:${shard}`);
    }
  }
}
