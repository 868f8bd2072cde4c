/**
 * Keepalive at the edge: the Worker pipe (stock /mqtt) and the TCP gateway answer PINGREQ and
 * enforce the keepalive themselves, so a client that only pings never reaches its session object
 * (whose `pingreq_received` counter stays absent), and a silent one is still closed on time, told
 * why in MQTT 5, with its will published.
 */
import mqttPacket, { type Packet } from "mqtt-packet";
import { afterAll, beforeAll, describe, it } from "vitest";
import { type Broker, startBroker } from "../helpers/broker.js";
import { RawClient, collect, connect, quiet, uniqueId } from "../helpers/clients.js";
import { startTestGateway, type TestGateway } from "../helpers/gateway.js";
import { RawTcpClient } from "../helpers/tcp-client.js";

let broker: Broker;
let gateway: TestGateway;
beforeAll(async () => {
  // MAX_KEEPALIVE applies to MQTT 5 clients only: it makes the broker send Server Keep Alive.
  broker = await startBroker({ vars: { MAX_KEEPALIVE: "2" } });
  gateway = await startTestGateway(broker);
});
afterAll(async () => {
  await gateway.stop();
  await broker.stop();
});

type Path = "Worker pipe" | "gateway (TCP)";
type Version = 4 | 5;

/** One raw client connection, whichever path it takes. */
interface Conn {
  packets: Packet[];
  send(packet: Packet): void;
  sendBytes(bytes: Uint8Array): void;
  expect(cmd: Packet["cmd"], timeoutMs?: number): Promise<Packet>;
  closed: Promise<unknown>;
  isOpen(): boolean;
  close(): void;
}

async function open(path: Path, version: Version): Promise<Conn> {
  if (path === "Worker pipe") {
    // Stock /mqtt, no ?clientId=: the Worker reads the CONNECT and pipes.
    const raw = await RawClient.open(broker.mqttUrl, ["mqtt"], version);
    return {
      packets: raw.packets,
      send: (p) => raw.send(p, version),
      sendBytes: (b) => raw.send(b),
      expect: (c, t) => raw.expect(c, t),
      closed: raw.closed,
      isOpen: () => raw.ws.readyState === raw.ws.OPEN,
      close: () => raw.close(),
    };
  }
  const tcp = await RawTcpClient.open(gateway.port, version);
  return {
    packets: tcp.packets,
    send: (p) => tcp.send(p),
    sendBytes: (b) => tcp.socket.write(b),
    expect: (c, t) => tcp.expect(c, t),
    closed: tcp.closed,
    isOpen: () => tcp.open,
    close: () => tcp.close(),
  };
}

const connectPacket = (version: Version, clientId: string, keepalive: number, extra: Record<string, unknown> = {}) =>
  ({ cmd: "connect", protocolId: "MQTT", protocolVersion: version, clientId, clean: true, keepalive, ...extra }) as Packet;

async function sessionStats(clientId: string) {
  return (await broker.stats("sessions", clientId)) as { connected: boolean; counters: Record<string, number> };
}

const CASES: [Path, string, Version][] = [
  ["Worker pipe", "3.1.1", 4],
  ["Worker pipe", "5.0", 5],
  ["gateway (TCP)", "3.1.1", 4],
  ["gateway (TCP)", "5.0", 5],
];

