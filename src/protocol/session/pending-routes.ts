/**
 * Routes whose completion the session waits for (a QoS 1 or 2 PUBLISH from the client, a will),
 * by the `routeId` of their route action. The shell reports each route's outcome as it comes;
 * routes complete in the order they were issued, whatever the order of their outcomes, so
 * PUBACKs go out in the order of the PUBLISHes [MQTT-4.6.0-2] and PUBRECs too [MQTT-4.6.0-3]:
 * an outcome that comes early waits for the routes before it.
 *
 * Memory only: after a reset of the object the routes are forgotten, and their clients
 * retransmit. Bounded by what may be in flight: Receive Maximum and the byte cap for QoS 1, the
 * QoS 2 packet ids, the pending wills.
 */
export type Outcome = { ok: true } | { ok: false; reason: string };

interface Entry<T> {
  value: T;
  outcome?: Outcome;
}

export class PendingRoutes<T> {
  private nextId = 1;
  /** In the order of issue (a Map keeps insertion order; ids only grow). */
  private readonly entries = new Map<number, Entry<T>>();

  /** A route to wait for; its id goes in the route action. */
  add(value: T): number {
    const id = this.nextId++;
    this.entries.set(id, { value });
    return id;
  }

  /**
   * The outcome of route `id`: the routes now complete, in order (none while an earlier one is
   * still under way). An unknown or already settled id changes nothing.
   */
  settle(id: number, outcome: Outcome): { value: T; outcome: Outcome }[] {
    const entry = this.entries.get(id);
    if (!entry || entry.outcome) return [];
    entry.outcome = outcome;
    const done: { value: T; outcome: Outcome }[] = [];
    for (const [key, e] of this.entries) {
      if (!e.outcome) break;
      this.entries.delete(key);
      done.push({ value: e.value, outcome: e.outcome });
    }
    return done;
  }

  /** Rewrites what each route waits with (see `Session.carryOver`). */
  rebind(fn: (value: T) => T): void {
    for (const entry of this.entries.values()) entry.value = fn(entry.value);
  }

  /** Routes under way or waiting for an earlier one. */
  get size(): number {
    return this.entries.size;
  }
}
