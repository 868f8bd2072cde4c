/** MQTT 3.1.1 §3.3.1.3: retained messages. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Broker, startBroker } from "../helpers/broker.js";
import { collect, connect, connectWithInbox, quiet, uniqueId } from "../helpers/clients.js";

let broker: Broker;
beforeAll(async () => {
  broker = await startBroker();
});
afterAll(() => broker.stop());

describe("retained messages", () => {
  it("sends the retained message to a new subscriber with the retain flag set [MQTT-3.3.1-6] [MQTT-3.3.1-8]", async () => {
    const topic = `retain/basic/${uniqueId()}`;
    const pub = await connect(broker.mqttUrl);
    await pub.publishAsync(topic, "last known", { qos: 1, retain: true });
    const { client: sub, inbox } = await connectWithInbox(broker.mqttUrl);
    await sub.subscribeAsync(topic, { qos: 1 });
    expect(await inbox.next()).toMatchObject({ topic, payload: "last known", retain: true, qos: 1 });
    await Promise.all([pub.endAsync(), sub.endAsync()]);
  });

  it("replaces the retained message of a topic [MQTT-3.3.1-5]", async () => {
    const topic = `retain/replace/${uniqueId()}`;
    const pub = await connect(broker.mqttUrl);
    await pub.publishAsync(topic, "old", { qos: 1, retain: true });
    await pub.publishAsync(topic, "new", { qos: 1, retain: true });
    const { client: sub, inbox } = await connectWithInbox(broker.mqttUrl);
    await sub.subscribeAsync(topic, { qos: 1 });
    expect((await inbox.next()).payload).toBe("new");
    await quiet(300); // proves the older retained message is not sent too
    expect(inbox.messages).toHaveLength(1);
    await Promise.all([pub.endAsync(), sub.endAsync()]);
  });

  it("deletes the retained message on an empty retained payload, which is still forwarded [MQTT-3.3.1-10] [MQTT-3.3.1-11]", async () => {
    const topic = `retain/delete/${uniqueId()}`;
    const pub = await connect(broker.mqttUrl);
    await pub.publishAsync(topic, "soon gone", { qos: 1, retain: true });
    const live = await connect(broker.mqttUrl);
    await live.subscribeAsync(topic, { qos: 1 });
    const liveInbox = collect(live);
    await liveInbox.next(); // the retained one
    await pub.publishAsync(topic, "", { qos: 1, retain: true });
    expect(await liveInbox.next()).toMatchObject({ payload: "", retain: false });
    const { client: late, inbox } = await connectWithInbox(broker.mqttUrl);
    await late.subscribeAsync(topic, { qos: 1 });
    await quiet(400); // proves the cleared retained message is not sent
    expect(inbox.messages).toHaveLength(0);
    await Promise.all([pub.endAsync(), live.endAsync(), late.endAsync()]);
  });

  it("sends retained messages to wildcard subscriptions, also a first-level wildcard [MQTT-3.3.1-6]", async () => {
    const root = `rw${uniqueId()}`;
    const pub = await connect(broker.mqttUrl);
    await pub.publishAsync(`${root}/a`, "A", { qos: 0, retain: true });
    await pub.publishAsync(`${root}/b/c`, "BC", { qos: 1, retain: true });
    const { client: sub, inbox } = await connectWithInbox(broker.mqttUrl);
    await sub.subscribeAsync(`${root}/#`, { qos: 1 });
    const got = await inbox.count(2);
    expect(got.map((m) => m.payload).sort()).toEqual(["A", "BC"]);
    expect(got.every((m) => m.retain)).toBe(true);

    const { client: wide, inbox: wideInbox } = await connectWithInbox(broker.mqttUrl);
    await wide.subscribeAsync(`+/b/+`, { qos: 1 });
    const m = await wideInbox.next();
    expect(m).toMatchObject({ topic: `${root}/b/c`, payload: "BC", retain: true });
    await Promise.all([pub.endAsync(), sub.endAsync(), wide.endAsync()]);
  });

  it("clears the retain flag when forwarding to existing subscribers [MQTT-3.3.1-9]", async () => {
    const topic = `retain/forward/${uniqueId()}`;
    const sub = await connect(broker.mqttUrl);
    await sub.subscribeAsync(topic, { qos: 1 });
    const inbox = collect(sub);
    const pub = await connect(broker.mqttUrl);
    await pub.publishAsync(topic, "live", { qos: 1, retain: true });
    expect(await inbox.next()).toMatchObject({ payload: "live", retain: false });
    await Promise.all([pub.endAsync(), sub.endAsync()]);
  });

  it("delivers a retained message at min(subscription QoS, retained QoS) [MQTT-3.8.4-6]", async () => {
    const topic = `retain/qos/${uniqueId()}`;
    const pub = await connect(broker.mqttUrl);
    await pub.publishAsync(topic, "two", { qos: 2, retain: true });
    const { client: sub, inbox } = await connectWithInbox(broker.mqttUrl);
    await sub.subscribeAsync(topic, { qos: 1 });
    expect(await inbox.next()).toMatchObject({ qos: 1, retain: true });
    await Promise.all([pub.endAsync(), sub.endAsync()]);
  });
});
