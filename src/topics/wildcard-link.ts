/**
 * How a topic shard knows whether to forward to the wildcard shard. The wildcard shard numbers
 * each change between "has subscribers" and "has none" (an epoch); a topic shard keeps the state
 * with the highest epoch it heard, from a forward's reply or from the wildcard shard's notice
 * when it gains its first subscriber. A stale reply can then never undo a newer notice.
 */
import type { SyncKv } from "../storage/memory-kv.js";

export interface WildcardState {
  active: boolean;
  epoch: number;
}

const KEY = "wildcard";

export class WildcardLink {
  private state: WildcardState;

  constructor(private readonly kv: SyncKv) {
    // Until told otherwise, forward: never miss a wildcard subscriber.
    this.state = kv.get<WildcardState>(KEY) ?? { active: true, epoch: -1 };
  }

  get active(): boolean {
    return this.state.active;
  }

  /** Takes what the wildcard shard said, if it is newer than what is known. */
  heard(news: WildcardState): void {
    if (news.epoch < this.state.epoch || (news.epoch === this.state.epoch && news.active === this.state.active)) return;
    this.state = { ...news };
    this.kv.put(KEY, this.state);
  }
}

/** The wildcard shard's side: its epoch, and the topic shards to tell when it becomes active. */
export class WildcardRegistry {
  private epoch: number;
  private readonly shards: Set<string>;

  constructor(private readonly kv: SyncKv) {
    this.epoch = kv.get<number>("epoch") ?? 0;
    this.shards = new Set([...kv.list({ prefix: "forwarder:" })].map(([k]) => k.slice("forwarder:".length)));
  }

  state(active: boolean): WildcardState {
    return { active, epoch: this.epoch };
  }

  /** A topic shard forwarded here: it will need to hear when this shard becomes active. */
  register(shard: string): void {
    if (this.shards.has(shard)) return;
    this.shards.add(shard);
    this.kv.put(`forwarder:${shard}`, 1);
  }

  /** The subscriber count crossed zero: a new epoch. Becoming active leaves an announcement owed. */
  changed(active: boolean): void {
    this.epoch++;
    this.kv.put("epoch", this.epoch);
    if (active) this.kv.put("announce", this.epoch);
    else this.kv.delete("announce");
  }

  /** The activation still to be told to every forwarding shard (kept until it was), if any. */
  owed(): { state: WildcardState; tell: string[] } | null {
    const epoch = this.kv.get<number>("announce");
    return epoch === undefined ? null : { state: { active: true, epoch }, tell: [...this.shards] };
  }

  announced(epoch: number): void {
    if (this.kv.get<number>("announce") === epoch) this.kv.delete("announce");
  }

  /** A forwarder's highest durable sequence already taken: a retried forward is skipped. */
  taken(from: string, seq: number): boolean {
    const mark = this.kv.get<number>(`mark:${from}`) ?? 0;
    if (seq <= mark) return true;
    this.kv.put(`mark:${from}`, seq);
    return false;
  }
}
