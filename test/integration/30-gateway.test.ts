/** The TCP/TLS gateway: real TCP clients (mqtt.js, raw sockets) and WebSocket clients share one broker. */
import { connect as tcpConnect, type Socket } from "node:net";
import mqttPacket from "mqtt-packet";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Broker, startBroker } from "../helpers/broker.js";
import { collect, connect, connectPacket, connectWithInbox, quiet, uniqueId } from "../helpers/clients.js";
import { eventually } from "../helpers/eventually.js";
import { startTestGateway, type TestGateway } from "../helpers/gateway.js";

let broker: Broker;
let gateway: TestGateway;
beforeAll(async () => {
  broker = await startBroker();
  gateway = await startTestGateway(broker, { stallTimeoutMs: 1000, connectTimeoutMs: 1000 });
});
afterAll(async () => {
  await gateway.stop();
  await broker.stop();
});

/** A raw TCP client; `closed` resolves when the gateway closes it. */
function rawTcp(port = gateway.port): Promise<{ socket: Socket; packets: mqttPacket.Packet[]; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect(port, "127.0.0.1");
    const packets: mqttPacket.Packet[] = [];
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    parser.on("packet", (p: mqttPacket.Packet) => packets.push(p));
    socket.on("data", (d) => parser.parse(d));
    const closed = new Promise<void>((r) => socket.on("close", () => r()));
    socket.once("connect", () => resolve({ socket, packets, closed }));
    socket.once("error", reject);
  });
}

describe("TCP ↔ WebSocket", () => {
  it.each([0, 1, 2] as const)("carries QoS %i from a TCP publisher to a WebSocket subscriber and back", async (qos) => {
    const topic = `gw/q${qos}/${uniqueId()}`;
    const wsClient = await connect(broker.mqttUrl);
    await wsClient.subscribeAsync(`${topic}/up`, { qos });
    const wsInbox = collect(wsClient);
    const tcpClient = await connect(gateway.url);
    await tcpClient.subscribeAsync(`${topic}/down`, { qos });
    const tcpInbox = collect(tcpClient);
    await tcpClient.publishAsync(`${topic}/up`, "from tcp", { qos });
    expect(await wsInbox.next()).toMatchObject({ payload: "from tcp", qos });
    await wsClient.publishAsync(`${topic}/down`, "from ws", { qos });
    expect(await tcpInbox.next()).toMatchObject({ payload: "from ws", qos });
    await Promise.all([wsClient.endAsync(), tcpClient.endAsync()]);
  });

  it("serves retained messages and MQTT 5 to TCP clients", async () => {
    const topic = `gw/retained/${uniqueId()}`;
    const pub = await connect(gateway.url, { protocolVersion: 5 });
    await pub.publishAsync(topic, "kept", { qos: 1, retain: true, properties: { contentType: "text/plain" } });
    const { client, inbox } = await connectWithInbox(gateway.url, { protocolVersion: 5 });
    await client.subscribeAsync(topic, { qos: 1 });
    expect(await inbox.next()).toMatchObject({ payload: "kept", retain: true, properties: { contentType: "text/plain" } });
    await Promise.all([pub.endAsync(), client.endAsync()]);
  });

  it("publishes the will when a TCP client is killed", async () => {
    const topic = `gw/will/${uniqueId()}`;
    const watcher = await connect(broker.mqttUrl);
    await watcher.subscribeAsync(topic, { qos: 1 });
    const inbox = collect(watcher);
    const raw = await rawTcp();
    raw.socket.write(mqttPacket.generate(connectPacket(uniqueId(), { will: { topic, payload: Buffer.from("device lost"), qos: 1, retain: false } })));
    await eventually(() => raw.packets.some((p) => p.cmd === "connack"));
    raw.socket.destroy();
    expect((await inbox.next()).payload).toBe("device lost");
    await watcher.endAsync();
  });

  it("closes the TCP connection at once when the broker closes the session (takeover)", async () => {
    const id = uniqueId("gw-takeover");
    const raw = await rawTcp();
    raw.socket.write(mqttPacket.generate(connectPacket(id)));
    await eventually(() => raw.packets.some((p) => p.cmd === "connack"));
    const newer = await connect(broker.mqttUrl, { clientId: id });
    await raw.closed;
    await newer.endAsync();
  });

  it("reports the TCP client's address to the broker, which believes it with the shared secret", async () => {
    const id = uniqueId("gw-addr");
    const client = await connect(gateway.url, { clientId: id });
    const stats = (await broker.stats("sessions", id)) as { address?: string };
    expect(stats.address).toMatch(/^127\.0\.0\.1:\d+$/);
    await client.endAsync();
    // A gateway with a wrong secret is refused outright: see 50-edges.test.ts.
  });
});

