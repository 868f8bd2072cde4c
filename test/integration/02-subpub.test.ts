/** MQTT 3.1.1 §3.3–§3.11, §4.3, §4.7: publish/subscribe at every QoS, wildcards, acknowledgements. */
import type { MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Broker, startBroker } from "../helpers/broker.js";
import { RawClient, collect, connect, connectPacket, quiet, uniqueId } from "../helpers/clients.js";

let broker: Broker;
const clients: MqttClient[] = [];
beforeAll(async () => {
  broker = await startBroker();
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true)));
  await broker.stop();
});

async function client(options = {}) {
  const c = await connect(broker.mqttUrl, options);
  clients.push(c);
  return c;
}

describe.each([0, 1, 2] as const)("QoS %i", (qos) => {
  it(`delivers a QoS ${qos} message from one client to a subscriber [MQTT-4.5.0-1]`, async () => {
    const topic = `subpub/q${qos}/${uniqueId()}`;
    const sub = await client();
    const granted = await sub.subscribeAsync(topic, { qos });
    expect(granted[0]?.qos).toBe(qos);
    const inbox = collect(sub);
    const pub = await client();
    await pub.publishAsync(topic, `hello ${qos}`, { qos });
    const m = await inbox.next();
    expect(m).toMatchObject({ topic, payload: `hello ${qos}`, qos, retain: false });
  });
});

describe("delivery QoS", () => {
  it("delivers at min(subscription QoS, publish QoS) [MQTT-3.8.4-6]", async () => {
    const topic = `subpub/min/${uniqueId()}`;
    const sub = await client();
    await sub.subscribeAsync(topic, { qos: 1 });
    const inbox = collect(sub);
    const pub = await client();
    await pub.publishAsync(topic, "two", { qos: 2 });
    await pub.publishAsync(topic, "zero", { qos: 0 });
    const [a, b] = await inbox.count(2);
    expect([a?.qos, b?.qos]).toEqual([1, 0]);
  });

  it("delivers one copy at the highest QoS of overlapping subscriptions, also across shards [MQTT-3.3.5-1]", async () => {
    const first = `ov${uniqueId()}`;
    const sub = await client();
    // One filter in the topic's shard, two in the wildcard shard.
    await sub.subscribeAsync({ [`${first}/+`]: { qos: 0 }, "#": { qos: 1 }, "+/x": { qos: 2 } });
    const inbox = collect(sub);
    const pub = await client();
    await pub.publishAsync(`${first}/x`, "once", { qos: 2 });
    const m = await inbox.next();
    expect(m.qos).toBe(2);
    await quiet(300); // proves no second copy arrives
    expect(inbox.messages.filter((x) => x.topic === `${first}/x`)).toHaveLength(1);
  });

  it("keeps the order of messages of one publisher, topic and QoS [MQTT-4.6.0-6]", async () => {
    const topic = `subpub/order/${uniqueId()}`;
    const sub = await client();
    await sub.subscribeAsync(topic, { qos: 2 });
    const inbox = collect(sub);
    const pub = await client();
    // More QoS 1 messages than the in-flight window (20), interleaved with QoS 0 and 2.
    const sent = Array.from({ length: 90 }, (_, i) => ({ payload: String(i), qos: (i % 3) as 0 | 1 | 2 }));
    await Promise.all(sent.map((m) => pub.publishAsync(topic, m.payload, { qos: m.qos })));
    const got = await inbox.count(90, 10_000);
    for (const qos of [0, 1, 2]) {
      expect(got.filter((m) => m.qos === qos).map((m) => m.payload)).toEqual(sent.filter((m) => m.qos === qos).map((m) => m.payload));
    }
  });
});

