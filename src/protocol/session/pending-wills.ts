/**
 * Wills on their way to their topic shard (review F11). A will is written here in the same
 * commit that removes it from the session, and stays until the shard stored it: a failed
 * route, or a reset of the object before the shard answered, leaves it here, and it is routed
 * again (every 5 s, by the session's timer) until it arrives. At least once: a route whose
 * answer was lost is routed again. One storage row, which outlives the session's own rows.
 */
import type { Message } from "../message.js";
import type { SessionStore } from "./store.js";

export const WILL_RETRY_MS = 5000;

interface Pending {
  id: number;
  message: Message;
}

export class PendingWills {
  private wills: Pending[];
  /** When to route the pending wills again (memory: after a restart, at once). */
  retryAt: number | null;

  constructor(private readonly store: SessionStore) {
    this.wills = store.readPendingWills();
    this.retryAt = this.wills.length > 0 ? 0 : null;
  }

  get size(): number {
    return this.wills.length;
  }

  /** A will to route: kept until `done(id)`. */
  add(message: Message, now: number): number {
    const id = (this.wills.at(-1)?.id ?? 0) + 1;
    this.wills.push({ id, message });
    this.store.writePendingWills(this.wills);
    // The safety net: if no answer comes (the object was reset), the timer routes it again.
    this.retryAt ??= now + WILL_RETRY_MS;
    return id;
  }

  done(id: number): void {
    this.wills = this.wills.filter((w) => w.id !== id);
    this.store.writePendingWills(this.wills);
    if (this.wills.length === 0) this.retryAt = null;
  }

  failed(now: number): void {
    this.retryAt = Math.min(this.retryAt ?? Number.POSITIVE_INFINITY, now + WILL_RETRY_MS);
  }

  /** The wills due for another route now. */
  due(now: number): Pending[] {
    if (this.retryAt === null || now < this.retryAt || this.wills.length === 0) return [];
    this.retryAt = now + WILL_RETRY_MS;
    return [...this.wills];
  }
}
