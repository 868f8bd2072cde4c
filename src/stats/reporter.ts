/**
 * Collects an object's counts and events and sends them to the stats object in one call every
 * few seconds (or soon after a client connects or leaves), so the message path pays nothing per
 * message: a counter is a field increment. A failed call keeps what it carried for the next one;
 * events are capped so a flood cannot grow the batch.
 */
import type { BrokerEvent, ClientSummary } from "../admin/api-types.js";
import type { StatsReport } from "./report.js";

/** Counts are sent at most this often; a client's arrival or departure sooner. */
export const REPORT_EVERY_MS = 5000;
const CLIENT_REPORT_MS = 200;
const MAX_EVENTS = 20;

export class StatsReporter {
  private counters: Record<string, number> = {};
  private events: BrokerEvent[] = [];
  private client: StatsReport["client"];
  private shard: StatsReport["shard"];
  /** The shard totals last handed over, so unchanged ones are not sent again. */
  private shardSeen: StatsReport["shard"];
  private timer: { at: number; handle: ReturnType<typeof setTimeout> } | null = null;
  private sending = false;

  constructor(
    private readonly source: () => string,
    private readonly send: (report: StatsReport) => Promise<void>,
  ) {}

  count(counter: string, n = 1): void {
    this.counters[counter] = (this.counters[counter] ?? 0) + n;
    this.schedule(REPORT_EVERY_MS);
  }

  event(level: BrokerEvent["level"], kind: string, message: string): void {
    if (this.events.length >= MAX_EVENTS) this.events.shift();
    this.events.push({ at: Date.now(), level, source: this.source(), kind, message });
    this.schedule(REPORT_EVERY_MS);
  }

  clientNow(summary: ClientSummary | { clientId: string; gone: true }): void {
    this.client = summary;
    this.schedule(CLIENT_REPORT_MS);
  }

  shardNow(shard: NonNullable<StatsReport["shard"]>): void {
    const last = this.shardSeen;
    if (last && last.subscriptions === shard.subscriptions && last.retained === shard.retained && last.key === shard.key) return;
    this.shard = this.shardSeen = shard;
    this.schedule(REPORT_EVERY_MS);
  }

  private schedule(ms: number): void {
    const at = Date.now() + ms;
    if (this.timer && this.timer.at <= at) return;
    if (this.timer) clearTimeout(this.timer.handle);
    this.timer = { at, handle: setTimeout(() => void this.flush(), ms) };
  }

  async flush(): Promise<void> {
    this.timer = null;
    if (this.sending) return this.schedule(REPORT_EVERY_MS);
    const report: StatsReport = {};
    if (Object.keys(this.counters).length > 0) report.counters = this.counters;
    if (this.events.length > 0) report.events = this.events;
    if (this.client) report.client = this.client;
    if (this.shard) report.shard = this.shard;
    if (Object.keys(report).length === 0) return;
    this.counters = {};
    this.events = [];
    const client = this.client;
    const shard = this.shard;
    this.client = undefined;
    this.shard = undefined;
    this.sending = true;
    try {
      await this.send(report);
    } catch {
      // Kept for the next report: counts add up, the newer client state wins.
      for (const [k, v] of Object.entries(report.counters ?? {})) this.counters[k] = (this.counters[k] ?? 0) + v;
      this.events = [...(report.events ?? []), ...this.events].slice(-MAX_EVENTS);
      this.client ??= client;
      this.shard ??= shard;
      this.schedule(REPORT_EVERY_MS);
    } finally {
      this.sending = false;
    }
  }
}
