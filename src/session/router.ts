/**
 * The session's view of the topic shards. Publishes are batched per shard adaptively: one call
 * is in flight per shard, and messages that arrive meanwhile go in the next call. Under light
 * load nothing waits; under load the batches grow, so a flood costs few calls (and, in the
 * shard, one storage transaction per batch). Calls on one stub stay in order.
 */
import type { Env } from "../env.js";
import type { Message, QoS } from "../protocol/message.js";
import { shardForFilter, shardForTopic } from "../topics/shard-key.js";
import type { TopicShardDO } from "../topics/topic-shard-do.js";

/** At most this many messages per publish call. */
export const MAX_PUBLISH_BATCH = 256;
/**
 * QoS 0 publishes waiting for a shard beyond this are refused: a client that publishes faster
 * than its shard stores must not make the session buffer without bound. QoS 1/2 are bounded by
 * the client's in-flight window instead.
 */
export const MAX_QOS0_BACKLOG = 2048;

interface Waiting {
  message: Message;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export class ShardRouter {
  private readonly stubs = new Map<string, DurableObjectStub<TopicShardDO>>();
  private readonly waiting = new Map<string, Waiting[]>();
  private readonly busy = new Set<string>();

  constructor(private readonly ns: Env["SHARDS"]) {}

  /** Resolves once the topic's shard has stored the message (it forwards to the wildcard shard). */
  publish(message: Message): Promise<void> {
    return this.enqueue(shardForTopic(message.topic), message);
  }

  /** Whether a QoS 0 publish to this topic would exceed the backlog the session holds for its shard. */
  overloaded(topic: string): boolean {
    return (this.waiting.get(shardForTopic(topic))?.length ?? 0) >= MAX_QOS0_BACKLOG;
  }

  /** Registers the filters with their shards; returns retained messages per filter, in order. */
  async subscribe(clientId: string, subscriptions: { filter: string; qos: QoS; retained: boolean }[]): Promise<Message[][]> {
    const groups = groupBy(subscriptions, (s) => shardForFilter(s.filter));
    const retained: Message[][] = new Array(subscriptions.length);
    await Promise.all(
      [...groups].map(async ([key, items]) => {
        const answers = await this.stub(key).subscribe(key, clientId, items.map((i) => i.value));
        items.forEach((item, n) => (retained[item.index] = answers[n] ?? []));
      }),
    );
    return retained;
  }

  async unsubscribe(clientId: string, filters: string[]): Promise<void> {
    const groups = groupBy(filters, shardForFilter);
    await Promise.all([...groups].map(([key, items]) => this.stub(key).unsubscribe(key, clientId, items.map((i) => i.value))));
  }

  /** Gives a shared-subscription message back to its group, for another member. */
  async reshare(share: string, message: Message): Promise<void> {
    const key = shardForFilter(share);
    await this.stub(key).reshare(key, share, message);
  }

  private enqueue(key: string, message: Message): Promise<void> {
    return new Promise((resolve, reject) => {
      let queue = this.waiting.get(key);
      if (!queue) this.waiting.set(key, (queue = []));
      queue.push({ message, resolve, reject });
      if (!this.busy.has(key)) this.flush(key);
    });
  }

  private flush(key: string): void {
    const queue = this.waiting.get(key);
    if (!queue || queue.length === 0) {
      this.busy.delete(key);
      return;
    }
    const batch = queue.splice(0, MAX_PUBLISH_BATCH);
    this.busy.add(key);
    this.stub(key)
      .publish(key, batch.map((w) => w.message))
      .then(
        () => batch.forEach((w) => w.resolve()),
        (error) => batch.forEach((w) => w.reject(error)),
      )
      .finally(() => this.flush(key));
  }

  private stub(key: string): DurableObjectStub<TopicShardDO> {
    let stub = this.stubs.get(key);
    if (!stub) {
      stub = this.ns.get(this.ns.idFromName(key));
      this.stubs.set(key, stub);
    }
    return stub;
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
