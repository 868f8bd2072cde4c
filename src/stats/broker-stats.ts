/**
 * The broker's global numbers, kept by one stats object from the reports of sessions and topic
 * shards (see report.ts): which clients exist and are connected, totals of messages and drops,
 * subscription and retained counts, a rate history, and the last notable events. It answers the
 * operator's API, renders Prometheus metrics and the `$SYS` topics. No I/O but its storage, so
 * unit tests run it on an in-memory KV.
 *
 * Memory holds only the totals, the rate history (180 points) and counts; clients and events
 * live in storage rows.
 */
import type { BrokerEvent, ClientList, ClientSummary, EventList, Overview } from "../admin/api-types.js";
import { METRICS } from "../admin/api-types.js";
import type { Message } from "../protocol/message.js";
import type { SyncKv } from "../storage/sync-kv.js";
import { WILDCARD_SHARD } from "../protocol/topic/shard-key.js";
import { isDropCounter, RECEIVED, SENT, type StatsReport } from "./report.js";

const CLIENT = "client:";
const SHARD = "shard:";
const EVENT = "ev:";
const TOTALS = "totals";
/** Kept events (the newest). */
export const MAX_EVENTS = 200;
/** Rate points, one per `tick` (10 s): 30 minutes. */
export const MAX_RATE_POINTS = 180;
/** A client search looks at most this many rows (the console shows the first matches). */
export const MAX_SCAN = 10_000;

interface Totals {
  counters: Record<string, number>;
  connected: number;
  sessions: number;
  eventSeq: number;
}

export class BrokerStats {
  private readonly totals: Totals;
  private readonly shards = new Map<string, { subscriptions: number; retained: number }>();
  private rates: Overview["rates"] = [];
  private lastTick: { at: number; received: number; sent: number } | undefined;
  private dirty = false;

  constructor(
    private readonly kv: SyncKv,
    readonly version: string,
    private readonly startedAt: number,
  ) {
    this.totals = kv.get<Totals>(TOTALS) ?? { counters: {}, connected: 0, sessions: 0, eventSeq: 0 };
    for (const [key, value] of kv.list<{ subscriptions: number; retained: number }>({ prefix: SHARD })) this.shards.set(key.slice(SHARD.length), value);
  }

  apply(report: StatsReport): void {
    for (const [name, n] of Object.entries(report.counters ?? {})) this.totals.counters[name] = (this.totals.counters[name] ?? 0) + n;
    if (report.client) this.applyClient(report.client);
    if (report.shard) {
      const { key, subscriptions, retained } = report.shard;
      this.shards.set(key, { subscriptions, retained });
      this.kv.put(SHARD + key, { subscriptions, retained });
    }
    for (const event of report.events ?? []) this.addEvent(event);
    this.dirty = true;
  }

  /** Written once per tick, not per report. */
  save(): void {
    if (!this.dirty) return;
    this.kv.put(TOTALS, this.totals);
    this.dirty = false;
  }

  /** Every 10 s: one point of the rate history. */
  tick(now: number): void {
    const received = this.counter(RECEIVED);
    const sent = this.counter(SENT);
    const last = this.lastTick;
    if (last && now > last.at) {
      const seconds = (now - last.at) / 1000;
      this.rates.push({ at: now, inPerSecond: (received - last.received) / seconds, outPerSecond: (sent - last.sent) / seconds });
      if (this.rates.length > MAX_RATE_POINTS) this.rates.shift();
    }
    this.lastTick = { at: now, received, sent };
    this.save();
  }

  overview(now: number): Overview {
    const dropped: Record<string, number> = {};
    for (const [name, n] of Object.entries(this.totals.counters)) if (isDropCounter(name) && n > 0) dropped[name] = n;
    return {
      version: this.version,
      now,
      uptimeSeconds: Math.floor((now - this.startedAt) / 1000),
      clients: { connected: this.totals.connected, sessions: this.totals.sessions },
      subscriptions: this.subscriptions,
      retained: this.retained,
      messages: { received: this.counter(RECEIVED), sent: this.counter(SENT), dropped },
      rates: [...this.rates],
    };
  }

  clients(query: { q?: string; connected?: boolean; limit?: number; after?: string }): ClientList {
    const limit = Math.min(Math.max(query.limit ?? 100, 1), 1000);
    const q = query.q?.toLowerCase();
    const clients: ClientSummary[] = [];
    let scanned = 0;
    const options = { prefix: CLIENT, ...(query.after !== undefined ? { startAfter: CLIENT + query.after } : {}) };
    for (const [, client] of this.kv.list<ClientSummary>(options)) {
      if (++scanned > MAX_SCAN) return { clients, next: clients[clients.length - 1]?.clientId ?? query.after ?? "" };
      if (q && !client.clientId.toLowerCase().includes(q)) continue;
      if (query.connected !== undefined && client.connected !== query.connected) continue;
      if (clients.length === limit) return { clients, next: clients[clients.length - 1]!.clientId };
      clients.push(client);
    }
    return { clients };
  }

  client(clientId: string): ClientSummary | undefined {
    return this.kv.get<ClientSummary>(CLIENT + clientId);
  }

