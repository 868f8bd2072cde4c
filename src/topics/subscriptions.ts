/**
 * The subscriptions a topic shard holds: durable rows plus an in-memory trie for matching.
 * Shared subscriptions ($share/{group}/{filter}) are one trie entry per group, whose members
 * take turns (MQTT 5 §4.8.2).
 */
import { topicMatches } from "../protocol/topic/match.js";
import { parseShared } from "../protocol/topic/shared.js";
import { SubscriptionTrie } from "../protocol/topic/trie.js";
import type { SyncKv } from "../storage/sync-kv.js";

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
  /** Each entry's value: when the subscription reached this shard (epoch ms). */
  private readonly trie = new SubscriptionTrie<number>();
  private readonly byClient = new Map<string, Set<string>>();
  private readonly groups = new Map<string, Group>();
  /** Subscriptions held, kept as they change (review F29: counting them was O(clients)). */
  private count = 0;

  constructor(private readonly kv: SyncKv) {
    for (const [k, since] of kv.list<number>({ prefix: SUB })) {
      const sep = k.lastIndexOf("\u0000");
      this.track(k.slice(SUB.length, sep), k.slice(sep + 1), since);
    }
  }

  get size(): number {
    return this.count;
  }

  /** `since`: when the subscription was made; a repeated SUBSCRIBE keeps the first time. */
  add(clientId: string, filter: string, since = 0): void {
    if (this.byClient.get(clientId)?.has(filter)) return;
    this.kv.put(key(filter, clientId), since);
    this.track(filter, clientId, since);
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

  /** Removes a client's subscriptions, or only those made by `before` (see TopicShard.gone). */
  removeClient(clientId: string, before?: number): void {
    for (const filter of [...(this.byClient.get(clientId) ?? [])]) {
      if (before !== undefined && this.madeAfter(clientId, filter, before)) continue;
      this.remove(clientId, filter);
    }
  }

  /** Removes the client's non-shared filters matching `topic` made by `before`; returns them. */
  removeMatching(clientId: string, topic: string, before: number): string[] {
    const removed: string[] = [];
    for (const filter of [...(this.byClient.get(clientId) ?? [])]) {
      if (parseShared(filter) || !topicMatches(filter, topic)) continue;
      if (this.madeAfter(clientId, filter, before)) continue;
      this.remove(clientId, filter);
      removed.push(filter);
    }
    return removed;
  }

  /** Whether the client's subscription to `filter` was made after `time` (see TopicShard.gone). */
  private madeAfter(clientId: string, filter: string, time: number): boolean {
    return (this.kv.get<number>(key(filter, clientId)) ?? 0) > time;
  }

  hasClient(clientId: string): boolean {
    return this.byClient.has(clientId);
  }

  /**
   * Clients with at least one filter matching the topic, and the matching shared groups, among
   * the subscriptions that existed when the message was published (`at`): a message reaching the
   * wildcard shard late must not go to a subscription made after it ([MQTT-4.5.0-1]).
   */
  recipients(topic: string, at = Number.POSITIVE_INFINITY): Recipients {
    const clients = new Set<string>();
    const shares: string[] = [];
    for (const m of this.trie.match(topic)) {
      if (m.value > at) continue;
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

  isMember(share: string, clientId: string): boolean {
    return this.groups.get(share)?.members.includes(clientId) ?? false;
  }

  /** Any member of the group, for a message that every member declined. */
  firstMember(share: string): string | null {
    return this.groups.get(share)?.members[0] ?? null;
  }

  private track(filter: string, clientId: string, since: number): void {
    let filters = this.byClient.get(clientId);
    if (!filters) this.byClient.set(clientId, (filters = new Set()));
    if (filters.has(filter)) return;
    filters.add(filter);
    this.count++;
    const shared = parseShared(filter);
    if (!shared) {
      this.trie.add(filter, clientId, since);
      return;
    }
    let group = this.groups.get(filter);
    if (!group) {
      group = { share: filter, members: [], next: 0 };
      this.groups.set(filter, group);
      this.trie.add(shared.filter, groupKey(filter), since);
    }
    if (!group.members.includes(clientId)) group.members.push(clientId);
  }
}
