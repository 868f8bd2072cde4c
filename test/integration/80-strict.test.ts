/**
 * Protocol strictness, with raw bytes: a message too large for a subscriber is dropped without
 * holding up the next ones, a client's packets are handled in order, and client ids that cannot
 * be a session's name are refused at the edge with the right CONNACK.
 */
import mqttPacket, { type Packet } from "mqtt-packet";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Broker, startBroker } from "../helpers/broker.js";
import { RawClient, connect, connectV5, quiet, uniqueId } from "../helpers/clients.js";
import { eventually } from "../helpers/eventually.js";
import { startTestGateway, type TestGateway } from "../helpers/gateway.js";
import { RawTcpClient } from "../helpers/tcp-client.js";

let broker: Broker;
let gateway: TestGateway;
beforeAll(async () => {
  broker = await startBroker();
  gateway = await startTestGateway(broker);
});
afterAll(async () => {
  await gateway.stop();
  await broker.stop();
});

type Version = 4 | 5;
const connectOf = (version: Version, clientId: string, extra: Record<string, unknown> = {}): Packet =>
  ({ cmd: "connect", protocolId: "MQTT", protocolVersion: version, clientId, clean: true, keepalive: 30, ...extra }) as Packet;
const bytesOf = (packet: Packet, version: Version) => mqttPacket.generate(packet, { protocolVersion: version });
const payloadOf = (p: Packet) => Buffer.from((p as mqttPacket.IPublishPacket).payload).toString();

async function rawConnected(version: Version, clientId = uniqueId("raw")): Promise<RawClient> {
  const raw = await RawClient.open(broker.mqttUrl, ["mqtt"], version);
  raw.send(connectOf(version, clientId), version);
  expect(await raw.expect("connack")).toMatchObject(version === 5 ? { reasonCode: 0 } : { returnCode: 0 });
  return raw;
}

/** Reads packets until `cmd`, keeping every PUBLISH seen on the way. */
async function until(raw: RawClient, cmd: Packet["cmd"]): Promise<Packet> {
  return raw.expect(cmd, 10_000);
}

/** Where a client connects: the Worker pipe (stock client), straight to its session object (`?clientId=`), or the TCP gateway. */
type Path = "pipe" | "direct" | "gateway";
const PATHS: Path[] = ["pipe", "direct", "gateway"];

describe("a message above a subscriber's Maximum Packet Size [MQTT-3.1.2-25]", () => {
  // The server discards it and behaves as if it had completed sending it [MQTT-3.1.2-25]; it
  // never sends a packet above the client's maximum [MQTT-3.1.2-24]. The next messages must come.
  for (const path of PATHS) {
    for (const qos of [0, 1, 2] as const) {
      it(`is dropped for that subscriber, and the next message reaches it (QoS ${qos}, ${path})`, async () => {
        const id = uniqueId("small");
        const topic = `too-large/${id}`;
        // Receive Maximum 1: a dropped message must not take the only place in the window either.
        const connect = connectOf(5, id, { properties: { maximumPacketSize: 1000, receiveMaximum: 1 } });
        const sub = path === "gateway" ? await RawTcpClient.open(gateway.port, 5) : await RawClient.open(path === "direct" ? `${broker.mqttUrl}?clientId=${id}` : broker.mqttUrl, ["mqtt"], 5);
        const send = (p: Packet) => (sub instanceof RawTcpClient ? sub.send(p) : sub.send(p, 5));
        send(connect);
        expect(await sub.expect("connack")).toMatchObject({ reasonCode: 0 });
        send({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic, qos }] } as Packet);
        await sub.expect("suback");
        // Reads and acknowledges what arrives, as a client does.
        const got: { payload: string; size: number }[] = [];
        const reader = setInterval(() => {
          for (let i: number; (i = sub.packets.findIndex((p) => p.cmd === "publish" || p.cmd === "pubrel")) !== -1; ) {
            const p = sub.packets.splice(i, 1)[0] as mqttPacket.IPublishPacket | mqttPacket.IPubrelPacket;
            if (p.cmd === "pubrel") send({ cmd: "pubcomp", messageId: p.messageId } as Packet);
            else {
              got.push({ payload: payloadOf(p), size: mqttPacket.generate(p, { protocolVersion: 5 }).length });
              if (p.qos > 0) send({ cmd: p.qos === 1 ? "puback" : "pubrec", messageId: p.messageId } as Packet);
            }
          }
        }, 10);
        const pub = await connectV5(broker.mqttUrl);
        for (const payload of ["first", "x".repeat(5000), "y".repeat(5000), "small"]) await pub.client.publishAsync(topic, payload, { qos });
        await eventually(() => got.length >= 2, { timeout: 15_000 });
        expect(got.map((m) => m.payload)).toEqual(["first", "small"]);
        expect(Math.max(...got.map((m) => m.size))).toBeLessThanOrEqual(1000);
        // Once the last acknowledgements (QoS 2: PUBREC, PUBREL, PUBCOMP) reached the session.
        await eventually(async () => {
          const stats = (await broker.stats("sessions", id)) as { counters: Record<string, number>; queued: number };
          expect(stats.counters.dropped_too_large).toBe(2);
          expect(stats.queued).toBe(0);
        });
        clearInterval(reader);
        await pub.client.endAsync();
        if (sub instanceof RawTcpClient) sub.socket.destroy();
        else sub.close();
      }, 30_000);
    }
  }
});

