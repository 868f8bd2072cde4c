/**
 * What the session took from each topic shard, by the shard's durable sequence numbers, so a
 * shard's retry or redelivery is never queued twice, and how far the shard may let go of its
 * copies (the release point).
 *
 * A message held in memory for the client (transient) is not stored here: until the client
 * acknowledges it, the release point stays below it. The stored mark (`ShardMark`) is written
 * only together with a stored entry, and never claims more than the release point, plus the
 * stored sequences above it: after a restart a redelivery of what was stored is skipped, and of
 * what was only in memory is taken again (QoS 1: at least once).
 */
import type { ShardMark } from "./state.js";
import type { SessionStore } from "./store.js";

interface ShardProgress {
  /** Highest sequence seen from the shard (taken, stored, or not wanted). */
  seen: number;
  /** Sequences held in memory for the client (each check and change O(1): thousands may be held). */
  held: HeldSet;
  stored: ShardMark;
  /** `stored.above` as a set, for lookups. */
  above: Set<number>;
  /** The release point last reported to the shard. */
  reported: number;
}

export class Marks {
  private readonly shards = new Map<string, ShardProgress>();
  private readonly dirty = new Set<string>();

  constructor(private readonly store: SessionStore) {
    for (const [shard, mark] of Object.entries(store.readMarks())) {
      this.shards.set(shard, { seen: mark.upTo, held: new HeldSet(), stored: mark, above: new Set(mark.above), reported: mark.upTo });
    }
  }

  /** Whether this durable delivery was already taken (a retry or a redelivery). */
  taken(shard: string, seq: number): boolean {
    const p = this.shards.get(shard);
    if (!p) return false;
    // Held sequences are all at or below `seen`.
    return seq <= p.seen || p.above.has(seq);
  }

  /** The delivery was looked at: stored, held, or not wanted. */
  see(shard: string, seq: number): void {
    const p = this.progress(shard);
    if (seq > p.seen) p.seen = seq;
  }

  /** The delivery is held in memory until the client acknowledges it. */
  hold(shard: string, seq: number): void {
    this.see(shard, seq);
    this.progress(shard).held.add(seq);
  }

  /** A held delivery is finished: acknowledged, dropped, or stored after all. */
  unhold(shard: string, seq: number): void {
    this.shards.get(shard)?.held.delete(seq);
  }

  /** The delivery was stored: the mark must say so in the same commit (`save`). */
  stored(shard: string, seq: number): void {
    this.see(shard, seq);
    const p = this.progress(shard);
    if (seq > p.stored.upTo && !p.above.has(seq)) {
      p.above.add(seq);
      p.stored.above.push(seq);
    }
    this.dirty.add(shard);
  }

  /** Highest sequence below which the shard may let go of everything for this client. */
  releasePoint(shard: string): number | undefined {
    const p = this.shards.get(shard);
    if (!p) return undefined;
    const lowest = p.held.lowest();
    return lowest !== undefined ? lowest - 1 : p.seen;
  }

  /** Shards whose release point moved past what they were told, with the new point. */
  toReport(): { shard: string; upTo: number }[] {
    const out: { shard: string; upTo: number }[] = [];
    for (const [shard, p] of this.shards) {
      const upTo = this.releasePoint(shard)!;
      if (upTo > p.reported) {
        p.reported = upTo;
        out.push({ shard, upTo });
      }
    }
    return out;
  }

  /** Marks that the reply to a delivery carried: nothing more to report for them. */
  reported(shard: string, upTo: number): void {
    const p = this.shards.get(shard);
    if (p && upTo > p.reported) p.reported = upTo;
  }

  /** Writes the marks that changed: the release point, and the stored sequences above it. */
  save(): void {
    for (const shard of this.dirty) {
      const p = this.shards.get(shard);
      if (!p) continue;
      const upTo = Math.max(p.stored.upTo, this.releasePoint(shard)!);
      p.stored = { upTo, above: p.stored.above.filter((seq) => seq > upTo) };
      p.above = new Set(p.stored.above);
      this.store.writeMark(shard, p.stored);
    }
    this.dirty.clear();
  }

  private progress(shard: string): ShardProgress {
    let p = this.shards.get(shard);
    if (!p) this.shards.set(shard, (p = { seen: 0, held: new HeldSet(), stored: { upTo: 0, above: [] }, above: new Set(), reported: 0 }));
    return p;
  }
}

/**
 * Sequences added in ascending order and removed in any order (acknowledgements come almost in
 * order), with the lowest one at hand: amortized O(1) for each.
 */
class HeldSet {
  private readonly members = new Set<number>();
  private order: number[] = [];
  private head = 0;

  get size(): number {
    return this.members.size;
  }

  add(seq: number): void {
    this.members.add(seq);
    this.order.push(seq);
  }

  delete(seq: number): void {
    this.members.delete(seq);
  }

  lowest(): number | undefined {
    while (this.head < this.order.length && !this.members.has(this.order[this.head]!)) this.head++;
    if (this.head > 1024 && this.head * 2 > this.order.length) {
      this.order = this.order.slice(this.head);
      this.head = 0;
    }
    return this.head < this.order.length ? this.order[this.head] : undefined;
  }
}
