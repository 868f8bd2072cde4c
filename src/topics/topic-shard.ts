/**
 * The topic shard core: subscriptions, retained messages, the message log and the delivery
 * lanes of one shard of the topic space, with no Durable Object in sight. The shell hands it
 * publishes, forwards, subscribes and releases, and gives it the calls to other objects
 * (`ShardPeers`); unit tests run it on an in-memory KV with fake peers.
 *
 * Publish → deliver: a batch of publishes becomes one log segment (one commit) before the
 * publisher is acknowledged; each recipient's lane then hands the messages to its session,
 * which releases them once its client acknowledged them (or it stored them itself). The log is
 * the only durable copy while an online subscriber's client has the message in flight.
 */
import { messageBytes, type Delivery, type DeliveryOutcome, type Message, type QoS } from "../protocol/message.js";
import type { SyncKv } from "../storage/sync-kv.js";
import { type LaneHooks, Lanes, type SendResult } from "./lanes.js";
import { MessageLog } from "./message-log.js";
import { DEFAULT_MAX_SESSION_EXPIRY } from "../config.js";
import { PublishKeys } from "./publish-keys.js";
import { client, describe, group, parseRecipient, type Recipient, type RecipientKey, recipientKey, WILDCARD } from "./recipient.js";
import { type RetainedPage, RetainedStore } from "./retained-store.js";
import { isTopicShardKey, reachesWildcardShard, WILDCARD_SHARD } from "../protocol/topic/shard-key.js";
import { ShardSubscriptions } from "./subscriptions.js";
import { type WildcardState, WildcardLink, WildcardRegistry } from "./wildcard-link.js";

/** The calls a shard makes to other objects (the shell's stubs). */
export interface ShardPeers {
  deliver(clientId: string, deliveries: Delivery[]): Promise<DeliveryOutcome>;
  forward(deliveries: Delivery[]): Promise<WildcardState>;
  log(level: "info" | "warn", message: string, counter?: string): void;
  /** Counts an ordinary event (no log line). */
  count(counter: string): void;
  now(): number;
  sleep(ms: number): Promise<void>;
}

export interface ShardStats {
  shard: string | undefined;
  subscriptions: number;
  /** QoS 1/2 messages not yet released by every recipient, and their bytes. */
  pendingDurable: number;
  pendingBytes: number;
  /** Bytes the delivery lanes hold in memory. */
  laneBytes: number;
  lanes: number;
}

/**
 * A client whose session said it is offline gets no QoS 0 messages (it would drop them) until
 * it says it is back, or until this long passed: then one QoS 0 message goes as a probe.
 */
export const OFFLINE_PROBE_MS = 60_000;
/** At most this many offline clients are remembered (memory stays bounded); others get probes. */
export const MAX_OFFLINE_REMEMBERED = 100_000;

export class TopicShard {
  readonly subs: ShardSubscriptions;
  /** Offline clients and when to probe them again (review finding F28). */
  private readonly offline = new Map<string, number>();
  private readonly publishKeys: PublishKeys;
  /**
   * Per group, the member whose delivery failed with its outcome unknown (it may have stored the
   * batch): the lane's retry goes to it again, where it is recognised (F10), not to the next in turn.
   */
  private readonly uncertain = new Map<string, string>();
  readonly retained: RetainedStore;
  readonly log: MessageLog;
  readonly lanes: Lanes;
  readonly wildcard: WildcardLink;
  readonly registry: WildcardRegistry;

