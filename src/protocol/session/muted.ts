/**
 * The topic shards told that this session's client is offline (review finding F28). A shard
 * told so stops sending it QoS 0 messages, which an offline session drops anyway, so a stream of
 * QoS 0 does not wake every offline persistent subscriber's object. When the client is back,
 * each of these shards is told (an `online` action); a shard also probes again after a while,
 * so a lost `online` call costs at most that while of QoS 0 messages.
 *
 * The list is one storage row, written only when a shard is added: while the client stays
 * offline, a shard is added once.
 */
import type { SessionStore } from "./store.js";

/** More shards than this are not remembered; the shards' own probe covers the rest. */
export const MAX_MUTED_SHARDS = 1024;

export class MutedShards {
  private shards: Set<string> | undefined;

  constructor(private readonly store: SessionStore) {}

  /** The session told `shard` that its client is offline. */
  note(shard: string): void {
    const shards = this.load();
    if (shards.has(shard) || shards.size >= MAX_MUTED_SHARDS) return;
    shards.add(shard);
    this.store.writeMuted([...shards]);
  }

  /** The client is back: the shards to tell, forgotten here. */
  takeAll(): string[] {
    const shards = [...this.load()];
    if (shards.length > 0) {
      this.shards = new Set();
      this.store.writeMuted([]);
    }
    return shards;
  }

  /** The session was discarded with its storage. */
  forget(): void {
    this.shards = new Set();
  }

  private load(): Set<string> {
    return (this.shards ??= new Set(this.store.readMuted()));
  }
}
