/**
 * Protocol strictness, with raw bytes: a client's packets are handled in order, and client ids
 * that cannot be a session's name are refused at the edge with the right CONNACK.
 */
import mqttPacket, { type Packet } from "mqtt-packet";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Broker, startBroker } from "../helpers/broker.js";
import { RawClient, connect, connectV5, quiet, uniqueId } from "../helpers/clients.js";
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
      // No second (live) copy.
      await quiet(100);
      expect(raw.packets.filter((p) => p.cmd === "publish"), `trial ${trial}`).toEqual([]);
    }
    raw.close();
  }, 60_000);
});
