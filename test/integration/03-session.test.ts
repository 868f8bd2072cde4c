/** MQTT 3.1.1 §3.1.2.4, §4.1, §4.4: persistent sessions, offline queueing, redelivery. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Broker, startBroker } from "../helpers/broker.js";
import { RawClient, collect, connect, connectPacket, connectWithInbox, quiet, uniqueId } from "../helpers/clients.js";
import { eventually } from "../helpers/eventually.js";

let broker: Broker;
beforeAll(async () => {
  broker = await startBroker();
});
afterAll(() => broker.stop());

describe("persistent sessions (CleanSession=0)", () => {
  it("sets session present on resume and keeps subscriptions [MQTT-3.2.2-2] [MQTT-3.1.2-4]", async () => {
    const id = uniqueId("persist");
    const topic = `session/keep/${id}`;
    const first = await connect(broker.mqttUrl, { clientId: id, clean: false });
    expect(first.connected).toBe(true);
    await first.subscribeAsync(topic, { qos: 1 });
    await first.endAsync();

    const resumed = await connect(broker.mqttUrl, { clientId: id, clean: false });
    const inbox = collect(resumed);
    const pub = await connect(broker.mqttUrl);
    await pub.publishAsync(topic, "kept", { qos: 1 });
    expect((await inbox.next()).payload).toBe("kept");
    await Promise.all([resumed.endAsync(), pub.endAsync()]);
  });

  it("reports session present 1 for a stored session and 0 for a new one [MQTT-3.2.2-2] [MQTT-3.2.2-3]", async () => {
    const id = uniqueId("present");
    const first = await RawClient.open(broker.mqttUrl);
    first.send(connectPacket(id, { clean: false }));
    expect(await first.expect("connack")).toMatchObject({ sessionPresent: false });
    first.send({ cmd: "disconnect" });
    await first.closed;
    const second = await RawClient.open(broker.mqttUrl);
    second.send(connectPacket(id, { clean: false }));
    expect(await second.expect("connack")).toMatchObject({ sessionPresent: true });
    second.close();
  });

  it("queues QoS 1 and 2 messages while offline and delivers them on reconnect, not QoS 0 [MQTT-3.1.2-5]", async () => {
    const id = uniqueId("offline");
    const topic = `session/offline/${id}`;
    const sub = await connect(broker.mqttUrl, { clientId: id, clean: false });
    await sub.subscribeAsync(topic, { qos: 2 });
    await sub.endAsync();

    const pub = await connect(broker.mqttUrl);
    await pub.publishAsync(topic, "q1", { qos: 1 });
    await pub.publishAsync(topic, "q0", { qos: 0 });
    await pub.publishAsync(topic, "q2", { qos: 2 });
    await pub.endAsync();
    await eventually(async () => (await broker.stats("sessions", id)).queued === 2); // the shard handed them to the offline session

    const { client: back, inbox } = await connectWithInbox(broker.mqttUrl, { clientId: id, clean: false });
    const got = await inbox.count(2);
    expect(got.map((m) => [m.payload, m.qos])).toEqual([
      ["q1", 1],
      ["q2", 2],
    ]);
    await quiet(300); // proves the QoS 0 one never arrives
    expect(inbox.messages).toHaveLength(2);
    await back.endAsync();
  });

  it("resends unacknowledged QoS 1 messages with DUP and the same packet id on reconnect [MQTT-4.4.0-1] [MQTT-3.3.1-1]", async () => {
    const id = uniqueId("dup");
    const topic = `session/dup/${id}`;
    const raw = await RawClient.open(broker.mqttUrl);
    raw.send(connectPacket(id, { clean: false }));
    await raw.expect("connack");
    raw.send({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic, qos: 1 }] });
    await raw.expect("suback");
    const pub = await connect(broker.mqttUrl);
    await pub.publishAsync(topic, "ack me", { qos: 1 });
    const first = await raw.expect("publish");
    expect(first).toMatchObject({ dup: false, qos: 1 });
    raw.close(); // no PUBACK
    await raw.closed;

    const again = await RawClient.open(broker.mqttUrl);
    again.send(connectPacket(id, { clean: false }));
    expect(await again.expect("connack")).toMatchObject({ sessionPresent: true });
    const resent = await again.expect("publish");
    expect(resent).toMatchObject({ dup: true, qos: 1, messageId: (first as { messageId: number }).messageId, topic });
    again.send({ cmd: "puback", messageId: (resent as { messageId: number }).messageId });
    again.close();
    await pub.endAsync();
  });

  it("resends PUBREL for a QoS 2 message the client had acknowledged with PUBREC [MQTT-4.4.0-1]", async () => {
    const id = uniqueId("pubrel");
    const topic = `session/pubrel/${id}`;
    const raw = await RawClient.open(broker.mqttUrl);
    raw.send(connectPacket(id, { clean: false }));
    await raw.expect("connack");
    raw.send({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic, qos: 2 }] });
    await raw.expect("suback");
    const pub = await connect(broker.mqttUrl);
    await pub.publishAsync(topic, "two", { qos: 2 });
    const publish = (await raw.expect("publish")) as { messageId: number };
    raw.send({ cmd: "pubrec", messageId: publish.messageId });
    expect(await raw.expect("pubrel")).toMatchObject({ messageId: publish.messageId });
    raw.close(); // no PUBCOMP
    await raw.closed;

    const again = await RawClient.open(broker.mqttUrl);
    again.send(connectPacket(id, { clean: false }));
    await again.expect("connack");
    expect(await again.expect("pubrel")).toMatchObject({ messageId: publish.messageId });
    again.send({ cmd: "pubcomp", messageId: publish.messageId });
    await quiet(200); // proves the PUBLISH is not sent again
    expect(again.packets.filter((p) => p.cmd === "publish")).toHaveLength(0);
    again.close();
    await pub.endAsync();
  });

  it("discards the stored session when the client connects with CleanSession=1 [MQTT-3.1.2-6]", async () => {
    const id = uniqueId("discard");
    const topic = `session/discard/${id}`;
    const persistent = await connect(broker.mqttUrl, { clientId: id, clean: false });
    await persistent.subscribeAsync(topic, { qos: 1 });
    await persistent.endAsync();

    const clean = await RawClient.open(broker.mqttUrl);
    clean.send(connectPacket(id, { clean: true }));
    expect(await clean.expect("connack")).toMatchObject({ sessionPresent: false });
    const pub = await connect(broker.mqttUrl);
    await pub.publishAsync(topic, "old subscription is gone", { qos: 1 });
    await quiet(400); // proves the old subscription delivers nothing
    expect(clean.packets.filter((p) => p.cmd === "publish")).toHaveLength(0);
    clean.close();
    await pub.endAsync();
  });

  it("ends a clean session with its connection: nothing is kept [MQTT-3.1.2-6]", async () => {
    const id = uniqueId("cleanend");
    const topic = `session/cleanend/${id}`;
    const c = await connect(broker.mqttUrl, { clientId: id, clean: true });
    await c.subscribeAsync(topic, { qos: 1 });
    await c.endAsync();
    const pub = await connect(broker.mqttUrl);
    await pub.publishAsync(topic, "nobody", { qos: 1 });
    await quiet(300); // proves nothing is queued for the ended session
    const stats = await broker.stats("sessions", id);
    expect(stats).toMatchObject({ connected: false, queued: 0, subscriptions: {} });
    await pub.endAsync();
  });

  it("refuses messages beyond MAX_QUEUED_MESSAGES with a log line and a stats counter", async () => {
    const small = await startBroker({ vars: { MAX_QUEUED_MESSAGES: "3" } });
    try {
      const id = uniqueId("full");
      const topic = `session/full/${id}`;
      const sub = await connect(small.mqttUrl, { clientId: id, clean: false });
      await sub.subscribeAsync(topic, { qos: 1 });
      await sub.endAsync();
      const pub = await connect(small.mqttUrl);
      for (let i = 0; i < 5; i++) await pub.publishAsync(topic, `m${i}`, { qos: 1 });
      await pub.endAsync();
      await eventually(async () => {
        const stats = (await small.stats("sessions", id)) as { queued: number; counters: Record<string, number> };
        expect(stats.queued).toBe(3);
        expect(stats.counters.dropped_queue_full).toBe(2);
      });
    } finally {
      await small.stop();
    }
  });
});
