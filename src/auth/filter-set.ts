/**
 * The filters of many ACL rules, compiled so a check costs the depth of the topic, not the number
 * of rules: publishes and deliveries are checked against it for every message.
 */

import { SubscriptionTrie } from "../protocol/topic/trie.js";
import { filterCovers } from "./filter-covers.js";

export class FilterSet {
  private readonly trie = new SubscriptionTrie<true>();
  private readonly filters = new Set<string>();

  add(filter: string): void {
    if (this.filters.has(filter)) return;
    this.filters.add(filter);
    this.trie.add(filter, filter, true);
  }

  get size(): number {
    return this.filters.size;
  }

  /** Some filter matches the topic name (no first-level wildcard reaches a '$' topic). */
  matchesTopic(topic: string): boolean {
    return this.filters.size > 0 && this.trie.match(topic).length > 0;
  }

  /** Some filter covers the whole subscription filter. Subscribes are rare, so a scan is enough. */
  coversFilter(subscription: string): boolean {
    for (const filter of this.filters) if (filterCovers(filter, subscription)) return true;
    return false;
  }
}