describe("wildcards", () => {
  it("matches + and # filters, including a first-level wildcard (MQTT 3.1.1 §4.7.1.2, §4.7.1.3)", async () => {
    const root = `wc${uniqueId()}`;
    const sub = await client();
    await sub.subscribeAsync({ [`${root}/+/temp`]: { qos: 1 }, [`+/${root}-b/#`]: { qos: 1 } });
    const inbox = collect(sub);
    const pub = await client();
    await pub.publishAsync(`${root}/kitchen/temp`, "a", { qos: 1 });
    await pub.publishAsync(`${root}/kitchen/humidity`, "not matched", { qos: 1 });
    await pub.publishAsync(`any/${root}-b`, "b", { qos: 1 }); // '#' matches the parent level too
    await pub.publishAsync(`other/${root}-b/deep/er`, "c", { qos: 1 });
    const got = await inbox.count(3);
    expect(got.map((m) => m.payload).sort()).toEqual(["a", "b", "c"]);
    await quiet(200); // proves nothing else arrives
    expect(inbox.messages).toHaveLength(3);
  });

  it("does not match $-topics with a first-level wildcard, but with a literal $ filter [MQTT-4.7.2-1]", async () => {
    const sub = await client();
    const id = uniqueId();
    await sub.subscribeAsync({ "#": { qos: 0 }, "+/monitor/#": { qos: 0 }, [`$SYS/${id}/#`]: { qos: 0 } });
    const inbox = collect(sub);
    const pub = await client();
    await pub.publishAsync(`$SYS/${id}/load`, "sys", { qos: 1 });
    const m = await inbox.next();
    expect(m.topic).toBe(`$SYS/${id}/load`);
    await quiet(300); // proves no other $ topic arrives
    expect(inbox.messages.filter((x) => x.topic.startsWith("$"))).toHaveLength(1);
  });

  it("closes the connection on an ill-formed filter [MQTT-4.7.1-2] [MQTT-4.7.1-3] [MQTT-4.8.0-1]", async () => {
    // Changed with issue 14: a filter that breaks §4.7.1 is a protocol violation, which closes
    // the connection in 3.1.1 [MQTT-4.8.0-1]; SUBACK 0x80 stays for filters this broker refuses.
    for (const bad of ["sport/tennis#", "sport+", "a/#/b"]) {
      const raw = await RawClient.open(broker.mqttUrl);
      raw.send(connectPacket(uniqueId()));
      await raw.expect("connack");
      raw.send({
        cmd: "subscribe",
        messageId: 7,
        subscriptions: [
          { topic: "ok/+/fine", qos: 1 },
          { topic: bad, qos: 1 },
        ],
      });
      await raw.closed;
      expect(
        raw.packets.filter((p) => p.cmd === "suback"),
        bad,
      ).toEqual([]);
    }
  });
});

describe("acknowledgements", () => {
  it("answers QoS 1 with PUBACK and QoS 2 with PUBREC/PUBCOMP carrying the packet id [MQTT-4.3.2-2] [MQTT-4.3.3-2]", async () => {
    const raw = await RawClient.open(broker.mqttUrl);
    raw.send(connectPacket(uniqueId()));
    await raw.expect("connack");
    raw.send({ cmd: "publish", topic: "acks/t", payload: Buffer.from("x"), qos: 1, messageId: 11, retain: false, dup: false });
    expect(await raw.expect("puback")).toMatchObject({ messageId: 11 });
    raw.send({ cmd: "publish", topic: "acks/t", payload: Buffer.from("y"), qos: 2, messageId: 12, retain: false, dup: false });
    expect(await raw.expect("pubrec")).toMatchObject({ messageId: 12 });
    raw.send({ cmd: "pubrel", messageId: 12 });
    expect(await raw.expect("pubcomp")).toMatchObject({ messageId: 12 });
    raw.close();
  });

  it("delivers a QoS 2 message once even when the PUBLISH is retransmitted before PUBREL [MQTT-4.3.3-2]", async () => {
    const topic = `qos2/dup/${uniqueId()}`;
    const sub = await client();
    await sub.subscribeAsync(topic, { qos: 2 });
    const inbox = collect(sub);
    const raw = await RawClient.open(broker.mqttUrl);
    raw.send(connectPacket(uniqueId()));
    await raw.expect("connack");
    const publish = { cmd: "publish", topic, payload: Buffer.from("exactly once"), qos: 2, messageId: 5, retain: false } as const;
    raw.send({ ...publish, dup: false });
    await raw.expect("pubrec");
    raw.send({ ...publish, dup: true });
    await raw.expect("pubrec");
    raw.send({ cmd: "pubrel", messageId: 5 });
    await raw.expect("pubcomp");
    await inbox.next();
    await quiet(400); // proves no second copy arrives
    expect(inbox.messages).toHaveLength(1);
    raw.close();
  });

  it("answers UNSUBSCRIBE with UNSUBACK and stops delivery [MQTT-3.10.4-2] [MQTT-3.10.4-4]", async () => {
    const topic = `unsub/${uniqueId()}`;
    const sub = await client();
    await sub.subscribeAsync(topic, { qos: 1 });
    const inbox = collect(sub);
    await sub.unsubscribeAsync(topic);
    const pub = await client();
    await pub.publishAsync(topic, "after unsubscribe", { qos: 1 });
    await quiet(400); // proves nothing arrives after UNSUBSCRIBE
    expect(inbox.messages).toHaveLength(0);
  });

  it("answers PINGREQ with PINGRESP [MQTT-3.12.4-1]", async () => {
    const raw = await RawClient.open(broker.mqttUrl);
    raw.send(connectPacket(uniqueId()));
    await raw.expect("connack");
    raw.send({ cmd: "pingreq" });
    await raw.expect("pingresp");
    raw.close();
  });

  it("replaces a subscription to the same filter with the new QoS [MQTT-3.8.4-3]", async () => {
    const topic = `resub/${uniqueId()}`;
    const sub = await client();
    await sub.subscribeAsync(topic, { qos: 0 });
    await sub.subscribeAsync(topic, { qos: 2 });
    const inbox = collect(sub);
    const pub = await client();
    await pub.publishAsync(topic, "x", { qos: 2 });
    expect((await inbox.next()).qos).toBe(2);
    await quiet(300); // proves no second copy arrives
    expect(inbox.messages).toHaveLength(1);
  });
});
