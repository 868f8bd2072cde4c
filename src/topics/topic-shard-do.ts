/**
 * TopicShardDO: one shard of the topic space (see shard-key.ts). It holds the subscriptions and
 * retained messages of its topics and fans each publish out to the subscriber sessions; QoS 1/2
 * publishes are stored before the publisher is acknowledged and retried until every session has
 * stored them, including after the object restarts.
 */
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env.js";
import type { Delivery, Message, QoS } from "../protocol/message.js";
import { Fanout } from "./fanout.js";
import { Outbox } from "./outbox.js";
import { RetainedStore } from "./retained-store.js";
import { ShardSubscriptions } from "./subscriptions.js";

/** How often a shard with undelivered QoS 1/2 messages wakes itself to make sure they move. */
const RETRY_ALARM_MS = 30_000;

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
  private readonly counters: Record<string, number> = {};
  /** This shard's key; sessions pass it on every call (a Durable Object does not know its name). */
  private shard: string | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const kv = ctx.storage.kv;
    this.shard = kv.get<string>("name");
    this.subs = new ShardSubscriptions(kv);
    this.retained = new RetainedStore(kv);
    this.outbox = new Outbox(kv);
    this.fanout = new Fanout({
      send: (clientId, batch) => this.sendBatch(clientId, batch),
      delivered: (clientId, seqs) => this.outbox.done(clientId, seqs),
      gone: (clientId, dropped) => {
        this.subs.removeClient(clientId);
        this.outbox.done(clientId, dropped.flatMap((d) => (d.seq === undefined ? [] : [d.seq])));
        this.count("sessions_gone");
      },
      failed: (clientId, error, attempt) => {
        this.count("delivery_failures");
        console.warn(`shard ${this.shard}: delivery to ${clientId} failed (attempt ${attempt}): ${String(error)}`);
      },
    });
    // Resume durable deliveries first, so they keep their place ahead of new publishes.
    for (const { seq, clientId, message } of this.outbox.pending()) this.fanout.push(clientId, { seq, message });
  }

  /** Registers a client's filters here and returns the retained messages of each. */
  async subscribe(shard: string, clientId: string, subscriptions: { filter: string; qos: QoS }[]): Promise<Message[][]> {
    this.remember(shard);
    return subscriptions.map(({ filter }) => {
      this.subs.add(clientId, filter);
      return this.retained.matching(filter);
    });
  }

  async unsubscribe(shard: string, clientId: string, filters: string[]): Promise<void> {
    this.remember(shard);
    for (const filter of filters) this.subs.remove(clientId, filter);
  }

  /** Accepts a publish. Resolves once it is durable here; delivery continues in the background. */
  async publish(shard: string, message: Message): Promise<void> {
    this.remember(shard);
    if (message.retain) this.retained.apply(message);
    const recipients = this.subs.recipients(message.topic);
    if (recipients.size === 0) return;
    if (message.qos === 0) {
      for (const clientId of recipients) this.fanout.push(clientId, { message });
      return;
    }
    const seq = this.outbox.add(message, recipients);
    for (const clientId of recipients) this.fanout.push(clientId, { seq, message });
    await this.armRetry();
  }

  async stats(): Promise<ShardStats> {
    return { shard: this.shard, subscriptions: this.subs.size, pendingDurable: this.outbox.size, counters: { ...this.counters } };
  }

  /** The safety net: wakes a shard (and so its constructor's recovery) while messages are pending. */
  override async alarm(): Promise<void> {
    if (this.outbox.size > 0) await this.armRetry();
  }

  private async sendBatch(clientId: string, batch: Delivery[]) {
    const stub = this.env.SESSIONS.get(this.env.SESSIONS.idFromName(clientId));
    return stub.deliver(this.shard ?? "", batch);
  }

  private async armRetry(): Promise<void> {
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