describe.concurrent("a client that only pings", () => {
  it.for(CASES)(
    "through the %s, MQTT %s: stays connected past 1.5 × keepalive with a PINGRESP for every PINGREQ, none of which reaches its session object [MQTT-3.1.2-24] [MQTT-3.1.2-22] [MQTT-3.12.4-1]",
    async ([path, , version], { expect }) => {
      const id = uniqueId("pinger");
      const conn = await open(path, version);
      conn.send(connectPacket(version, id, 2));
      await conn.expect("connack");
      const started = Date.now();
      // 4 s of pings once a second: well past the 3 s that silence would be allowed.
      for (let i = 0; i < 4; i++) {
        await quiet(1000); // paced: the time is what this tests
        conn.send({ cmd: "pingreq" });
        await conn.expect("pingresp", 2000);
      }
      expect(Date.now() - started).toBeGreaterThan(3000);
      expect(conn.isOpen()).toBe(true);
      const stats = await sessionStats(id);
      expect(stats.connected).toBe(true);
      expect(stats.counters.pingreq_received ?? 0).toBe(0);
      conn.close();
    },
  );

  it("through the gateway with an empty client id (so through the Worker pipe too), MQTT 5: the gateway answers, the pipe only relays, the session sees no PINGREQ [MQTT-3.12.4-1]", async ({
    expect,
  }) => {
    const conn = await open("gateway (TCP)", 5);
    conn.send(connectPacket(5, "", 2));
    const connack = (await conn.expect("connack")) as { properties?: { assignedClientIdentifier?: string } };
    const id = connack.properties?.assignedClientIdentifier;
    expect(id).toMatch(/^[0-9a-zA-Z]{23}$/);
    for (let i = 0; i < 4; i++) {
      await quiet(1000); // pings paced within the keepalive: the time is what this tests
      conn.send({ cmd: "pingreq" });
      await conn.expect("pingresp", 2000);
    }
    expect(conn.isOpen()).toBe(true);
    const stats = await sessionStats(id!);
    expect(stats.connected).toBe(true);
    expect(stats.counters.pingreq_received ?? 0).toBe(0);
    conn.close();
  });

  it.for(["Worker pipe", "gateway (TCP)"] as Path[])(
    "through the %s: a PINGREQ between other packets of one frame is answered by the edge, and only the others reach the session, in order [MQTT-3.12.4-1] [MQTT-4.6.0-2]",
    async (path, { expect }) => {
      const id = uniqueId("mixed");
      const topic = `edge/mixed/${id}`;
      const watcher = await connect(broker.mqttUrl);
      await watcher.subscribeAsync(topic, { qos: 1 });
      const inbox = collect(watcher);
      const conn = await open(path, 4);
      conn.send(connectPacket(4, id, 60));
      await conn.expect("connack");
      const publish = (n: number) => mqttPacket.generate({ cmd: "publish", topic, payload: Buffer.from(`m${n}`), qos: 1, messageId: n, retain: false, dup: false });
      const ping = mqttPacket.generate({ cmd: "pingreq" });
      // The publishes go up as one view into the frame, between the pings: only they may arrive.
      conn.sendBytes(Buffer.concat([ping, publish(1), publish(2), ping]));
      await conn.expect("pingresp");
      await conn.expect("pingresp");
      for (const n of [1, 2]) expect(await conn.expect("puback")).toMatchObject({ messageId: n });
      expect((await inbox.count(2)).map((m) => m.payload)).toEqual(["m1", "m2"]);
      expect((await sessionStats(id)).counters.pingreq_received ?? 0).toBe(0);
      conn.close();
      await watcher.endAsync();
    },
  );

  it("straight to the session object (?clientId=, no edge in front): the session answers and counts it, so the counter above is live", async ({ expect }) => {
    const id = uniqueId("direct");
    const raw = await RawClient.open(`${broker.mqttUrl}?clientId=${id}`);
    raw.send(connectPacket(4, id, 60));
    await raw.expect("connack");
    raw.send({ cmd: "pingreq" });
    await raw.expect("pingresp");
    expect((await sessionStats(id)).counters.pingreq_received).toBe(1);
    raw.close();
  });
});

describe.concurrent("a client that goes silent", () => {
  it.for(CASES)(
    "through the %s, MQTT %s: is closed after 1.5 × keepalive (MQTT 5: DISCONNECT 0x8D first) and its will is published [MQTT-3.1.2-24] [MQTT-3.1.2-22] [MQTT-3.1.2-8]",
    async ([path, , version], { expect }) => {
      const topic = `edge/will/${uniqueId()}`;
      const watcher = await connect(broker.mqttUrl);
      await watcher.subscribeAsync(topic, { qos: 1 });
      const inbox = collect(watcher);
      const conn = await open(path, version);
      conn.send(connectPacket(version, uniqueId("silent"), 2, { will: { topic, payload: Buffer.from(`silent ${version}`), qos: 1, retain: false } }));
      await conn.expect("connack");
      const started = Date.now();
      await conn.closed;
      const elapsed = Date.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(2800);
      expect(elapsed).toBeLessThan(5000);
      const disconnects = conn.packets.filter((p) => p.cmd === "disconnect");
      // MQTT 3.1.1 has no server DISCONNECT; MQTT 5 says why (§3.14.2.1: 0x8D Keep Alive timeout).
      expect(disconnects).toEqual(version === 5 ? [expect.objectContaining({ reasonCode: 0x8d })] : []);
      expect((await inbox.next()).payload).toBe(`silent ${version}`);
      await watcher.endAsync();
    },
  );

  it.for(["Worker pipe", "gateway (TCP)"] as Path[])(
    "through the %s, MQTT 5 with keepalive 0: the edge enforces the broker's Server Keep Alive (2 s) from CONNACK [MQTT-3.2.2-21] [MQTT-3.1.2-22]",
    async (path, { expect }) => {
      const conn = await open(path, 5);
      conn.send(connectPacket(5, uniqueId("ska"), 0));
      const connack = (await conn.expect("connack")) as { properties?: { serverKeepAlive?: number } };
      expect(connack.properties?.serverKeepAlive).toBe(2);
      const started = Date.now();
      expect(await conn.expect("disconnect", 5000)).toMatchObject({ reasonCode: 0x8d });
      await conn.closed;
      expect(Date.now() - started).toBeGreaterThanOrEqual(2800);
    },
  );
});
