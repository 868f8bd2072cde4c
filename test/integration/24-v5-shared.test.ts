/** MQTT 5.0 §4.8.2: shared subscriptions $share/{ShareName}/{filter}. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Broker, startBroker } from "../helpers/broker.js";
import { RawClient, collect, connect, connectV5, quiet, uniqueId } from "../helpers/clients.js";
import { eventually } from "../helpers/eventually.js";

let broker: Broker;
beforeAll(async () => {
  broker = await startBroker();
});
afterAll(() => broker.stop());

describe("shared subscriptions", () => {
  it("delivers each message to exactly one member of the group, spread over members on different session objects", async () => {
    const topic = `shared/${uniqueId()}/jobs`;
    const members = await Promise.all([1, 2, 3].map(() => connectV5(broker.mqttUrl)));
    for (const m of members) await m.client.subscribeAsync(`$share/workers/${topic}`, { qos: 1 });
    const pub = await connectV5(broker.mqttUrl);
    const sent = Array.from({ length: 30 }, (_, i) => `job${i}`);
    for (const p of sent) await pub.client.publishAsync(topic, p, { qos: 1 });
    const all = () => members.flatMap((m) => m.inbox.messages);
    await eventually(() => all().length >= sent.length);
    await quiet(300); // proves no message goes to a second member
    const got = members.map((m) => m.inbox.messages.map((x) => x.payload));
    expect(got.flat().sort()).toEqual([...sent].sort());
    // Every member took part.
    expect(got.every((list) => list.length > 0)).toBe(true);
    await Promise.all([...members.map((m) => m.client.endAsync()), pub.client.endAsync()]);
  });

  it("gives each group its own copy, and plain subscribers theirs", async () => {
    const topic = `shared/${uniqueId()}/two-groups`;
    const a1 = await connectV5(broker.mqttUrl);
    const a2 = await connectV5(broker.mqttUrl);
    const b1 = await connectV5(broker.mqttUrl);
    const plain = await connectV5(broker.mqttUrl);
    await a1.client.subscribeAsync(`$share/a/${topic}`, { qos: 1 });
    await a2.client.subscribeAsync(`$share/a/${topic}`, { qos: 1 });
    await b1.client.subscribeAsync(`$share/b/${topic}`, { qos: 1 });
    await plain.client.subscribeAsync(topic, { qos: 1 });
    const pub = await connect(broker.mqttUrl);
    for (const n of [1, 2, 3, 4]) await pub.publishAsync(topic, `m${n}`, { qos: 1 });
    await eventually(() => a1.inbox.messages.length + a2.inbox.messages.length >= 4 && b1.inbox.messages.length >= 4 && plain.inbox.messages.length >= 4);
    await quiet(300); // proves no extra copies
    expect(a1.inbox.messages.length + a2.inbox.messages.length).toBe(4);
    expect(b1.inbox.messages).toHaveLength(4);
    expect(plain.inbox.messages).toHaveLength(4);
    await Promise.all([a1, a2, b1, plain].map((c) => c.client.endAsync()).concat(pub.endAsync()));
  });

  it("stops sending to a member that disconnected: the others get everything", async () => {
    const topic = `shared/${uniqueId()}/leave`;
    const stay = await connectV5(broker.mqttUrl);
    const leaveId = uniqueId("leaver");
    // A persistent member: its subscription survives, but while offline it is passed over.
    const leave = await connectV5(broker.mqttUrl, { clientId: leaveId, properties: { sessionExpiryInterval: 300 } });
    await stay.client.subscribeAsync(`$share/g/${topic}`, { qos: 1 });
    await leave.client.subscribeAsync(`$share/g/${topic}`, { qos: 1 });
    await leave.client.endAsync();
    const pub = await connect(broker.mqttUrl);
    for (const n of [1, 2, 3, 4, 5, 6]) await pub.publishAsync(topic, `m${n}`, { qos: 1 });
    const got = await stay.inbox.count(6);
    expect(got.map((m) => m.payload)).toEqual(["m1", "m2", "m3", "m4", "m5", "m6"]);
    expect(await broker.stats("sessions", leaveId)).toMatchObject({ queued: 0 });
    await Promise.all([stay.client.endAsync(), pub.endAsync()]);
  });

  it("does not send retained messages when a shared subscription is made (§3.3.1.3: only non-shared ones get them)", async () => {
    const topic = `shared/${uniqueId()}/retained`;
    const pub = await connect(broker.mqttUrl);
    await pub.publishAsync(topic, "retained", { qos: 1, retain: true });
    const member = await connectV5(broker.mqttUrl);
    await member.client.subscribeAsync(`$share/g/${topic}`, { qos: 1 });
    await quiet(400); // proves a shared subscription gets no retained message
    expect(member.inbox.messages).toHaveLength(0);
    await Promise.all([member.client.endAsync(), pub.endAsync()]);
  });

  it("hands an unacknowledged QoS 1 message to another member when the first member's session ends", async () => {
    const topic = `shared/${uniqueId()}/redeliver`;
    // First member: a raw client that never acknowledges, with a session that ends on disconnect.
    const raw = await RawClient.open(broker.mqttUrl, ["mqtt"], 5);
    raw.send({ cmd: "connect", protocolId: "MQTT", protocolVersion: 5, clientId: uniqueId("silent"), clean: true, keepalive: 30 } as never, 5);
    await raw.expect("connack");
    raw.send({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic: `$share/g/${topic}`, qos: 1 }] } as never, 5);
    await raw.expect("suback");
    const pub = await connect(broker.mqttUrl);
    await pub.publishAsync(topic, "must not be lost", { qos: 1 });
    await raw.expect("publish");
    // Second member joins; then the first leaves without acknowledging.
    const second = await connectV5(broker.mqttUrl);
    await second.client.subscribeAsync(`$share/g/${topic}`, { qos: 1 });
    raw.ws.terminate();
    expect((await second.inbox.next()).payload).toBe("must not be lost");
    await Promise.all([second.client.endAsync(), pub.endAsync()]);
  });

  it("works for a 3.1.1 member too", async () => {
    const topic = `shared/${uniqueId()}/v4`;
    const v4 = await connect(broker.mqttUrl);
    await v4.subscribeAsync(`$share/g/${topic}`, { qos: 1 });
    const inbox = collect(v4);
    const pub = await connectV5(broker.mqttUrl);
    await pub.client.publishAsync(topic, "hi", { qos: 1 });
    expect((await inbox.next()).payload).toBe("hi");
    await Promise.all([v4.endAsync(), pub.client.endAsync()]);
  });
});
