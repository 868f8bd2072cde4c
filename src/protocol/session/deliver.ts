/**
 * Messages arriving from topic shards. The session, which knows all its filters, decides:
 * - one copy at the highest QoS of every matching subscription [MQTT-3.3.5-1] (3.1.1), with
 *   every matching Subscription Identifier [MQTT-3.3.4-3] (5.0), capped at the published QoS;
 * - No Local skips the client's own messages [MQTT-3.8.3-3] (5.0); Retain As Published keeps the
 *   retain flag [MQTT-3.3.1-13], otherwise forwarding clears it [MQTT-3.3.1-12] (5.0);
 * - the client's own PUBLISH handled before a SUBSCRIBE is not that subscription's, however late
 *   it arrives (its stamp is not above the subscription's `madeAfter`) [MQTT-4.5.0-1];
 * - a message can arrive from two shards (its topic's and the wildcard shard); exactly one of
 *   them is designated to deliver it, so overlapping subscriptions never produce two copies;
 * - a shared-subscription delivery is declined while the client is offline, so the shard can
 *   give it to another member of the group;
 * - the reply says when the client is offline, so the shard holds back QoS 0 messages.
 */
import type { Action } from "../actions.js";
import { isExpired, maxQoS, minQoS, type Delivery, type DeliveryOutcome, type QoS } from "../message.js";
import { topicMatches } from "../topic/match.js";
import { isShared } from "../topic/shared.js";
import { isShardKey, shardForFilter, shardForTopic, WILDCARD_SHARD } from "../topic/shard-key.js";
import { getOwn } from "./own-keys.js";
import type { Session } from "./session.js";

export function deliver(s: Session, shard: string, deliveries: Delivery[], now: number): { actions: Action[]; outcome: DeliveryOutcome } {
  // A delivery from no shard the session knows would be skipped as designated elsewhere, and the
  // reply would release it: refused instead, so the shard retries it (its sequences are the shard's).
  if (!isShardKey(shard)) throw new Error(`a delivery from ${JSON.stringify(shard)}, which names no shard`);
  const record = s.record;
  if (!record) return { actions: [], outcome: { gone: true } };
  const actions: Action[] = [];
  const declined: number[] = [];
  const unmatched = new Set<string>();
  deliveries.forEach((delivery, index) => {
    const { seq, message } = delivery;
    if (delivery.share !== undefined) {
      const sub = getOwn(record.subscriptions, delivery.share);
      if (!sub || (!s.current && !delivery.force)) {
        declined.push(index);
        return;
      }
      // A retry of a group delivery already taken (its reply was lost) is not queued again (F10).
      if (seq !== undefined && s.sharedTaken.has(shard, seq)) return;
      const retain = sub.retainAsPublished ? message.retain : false;
      const extra = { share: delivery.share, ...(sub.id !== undefined ? { subscriptionIds: [sub.id] } : {}) };
      actions.push(...s.enqueue(message, minQoS(sub.qos, message.qos), retain, now, extra));
      if (seq !== undefined) s.sharedTaken.add(shard, seq);
      return;
    }
    if (seq !== undefined) {
      // A shard retries until released; a retry of something already taken is skipped, and
      // still counts as seen, so the release point moves past it.
      const taken = s.marks.taken(shard, seq);
      s.marks.see(shard, seq);
      if (taken) return;
    }
    if (isExpired(message, now)) return;
    const topicShard = shardForTopic(message.topic);
    let granted: QoS | -1 = -1;
    let designated = WILDCARD_SHARD;
    let retain = false;
    const ids: number[] = [];
    const held = Object.entries(record.subscriptions);
    const candidates = message.publishedAt !== undefined ? held.concat(s.recentSubscriptions.endedAfter(message.publishedAt)) : held;
    // Whether a filter the session holds now matches: if none does, the shard's row is a phantom (F20).
    let holdsMatching = false;
    for (const [i, [filter, sub]] of candidates.entries()) {
      if (isShared(filter) || !topicMatches(filter, message.topic)) continue;
      if (i < held.length) holdsMatching = true;
      // A subscription made after the message was published is not its recipient ([MQTT-4.5.0-1]):
      // neither its QoS nor its shard counts, so a copy in transit on the wildcard path is not
      // dropped for a newer filter that lives in the topic's shard (review F9).
      if (message.publishedAt !== undefined && s.recentSubscriptions.newerThan(filter, message.publishedAt)) continue;
      if (message.origin === record.clientId) {
        if (sub.noLocal) continue;
        // The client's own PUBLISH handled before this SUBSCRIBE is not this subscription's [MQTT-4.5.0-1].
        if (sub.madeAfter !== undefined && message.stamp !== undefined && message.stamp <= sub.madeAfter) continue;
      }
      granted = granted === -1 ? sub.qos : maxQoS(granted, sub.qos);
      if (shardForFilter(filter) === topicShard) designated = topicShard;
      if (sub.retainAsPublished && message.retain) retain = true;
      if (sub.id !== undefined && !ids.includes(sub.id)) ids.push(sub.id);
    }
    if (granted === -1 && !holdsMatching) unmatched.add(message.topic);
    if (granted === -1 || designated !== shard) return;
    const origin = seq !== undefined ? { shard, seq } : undefined;
    actions.push(...s.enqueue(message, minQoS(granted, message.qos), retain, now, ids.length > 0 ? { subscriptionIds: ids } : {}, origin));
  });
  s.sharedTaken.save();
  actions.push(...s.pump(now));
  // The reply tells the shard how far it may let go; later progress goes in `release` actions.
  const released = s.marks.releasePoint(shard);
  if (released !== undefined) s.marks.reported(shard, released);
  // An offline client gets no QoS 0 messages: the shard stops sending them until told (F28).
  if (!s.current) s.muted.note(shard);
  const extra = { ...(released !== undefined ? { released } : {}), ...(s.current ? {} : { offline: true as const }), ...(unmatched.size > 0 ? { unmatched: [...unmatched] } : {}) };
  return { actions, outcome: { gone: false, declined, ...extra } };
}
