/**
 * Per-subscriber delivery pipelines of a topic shard. Each session gets its messages in publish
 * order, in batches, with one call in flight at a time; a failed call is retried with backoff,
 * never skipped, so ordering and the sessions' duplicate marks stay sound.
 */
import type { Delivery, DeliveryOutcome } from "../protocol/message.js";

/** One delivery plus what the shard needs to settle it. */
export interface FanoutItem {
  delivery: Delivery;
  /** The outbox recipient row: the client id, or the shared subscription for group deliveries. */
  pendKey: string;
  /** Members of a shared group that already declined this message. */
  tried?: Set<string>;
}

export interface FanoutHooks {
  /** Sends one batch to a session; rejects when the call failed. */
  send(clientId: string, batch: Delivery[]): Promise<DeliveryOutcome>;
  /** The session took these items (stored the durable ones). */
  delivered(clientId: string, items: FanoutItem[]): void;
  /** The session declined these shared-group items (offline or no longer a member). */
  declined(clientId: string, items: FanoutItem[]): void;
  /** The session no longer exists: drop its subscriptions; `items` were not delivered. */
  gone(clientId: string, items: FanoutItem[]): void;
  failed(clientId: string, error: unknown, attempt: number): void;
}

export const MAX_BATCH = 64;
/**
 * QoS 0 deliveries waiting for one session beyond this are dropped (and counted): a subscriber
 * that cannot keep up must not make the shard buffer without bound. QoS 1/2 are durable in the
 * outbox and bounded by the session's own queue limit instead.
 */
export const MAX_QOS0_BACKLOG = 1000;
const MAX_BACKOFF_MS = 30_000;

export class Fanout {
  private readonly queues = new Map<string, FanoutItem[]>();
  private readonly running = new Set<string>();

  constructor(
    private readonly hooks: FanoutHooks,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {}

  /** Deliveries waiting or in flight for a session. */
  pending(clientId: string): number {
    return this.queues.get(clientId)?.length ?? 0;
  }

  /** Queues a delivery; false when a QoS 0 one was dropped because the session is too far behind. */
  push(clientId: string, item: FanoutItem, mustKeep = false): boolean {
    let queue = this.queues.get(clientId);
    if (!queue) this.queues.set(clientId, (queue = []));
    if (item.delivery.seq === undefined && !mustKeep && queue.length >= MAX_QOS0_BACKLOG) return false;
    queue.push(item);
    if (!this.running.has(clientId)) void this.drain(clientId);
    return true;
  }

  private async drain(clientId: string): Promise<void> {
    this.running.add(clientId);
    let attempt = 0;
    try {
      for (;;) {
        const queue = this.queues.get(clientId);
        if (!queue || queue.length === 0) break;
        const batch = queue.slice(0, MAX_BATCH);
        let outcome: DeliveryOutcome;
        try {
          outcome = await this.hooks.send(clientId, batch.map((i) => i.delivery));
        } catch (error) {
          attempt++;
          this.hooks.failed(clientId, error, attempt);
          await this.sleep(Math.min(MAX_BACKOFF_MS, 100 * 2 ** Math.min(attempt, 9)));
          continue;
        }
        attempt = 0;
        if (outcome.gone) {
          this.queues.delete(clientId);
          this.hooks.gone(clientId, queue);
          break;
        }
        queue.splice(0, batch.length);
        const declined = new Set(outcome.declined);
        const taken = batch.filter((_, i) => !declined.has(i));
        if (taken.length > 0) this.hooks.delivered(clientId, taken);
        if (declined.size > 0) this.hooks.declined(clientId, batch.filter((_, i) => declined.has(i)));
      }
    } finally {
      this.running.delete(clientId);
      if (this.queues.get(clientId)?.length === 0) this.queues.delete(clientId);
    }
  }
}
