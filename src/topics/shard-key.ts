/**
 * Which topic shard owns a topic or a filter. A shard is named by the topic's first level, so
 * a filter whose first level is literal lives with every topic it can match. Filters that start
 * with a wildcard live in the one wildcard shard, which every publish to a non-'$' topic also
 * reaches ([MQTT-4.7.2-1]: such filters never match '$' topics).
 */

import { parseShared } from "../protocol/topic/shared.js";

/** '#' cannot be a topic level of a topic name, so it cannot collide with a real first level. */
export const WILDCARD_SHARD = "#";

export function shardForTopic(topic: string): string {
  const slash = topic.indexOf("/");
  return "t/" + (slash === -1 ? topic : topic.slice(0, slash));
}

/** A shared subscription `$share/{group}/{filter}` lives with its filter (MQTT 5 §4.8.2). */
export function shardForFilter(filter: string): string {
  const shared = parseShared(filter);
  if (shared) filter = shared.filter;
  const slash = filter.indexOf("/");
  const first = slash === -1 ? filter : filter.slice(0, slash);
  return first === "+" || first === "#" ? WILDCARD_SHARD : "t/" + first;
}

/** Every shard a publish to `topic` must reach. */
export function shardsForPublish(topic: string): string[] {
  return topic.startsWith("$") ? [shardForTopic(topic)] : [shardForTopic(topic), WILDCARD_SHARD];
}
