/**
 * Wills on their way to their topic shard (review F11). A will is written here in the same
 * commit that removes it from the session, and stays until the shard stored it: a failed
 * route, or a reset of the object before the shard answered, leaves it here, and it is routed
 * again (every 5 s, by the session's timer) until it arrives. At least once: a route whose
 * answer was lost is routed again. One storage row each (a hand-over of a long queue may be large),
 * which outlive the session's own rows.
 *
 * Shared-subscription messages a session hands back to their group when it ends (review F10)
 * wait here too, so a failed hand-over is retried, not lost with the session's rows.
 *
 * A will of a connection that was taken over is held briefly first (`hold`): the old connection's
 * DISCONNECT may have crossed the new CONNECT on its way (a device that disconnects and reconnects
 * at once through another path, the gateway's and the Worker's). If that DISCONNECT (reason 0x00)
 * still arrives, the client ended cleanly and the will is discarded [MQTT-3.14.4-3]; if the old
 * connection closes without one, or the hold passes, the will goes out [MQTT-3.1.4-3].
 */
import type { Message } from "../message.js";
import type { PendingWill, SessionStore } from "./store.js";

export const WILL_RETRY_MS = 5000;
/** How long a taken-over connection's will waits for a DISCONNECT that crossed the takeover. */
export const TAKEOVER_WILL_HOLD_MS = 2000;

type Pending = PendingWill;

export class PendingWills {
  private wills: Pending[];
  /** When to route the pending wills again (memory: after a restart, at once). */
  retryAt: number | null;

  constructor(private readonly store: SessionStore) {
    this.wills = store.listPendingWills();
    this.retryAt = this.wills.length > 0 ? 0 : null;
  }

  get size(): number {
    return this.wills.length;
  }

  /** A will to route (or, with `share`, a message to hand back to its group): kept until `done(id)`. */
  add(message: Message, now: number, share?: string): number {
    const id = this.nextId();
    const will: Pending = { id, message, ...(share !== undefined ? { share } : {}) };
    this.wills.push(will);
    this.store.putPendingWill(will);
    // The safety net: if no answer comes (the object was reset), the timer routes it again.
    this.retryAt ??= now + WILL_RETRY_MS;
    return id;
  }

  /** A will routed only once `connId` closed without a clean DISCONNECT, or at `now + TAKEOVER_WILL_HOLD_MS`. */
  hold(message: Message, connId: string, now: number): void {
    const until = now + TAKEOVER_WILL_HOLD_MS;
    const will: Pending = { id: this.nextId(), message, hold: { connId, until } };
    this.wills.push(will);
    this.store.putPendingWill(will);
    this.retryAt = Math.min(this.retryAt ?? Number.POSITIVE_INFINITY, until);
  }

  /** Whether a will waits on connection `connId`. */
  holds(connId: string): boolean {
    return this.wills.some((w) => w.hold?.connId === connId);
  }

  /**
   * Connection `connId` ended: cleanly (its will is discarded, returned for the log) or not (its
   * wills are due now, returned to be routed).
   */
  settleHold(connId: string, clean: boolean, now: number): { discarded: Pending[]; due: Pending[] } {
    const held = this.wills.filter((w) => w.hold?.connId === connId);
    if (held.length === 0) return { discarded: [], due: [] };
    if (clean) this.wills = this.wills.filter((w) => w.hold?.connId !== connId);
    for (const w of held) {
      if (clean) this.store.deletePendingWill(w.id);
      else {
        delete w.hold;
        this.store.putPendingWill(w);
      }
    }
    if (this.wills.length === 0) this.retryAt = null;
    else if (!clean) this.retryAt = Math.min(this.retryAt ?? Number.POSITIVE_INFINITY, now + WILL_RETRY_MS);
    return clean ? { discarded: held, due: [] } : { discarded: [], due: held };
  }

  done(id: number): void {
    this.wills = this.wills.filter((w) => w.id !== id);
    this.store.deletePendingWill(id);
    if (this.wills.length === 0) this.retryAt = null;
  }

  failed(now: number): void {
    this.retryAt = Math.min(this.retryAt ?? Number.POSITIVE_INFINITY, now + WILL_RETRY_MS);
  }

  /** The wills due now: `released` from a hold that passed (a first route), `retried` (another). */
  due(now: number): { released: Pending[]; retried: Pending[] } {
    const none = { released: [], retried: [] };
    if (this.retryAt === null || now < this.retryAt || this.wills.length === 0) return none;
    const released = this.wills.filter((w) => w.hold && now >= w.hold.until);
    for (const w of released) {
      delete w.hold;
      this.store.putPendingWill(w);
    }
    const holdsLeft = this.wills.flatMap((w) => (w.hold ? [w.hold.until] : []));
    this.retryAt = Math.min(now + WILL_RETRY_MS, ...holdsLeft);
    return { released, retried: this.wills.filter((w) => !w.hold && !released.includes(w)) };
  }

  private nextId(): number {
    return (this.wills.at(-1)?.id ?? 0) + 1;
  }
}
