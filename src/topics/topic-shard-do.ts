/**
 * TopicShardDO: one shard of the topic space (see protocol/topic/shard-key.ts), a thin shell around the
 * topic shard core (topic-shard.ts). It turns RPCs into core calls, gives the core its peers
 * (session stubs, the wildcard shard), flushes the message log's releases in one commit every
 * little while, and keeps an alarm while deliveries are outstanding so they always move.
 */
import { DurableObject } from "cloudflare:workers";
import { type BrokerConfig, loadConfig } from "../config.js";
import type { Env } from "../env.js";
import type { Delivery, DeliveryOutcome, Message, QoS } from "../protocol/message.js";
import type { SessionDO } from "../session/session-do.js";
import { CountingKv } from "../storage/counting-kv.js";
import { RateLimitedLog } from "../objects/rate-limited-log.js";
import { StubCache } from "../objects/stub-cache.js";
import { Faults, topicsOf } from "../objects/faults.js";
import { setLogLevel } from "../objects/rate-limited-log.js";
import { StatsReporter } from "../stats/reporter.js";
import { type ShardStats, STATS_OBJECT, type TopicShardRpc } from "../contracts/index.js";
import type { RetainedPage } from "./retained-store.js";
import { WILDCARD_SHARD } from "../protocol/topic/shard-key.js";
import { type ShardStats as CoreStats, TopicShard } from "./topic-shard.js";
import type { WildcardState } from "./wildcard-link.js";

/** How often a shard with undelivered messages wakes itself to make sure they move. */
const RETRY_ALARM_MS = 30_000;
/** Releases are written (rows deleted, cursors moved) at most this often: one commit for many. */
const FLUSH_MS = 1000;

export class TopicShardDO extends DurableObject<Env> implements TopicShardRpc {
  private readonly kv: CountingKv;
  private core: TopicShard | undefined;
  private readonly logs = new RateLimitedLog("shard");
  /** Test-only fault injection (null unless the FAULTS binding is set). */
  private readonly faults: Faults | null;
  /** Subscription and retained counts, and drops, for the broker's stats object. */
  private readonly reporter: StatsReporter;
  private readonly sessions: StubCache<DurableObjectStub<SessionDO>>;
  private readonly shards: StubCache<DurableObjectStub<TopicShardDO>>;
  private retryArmed = false;
  private flushTimer: ReturnType<typeof setTimeout> | null = null;
  private announcing: Promise<void> | null = null;
  /** Publishes waiting for the next group commit, with their callers. */
  private accepting: { messages: Message[]; done: (error?: unknown) => void }[] = [];

