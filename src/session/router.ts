/**
 * The session's view of the topic shards. Publishes are batched per shard adaptively: one call
 * is in flight per shard, and messages that arrive meanwhile go in the next call. Under light
 * load nothing waits; under load the batches grow, so a flood costs few calls (and, in the
 * shard, one storage commit per batch). Calls on one stub stay in order.
 *
 * Batches are bounded in bytes as well as count (Workers RPC refuses more than 32 MiB), and a
 * failed batch of several messages is split in two and each half tried once more, so a batch too
 * large for the call can never fail for ever (review finding F2). Release points are sent the
 * same way: one call in flight per shard, carrying the latest point.
 *
 * A subscription is registered only once the publishes routed before it to its shard were
 * accepted there, so a client's PUBLISH followed by its SUBSCRIBE never reaches the new
 * subscription (which would be out of order, [MQTT-4.5.0-1]) and a retained one is found by it.
 * Publishes themselves never wait for one another.
 */
import type { Env } from "../env.js";
import { messageBytes, type Message, type QoS } from "../protocol/message.js";
import { StubCache } from "../objects/stub-cache.js";
import type { RetainedPage } from "../topics/retained-store.js";
import { shardForFilter, shardForTopic, WILDCARD_SHARD } from "../protocol/topic/shard-key.js";
import type { TopicShardDO } from "../topics/topic-shard-do.js";

/** At most this many messages and bytes per publish call. */
export const MAX_PUBLISH_BATCH = 256;
export const MAX_PUBLISH_BATCH_BYTES = 4 * 1024 * 1024;
/**
 * QoS 0 publishes waiting for their shard beyond these are refused: a client that publishes
 * faster than its shard stores must not make the session buffer without bound. QoS 1/2 are
 * bounded by the client's in-flight window instead.
 */
export const MAX_QOS0_BACKLOG = 2048;
export const MAX_QOS0_BACKLOG_BYTES = 8 * 1024 * 1024;
/** How long a release call waits for a delivery's reply to carry the point instead. */
export const RELEASE_DELAY_MS = 200;

interface Waiting {
  message: Message;
  bytes: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

interface ShardQueue {
  waiting: Waiting[];
  bytes: number;
  busy: boolean;
}

type Shard = DurableObjectStub<TopicShardDO>;

export class ShardRouter {
  private readonly stubs: StubCache<Shard>;
  private readonly queues = new Map<string, ShardQueue>();
  private idleWaiters: (() => void)[] = [];
  /** Release points waiting to be sent, and the shards with a release call in flight. */
  private readonly releases = new Map<string, { clientId: string; upTo: number }>();
  private readonly releasing = new Set<string>();
  /** The highest release point each shard is known to have heard. */
  private readonly told = new Map<string, number>();
  /**
   * Per shard, the last publish routed to it, settled or not: calls to a shard go one after the
   * other, so once it settled every earlier one has too.
   */
  private readonly lastPublish = new Map<string, Promise<void>>();

  constructor(ns: Env["SHARDS"]) {
    this.stubs = new StubCache((key) => ns.get(ns.idFromName(key)));
  }

  /** Resolves once the topic's shard has stored the message (it forwards to the wildcard shard). */
  publish(message: Message): Promise<void> {
    const key = shardForTopic(message.topic);
    const routed = new Promise<void>((resolve, reject) => {
      const queue = this.queue(key);
      const bytes = messageBytes(message);
      queue.waiting.push({ message, bytes, resolve, reject });
      queue.bytes += bytes;
      if (!queue.busy) this.flush(key, queue);
    });
    const settled: Promise<void> = routed.then(
      () => this.forgetPublish(key, settled),
      () => this.forgetPublish(key, settled),
    );
    this.lastPublish.set(key, settled);
    return routed;
  }

  /**
   * Resolves once the publishes routed so far to the shards of `filters` were accepted there or
   * failed. A filter of the wildcard shard waits for every shard: its messages come from all.
   */
  async accepted(filters: string[]): Promise<void> {
    const keys = new Set(filters.map(shardForFilter));
    const waits = keys.has(WILDCARD_SHARD) ? [...this.lastPublish.values()] : [...keys].flatMap((key) => this.lastPublish.get(key) ?? []);
    await Promise.all(waits);
  }

  private forgetPublish(key: string, settled: Promise<void>): void {
    if (this.lastPublish.get(key) === settled) this.lastPublish.delete(key);
  }

  /** Whether no publish is waiting for or on its way to a shard. */
  get idle(): boolean {
    return this.queues.size === 0;
  }

