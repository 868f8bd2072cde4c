/**
 * The operator's API (/api/*), /metrics and $SYS topics end to end: sessions and shards report
 * to the stats object in batches; the API lists clients, disconnects one, browses and deletes
 * retained messages, and shows refusals; /metrics and $SYS carry the counts.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ClientDetail, ClientList, EventList, Overview, RetainedList } from "../../src/admin/api-types.js";
import { ADMIN_TOKEN, type Broker, startBroker } from "../helpers/broker.js";
import { collect, connect, connectV5, RawClient, uniqueId } from "../helpers/clients.js";
import { eventually } from "../helpers/eventually.js";

let broker: Broker;
beforeAll(async () => {
  broker = await startBroker({ vars: { SYS_INTERVAL: "1", ACL_FILE: "topic readwrite #\ntopic read $SYS/#\ntopic deny forbidden/#\npattern readwrite #" } });
});
afterAll(() => broker.stop());

const api = (path: string, init: RequestInit = {}, token = ADMIN_TOKEN) => fetch(broker.url + path, { ...init, headers: { Authorization: `Bearer ${token}`, ...(init.headers ?? {}) } });
const json = async <T>(path: string): Promise<T> => (await api(path)).json() as Promise<T>;

/** Stats arrive in batches, within a few seconds. */
const STATS_WAIT = { timeout: 10_000, interval: 200 };

describe("the operator API", () => {
  it("needs the token: 401 without or with a wrong one", async () => {
    expect((await fetch(`${broker.url}/api/overview`)).status).toBe(401);
    expect((await api("/api/overview", {}, "wrong")).status).toBe(401);
    expect((await api("/metrics", {}, "wrong")).status).toBe(401);
    expect((await api("/api/overview")).status).toBe(200);
  });

  it("lists a connected client with its address, version and subscriptions, and searches", async () => {
    const id = uniqueId("console");
    const { client } = await connectV5(broker.mqttUrl, { clientId: id });
    await client.subscribeAsync(["a/+", "b/#"]);
    const list = await eventually(async () => {
      const l = await json<ClientList>(`/api/clients?q=${id}`);
      expect(l.clients[0]?.subscriptions).toBe(2);
      return l;
    }, STATS_WAIT);
    expect(list.clients).toEqual([expect.objectContaining({ clientId: id, connected: true, protocolVersion: 5, subscriptions: 2, queued: 0 })]);
    const detail = await json<ClientDetail>(`/api/clients/${id}`);
    expect(detail.filters).toEqual({ "a/+": 0, "b/#": 0 });
    expect((await api("/api/clients/nobody-at-all")).status).toBe(404);
    await client.endAsync();
    await eventually(async () => expect((await json<ClientList>(`/api/clients?q=${id}`)).clients).toEqual([]), STATS_WAIT);
  });

  it("disconnects a client: MQTT 5 gets DISCONNECT 0x98 Administrative action", async () => {
    const id = uniqueId("kick");
    const raw = await RawClient.open(broker.mqttUrl, ["mqtt"], 5);
    raw.send({ cmd: "connect", protocolId: "MQTT", protocolVersion: 5, clientId: id, clean: true, keepalive: 60 } as never, 5);
    await raw.expect("connack");
    const res = await api(`/api/clients/${id}/disconnect`, { method: "POST" });
    expect(res.status).toBe(204);
    expect(await raw.expect("disconnect")).toMatchObject({ reasonCode: 0x98 });
    expect((await api(`/api/clients/${id}/disconnect`, { method: "POST" })).status).toBe(404);
  });

  it("browses retained messages by filter and deletes one", async () => {
    const root = uniqueId("ret");
    const pub = await connect(broker.mqttUrl);
    await pub.publishAsync(`${root}/a`, "one", { qos: 1, retain: true });
    await pub.publishAsync(`${root}/b`, "two", { qos: 1, retain: true });
    const list = await json<RetainedList>(`/api/retained?filter=${encodeURIComponent(`${root}/#`)}`);
    expect(list.messages.map((m) => [m.topic, atob(m.payloadBase64), m.bytes])).toEqual([
      [`${root}/a`, "one", 3],
      [`${root}/b`, "two", 3],
    ]);
    // The wildcard shard mirrors them for `#`.
    const all = await json<RetainedList>(`/api/retained?filter=%23`);
    expect(all.messages.map((m) => m.topic)).toContain(`${root}/a`);
    expect((await api(`/api/retained?topic=${encodeURIComponent(`${root}/a`)}`, { method: "DELETE" })).status).toBe(204);
    const after = await json<RetainedList>(`/api/retained?filter=${encodeURIComponent(`${root}/#`)}`);
    expect(after.messages.map((m) => m.topic)).toEqual([`${root}/b`]);
    await pub.endAsync();
  });

  it("shows refusals and drops as events, with their reasons", async () => {
    const pub = await connectV5(broker.mqttUrl, { clientId: uniqueId("denied") });
    await pub.client.publishAsync("forbidden/x", "no", { qos: 1 }).catch(() => undefined);
    const events = await eventually(async () => {
      const e = await json<EventList>("/api/events");
      expect(e.events.map((ev) => ev.kind)).toContain("publish_denied");
      return e;
    }, STATS_WAIT);
    expect(events.events.find((ev) => ev.kind === "publish_denied")).toMatchObject({ level: "warn", source: expect.stringContaining("session") });
    const overview = await json<Overview>("/api/overview");
    expect(overview.messages.dropped.publish_denied).toBeGreaterThanOrEqual(1);
    await pub.client.endAsync();
  });
});

describe("/metrics and $SYS", () => {
  it("count clients and messages", async () => {
    const sub = await connect(broker.mqttUrl, { clientId: uniqueId("sys") });
    const inbox = collect(sub);
    await sub.subscribeAsync("$SYS/broker/#");
    const topic = uniqueId("m");
    for (let i = 0; i < 5; i++) await sub.publishAsync(topic, String(i), { qos: 1 });
    const metrics = await eventually(async () => {
      const t = await (await api("/metrics")).text();
      expect(Number(/mqtt_messages_received_total (\d+)/.exec(t)?.[1] ?? 0)).toBeGreaterThanOrEqual(5);
      return t;
    }, STATS_WAIT);
    expect(metrics).toMatch(/# TYPE mqtt_clients_connected gauge\nmqtt_clients_connected [1-9]\d*\n/);
    expect(metrics).toMatch(/mqtt_sessions \d+/);
    // $SYS topics arrive retained and then every SYS_INTERVAL (1 s here) as they change.
    const received = await eventually(() => inbox.messages.some((x) => x.topic === "$SYS/broker/messages/received" && Number(x.payload) >= 5) && inbox.messages, STATS_WAIT);
    const names = new Set(received.map((m) => m.topic));
    for (const name of ["version", "uptime", "clients/connected", "clients/total", "messages/sent", "subscriptions/count", "retained messages/count", "load/messages/received/1min"]) {
      expect(names).toContain(`$SYS/broker/${name}`);
    }
    await sub.endAsync();
  }, 30_000);
});
