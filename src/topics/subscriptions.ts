/**
 * The subscriptions a topic shard holds: durable rows plus an in-memory trie for matching.
 * Shared subscriptions ($share/{group}/{filter}) are one trie entry per group, whose members
 * take turns (MQTT 5 §4.8.2).
 */
import { parseShared } from "../protocol/topic/shared.js";
import { SubscriptionTrie } from "../protocol/topic/trie.js";
import type { SyncKv } from "../storage/memory-kv.js";

const SUB = "sub:";
// Filters and client ids cannot contain U+0000 [MQTT-1.5.3-2] (3.1.1), [MQTT-1.5.4-2] (5.0), so it separates them safely and
// marks group keys in the trie, which can never collide with a client id.
const key = (filter: string, clientId: string) => `${SUB}${filter}\u0000${clientId}`;
const groupKey = (share: string) => `\u0000${share}`;

interface Group {
  share: string;
  members: string[];
  /** Index of the member that gets the next message. */
  next: number;
}

export interface Recipients {
  clients: Set<string>;
  /** Shared subscriptions that match: one member of each gets the message. */
  shares: string[];
}

export class ShardSubscriptions {
  private readonly trie = new SubscriptionTrie<true>();
  private readonly byClient = new Map<string, Set<string>>();
  private readonly groups = new Map<string, Group>();
  /** Subscriptions held, kept as they change (review F29: counting them was O(clients)). */
  private count = 0;

  constructor(private readonly kv: SyncKv) {
    for (const [k] of kv.list({ prefix: SUB })) {
      const sep = k.lastIndexOf("\u0000");
      this.track(k.slice(SUB.length, sep), k.slice(sep + 1));
    }
  }

  get size(): number {
    return this.count;
  }

  add(clientId: string, filter: string): void {
    this.kv.put(key(filter, clientId), 1);
    this.track(filter, clientId);
  }

  remove(clientId: string, filter: string): void {
    this.kv.delete(key(filter, clientId));
    const filters = this.byClient.get(clientId);
    if (!filters?.delete(filter)) return;
    this.count--;
    if (filters.size === 0) this.byClient.delete(clientId);
    const shared = parseShared(filter);
    if (!shared) {
      this.trie.remove(filter, clientId);
      return;
    }
    const group = this.groups.get(filter);
    if (!group) return;
    group.members = group.members.filter((m) => m !== clientId);
    if (group.members.length === 0) {
      this.groups.delete(filter);
      this.trie.remove(shared.filter, groupKey(filter));
    }
  }

  removeClient(clientId: string): void {
    for (const filter of [...(this.byClient.get(clientId) ?? [])]) this.remove(clientId, filter);
  }

  /** Clients with at least one filter matching the topic, and the matching shared groups. */
  recipients(topic: string): Recipients {
    const clients = new Set<string>();
    const shares: string[] = [];
    for (const m of this.trie.match(topic)) {
      if (m.key.startsWith("\u0000")) shares.push(m.key.slice(1));
      else clients.add(m.key);
    }
    return { clients, shares };
  }

  /** The next member of a shared group in turn, skipping `exclude`; null when none is left. */
  pickMember(share: string, exclude: ReadonlySet<string> = new Set()): string | null {
    const group = this.groups.get(share);
    if (!group) return null;
    for (let i = 0; i < group.members.length; i++) {
      const index = (group.next + i) % group.members.length;
      const member = group.members[index]!;
      if (exclude.has(member)) continue;
      group.next = index + 1;
      return member;
    }
    return null;
  }

  /** Any member of the group, for a message that every member declined. */
  firstMember(share: string): string | null {
    return this.groups.get(share)?.members[0] ?? null;
  }

  private track(filter: string, clientId: string): void {
    let filters = this.byClient.get(clientId);
    if (!filters) this.byClient.set(clientId, (filters = new Set()));
    if (filters.has(filter)) return;
    filters.add(filter);
    this.count++;
    const shared = parseShared(filter);
    if (!shared) {
      this.trie.add(filter, clientId, true);
      return;
    }
    let group = this.groups.get(filter);
    if (!group) {
      group = { share: filter, members: [], next: 0 };
      this.groups.set(filter, group);
      this.trie.add(shared.filter, groupKey(filter), true);
    }
    if (!group.members.includes(clientId)) group.members.push(clientId);
  }
}
