/**
 * TopicShardDO: one shard of the topic space (see shard-key.ts). It holds the subscriptions and
 * retained messages of its topics and fans each publish out to the subscriber sessions; QoS 1/2
 * publishes are stored before the publisher is acknowledged and retried until every session has
 * stored them, including after the object restarts. A topic shard also forwards its publishes
 * to the wildcard shard, as one more durable recipient, while that shard has subscribers.
 */
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env.js";
import type { SessionDO } from "../session/session-do.js";
import type { Delivery, DeliveryOutcome, Message, QoS } from "../protocol/message.js";
import { Fanout, MAX_QOS0_BACKLOG, type FanoutItem } from "./fanout.js";
import { Outbox } from "./outbox.js";
import { RetainedStore } from "./retained-store.js";
import { reachesWildcardShard, WILDCARD_SHARD } from "./shard-key.js";
import { ShardSubscriptions } from "./subscriptions.js";
import { type WildcardState, WildcardLink, WildcardRegistry } from "./wildcard-link.js";

/** How often a shard with undelivered QoS 1/2 messages wakes itself to make sure they move. */
const RETRY_ALARM_MS = 30_000;
/** Outbox rows of shared-subscription deliveries name the group, marked by U+0000. */
const SHARED_PEND = "\u0000";
/** The wildcard shard as a recipient of a topic shard's fan-out (never a client id: U+0001 is not one). */
const TO_WILDCARD = "\u0001wildcard";

export interface ShardStats {
  shard: string | undefined;
  subscriptions: number;
  pendingDurable: number;
  counters: Record<string, number>;
}