  private readonly config: BrokerConfig;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.config = loadConfig(env);
    this.kv = new CountingKv(ctx.storage.kv);
    this.faults = Faults.from(env.FAULTS, ctx.storage.kv);
    this.sessions = new StubCache((id) => env.SESSIONS.get(env.SESSIONS.idFromName(id)));
    setLogLevel(env.LOG_LEVEL);
    const stats = new StubCache((name: string) => env.STATS.get(env.STATS.idFromName(name)));
    this.reporter = new StatsReporter(
      () => `shard ${this.core?.name ?? "?"}`,
      (report) => stats.call(STATS_OBJECT, (stub) => stub.report(report)),
    );
    this.logs.observer = {
      count: (counter) => this.reporter.count(counter),
      logged: (level, counter, line) => level === "warn" && this.reporter.event("warn", counter, line),
    };
    this.shards = new StubCache((key) => env.SHARDS.get(env.SHARDS.idFromName(key)));
    // A shard learns its name from the first call; one that has one resumes its deliveries now.
    const name = this.kv.get<string>("name");
    if (name !== undefined) this.start(name);
  }

  /** Registers a client's filters here and returns the first page of retained messages each asked for. */
  async subscribe(shard: string, clientId: string, subscriptions: { filter: string; qos: QoS; retained: boolean }[]): Promise<RetainedPage[]> {
    const core = this.enter(shard);
    const { retained } = core.subscribe(clientId, subscriptions, Date.now());
    this.reportCounts();
    // The wildcard shard's first subscriber: every topic shard starts forwarding before SUBACK,
    // this one's and any other that arrives while the announcement is under way.
    if (core.isWildcardShard) await this.announce();
    return retained;
  }

  /** The next page of retained messages for a filter, after the topic `after`. */
  async retainedPage(shard: string, filter: string, after?: string): Promise<RetainedPage> {
    return this.enter(shard).retained.matching(filter, Date.now(), after);
  }

  async unsubscribe(shard: string, clientId: string, filters: string[]): Promise<void> {
    this.enter(shard).unsubscribe(clientId, filters);
    this.reportCounts();
  }

  /**
   * Accepts publishes in order; resolves once they are durable here. Calls that arrive together
   * (from many publishers) share one commit: they are accepted in the next turn, as one batch.
   */
  async publish(shard: string, messages: Message[]): Promise<void> {
    this.enter(shard);
    if (this.faults?.fires("resetShardOn", messages)) await this.reset("fault injected: topic shard reset");
    await new Promise<void>((resolve, reject) => {
      if (this.accepting.length === 0) setTimeout(() => this.acceptWaiting(), 0);
      this.accepting.push({ messages, done: (error) => (error === undefined ? resolve() : reject(error)) });
    });
    if (this.faults?.fires("losePublishReplyOn", messages)) throw new Error("fault injected: the reply to a publish is lost");
  }

  private acceptWaiting(): void {
    const calls = this.accepting;
    this.accepting = [];
    try {
      this.core!.acceptPublished(calls.flatMap((c) => c.messages));
      for (const c of calls) c.done();
    } catch (error) {
      for (const c of calls) c.done(error);
    }
    this.afterChange();
  }

  /** Wildcard shard: publishes forwarded by a topic shard. Says whether to go on forwarding. */
  async forward(from: string, deliveries: Delivery[]): Promise<WildcardState> {
    const delay = this.faults?.delayMs(deliveries) ?? 0;
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    if (this.faults?.fires("resetWildcardOn", topicsOf(deliveries))) await this.reset("fault injected: wildcard shard reset");
    const state = this.enter(WILDCARD_SHARD).forwarded(from, deliveries);
    this.afterChange();
    return state;
  }

  /** Test-only: the object resets as a crash or a redeploy would (its fired-fault mark kept). */
  private async reset(why: string): Promise<never> {
    await this.ctx.storage.sync();
    this.ctx.abort(why);
    throw new Error(why);
  }

  /** A session's client acknowledged durable messages up to `upTo`: the shard may let them go. */
  async release(shard: string, clientId: string, upTo: number): Promise<void> {
    this.enter(shard).release(clientId, upTo);
    this.afterChange();
  }

  /** A client that was offline is connected again: QoS 0 messages go to it again. */
  async online(shard: string, clientId: string): Promise<void> {
    this.enter(shard).online(clientId);
  }

  /** Topic shard: the wildcard shard has subscribers now. */
  async wildcardActive(state: WildcardState): Promise<void> {
    this.kv.cost.requests++;
    this.core?.wildcard.heard(state);
  }

  /** A member's session ended with this shared message unacknowledged: another member takes it. */
  async reshare(shard: string, share: string, message: Message): Promise<void> {
    this.enter(shard).reshare(share, message);
    this.afterChange();
  }

  async stats(): Promise<ShardStats> {
    const core = this.core;
    const base: CoreStats = core?.stats() ?? { shard: undefined, subscriptions: 0, pendingDurable: 0, pendingBytes: 0, laneBytes: 0, lanes: 0 };
    return { ...base, counters: this.logs.snapshot(), cost: { ...this.kv.cost } };
  }

  /** The safety net: redelivers what a restarted session lost, retries announcements, flushes. */
  override async alarm(): Promise<void> {
    this.retryArmed = false;
    const core = this.core;
    if (!core) return;
    if (core.isWildcardShard) await this.announce().catch((e) => this.logs.log("warn", `shard ${core.name}: announcing failed: ${String(e)}`));
    core.lanes.redeliverStalled();
    this.flush();
    if (core.lanes.unreleased || core.log.stats.messages > 0) await this.armRetry();
  }

  private enter(shard: string): TopicShard {
    this.kv.cost.requests++;
    if (this.core?.name === shard) return this.core;
    this.kv.put("name", shard);
    return this.start(shard);
  }

  private start(name: string): TopicShard {
    // The peers name this shard from `name`, never from `this.core`: the core's constructor
    // resumes the deliveries left from before a restart, and their first batches go out before
    // `this.core` is assigned. Named "" they were skipped by the session as another shard's
    // (designated elsewhere) and released, so messages in flight at the restart were lost.
    this.core = new TopicShard(
      this.kv,
      name,
      {
        deliver: (clientId, deliveries) => this.deliver(name, clientId, deliveries),
        forward: (deliveries) => this.forwardToWildcard(name, deliveries),
        log: (level, message, counter) => this.logs.log(level, message, counter),
        count: (counter) => void this.logs.count(counter),
        now: () => Date.now(),
        sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
      },
      { maxRetained: this.config.maxRetainedPerShard, keepPublishKeysMs: this.config.maxSessionExpiry * 1000 },
    );
    if (this.core.log.stats.messages > 0) void this.armRetry();
    return this.core;
  }

  private async deliver(shard: string, clientId: string, deliveries: Delivery[]): Promise<DeliveryOutcome> {
    const outcome: DeliveryOutcome = await this.sessions.call(clientId, async (stub) => (await stub.deliver(shard, deliveries)) as DeliveryOutcome);
    this.afterChange();
    return outcome;
  }

  private async forwardToWildcard(from: string, deliveries: Delivery[]): Promise<WildcardState> {
    return this.shards.call(WILDCARD_SHARD, (wildcard) => wildcard.forward(from, deliveries));
  }

  /**
   * Wildcard shard: tells every forwarding topic shard that it has subscribers, once per
   * activation; callers that arrive meanwhile wait for the same announcement. A failure stays
   * owed (and fails this SUBSCRIBE), so the next subscribe or the alarm tries again.
   */
  private announce(): Promise<void> {
    if (this.announcing !== null) return this.announcing;
    const owed = this.core?.registry.owed();
    if (!owed) return Promise.resolve();
    this.announcing = Promise.all(owed.tell.map((key) => this.shards.call(key, (shard) => shard.wildcardActive(owed.state))))
      .then(() => this.core?.registry.announced(owed.state.epoch))
      .catch(async (error) => {
        await this.armRetry(true);
        throw error;
      })
      .finally(() => (this.announcing = null));
    return this.announcing;
  }

  /** The shard's totals for the stats object (sent only when they changed, in a batch). */
  private reportCounts(): void {
    const core = this.core;
    if (core?.name !== undefined) this.reporter.shardNow({ key: core.name, subscriptions: core.subs.size, retained: core.retained.size });
  }

  /** Something changed: releases are flushed soon, and the alarm watches outstanding deliveries. */
  private afterChange(): void {
    const core = this.core;
    if (!core) return;
    this.reportCounts();
    if (core.log.dirty && !this.flushTimer) this.flushTimer = setTimeout(() => this.flush(), FLUSH_MS);
    // (`unreleased` looks at every lane: only asked while no alarm is armed.)
    if (!this.retryArmed && (core.log.stats.messages > 0 || core.lanes.unreleased)) void this.armRetry();
  }

  private flush(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    this.core?.log.flush();
  }

  private async armRetry(force = false): Promise<void> {
    if (this.retryArmed && !force) return;
    this.retryArmed = true;
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + RETRY_ALARM_MS);
  }
}