  constructor(
    kv: SyncKv,
    readonly name: string | undefined,
    private readonly peers: ShardPeers,
    options: { maxRetained?: number; keepPublishKeysMs?: number } = {},
  ) {
    this.publishKeys = new PublishKeys(kv, options.keepPublishKeysMs ?? DEFAULT_MAX_SESSION_EXPIRY * 1000);
    this.subs = new ShardSubscriptions(kv);
    // The wildcard shard mirrors what topic shards kept: only they refuse (no drift between them).
    this.retained = new RetainedStore(kv, name === WILDCARD_SHARD ? undefined : options.maxRetained);
    this.log = new MessageLog(kv);
    this.wildcard = new WildcardLink(kv);
    this.registry = new WildcardRegistry(kv);
    const hooks: LaneHooks = {
      send: (to, batch) => this.send(to, batch),
      read: (key, after, maxBytes, maxCount) => this.log.read(key, after, maxBytes, maxCount),
      released: (key, upTo) => this.log.releaseUpTo(key, upTo),
      gone: (to, sentAt) => this.gone(to, sentAt),
      failed: (to, error, attempt) => peers.log("warn", `shard ${name}: delivery to ${describe(to)} failed (attempt ${attempt}): ${String(error)}`, "delivery_failures"),
      now: () => peers.now(),
      sleep: (ms) => peers.sleep(ms),
    };
    this.lanes = new Lanes(hooks);
    // Durable deliveries left from before a restart go out again, from each release point.
    for (const key of this.log.recipients()) this.lanes.resume(parseRecipient(key));
  }

  get isWildcardShard(): boolean {
    return this.name === WILDCARD_SHARD;
  }

  /** Registers a client's filters; returns the first page of retained messages each asked for. */
  subscribe(clientId: string, subscriptions: { filter: string; qos: QoS; retained: boolean }[], now: number): { retained: RetainedPage[]; becameActive: boolean } {
    const wasEmpty = this.subs.size === 0;
    const retained = subscriptions.map(({ filter, retained }) => {
      this.subs.add(clientId, filter, now);
      return retained ? this.retained.matching(filter, now) : { messages: [] };
    });
    const becameActive = this.isWildcardShard && wasEmpty && this.subs.size > 0;
    if (becameActive) this.registry.changed(true);
    return { retained, becameActive };
  }

  unsubscribe(clientId: string, filters: string[]): void {
    this.offline.delete(clientId);
    this.removing(() => {
      for (const filter of filters) this.subs.remove(clientId, filter);
    });
  }

  /**
   * Publishes from sessions: a QoS 2 publish stored before (its route's outcome was uncertain,
   * and the publisher's session routed it again) is acknowledged but not stored twice (F14).
   */
  acceptPublished(messages: Message[]): void {
    const now = this.peers.now();
    const fresh = messages.filter((m) => !this.publishKeys.repeated(m, now));
    if (fresh.length < messages.length) this.peers.log("info", `shard ${this.name}: ${messages.length - fresh.length} QoS 2 publish(es) routed again were already stored`, "qos2_reroutes_skipped");
    this.accept(fresh);
  }

  /** Accepts publishes in order: durable ones are in the log when this returns. */
  accept(messages: Message[]): void {
    const now = this.peers.now();
    // A message is published when its topic shard accepts it; a forwarded one keeps that time.
    const plans = messages.map((message) => this.plan(message.publishedAt === undefined ? { ...message, publishedAt: now } : message));
    const durable = plans.filter((p) => p.durable.length > 0);
    const items = this.log.append(durable.map((p) => ({ message: p.message, to: p.durable.map(recipientKey) })));
    for (const [i, p] of durable.entries()) p.seq = items[i]!.seq;
    for (const plan of plans) {
      const bytes = messageBytes(plan.message);
      for (const to of plan.durable) this.lanes.push(to, plan.seq, plan.message, bytes);
      for (const to of plan.volatile) {
        if (to.kind === "client" && this.isOffline(to.clientId)) this.peers.count("qos0_not_sent_offline");
        else if (!this.lanes.push(to, undefined, plan.message, bytes)) this.dropSlow(to, plan.message);
      }
    }
  }

  /** Wildcard shard: publishes forwarded by a topic shard; says whether to go on forwarding. */
  forwarded(from: string, deliveries: Delivery[]): WildcardState {
    // Forwarded sequences are recognised per topic shard: from an unnamed one they would be taken twice.
    if (!isTopicShardKey(from)) throw new Error(`a forward from ${JSON.stringify(from)}, which names no topic shard`);
    this.registry.register(from);
    // A forward retried after a restart or a lost reply is not taken twice.
    const fresh = this.registry.fresh(from, deliveries);
    this.accept(fresh.map((d) => d.message));
    return this.registry.state(this.subs.size > 0);
  }

