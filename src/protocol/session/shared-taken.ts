/**
 * Shared-subscription deliveries the session took, by the shard's durable sequence number, so a
 * retried delivery (its reply was lost, the shard retried the same member) is not queued twice:
 * QoS 2 reaches the application once (review F10). Group deliveries do not go through `Marks`:
 * a group's lane and the client's own lane in one shard interleave their sequence numbers, so a
 * release point shared between them would skip messages still on their way.
 *
 * Bounded: the last `SHARED_TAKEN_PER_SHARD` sequences per shard, one row, written in the commit
 * that stores the entries (a shard retries only its oldest unsettled batch, well within that).
 */
import type { SessionStore } from "./store.js";

export const SHARED_TAKEN_PER_SHARD = 256;

export class SharedTaken {
  private readonly recent: Map<string, number[]>;
  private dirty = false;

  constructor(private readonly store: SessionStore) {
    this.recent = new Map(Object.entries(store.readSharedTaken()));
  }

  has(shard: string, seq: number): boolean {
    return this.recent.get(shard)?.includes(seq) ?? false;
  }

  add(shard: string, seq: number): void {
    let seqs = this.recent.get(shard);
    if (!seqs) this.recent.set(shard, (seqs = []));
    seqs.push(seq);
    if (seqs.length > SHARED_TAKEN_PER_SHARD) seqs.splice(0, seqs.length - SHARED_TAKEN_PER_SHARD);
    this.dirty = true;
  }

  save(): void {
    if (!this.dirty) return;
    this.store.writeSharedTaken(Object.fromEntries(this.recent));
    this.dirty = false;
  }
}