  /** Resolves once no publish is waiting for or on its way to a shard. */
  whenIdle(): Promise<void> {
    if (this.idle) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Whether a QoS 0 publish to this topic would exceed the backlog the session holds for its shard. */
  overloaded(topic: string): boolean {
    const queue = this.queues.get(shardForTopic(topic));
    return !!queue && (queue.waiting.length >= MAX_QOS0_BACKLOG || queue.bytes >= MAX_QOS0_BACKLOG_BYTES);
  }

  /**
   * Registers the filters with their shards, once the publishes routed before were accepted
   * there (see the top of this file); returns the first page of retained messages per filter, in order.
   */
  async subscribe(clientId: string, subscriptions: { filter: string; qos: QoS; retained: boolean }[]): Promise<RetainedPage[]> {
    await this.accepted(subscriptions.map((s) => s.filter));
    const groups = groupBy(subscriptions, (s) => shardForFilter(s.filter));
    const retained: RetainedPage[] = new Array(subscriptions.length);
    await Promise.all(
      [...groups].map(async ([key, items]) => {
        const answers = await this.stubs.call(key, (stub) =>
          stub.subscribe(
            key,
            clientId,
            items.map((i) => i.value),
          ),
        );
        for (const [n, item] of items.entries()) retained[item.index] = answers[n] ?? { messages: [] };
      }),
    );
    return retained;
  }

  /** The next page of retained messages for a filter. */
  async retainedPage(filter: string, after: string): Promise<RetainedPage> {
    const key = shardForFilter(filter);
    return this.stubs.call(key, (stub) => stub.retainedPage(key, filter, after));
  }

  async unsubscribe(clientId: string, filters: string[]): Promise<void> {
    const groups = groupBy(filters, shardForFilter);
    await Promise.all(
      [...groups].map(([key, items]) =>
        this.stubs.call(key, (stub) =>
          stub.unsubscribe(
            key,
            clientId,
            items.map((i) => i.value),
          ),
        ),
      ),
    );
  }

  /** Gives a shared-subscription message back to its group, for another member. */
  async reshare(share: string, message: Message): Promise<void> {
    const key = shardForFilter(share);
    await this.stubs.call(key, (stub) => stub.reshare(key, share, message));
  }

  /**
   * Tells a shard how far this client released its messages. Calls wait RELEASE_DELAY_MS and are
   * coalesced per shard; while messages keep coming, the replies to the shard's deliveries carry
   * the release point (`released`), and the call is not needed at all. A failed call is retried
   * with the next release (or the shard redelivers and hears the point in the reply).
   */
  release(shard: string, clientId: string, upTo: number): void {
    if (upTo <= (this.told.get(shard) ?? 0)) return;
    const waiting = this.releases.get(shard);
    if (waiting && waiting.upTo >= upTo) return;
    this.releases.set(shard, { clientId, upTo });
    if (!this.releasing.has(shard)) {
      this.releasing.add(shard);
      setTimeout(() => void this.sendReleases(shard), RELEASE_DELAY_MS);
    }
  }

  /**
   * Tells a shard that held back QoS 0 messages for this offline client that it is back. Not
   * awaited: a failure costs QoS 0 messages until the shard's own probe (see MutedShards).
   */
  online(shard: string, clientId: string): void {
    void this.stubs.call(shard, (stub) => stub.online(shard, clientId)).catch((e) => console.warn(`session ${clientId}: telling ${shard} the client is back failed: ${String(e)}`));
  }

  /** The shard heard this release point in a delivery's reply. */
  heard(shard: string, upTo: number): void {
    if (upTo > (this.told.get(shard) ?? 0)) this.told.set(shard, upTo);
    const waiting = this.releases.get(shard);
    if (waiting && waiting.upTo <= upTo) this.releases.delete(shard);
  }

  private async sendReleases(shard: string): Promise<void> {
    try {
      for (let next = this.releases.get(shard); next; next = this.releases.get(shard)) {
        this.releases.delete(shard);
        const { clientId, upTo } = next;
        if (upTo <= (this.told.get(shard) ?? 0)) continue;
        await this.stubs
          .call(shard, (stub) => stub.release(shard, clientId, upTo))
          .then(
            () => this.heard(shard, upTo),
            (e) => console.warn(`session ${clientId}: release to ${shard} failed: ${String(e)}`),
          );
      }
    } finally {
      this.releasing.delete(shard);
      // Nothing waits for this shard: forget it, so the map holds only shards in use (F24).
      if (!this.releases.has(shard)) this.told.delete(shard);
    }
  }

  private queue(key: string): ShardQueue {
    let queue = this.queues.get(key);
    if (!queue) this.queues.set(key, (queue = { waiting: [], bytes: 0, busy: false }));
    return queue;
  }

  private flush(key: string, queue: ShardQueue): void {
    if (queue.waiting.length === 0) {
      // Nothing more for this shard: forget it, so the map holds only shards in use (F24).
      this.queues.delete(key);
      if (this.idle) for (const resolve of this.idleWaiters.splice(0)) resolve();
      return;
    }
    let count = 0;
    let bytes = 0;
    while (count < queue.waiting.length && count < MAX_PUBLISH_BATCH && (count === 0 || bytes + queue.waiting[count]!.bytes <= MAX_PUBLISH_BATCH_BYTES)) {
      bytes += queue.waiting[count]!.bytes;
      count++;
    }
    const batch = queue.waiting.splice(0, count);
    queue.bytes -= bytes;
    queue.busy = true;
    // send never rejects: a failure reaches each waiter.
    void this.send(key, batch, true).finally(() => {
      queue.busy = false;
      this.flush(key, queue);
    });
  }

  /** One call; a failed batch of several is split in two halves, each tried once more, in order. */
  private async send(key: string, batch: Waiting[], splitOnFailure: boolean): Promise<void> {
    try {
      await this.stubs.call(key, (stub) =>
        stub.publish(
          key,
          batch.map((w) => w.message),
        ),
      );
      for (const w of batch) w.resolve();
    } catch (error) {
      if (!splitOnFailure || batch.length === 1) {
        for (const w of batch) w.reject(error);
        return;
      }
      const half = Math.ceil(batch.length / 2);
      await this.send(key, batch.slice(0, half), false);
      await this.send(key, batch.slice(half), false);
    }
  }
}

function groupBy<T>(items: T[], keyOf: (item: T) => string): Map<string, { index: number; value: T }[]> {
  const groups = new Map<string, { index: number; value: T }[]>();
  items.forEach((value, index) => {
    const key = keyOf(value);
    let group = groups.get(key);
    if (!group) groups.set(key, (group = []));
    group.push({ index, value });
  });
  return groups;
}
