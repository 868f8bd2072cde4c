/** SUBSCRIBE (MQTT §3.8): validate each filter, store, register with the shards, SUBACK, retained. */
import type { ISubscribePacket } from "mqtt-packet";
import type { Action } from "../../actions.js";
import { ProtocolError, Reason } from "../../errors.js";
import { minQoS, type Message, type QoS } from "../../message.js";
import { isShared, parseShared } from "../../topic/shared.js";
import { beyondTopicLimits, hasWildcard, isValidTopicFilter } from "../../topic/validate.js";
import { getOwn, hasOwn, setOwn } from "../own-keys.js";
import { send, type Session } from "../session.js";
import type { ConnectionState, SessionRecord, Subscription } from "../state.js";

/** SUBACK return code for a refused filter in MQTT 3.1.1 (§3.9.3). */
export const SUBACK_FAILURE = 0x80;

interface Accepted {
  filter: string;
  sub: Subscription;
  /** Retained messages are sent now (Retain Handling; never for shared subscriptions). */
  retained: boolean;
}

export function handleSubscribe(s: Session, conn: ConnectionState, packet: ISubscribePacket, now: number): Action[] {
  const v5 = conn.version === 5;
  // Guard: a SUBSCRIBE carries at least one filter [MQTT-3.8.3-3].
  if (packet.subscriptions.length === 0) throw new ProtocolError(Reason.ProtocolError, "SUBSCRIBE without filters");
  const subscriptionId = packet.properties?.subscriptionIdentifier as number | undefined;
  if (subscriptionId === 0) throw new ProtocolError(Reason.ProtocolError, "Subscription Identifier 0"); // §3.8.2.1.2

  const record = s.record!;
  // The packet id must not be in use by an unreleased QoS 2 PUBLISH of this client (0x91).
  const idInUse = s.store.getIncoming(packet.messageId!) !== undefined;
  const granted: number[] = [];
  const problems: string[] = [];
  const accepted: Accepted[] = [];
  let count = Object.keys(record.subscriptions).length;
  for (const request of packet.subscriptions) {
    const filter = request.topic;
    const refuse = (code: number) => {
      granted.push(v5 ? code : SUBACK_FAILURE);
      problems.push(`${filter}: 0x${code.toString(16)}`);
    };
    if (idInUse) {
      refuse(Reason.PacketIdentifierInUse);
      continue;
    }
    const shared = isShared(filter);
    const inner = shared ? parseShared(filter)?.filter : filter;
    // Each filter is granted or refused on its own [MQTT-3.9.3-1]: invalid filters, and ones beyond
    // MAX_TOPIC_LENGTH / MAX_TOPIC_LEVELS (a session's filters share one storage value), 0x8F.
    if (inner === undefined || !isValidTopicFilter(inner) || beyondTopicLimits(filter, s.config) !== null) {
      refuse(Reason.TopicFilterInvalid);
      continue;
    }
    // Unlike brokers that accept a denied SUBSCRIBE and filter silently, the client is told: 0x87 / 0x80.
    if (!s.rights.check("subscribe", inner)) {
      refuse(Reason.NotAuthorized);
      continue;
    }
    if (shared && !s.config.sharedSubscriptions) {
      refuse(Reason.SharedSubscriptionsNotSupported);
      continue;
    }
    // No Local on a shared subscription is a protocol error [MQTT-3.8.3-4].
    if (shared && request.nl) throw new ProtocolError(Reason.ProtocolError, "No Local on a shared subscription");
    if (hasWildcard(inner) && !s.config.wildcardSubscriptions) {
      refuse(Reason.WildcardSubscriptionsNotSupported);
      continue;
    }
    if (subscriptionId !== undefined && !s.config.subscriptionIdentifiers) {
      refuse(Reason.SubscriptionIdentifiersNotSupported);
      continue;
    }
    // As a sequence of SUBSCRIBEs [MQTT-3.8.4-4] (3.1.1), [MQTT-3.8.4-5] (5.0): a filter named twice exists the second time.
    const existed = hasOwn(record.subscriptions, filter) || accepted.some((a) => a.filter === filter);
    if (!existed && count >= s.config.maxSubscriptions) {
      refuse(Reason.QuotaExceeded);
      continue;
    }
    if (!existed) count++;
    const qos = minQoS(request.qos as QoS, s.config.maximumQoS);
    // When it began: messages published before it are not its to deliver (see deliver.ts); a
    // repeated SUBSCRIBE replaces the options, not the beginning.
    if (!existed) s.recentSubscriptions.began(filter, now);
    const sub: Subscription = { qos };
    if (request.nl) sub.noLocal = true;
    if (request.rap) sub.retainAsPublished = true;
    if (request.rh) sub.retainHandling = request.rh as 1 | 2;
    if (subscriptionId !== undefined) sub.id = subscriptionId;
    // A new subscription is not given the client's own publishes handled before it, however late
    // they reach their shard [MQTT-4.5.0-1]; a replaced one keeps its mark.
    const madeAfter = existed ? (getOwn(record.subscriptions, filter)?.madeAfter ?? accepted.find((a) => a.filter === filter)?.sub.madeAfter) : s.publishedUpTo;
    if (madeAfter) sub.madeAfter = madeAfter;
    const rh = request.rh ?? 0;
    granted.push(qos);
    // Retain Handling 0: always, 1: only for a new subscription, 2: never [MQTT-3.3.1-9..11];
    // a new Shared Subscription gets no retained messages (§3.3.1.3: only Non-shared ones do).
    accepted.push({ filter, sub, retained: !shared && (rh === 0 || (rh === 1 && !existed)) });
  }

  // A Reason String only for clients that did not turn problem information off [MQTT-3.1.2-29].
  const properties = v5 && conn.problemInformation && problems.length > 0 ? { properties: { reasonString: `refused ${problems.join(", ")}`.slice(0, 200) } } : {};
  const suback = send(conn, { cmd: "suback", messageId: packet.messageId!, granted, ...properties });
  if (accepted.length === 0) return [suback];
  // Acknowledged once the shards hold the subscriptions: see `subscribed`.
  const subscribeId = s.awaitShardCall({ kind: "subscribe", record, accepted: accepted.map(({ filter, sub }) => ({ filter, sub })), suback, now });
  return [{ type: "subscribe", clientId: conn.clientId, subscriptions: accepted.map(({ filter, sub, retained }) => ({ filter, qos: sub.qos, retained })), subscribeId }];
}

