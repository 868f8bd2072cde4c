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

  /** The subscriber count crossed zero: a new epoch. Returns the shards to tell (when it became active). */
  changed(active: boolean): { epoch: number; tell: string[] } {
    this.epoch++;
    this.kv.put("epoch", this.epoch);
    return { epoch: this.epoch, tell: active ? [...this.shards] : [] };
  }
}
