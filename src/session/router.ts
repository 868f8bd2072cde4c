/** The session's view of the topic shards: which shards a publish or a filter goes to, batched per shard. */
import type { Env } from "../env.js";
import type { Message, QoS } from "../protocol/message.js";
import { shardForFilter, shardsForPublish } from "../topics/shard-key.js";

export class ShardRouter {
  private readonly stubs = new Map<string, DurableObjectStub<import("../topics/topic-shard-do.js").TopicShardDO>>();

  constructor(private readonly ns: Env["SHARDS"]) {}

  /** Resolves once every shard the topic reaches has stored the message. */
  async publish(message: Message): Promise<void> {
    await Promise.all(shardsForPublish(message.topic).map((key) => this.stub(key).publish(key, message)));
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

  private stub(key: string) {
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