/** A SUBSCRIBE waiting for its shards: what to apply and answer once they hold its filters. */
export interface PendingSubscribe {
  kind: "subscribe";
  /** The session it came in (one that ended meanwhile gets nothing). */
  record: SessionRecord;
  accepted: { filter: string; sub: Subscription }[];
  suback: Action;
  /** When the SUBSCRIBE was handled. */
  now: number;
}

/**
 * The shards hold the filters: apply them (so a failed registration leaves no phantom
 * subscription; an existing filter is replaced [MQTT-3.8.4-3]), acknowledge, then send the
 * retained messages with the retain flag set [MQTT-3.3.1-8] (3.1.1), at most the granted QoS
 * [MQTT-3.8.4-6]. `retained`: the first page for each filter, in order.
 */
export function subscribed(s: Session, pending: PendingSubscribe, retained: Message[][]): Action[] {
  const { record, accepted, suback, now } = pending;
  if (s.record !== record) return []; // the session ended meanwhile
  for (const { filter, sub } of accepted) setOwn(record.subscriptions, filter, sub);
  s.saveRecord();
  const actions: Action[] = [suback];
  for (const [i, { sub }] of accepted.entries()) actions.push(...s.enqueueRetained(sub, retained[i] ?? [], now));
  return actions.concat(s.pump(now));
}