export class TopicShardDO extends DurableObject<Env> {
  private readonly subs: ShardSubscriptions;
  private readonly retained: RetainedStore;
  private readonly outbox: Outbox;
  private readonly fanout: Fanout;
  private readonly wildcard: WildcardLink;
  private readonly registry: WildcardRegistry;
  private readonly counters: Record<string, number> = {};
  private retryArmed = false;
  private announcing: Promise<void> | null = null;
  /** Session stubs by client id (making one per batch showed in profiles). */
  private readonly sessions = new Map<string, DurableObjectStub<SessionDO>>();
  private lastSlowLog = 0;
  /** This shard's key; sessions pass it on every call (a Durable Object does not know its name). */
  private shard: string | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const kv = ctx.storage.kv;
    this.shard = kv.get<string>("name");
    this.subs = new ShardSubscriptions(kv);
    this.retained = new RetainedStore(kv);
    this.outbox = new Outbox(kv);
    this.wildcard = new WildcardLink(kv);
    this.registry = new WildcardRegistry(kv);
    this.fanout = new Fanout({
      send: (clientId, batch) => this.sendBatch(clientId, batch),
      delivered: (clientId, items) => this.settle(items),
      declined: (clientId, items) => items.forEach((item) => this.reroute(item, clientId)),
      gone: (clientId, items) => {
        this.removing(() => this.subs.removeClient(clientId));
        this.count("sessions_gone");
        for (const item of items) {
          if (item.delivery.share !== undefined) this.reroute(item, clientId);
          else this.settle([item]);
        }
      },
      failed: (clientId, error, attempt) => {
        this.count("delivery_failures");
        console.warn(`shard ${this.shard}: delivery to ${clientId} failed (attempt ${attempt}): ${String(error)}`);
      },
    });
    // Resume durable deliveries first, so they keep their place ahead of new publishes.
    for (const { seq, recipient, message } of this.outbox.pending()) {
      if (recipient.startsWith(SHARED_PEND)) this.toGroup(recipient.slice(1), message, seq);
      else this.fanout.push(recipient, { delivery: { seq, message }, pendKey: recipient });
    }
  }

  /** Registers a client's filters here and returns the retained messages each asked for. */
  async subscribe(shard: string, clientId: string, subscriptions: { filter: string; qos: QoS; retained: boolean }[]): Promise<Message[][]> {
    this.remember(shard);
    const wasEmpty = this.subs.size === 0;
    const now = Date.now();
    const retained = subscriptions.map(({ filter, retained }) => {
      this.subs.add(clientId, filter);
      return retained ? this.retained.matching(filter, now) : [];
    });
    // The wildcard shard's first subscriber: every topic shard starts forwarding before SUBACK,
    // this one's and any other that arrives while the announcement is under way.
    if (this.isWildcardShard && wasEmpty && this.subs.size > 0) this.registry.changed(true);
    if (this.isWildcardShard) await this.announce();
    return retained;
  }

  async unsubscribe(shard: string, clientId: string, filters: string[]): Promise<void> {
    this.remember(shard);
    this.removing(() => filters.forEach((filter) => this.subs.remove(clientId, filter)));
  }

  /** Wildcard shard: publishes forwarded by a topic shard. Says whether to go on forwarding. */
  async forward(from: string, deliveries: Delivery[]): Promise<WildcardState> {
    this.remember(WILDCARD_SHARD);
    this.registry.register(from);
    // A forward retried after a restart or a lost reply is not taken twice.
    const fresh = deliveries.filter(({ seq }) => seq === undefined || !this.registry.taken(from, seq));
    await this.acceptAll(fresh.map((d) => d.message));
    return this.registry.state(this.subs.size > 0);
  }

  /** Topic shard: the wildcard shard has subscribers now. */
  async wildcardActive(state: WildcardState): Promise<void> {
    this.wildcard.heard(state);
  }

  /**
   * Accepts publishes, in order. Resolves once they are durable here (one storage transaction for
   * the batch); delivery continues in the background.
   */
  async publish(shard: string, messages: Message[]): Promise<void> {
    this.remember(shard);
    await this.acceptAll(messages);
  }

  /** Accepts messages in order; a retry alarm is armed when any left durable deliveries. */
  private async acceptAll(messages: Message[]): Promise<void> {
    let durable = false;
    for (const message of messages) durable = this.accept(message) || durable;
    if (durable) await this.armRetry();
  }

  /** Removes subscriptions; the wildcard shard losing its last one starts a new epoch. */
  private removing(remove: () => void): void {
    const hadSubscribers = this.subs.size > 0;
    remove();
    if (this.isWildcardShard && hadSubscribers && this.subs.size === 0) this.registry.changed(false);
  }

  /** One publish; true when it left QoS 1/2 deliveries in the outbox. */
  private accept(message: Message): boolean {
    if (message.retain) this.retained.apply(message);
    const { clients, shares } = this.subs.recipients(message.topic);
    // Retained messages always reach the wildcard shard, whose retained store serves `#`-like filters.
    const forward = !this.isWildcardShard && reachesWildcardShard(message.topic) && (this.wildcard.active || message.retain);
    if (clients.size === 0 && shares.length === 0 && !forward) return false;
    if (message.qos === 0) {
      for (const clientId of clients) {
        if (!this.fanout.push(clientId, { delivery: { message }, pendKey: clientId })) this.dropSlow(clientId, message);
      }
      for (const share of shares) this.toGroup(share, message);
      // A retained update is never shed: the wildcard shard's retained store must not drift.
      if (forward && !this.fanout.push(TO_WILDCARD, { delivery: { message }, pendKey: TO_WILDCARD }, message.retain)) this.dropSlow(TO_WILDCARD, message);
      return false;
    }
    const seq = this.outbox.add(message, [...clients, ...shares.map((s) => SHARED_PEND + s), ...(forward ? [TO_WILDCARD] : [])]);
    for (const clientId of clients) this.fanout.push(clientId, { delivery: { seq, message }, pendKey: clientId });
    for (const share of shares) this.toGroup(share, message, seq);
    if (forward) this.fanout.push(TO_WILDCARD, { delivery: { seq, message }, pendKey: TO_WILDCARD });
    return true;
  }

  private get isWildcardShard(): boolean {
    return this.shard === WILDCARD_SHARD;
  }

  /**
   * Wildcard shard: tells every forwarding topic shard that it has subscribers, once per
   * activation; callers that arrive meanwhile wait for the same announcement. A failure stays
   * owed (and fails this SUBSCRIBE), so the next subscribe or the alarm tries again.
   */
  private announce(): Promise<void> {
    if (this.announcing) return this.announcing;
    const owed = this.registry.owed();
    if (!owed) return Promise.resolve();
    this.announcing = Promise.all(owed.tell.map((key) => this.shardStub(key).wildcardActive(owed.state)))
      .then(() => this.registry.announced(owed.state.epoch))
      .catch(async (error) => {
        await this.armRetry(true);
        throw error;
      })
      .finally(() => (this.announcing = null));
    return this.announcing;
  }

  private shardStub(key: string): DurableObjectStub<TopicShardDO> {
    return this.env.SHARDS.get(this.env.SHARDS.idFromName(key));
  }

  /** A member's session ended with this shared message unacknowledged: another member takes it. */
  async reshare(shard: string, share: string, message: Message): Promise<void> {
    this.remember(shard);
    const seq = message.qos > 0 ? this.outbox.add(message, [SHARED_PEND + share]) : undefined;
    this.toGroup(share, message, seq);
    if (seq !== undefined) await this.armRetry();
  }

  async stats(): Promise<ShardStats> {
    return { shard: this.shard, subscriptions: this.subs.size, pendingDurable: this.outbox.size, counters: { ...this.counters } };
  }

  /** The safety net: wakes a shard (and so its constructor's recovery) while messages are pending. */
  override async alarm(): Promise<void> {
    this.retryArmed = false;
    if (this.isWildcardShard) await this.announce().catch((e) => console.warn(`shard ${this.shard}: announcing failed: ${String(e)}`));
    if (this.outbox.size > 0) await this.armRetry();
  }

  /** One member of a shared group gets the message (MQTT 5 §4.8.2): the next in turn. */
  private toGroup(share: string, message: Message, seq?: number, tried?: Set<string>): void {
    const member = this.subs.pickMember(share, tried);
    const item = (clientId: string, force: boolean): FanoutItem => ({
      delivery: { message, share, ...(seq !== undefined ? { seq } : {}), ...(force ? { force } : {}) },
      pendKey: SHARED_PEND + share,
      tried: new Set([...(tried ?? []), clientId]),
    });
    if (member) {
      if (!this.fanout.push(member, item(member, false))) this.dropSlow(member, message);
      return;
    }
    // Every member declined (all offline): queue it with one of them, which keeps it for later.
    const fallback = tried && tried.size > 0 ? this.subs.firstMember(share) : null;
    if (fallback) {
      this.fanout.push(fallback, item(fallback, true));
      return;
    }
    this.count("shared_dropped_no_member");
    console.warn(`shard ${this.shard}: no member left in ${share}; message on ${message.topic} dropped`);
    if (seq !== undefined) this.outbox.done(SHARED_PEND + share, [seq]);
  }

  /** A QoS 0 message for a subscriber too far behind: counted, and logged at most every 5 s. */
  private dropSlow(clientId: string, message: Message): void {
    this.count("qos0_dropped_slow_subscriber");
    const now = Date.now();
    if (now - this.lastSlowLog < 5000) return;
    this.lastSlowLog = now;
    const who = clientId === TO_WILDCARD ? "the wildcard shard" : clientId;
    console.warn(`shard ${this.shard}: ${who} is ${MAX_QOS0_BACKLOG} deliveries behind; dropping QoS 0 messages (e.g. on ${message.topic}); ${this.counters.qos0_dropped_slow_subscriber} so far`);
  }

  private reroute(item: FanoutItem, clientId: string): void {
    const { delivery } = item;
    if (delivery.share === undefined) return;
    if (delivery.force) {
      // Even the fallback member refused it: it has left the group.
      this.subs.remove(clientId, delivery.share);
    }
    this.toGroup(delivery.share, delivery.message, delivery.seq, item.tried ?? new Set([clientId]));
  }

  private settle(items: FanoutItem[]): void {
    for (const { delivery, pendKey } of items) {
      if (delivery.seq !== undefined) this.outbox.done(pendKey, [delivery.seq]);
    }
  }

  private async sendBatch(clientId: string, batch: Delivery[]): Promise<DeliveryOutcome> {
    if (clientId === TO_WILDCARD) {
      this.wildcard.heard(await this.shardStub(WILDCARD_SHARD).forward(this.shard ?? "", batch));
      return { gone: false, declined: [] };
    }
    let stub = this.sessions.get(clientId);
    if (!stub) {
      // Bounded: assigned client ids are new on every connection.
      if (this.sessions.size >= 10_000) this.sessions.clear();
      stub = this.env.SESSIONS.get(this.env.SESSIONS.idFromName(clientId));
      this.sessions.set(clientId, stub);
    }
    return stub.deliver(this.shard ?? "", batch);
  }

  private async armRetry(force = false): Promise<void> {
    if (this.retryArmed && !force) return;
    this.retryArmed = true;
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + RETRY_ALARM_MS);
  }

  private remember(shard: string): void {
    if (this.shard === shard) return;
    this.shard = shard;
    this.ctx.storage.kv.put("name", shard);
  }

  private count(name: string): void {
    this.counters[name] = (this.counters[name] ?? 0) + 1;
  }
}
