import { describe, expect, it } from "vitest";
import type { ClientSummary } from "../admin/api-types.js";
import { MemoryKv } from "../storage/memory-kv.js";
import { BrokerStats, MAX_EVENTS } from "./broker-stats.js";

const client = (clientId: string, connected = true, extra: Partial<ClientSummary> = {}): ClientSummary => ({ clientId, connected, since: 0, subscriptions: 1, queued: 0, ...extra });
const text = (b: Uint8Array) => new TextDecoder().decode(b);

describe("BrokerStats", () => {
  it("adds up reports: clients connected and kept, counters, shard totals (the wildcard shard's retained mirror counted once)", () => {
    const stats = new BrokerStats(new MemoryKv(), "1.0", 0);
    stats.apply({ client: client("a"), counters: { messages_received: 3, dropped_queue_full: 1 } });
    stats.apply({ client: client("b"), counters: { messages_sent: 5, pingreq_received: 2 } });
    stats.apply({ client: client("b", false) });
    stats.apply({ shard: { key: "t/x", subscriptions: 2, retained: 4 } });
    stats.apply({ shard: { key: "#", subscriptions: 1, retained: 4 } });
    const o = stats.overview(5000);
    expect(o).toMatchObject({ version: "1.0", uptimeSeconds: 5, clients: { connected: 1, sessions: 2 }, subscriptions: 3, retained: 4 });
    expect(o.messages).toEqual({ received: 3, sent: 5, dropped: { dropped_queue_full: 1 } });
    stats.apply({ client: { clientId: "a", gone: true } });
    expect(stats.overview(5000).clients).toEqual({ connected: 0, sessions: 1 });
  });

  it("lists clients by id, filtered and in pages", () => {
    const stats = new BrokerStats(new MemoryKv(), "1.0", 0);
    for (const id of ["dev-1", "dev-2", "dev-3", "web-1"]) stats.apply({ client: client(id, id !== "dev-2") });
    expect(stats.clients({ q: "DEV" }).clients.map((c) => c.clientId)).toEqual(["dev-1", "dev-2", "dev-3"]);
    expect(stats.clients({ connected: false }).clients.map((c) => c.clientId)).toEqual(["dev-2"]);
    const first = stats.clients({ limit: 2 });
    expect(first).toMatchObject({ clients: [{ clientId: "dev-1" }, { clientId: "dev-2" }], next: "dev-2" });
    expect(stats.clients({ limit: 2, after: first.next! }).clients.map((c) => c.clientId)).toEqual(["dev-3", "web-1"]);
  });

  it("keeps the last MAX_EVENTS events, newest first", () => {
    const kv = new MemoryKv();
    const stats = new BrokerStats(kv, "1.0", 0);
    for (let i = 0; i < MAX_EVENTS + 10; i++) stats.apply({ events: [{ at: i, level: "warn", source: "s", kind: "k", message: `e${i}` }] });
    const { events } = stats.events(MAX_EVENTS + 50);
    expect(events).toHaveLength(MAX_EVENTS);
    expect(events[0]!.message).toBe(`e${MAX_EVENTS + 9}`);
    expect([...kv.list({ prefix: "ev:" })]).toHaveLength(MAX_EVENTS);
  });

  it("renders Prometheus metrics", () => {
    const stats = new BrokerStats(new MemoryKv(), "1.0", 0);
    stats.apply({ client: client("a"), counters: { messages_received: 7, qos0_dropped_client_rate: 2 } });
    const text = stats.metrics(1000);
    expect(text).toContain("# TYPE mqtt_clients_connected gauge\nmqtt_clients_connected 1\n");
    expect(text).toContain("mqtt_messages_received_total 7\n");
    expect(text).toContain('mqtt_messages_dropped_total{reason="qos0_dropped_client_rate"} 2\n');
  });

  it("rates come from counter deltas between ticks; $SYS topics are published when they change", () => {
    const stats = new BrokerStats(new MemoryKv(), "1.0", 0);
    stats.tick(0);
    stats.apply({ counters: { messages_received: 100, messages_sent: 200 } });
    stats.tick(10_000);
    expect(stats.overview(10_000).rates).toEqual([{ at: 10_000, inPerSecond: 10, outPerSecond: 20 }]);
    const published = new Map<string, string>();
    const first = stats.sysMessages(10_000, published);
    const byTopic = Object.fromEntries(first.map((m) => [m.topic, text(m.payload)]));
    expect(byTopic).toMatchObject({ "$SYS/broker/messages/received": "100", "$SYS/broker/messages/sent": "200", "$SYS/broker/uptime": "10 seconds", "$SYS/broker/clients/connected": "0" });
    expect(first.every((m) => m.retain && m.qos === 0)).toBe(true);
    expect(stats.sysMessages(10_000, published)).toEqual([]);
    expect(stats.sysMessages(11_000, published).map((m) => m.topic)).toEqual(["$SYS/broker/uptime"]);
  });
});