describe("bad input closes that client only", () => {
  it("garbage bytes", async () => {
    const raw = await rawTcp();
    raw.socket.write(Buffer.from([0x10, 0xff, 0xff, 0xff, 0xff, 0x7f]));
    await raw.closed;
  });

  it("a packet with a huge declared length, before its bytes arrive", async () => {
    const raw = await rawTcp();
    raw.socket.write(mqttPacket.generate(connectPacket(uniqueId())));
    await eventually(() => raw.packets.some((p) => p.cmd === "connack"));
    raw.socket.write(Buffer.from([0x30, 0xff, 0xff, 0xff, 0x7f])); // declares ~256 MiB
    await raw.closed;
    expect(gateway.logs.some((l) => /bad input: a packet of \d+ bytes/.test(l))).toBe(true);
  });

  it("half a packet, then silence (stall timeout)", async () => {
    const raw = await rawTcp();
    raw.socket.write(mqttPacket.generate(connectPacket(uniqueId())));
    await eventually(() => raw.packets.some((p) => p.cmd === "connack"));
    const started = Date.now();
    raw.socket.write(Buffer.from([0x30, 0x20, 0x00, 0x03, 0x61])); // 34-byte PUBLISH, 5 bytes sent
    await raw.closed;
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  it("a packet dripped slower in all than the stall timeout, but never pausing that long, is not cut off: the stall timer resets on progress", async () => {
    const raw = await rawTcp();
    raw.socket.write(mqttPacket.generate(connectPacket(uniqueId())));
    await eventually(() => raw.packets.some((p) => p.cmd === "connack"));
    const publish = mqttPacket.generate({ cmd: "publish", topic: "gw/drip", payload: Buffer.from("slow"), qos: 1, messageId: 7, retain: false, dup: false });
    // One byte every 200 ms: over 3 s for the packet, against a 1 s stall timeout.
    for (const byte of publish) {
      raw.socket.write(Uint8Array.of(byte));
      await quiet(200); // one byte every 200 ms: the slowness is what this tests
    }
    await eventually(() => raw.packets.some((p) => p.cmd === "puback"));
    raw.socket.destroy();
  });

  it("no CONNECT within the connect timeout", async () => {
    const raw = await rawTcp();
    await raw.closed;
  });

  it("a first packet that is not CONNECT", async () => {
    const raw = await rawTcp();
    raw.socket.write(mqttPacket.generate({ cmd: "pingreq" }));
    await raw.closed;
  });

  it("leaves other clients working", async () => {
    const topic = `gw/alive/${uniqueId()}`;
    const c = await connect(gateway.url);
    await c.subscribeAsync(topic, { qos: 1 });
    const inbox = collect(c);
    await c.publishAsync(topic, "still fine", { qos: 1 });
    expect((await inbox.next()).payload).toBe("still fine");
    await c.endAsync();
  });
});

describe("frame sizes", () => {
  it("passes the broker's packets to a TCP client even when larger than the gateway's --max-packet-size (which limits what clients send)", async () => {
    const small = await startTestGateway(broker, { maxPacketSize: 1024 });
    try {
      const topic = `gw/large-down/${uniqueId()}`;
      const tcp = await connect(small.url);
      await tcp.subscribeAsync(topic, { qos: 1 });
      const inbox = collect(tcp);
      const ws = await connect(broker.mqttUrl);
      await ws.publishAsync(topic, Buffer.alloc(4000, 65), { qos: 1 });
      expect((await inbox.next()).payload.length).toBe(4000);
      expect(tcp.connected).toBe(true);
      await Promise.all([tcp.endAsync(), ws.endAsync()]);
    } finally {
      await small.stop();
    }
  });
});

describe("backpressure", () => {
  it("pauses the WebSocket for a TCP client that does not read, holds a bounded buffer, then delivers everything", async () => {
    const slowGateway = await startTestGateway(broker, { maxBuffer: 64 * 1024 });
    try {
      const topic = `gw/slow/${uniqueId()}`;
      const raw = await rawTcp(slowGateway.port);
      raw.socket.write(mqttPacket.generate(connectPacket(uniqueId(), { keepalive: 0 })));
      raw.socket.write(mqttPacket.generate({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic, qos: 0 }] }));
      await eventually(() => raw.packets.some((p) => p.cmd === "suback"));
      raw.socket.pause(); // stop reading: the kernel buffers fill, then the gateway's

      const pub = await connect(broker.mqttUrl);
      const payload = Buffer.alloc(16 * 1024, 120);
      const count = 300; // 4.8 MB, far more than socket buffers and the 64 KiB cap
      for (let i = 0; i < count; i++) pub.publish(topic, payload, { qos: 0 });
      await quiet(1500); // a window for the flood to arrive: proves the buffer stays bounded meanwhile
      const held = slowGateway.stats().maxBuffered;
      // Bounded: the pause threshold plus what was already in flight, far below what was sent.
      expect(held).toBeLessThanOrEqual(2 * 64 * 1024);

      raw.socket.resume();
      await eventually(() => raw.packets.filter((p) => p.cmd === "publish").length === count, { timeout: 20_000 });
      await pub.endAsync();
      raw.socket.destroy();
    } finally {
      await slowGateway.stop();
    }
  });
});