  /** A client's session that said it was offline has its client connected again. */
  online(clientId: string): void {
    this.offline.delete(clientId);
  }

  /** A client released durable messages up to `upTo` (its client acknowledged them). */
  release(clientId: string, upTo: number): void {
    this.lanes.release(recipientKey(client(clientId)), upTo);
  }

  /** A member's session ended with this shared message unacknowledged: another member takes it. */
  reshare(share: string, message: Message): void {
    const to = group(share);
    if (message.qos === 0) {
      this.lanes.push(to, undefined, message);
      return;
    }
    const [item] = this.log.append([{ message, to: [recipientKey(to)] }]);
    this.lanes.push(to, item!.seq, message);
  }

  stats(): ShardStats {
    const log = this.log.stats;
    return {
      shard: this.name,
      subscriptions: this.subs.size,
      pendingDurable: log.messages,
      pendingBytes: log.bytes,
      laneBytes: this.lanes.memoryBytes,
      lanes: this.lanes.size,
    };
  }

  /** Who gets a publish, durably (QoS 1/2, and retained updates for the wildcard shard) or not. */
  private plan(message: Message): { message: Message; durable: Recipient[]; volatile: Recipient[]; seq?: number } {
    if (message.retain && !this.retained.apply(message)) {
      // Not kept: delivered as an ordinary message, and not forwarded as a retained update.
      this.peers.log("warn", `shard ${this.name}: ${this.retained.size} retained messages already (MAX_RETAINED_PER_SHARD): not retaining ${message.topic}`, "retained_refused_limit");
      message = { ...message, retain: false };
    }
    const { clients, shares } = this.subs.recipients(message.topic, message.publishedAt);
    const recipients: Recipient[] = [...[...clients].map(client), ...shares.map(group)];
    // Retained messages always reach the wildcard shard, whose retained store serves `#`-like
    // filters; a retained update goes there durably at any QoS, so the two stores never drift.
    const forward = !this.isWildcardShard && reachesWildcardShard(message.topic) && (this.wildcard.active || message.retain);
    if (message.qos > 0) return { message, durable: forward ? [...recipients, WILDCARD] : recipients, volatile: [] };
    return { message, durable: forward && message.retain ? [WILDCARD] : [], volatile: forward && !message.retain ? [...recipients, WILDCARD] : recipients };
  }

  private async send(to: Recipient, batch: Delivery[]): Promise<SendResult> {
    const last = lastSeq(batch);
    switch (to.kind) {
      case "client": {
        const sentAt = this.peers.now();
        const outcome = await this.peers.deliver(to.clientId, batch);
        if (!outcome.gone && outcome.unmatched) this.phantoms(to.clientId, outcome.unmatched, sentAt);
        if (!outcome.gone && outcome.offline) this.markOffline(to.clientId);
        else this.offline.delete(to.clientId);
        return outcome.gone ? { gone: true, sentAt } : { gone: false, ...(outcome.released !== undefined ? { released: outcome.released } : {}) };
      }
      case "wildcard":
        this.wildcard.heard(await this.peers.forward(batch));
        return { gone: false, ...(last !== undefined ? { released: last } : {}) };
      case "group":
        return this.toGroup(to.share, batch, last);
    }
  }