  events(limit = 100): EventList {
    const events: BrokerEvent[] = [];
    const n = Math.min(Math.max(limit, 1), MAX_EVENTS);
    for (let seq = this.totals.eventSeq; seq > 0 && events.length < n; seq--) {
      const event = this.kv.get<BrokerEvent>(eventKey(seq));
      if (!event) break;
      events.push(event);
    }
    return { events };
  }

  /** The Prometheus text exposition format (version 0.0.4). */
  metrics(now: number): string {
    const o = this.overview(now);
    const lines = [
      gauge(METRICS.clientsConnected, "Clients connected now.", o.clients.connected),
      gauge(METRICS.sessions, "Sessions kept, connected or not.", o.clients.sessions),
      gauge(METRICS.subscriptions, "Subscriptions held by topic shards.", o.subscriptions),
      gauge(METRICS.retained, "Topics with a retained message.", o.retained),
      counter(METRICS.received, "PUBLISH packets received from clients.", o.messages.received),
      counter(METRICS.sent, "PUBLISH packets sent to clients.", o.messages.sent),
      `# HELP ${METRICS.dropped} Messages dropped or refused, by reason.\n# TYPE ${METRICS.dropped} counter`,
      ...Object.entries(o.messages.dropped).map(([reason, n]) => `${METRICS.dropped}{reason="${reason}"} ${n}`),
      gauge(METRICS.uptime, "Seconds since the stats object started.", o.uptimeSeconds),
    ];
    return `${lines.join("\n")}\n`;
  }

  /**
   * The `$SYS/broker/...` topics as mosquitto names them, retained; only those whose value
   * changed since `previous` (the values last published).
   */
  sysMessages(now: number, previous: Map<string, string>): Message[] {
    const o = this.overview(now);
    const perMinute = (minutes: number, pick: (r: Overview["rates"][number]) => number) => {
      const points = this.rates.slice(-minutes * 6);
      return points.length === 0 ? 0 : (points.reduce((sum, r) => sum + pick(r), 0) / points.length) * 60;
    };
    const values: Record<string, string | number> = {
      version: `edge-mqtt-broker ${this.version}`,
      uptime: `${o.uptimeSeconds} seconds`,
      "clients/connected": o.clients.connected,
      "clients/total": o.clients.sessions,
      "clients/disconnected": o.clients.sessions - o.clients.connected,
      "messages/received": o.messages.received,
      "messages/sent": o.messages.sent,
      "subscriptions/count": o.subscriptions,
      "retained messages/count": o.retained,
      "load/messages/received/1min": perMinute(1, (r) => r.inPerSecond).toFixed(2),
      "load/messages/received/5min": perMinute(5, (r) => r.inPerSecond).toFixed(2),
      "load/messages/received/15min": perMinute(15, (r) => r.inPerSecond).toFixed(2),
      "load/messages/sent/1min": perMinute(1, (r) => r.outPerSecond).toFixed(2),
      "load/messages/sent/5min": perMinute(5, (r) => r.outPerSecond).toFixed(2),
      "load/messages/sent/15min": perMinute(15, (r) => r.outPerSecond).toFixed(2),
    };
    const messages: Message[] = [];
    for (const [name, value] of Object.entries(values)) {
      const topic = `$SYS/broker/${name}`;
      const text = String(value);
      if (previous.get(topic) === text) continue;
      previous.set(topic, text);
      messages.push({ topic, payload: new TextEncoder().encode(text), qos: 0, retain: true, origin: "$SYS" });
    }
    return messages;
  }

  private get subscriptions(): number {
    let n = 0;
    for (const s of this.shards.values()) n += s.subscriptions;
    return n;
  }

  /** The wildcard shard mirrors the topic shards' retained messages: counted once. */
  private get retained(): number {
    let n = 0;
    for (const [key, s] of this.shards) if (key !== WILDCARD_SHARD) n += s.retained;
    return n;
  }

  private counter(name: string): number {
    return this.totals.counters[name] ?? 0;
  }

  private applyClient(client: NonNullable<StatsReport["client"]>): void {
    const key = CLIENT + client.clientId;
    const before = this.kv.get<ClientSummary>(key);
    if ("gone" in client) {
      if (!before) return;
      this.kv.delete(key);
      this.totals.sessions--;
      if (before.connected) this.totals.connected--;
      return;
    }
    this.kv.put(key, client);
    if (!before) this.totals.sessions++;
    this.totals.connected += Number(client.connected) - Number(before?.connected ?? false);
  }

  private addEvent(event: BrokerEvent): void {
    const seq = ++this.totals.eventSeq;
    this.kv.put(eventKey(seq), event);
    this.kv.delete(eventKey(seq - MAX_EVENTS));
  }
}

const eventKey = (seq: number) => EVENT + seq.toString().padStart(12, "0");

const gauge = (name: string, help: string, value: number) => `# HELP ${name} ${help}\n# TYPE ${name} gauge\n${name} ${value}`;
const counter = (name: string, help: string, value: number) => `# HELP ${name} ${help}\n# TYPE ${name} counter\n${name} ${value}`;