describe("a client's packets are handled in order [MQTT-4.5.0-1]", () => {
  // The broker takes ownership of a PUBLISH when it handles it; it goes to the subscriptions that
  // exist then [MQTT-4.5.0-1]. A SUBSCRIBE that follows it on the same connection (same frame or
  // the next) must not receive it as a live message: the subscription did not exist yet.
  const TRIALS = 20;
  for (const version of [4, 5] as const) {
    for (const qos of [0, 1] as const) {
      for (const split of [false, true]) {
        it(`MQTT ${version === 5 ? "5.0" : "3.1.1"}: a QoS ${qos} PUBLISH before SUBSCRIBE (${split ? "next frame" : "same frame"}) is not delivered to that subscription, ${TRIALS} trials`, async () => {
          const raw = await rawConnected(version);
          for (let trial = 0; trial < TRIALS; trial++) {
            const topic = `order/${uniqueId()}`;
            const publish = bytesOf({ cmd: "publish", topic, payload: Buffer.from("before"), qos, messageId: 1, retain: false, dup: false } as Packet, version);
            // Retain Handling 2: no retained messages either way; only a live copy could arrive.
            const subscribe = bytesOf({ cmd: "subscribe", messageId: 2, subscriptions: [{ topic, qos: 1, ...(version === 5 ? { rh: 2 } : {}) }] } as Packet, version);
            if (split) {
              raw.send(publish);
              raw.send(subscribe);
            } else raw.send(Buffer.concat([publish, subscribe]));
            await until(raw, "suback");
            if (qos === 1) await until(raw, "puback");
            // A marker after SUBACK: the first message this subscription sees must be it.
            raw.send({ cmd: "publish", topic, payload: Buffer.from("after"), qos: 1, messageId: 3, retain: false, dup: false } as Packet, version);
            const first = await until(raw, "publish");
            expect(payloadOf(first), `trial ${trial}`).toBe("after");
            raw.send({ cmd: "puback", messageId: (first as mqttPacket.IPublishPacket).messageId! } as Packet, version);
            await until(raw, "puback");
          }
          raw.close();
        }, 60_000);
      }
    }
  }

  it(`a PUBLISH before a SUBSCRIBE to a first-level wildcard (served by the wildcard shard, forwarded) is not delivered to it, ${TRIALS} trials`, async () => {
    // Another first-level wildcard subscriber keeps the topic shards forwarding to the wildcard shard.
    const watcher = await connect(broker.mqttUrl);
    const root = uniqueId("w");
    await watcher.subscribeAsync(`+/${root}/#`, { qos: 1 });
    const raw = await rawConnected(5);
    for (let trial = 0; trial < TRIALS; trial++) {
      const level = uniqueId("l");
      const topic = `${level}/${root}/x`;
      const publish = bytesOf({ cmd: "publish", topic, payload: Buffer.from("before"), qos: 1, messageId: 1, retain: false, dup: false } as Packet, 5);
      const subscribe = bytesOf({ cmd: "subscribe", messageId: 2, subscriptions: [{ topic: `+/${root}/x`, qos: 1, rh: 2 }] } as Packet, 5);
      raw.send(Buffer.concat([publish, subscribe]));
      await until(raw, "suback");
      await until(raw, "puback");
      raw.send({ cmd: "publish", topic, payload: Buffer.from("after"), qos: 1, messageId: 3, retain: false, dup: false } as Packet, 5);
      const first = await until(raw, "publish");
      expect(payloadOf(first), `trial ${trial}`).toBe("after");
      raw.send({ cmd: "puback", messageId: (first as mqttPacket.IPublishPacket).messageId! } as Packet, 5);
      await until(raw, "puback");
      raw.send({ cmd: "unsubscribe", messageId: 4, unsubscriptions: [`+/${root}/x`] } as Packet, 5);
      await until(raw, "unsuback");
    }
    raw.close();
    await watcher.endAsync();
  }, 60_000);

  it(`a retained PUBLISH before SUBSCRIBE (Retain Handling 0) arrives once, as the retained message [MQTT-3.3.1-9] [MQTT-3.3.1-6], ${TRIALS} trials`, async () => {
    const raw = await rawConnected(5);
    for (let trial = 0; trial < TRIALS; trial++) {
      const topic = `order-retained/${uniqueId()}`;
      const publish = bytesOf({ cmd: "publish", topic, payload: Buffer.from("kept"), qos: 1, messageId: 1, retain: true, dup: false } as Packet, 5);
      const subscribe = bytesOf({ cmd: "subscribe", messageId: 2, subscriptions: [{ topic, qos: 1, rh: 0 }] } as Packet, 5);
      raw.send(Buffer.concat([publish, subscribe]));
      await until(raw, "suback");
      await until(raw, "puback");
      const first = (await until(raw, "publish")) as mqttPacket.IPublishPacket;
      expect([payloadOf(first), first.retain], `trial ${trial}`).toEqual(["kept", true]);
      raw.send({ cmd: "puback", messageId: first.messageId! } as Packet, 5);
      // No second (live) copy: a window that proves it.
      await quiet(100);
      expect(
        raw.packets.filter((p) => p.cmd === "publish"),
        `trial ${trial}`,
      ).toEqual([]);
    }
    raw.close();
  }, 60_000);
});

