/**
 * StatsDO: the one object that knows the broker's global numbers, a thin shell around
 * BrokerStats. Sessions and shards report to it in batches (StatsReporter); the Worker asks it
 * for the operator's API and /metrics. Every 10 s it takes a rate point, saves its totals, and
 * every SYS_INTERVAL seconds publishes the changed `$SYS/broker/...` topics (retained) through
 * their topic shard, as any publisher would. It keeps its alarm only while it has been told
 * something recently, so an idle broker's stats object sleeps.
 */
import { DurableObject } from "cloudflare:workers";
import type { ClientList, ClientSummary, EventList, Overview } from "../admin/api-types.js";
import type { ClientQuery, StatsRpc } from "../contracts/index.js";
import type { Env } from "../env.js";
import { CountingKv } from "../storage/counting-kv.js";
import { shardForTopic } from "../protocol/topic/shard-key.js";
import { BrokerStats } from "./broker-stats.js";
import type { StatsReport } from "./report.js";

export const BROKER_VERSION = "0.1.0";
const TICK_MS = 10_000;
/** With no report for this long the alarm stops (it starts again with the next report). */
const IDLE_AFTER_MS = 5 * 60_000;

export class StatsDO extends DurableObject<Env> implements StatsRpc {
  private readonly stats: BrokerStats;
  private readonly sysInterval: number;
  private readonly published = new Map<string, string>();
  private lastSys = 0;
  private lastTick = 0;
  private lastReport = Date.now();
  private alarmArmed = false;
  private swept = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.stats = new BrokerStats(new CountingKv(ctx.storage.kv), BROKER_VERSION, Date.now());
    const raw = env.SYS_INTERVAL;
    this.sysInterval = raw === undefined || raw === "" ? 10 : Number(raw);
  }

  async report(report: StatsReport): Promise<void> {
    this.sweepOnce();
    this.stats.apply(report);
    this.lastReport = Date.now();
    await this.arm();
  }

  async overview(): Promise<Overview> {
    return this.stats.overview(Date.now());
  }

  async clients(query: ClientQuery): Promise<ClientList> {
    return this.stats.clients(query);
  }

  async client(clientId: string): Promise<ClientSummary | undefined> {
    return this.stats.client(clientId);
  }

  async events(limit?: number): Promise<EventList> {
    return this.stats.events(limit);
  }

  async metrics(): Promise<string> {
    return this.stats.metrics(Date.now());
  }

  override async alarm(): Promise<void> {
    this.alarmArmed = false;
    this.sweepOnce();
    const now = Date.now();
    if (now - this.lastTick >= TICK_MS - 500) {
      this.lastTick = now;
      this.stats.tick(now);
    }
    if (this.sysInterval > 0 && now - this.lastSys >= this.sysInterval * 1000 - 500) {
      this.lastSys = now;
      await this.publishSys(now).catch((e) => console.warn(`stats: publishing $SYS topics failed: ${String(e)}`));
    }
    // An idle broker's stats object sleeps ($SYS uptime then waits for the next report).
    if (now - this.lastReport < IDLE_AFTER_MS) await this.arm();
  }

  /**
   * After the object (re)started, possibly with the whole runtime: every client it last knew as
   * connected is asked to check that its connection survived (SessionDO.wake), so wills fire and
   * clean sessions end for connections the restart cut.
   */
  private sweepOnce(): void {
    if (this.swept) return;
    this.swept = true;
    const ids = this.stats.clients({ connected: true, limit: 1000 }).clients.map((c) => c.clientId);
    if (ids.length === 0) return;
    this.ctx.waitUntil(
      (async () => {
        for (let i = 0; i < ids.length; i += 20) {
          await Promise.allSettled(ids.slice(i, i + 20).map((id) => this.env.SESSIONS.get(this.env.SESSIONS.idFromName(id)).wake()));
        }
      })(),
    );
  }

  private async publishSys(now: number): Promise<void> {
    const messages = this.stats.sysMessages(now, this.published);
    if (messages.length === 0) return;
    const key = shardForTopic(messages[0]!.topic);
    await this.env.SHARDS.get(this.env.SHARDS.idFromName(key)).publish(key, messages);
  }

  private async arm(): Promise<void> {
    if (this.alarmArmed) return;
    this.alarmArmed = true;
    // Every 10 s (a rate point), or every SYS_INTERVAL when that is shorter.
    const every = this.sysInterval > 0 ? Math.min(TICK_MS, this.sysInterval * 1000) : TICK_MS;
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + every);
  }
}
