/** MQTT 5.0 §4.9 flow control and §3.1.2.11.4 / §3.2.2.3.6 Maximum Packet Size, both ways. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Broker, startBroker } from "../helpers/broker.js";
import { RawClient, connectV5, quiet, uniqueId } from "../helpers/clients.js";
import { eventually } from "../helpers/eventually.js";

let broker: Broker;
beforeAll(async () => {
  broker = await startBroker({ vars: { RECEIVE_MAXIMUM: "2", MAX_PACKET_SIZE: "2048" } });
});
afterAll(() => broker.stop());

async function rawV5(properties: Record<string, unknown> = {}, clientId = uniqueId()) {
  const raw = await RawClient.open(broker.mqttUrl, ["mqtt"], 5);
  raw.send({ cmd: "connect", protocolId: "MQTT", protocolVersion: 5, clientId, clean: true, keepalive: 30, properties } as never, 5);
  await raw.expect("connack");
  return raw;
}

describe("Receive Maximum", () => {
  it("never has more unacknowledged QoS 1 messages in flight to a client than its Receive Maximum [MQTT-3.3.4-9]", async () => {
    const topic = `flow/${uniqueId()}`;
    const raw = await rawV5({ receiveMaximum: 2 });
    raw.send({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic, qos: 1 }] } as never, 5);
    await raw.expect("suback");
    const pub = await connectV5(broker.mqttUrl);
    for (const n of [1, 2, 3, 4, 5]) await pub.client.publishAsync(topic, `m${n}`, { qos: 1 });
    const publishes = () => raw.packets.filter((p) => p.cmd === "publish");
    await eventually(() => publishes().length >= 2);
    await quiet(300); // proves no third is sent before a PUBACK
    const first = raw.packets.filter((p) => p.cmd === "publish") as { messageId: number; payload: Buffer }[];
    expect(first.map((p) => p.payload.toString())).toEqual(["m1", "m2"]);
    raw.packets.length = 0;
    raw.send({ cmd: "puback", messageId: first[0]!.messageId } as never, 5);
    await eventually(() => publishes().length >= 1);
    await quiet(300); // proves one PUBACK frees one place only
    const next = raw.packets.filter((p) => p.cmd === "publish") as { payload: Buffer }[];
    expect(next.map((p) => p.payload.toString())).toEqual(["m3"]);
    raw.close();
    await pub.client.endAsync();
  });

  it("disconnects a client that exceeds the broker's Receive Maximum with 0x93 (§4.9)", async () => {
    const raw = await rawV5();
    for (const id of [1, 2, 3]) {
      raw.send({ cmd: "publish", topic: "flow/in", payload: Buffer.from("x"), qos: 2, messageId: id, retain: false, dup: false } as never, 5);
    }
    expect(await raw.expect("disconnect")).toMatchObject({ reasonCode: 0x93 });
    // The first two PUBRECs may or may not precede it: acknowledgements are pipelined.
    await raw.closed;
  });
});

describe("Maximum Packet Size", () => {
  it("does not send a client a packet above its Maximum Packet Size: drops it for that client and counts it [MQTT-3.1.2-24] [MQTT-3.1.2-25]", async () => {
    const topic = `size/${uniqueId()}`;
    const id = uniqueId("small");
    const small = await connectV5(broker.mqttUrl, { clientId: id, properties: { maximumPacketSize: 200 } });
    await small.client.subscribeAsync(topic, { qos: 1 });
    const big = await connectV5(broker.mqttUrl);
    await big.client.subscribeAsync(topic, { qos: 1 });
    const pub = await connectV5(broker.mqttUrl);
    await pub.client.publishAsync(topic, "x".repeat(500), { qos: 1 });
    await pub.client.publishAsync(topic, "fits", { qos: 1 });
    expect((await small.inbox.next()).payload).toBe("fits");
    expect((await big.inbox.count(2)).map((m) => m.payload.length)).toEqual([500, 4]);
    // Once the PUBACK for "fits" reached the session.
    await eventually(async () => {
      const stats = (await broker.stats("sessions", id)) as { counters: Record<string, number>; queued: number };
      expect(stats.counters.dropped_too_large).toBe(1);
      expect(stats.queued).toBe(0);
    });
    await Promise.all([small.client.endAsync(), big.client.endAsync(), pub.client.endAsync()]);
  });

  it("disconnects with 0x95 a client packet above the broker's maximum (CONNACK Maximum Packet Size)", async () => {
    const raw = await rawV5();
    raw.send({ cmd: "publish", topic: "size/big", payload: Buffer.alloc(4096), qos: 0, retain: false, dup: false } as never, 5);
    expect(await raw.expect("disconnect")).toMatchObject({ reasonCode: 0x95 });
    await raw.closed;
  });
});
