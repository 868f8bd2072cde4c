/** The subscriptions a topic shard holds: durable rows plus an in-memory trie for matching. */
import { SubscriptionTrie } from "../protocol/topic/trie.js";
import type { SyncKv } from "../storage/memory-kv.js";

const SUB = "sub:";
// Filters cannot contain U+0000 [MQTT-4.7.3-2], so it separates filter and client id safely.
const key = (filter: string, clientId: string) => `${SUB}${filter}\u0000${clientId}`;

export class ShardSubscriptions {
  private readonly trie = new SubscriptionTrie<true>();
  private readonly byClient = new Map<string, Set<string>>();

  constructor(private readonly kv: SyncKv) {
    for (const [k] of kv.list({ prefix: SUB })) {
      const sep = k.lastIndexOf("\u0000");
      this.track(k.slice(SUB.length, sep), k.slice(sep + 1));
    }
  }

  get size(): number {
    return this.trie.size;
  }

  add(clientId: string, filter: string): void {
    this.kv.put(key(filter, clientId), 1);
    this.track(filter, clientId);
  }

  remove(clientId: string, filter: string): void {
    this.kv.delete(key(filter, clientId));
    this.trie.remove(filter, clientId);
    const filters = this.byClient.get(clientId);
    filters?.delete(filter);
    if (filters?.size === 0) this.byClient.delete(clientId);
  }

  removeClient(clientId: string): void {
    for (const filter of [...(this.byClient.get(clientId) ?? [])]) this.remove(clientId, filter);
  }

  /** Client ids with at least one filter matching the topic. */
  recipients(topic: string): Set<string> {
    return new Set(this.trie.match(topic).map((m) => m.key));
  }

  private track(filter: string, clientId: string): void {
    this.trie.add(filter, clientId, true);
    let filters = this.byClient.get(clientId);
    if (!filters) this.byClient.set(clientId, (filters = new Set()));
    filters.add(filter);
  }
}