/** A raw connection on `path` that sends `connect` (bytes) at once; resolves with what came back and how it ended. */
async function tryConnect(path: Path, version: Version, connect: Uint8Array, hint?: string): Promise<{ packets: Packet[]; closed: boolean }> {
  if (path === "gateway") {
    const tcp = await RawTcpClient.open(gateway.port, version);
    tcp.socket.write(connect);
    await Promise.race([
      tcp.closed,
      tcp
        .expect("connack", 10_000)
        .then((p) => tcp.packets.unshift(p))
        .catch(() => undefined),
    ]);
    const closed = await Promise.race([tcp.closed.then(() => true), quiet(3000).then(() => false)]);
    tcp.socket.destroy();
    return { packets: tcp.packets, closed };
  }
  const url = path === "direct" ? `${broker.mqttUrl}?clientId=${hint}` : broker.mqttUrl;
  const raw = await RawClient.open(url, ["mqtt"], version);
  raw.send(connect);
  const closed = await Promise.race([raw.closed.then(() => true), quiet(15_000).then(() => false)]);
  raw.close();
  return { packets: raw.packets, closed };
}

const refusedId = (version: Version) => (version === 5 ? { cmd: "connack", reasonCode: 0x85 } : { cmd: "connack", returnCode: 0x02 });