  /**
   * One member of a shared group takes each message (MQTT 5 §4.8.2): the next in turn; a member
   * whose client is offline declines and the next is tried; when every member declined, the
   * first one keeps the messages for its next connection. The batch is released once placed.
   */
  private async toGroup(share: string, batch: Delivery[], last: number | undefined): Promise<SendResult> {
    let left = batch;
    const tried = new Set<string>();
    const again = this.uncertain.get(share);
    this.uncertain.delete(share);
    while (left.length > 0) {
      const member = tried.size === 0 && again !== undefined && this.subs.isMember(share, again) ? again : this.subs.pickMember(share, tried);
      const force = member === null;
      const target = member ?? (tried.size > 0 ? this.subs.firstMember(share) : null);
      if (target === null) {
        this.peers.log("warn", `shard ${this.name}: no member left in ${share}; ${left.length} message(s) dropped`, "shared_dropped_no_member");
        break;
      }
      tried.add(target);
      let outcome: DeliveryOutcome;
      try {
        outcome = await this.peers.deliver(
          target,
          left.map((d) => ({ ...d, share, ...(force ? { force } : {}) })),
        );
      } catch (error) {
        // Nothing placed yet, or even the fallback failed: the lane retries the batch. Otherwise
        // the part already placed must not be placed again (F10): the failed member declined.
        if (left === batch || force) {
          this.uncertain.set(share, target);
          throw error;
        }
        continue;
      }
      if (outcome.gone) {
        this.subs.remove(target, share);
        continue;
      }
      // Even the fallback member refused: it has left the group.
      if (force && outcome.declined.length > 0) this.subs.remove(target, share);
      left = outcome.declined.map((i) => left[i]!);
    }
    return { gone: false, ...(last !== undefined ? { released: last } : {}) };
  }

  /**
   * A session answered that it no longer exists. Only subscriptions made before the call went
   * out were its: a reconnected client's fresh SUBSCRIBE may have reached this shard while the
   * answer was on its way (F21). Those stay, with the messages kept for them.
   */
  private gone(to: Recipient, sentAt: number | undefined): void {
    if (to.kind !== "client") {
      this.log.releaseAll(recipientKey(to));
      return;
    }
    this.offline.delete(to.clientId);
    this.removing(() => this.subs.removeClient(to.clientId, sentAt));
    if (!this.subs.hasClient(to.clientId)) this.log.releaseAll(recipientKey(to));
    this.peers.log("info", `shard ${this.name}: session ${to.clientId} is gone; its subscriptions here are removed`, "sessions_gone");
  }

  /** The session holds no filter for these topics: its subscriptions here for them are phantoms (F20). */
  private phantoms(clientId: string, topics: string[], sentAt: number): void {
    const removed: string[] = [];
    this.removing(() => {
      for (const topic of topics) removed.push(...this.subs.removeMatching(clientId, topic, sentAt));
    });
    if (removed.length > 0) this.peers.log("warn", `shard ${this.name}: ${clientId} no longer holds ${removed.join(", ")}; removed here`, "phantom_subscriptions_removed");
  }

  private markOffline(clientId: string): void {
    if (this.offline.size < MAX_OFFLINE_REMEMBERED || this.offline.has(clientId)) this.offline.set(clientId, this.peers.now() + OFFLINE_PROBE_MS);
  }

  /** Whether to hold back QoS 0 messages for this client; past its probe time, one goes. */
  private isOffline(clientId: string): boolean {
    const probeAt = this.offline.get(clientId);
    if (probeAt === undefined) return false;
    if (this.peers.now() < probeAt) return true;
    this.offline.delete(clientId);
    return false;
  }

  /** Removes subscriptions; the wildcard shard losing its last one starts a new epoch. */
  private removing(remove: () => void): void {
    const hadSubscribers = this.subs.size > 0;
    remove();
    if (this.isWildcardShard && hadSubscribers && this.subs.size === 0) this.registry.changed(false);
  }

  /** A QoS 0 message for a recipient too far behind: counted, and logged at most every 5 s. */
  private dropSlow(to: Recipient, message: Message): void {
    this.peers.log("warn", `shard ${this.name}: ${describe(to)} is too far behind; dropping QoS 0 messages (e.g. on ${message.topic})`, "qos0_dropped_slow_subscriber");
  }
}

function lastSeq(batch: Delivery[]): number | undefined {
  let last: number | undefined;
  for (const d of batch) if (d.seq !== undefined) last = d.seq;
  return last;
}

export type { RecipientKey };