describe("connection cap", () => {
  it("refuses clients beyond --max-connections with a log line and a counter, and accepts again once one left", async () => {
    const capped = await startTestGateway(broker, { maxConnections: 2 });
    try {
      const a = await rawTcp(capped.port);
      const b = await rawTcp(capped.port);
      await eventually(() => capped.stats().open === 2);
      const c = await rawTcp(capped.port);
      await c.closed;
      expect(capped.stats()).toMatchObject({ open: 2, refused: 1 });
      expect(capped.logs.some((l) => /refused 1 connection\(s\): 2 open, the limit is --max-connections 2/.test(l))).toBe(true);
      a.socket.destroy();
      await eventually(() => capped.stats().open === 1);
      const d = await rawTcp(capped.port);
      d.socket.write(mqttPacket.generate(connectPacket(uniqueId())));
      await eventually(() => d.packets.some((p) => p.cmd === "connack"));
      b.socket.destroy();
      d.socket.destroy();
    } finally {
      await capped.stop();
    }
  });
});

describe("graceful shutdown", () => {
  it("stops accepting and closes every client so their wills fire", async () => {
    const own = await startTestGateway(broker);
    const topic = `gw/shutdown/${uniqueId()}`;
    const watcher = await connect(broker.mqttUrl);
    await watcher.subscribeAsync(topic, { qos: 1 });
    const inbox = collect(watcher);
    const device = await connect(own.url, { will: { topic, payload: Buffer.from("gateway stopped"), qos: 1, retain: false } });
    await own.stop();
    expect((await inbox.next()).payload).toBe("gateway stopped");
    await expect(rawTcp(own.port)).rejects.toThrow();
    device.end(true);
    await watcher.endAsync();
  });
});