describe("client ids that cannot name a session are refused before they reach one", () => {
  for (const path of PATHS) {
    for (const version of [4, 5] as const) {
      it(`[MQTT-3.1.3-8] a 65,000-byte client id gets CONNACK ${version === 5 ? "0x85" : "0x02"} and the connection closes (${path}, MQTT ${version === 5 ? "5.0" : "3.1.1"})`, async () => {
        // The server may refuse a client id (MQTT 5 §3.1.3.1: CONNACK 0x85 Client Identifier not
        // valid; 3.1.1 [MQTT-3.1.3-8]: 0x02 Identifier rejected), then closes [MQTT-3.2.2-5].
        const id = "x".repeat(65_000);
        const { packets, closed } = await tryConnect(path, version, bytesOf(connectOf(version, id), version), id);
        expect(packets).toEqual([expect.objectContaining(refusedId(version))]);
        expect(closed).toBe(true);
        expect((await broker.stats("sessions", id.slice(0, 1000))).clientId).toBeUndefined();
      }, 30_000);
    }
  }

  it("[MQTT-3.1.3-8] an id just above MAX_CLIENT_ID_LENGTH (256 bytes) is refused on every path; one at it is accepted", async () => {
    for (const path of PATHS) {
      const long = uniqueId("l").padEnd(257, "y");
      expect((await tryConnect(path, 5, bytesOf(connectOf(5, long), 5), long)).packets, path).toEqual([expect.objectContaining(refusedId(5))]);
      const fits = uniqueId("f").padEnd(256, "y");
      const ok = await RawClient.open(path === "direct" ? `${broker.mqttUrl}?clientId=${fits}` : broker.mqttUrl, ["mqtt"], 5);
      ok.send(connectOf(5, fits), 5);
      expect(await ok.expect("connack"), path).toMatchObject({ reasonCode: 0 });
      ok.close();
    }
  }, 60_000);

  for (const path of PATHS) {
    for (const version of [4, 5] as const) {
      it(`[MQTT-1.5.${version === 5 ? "4" : "3"}-1] a client id of ill-formed UTF-8 closes the connection as a Malformed Packet, never renamed to U+FFFD (${path}, MQTT ${version === 5 ? "5.0" : "3.1.1"})`, async () => {
        // 3.1.1 [MQTT-1.5.3-1]: ill-formed UTF-8 → close. 5.0 [MQTT-1.5.4-1]: a Malformed Packet;
        // before CONNACK the server MAY send CONNACK 0x81 and closes (§4.13.1). Here: closed.
        const marker = uniqueId("u");
        const good = Buffer.from(bytesOf(connectOf(version, `${marker}-ZZ`), version));
        const at = good.indexOf(Buffer.from("-ZZ"));
        for (const [i, bad] of [
          [0xff, 0xfe],
          [0xed, 0xa0],
          [0xc0, 0xaf],
        ].entries()) {
          // 0xFF, an encoded surrogate (ED A0 80), an overlong "/" (C0 AF): each ill-formed.
          const bytes = Buffer.from(good);
          bytes[at + 1] = bad[0]!;
          bytes[at + 2] = bad[1]!;
          if (bad[0] === 0xed) {
            bytes[at] = 0xed;
            bytes[at + 1] = 0xa0;
            bytes[at + 2] = 0x80;
          }
          const { packets, closed } = await tryConnect(path, version, bytes, `${marker}-%${bad[0]!.toString(16)}%${bad[1]!.toString(16)}`);
          const allowed = version === 5 ? [{ cmd: "connack", reasonCode: 0x81 }] : [];
          expect(
            packets.every((p) => allowed.some((a) => p.cmd === a.cmd && (p as { reasonCode?: number }).reasonCode === a.reasonCode)),
            `case ${i}: ${JSON.stringify(packets)}`,
          ).toBe(true);
          expect(closed, `case ${i}`).toBe(true);
        }
        for (const renamed of [`${marker}\uFFFD\uFFFD`, `${marker}\uFFFD`, `${marker}-\uFFFD\uFFFD`, `${marker}\uFFFDZ`]) {
          expect((await broker.stats("sessions", renamed)).clientId).toBeUndefined();
        }
      }, 60_000);
    }
  }

  it("a client id of well-formed non-ASCII UTF-8 reaches its session exactly as sent, on every path", async () => {
    for (const path of PATHS) {
      const id = `${uniqueId("ü")}-ünïcødé-€-😀-${path}`;
      if (path === "gateway") {
        const tcp = await RawTcpClient.open(gateway.port, 5);
        tcp.send(connectOf(5, id));
        expect(await tcp.expect("connack"), path).toMatchObject({ reasonCode: 0 });
        expect((await broker.stats("sessions", id)).connected, path).toBe(true);
        tcp.socket.destroy();
        continue;
      }
      const raw = await RawClient.open(path === "direct" ? `${broker.mqttUrl}?clientId=${encodeURIComponent(id)}` : broker.mqttUrl, ["mqtt"], 5);
      raw.send(connectOf(5, id), 5);
      expect(await raw.expect("connack"), path).toMatchObject({ reasonCode: 0 });
      expect((await broker.stats("sessions", id)).connected, path).toBe(true);
      raw.close();
    }
  }, 30_000);
});
