/**
 * Messages arriving from topic shards. The session, which knows all its filters, decides: one copy
 * at the highest QoS of every matching subscription [MQTT-3.3.5-1], capped at the published QoS.
 * A message can arrive from two shards (its topic's and the wildcard shard); exactly one of them
 * is designated to deliver it, so overlapping subscriptions never produce two copies.
 */
import type { Action } from "../actions.js";
import { maxQoS, minQoS, type Delivery, type QoS } from "../message.js";
import { topicMatches } from "../topic/match.js";
import { shardForFilter, shardForTopic, WILDCARD_SHARD } from "../../topics/shard-key.js";
import type { Session } from "./session.js";

export function deliver(s: Session, shard: string, deliveries: Delivery[]): { actions: Action[]; gone: boolean } {
  const record = s.record;
  if (!record) return { actions: [], gone: true };
  const actions: Action[] = [];
  let marksChanged = false;
  for (const { seq, message } of deliveries) {
    if (seq !== undefined) {
      // A shard retries until confirmed; a retry of something already stored is skipped.
      if (seq <= (record.shardMarks[shard] ?? 0)) continue;
      record.shardMarks[shard] = seq;
      marksChanged = true;
    }
    const topicShard = shardForTopic(message.topic);
    let granted: QoS | -1 = -1;
    let designated = WILDCARD_SHARD;
    for (const [filter, sub] of Object.entries(record.subscriptions)) {
      if (!topicMatches(filter, message.topic)) continue;
      granted = granted === -1 ? sub.qos : maxQoS(granted, sub.qos);
      if (shardForFilter(filter) === topicShard) designated = topicShard;
    }
    if (granted === -1 || designated !== shard) continue;
    // Forwarded messages never carry the retain flag [MQTT-3.3.1-9].
    actions.push(...s.enqueue(message, minQoS(granted, message.qos), false));
  }
  if (marksChanged) s.saveRecord();
  actions.push(...s.outbound.pump(s.current));
  return { actions, gone: false };
}
