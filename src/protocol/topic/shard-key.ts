/**
 * Which topic shard owns a topic or a filter. A shard is named by the topic's first level, so
 * a filter whose first level is literal lives with every topic it can match. Filters that start
 * with a wildcard live in the one wildcard shard. A publish goes to its topic's shard only, which
 * forwards it to the wildcard shard when that shard has subscribers (or the message is retained);
 * '$' topics never go there ([MQTT-4.7.2-1]: first-level wildcards never match them).
 */

import { parseShared } from "./shared.js";

/** '#' cannot be a topic level of a topic name, so it cannot collide with a real first level. */
export const WILDCARD_SHARD = "#";
/** Topic shards are named by this prefix and the first level they own. */
const TOPIC_SHARD_PREFIX = "t/";

export function shardForTopic(topic: string): string {
  const slash = topic.indexOf("/");
  return TOPIC_SHARD_PREFIX + (slash === -1 ? topic : topic.slice(0, slash));
}

/** A shared subscription `$share/{group}/{filter}` lives with its filter (MQTT 5 §4.8.2). */
export function shardForFilter(filter: string): string {
  const shared = parseShared(filter);
  if (shared) filter = shared.filter;
  const slash = filter.indexOf("/");
  const first = slash === -1 ? filter : filter.slice(0, slash);
  return first === "+" || first === "#" ? WILDCARD_SHARD : TOPIC_SHARD_PREFIX + first;
}

/** Whether `key` names a shard: the wildcard shard or a topic shard (`t/…`). */
export const isShardKey = (key: string): boolean => key === WILDCARD_SHARD || isTopicShardKey(key);

/** Whether `key` names a topic shard (`t/…`). */
export const isTopicShardKey = (key: string): boolean => key.startsWith(TOPIC_SHARD_PREFIX);

/** Whether the topic shard hands this topic's messages on to the wildcard shard. */
export const reachesWildcardShard = (topic: string): boolean => !topic.startsWith("$");

/** Every shard that may deliver a publish to `topic` (its own, and the wildcard shard via forwarding). */
export function shardsForPublish(topic: string): string[] {
  return reachesWildcardShard(topic) ? [shardForTopic(topic), WILDCARD_SHARD] : [shardForTopic(topic)];
}
