/** MQTT 5.0 §3.3: PUBLISH properties, message expiry, topic aliases in both directions. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Broker, startBroker } from "../helpers/broker.js";
import { RawClient, connectV5, packetsOf, quiet, uniqueId } from "../helpers/clients.js";

let broker: Broker;
beforeAll(async () => {
  broker = await startBroker({ vars: { TOPIC_ALIAS_MAXIMUM: "4" } });
});
afterAll(() => broker.stop());

const v5connect = (clientId: string, extra: Record<string, unknown> = {}) => ({ cmd: "connect", protocolId: "MQTT", protocolVersion: 5, clientId, clean: true, keepalive: 30, ...extra }) as never;

describe("PUBLISH properties", () => {
  it("forwards Payload Format Indicator, Content Type, Response Topic, Correlation Data and User Properties [MQTT-3.3.2-4] [MQTT-3.3.2-15] [MQTT-3.3.2-16] [MQTT-3.3.2-17] [MQTT-3.3.2-20]", async () => {
    const topic = `props/${uniqueId()}`;
    const sub = await connectV5(broker.mqttUrl);
    await sub.client.subscribeAsync(topic, { qos: 1 });
    const pub = await connectV5(broker.mqttUrl);
    await pub.client.publishAsync(topic, "{}", {
      qos: 1,
      properties: {
        payloadFormatIndicator: true,
        contentType: "application/json",
        responseTopic: "replies/me",
        correlationData: Buffer.from("req-42"),
        userProperties: { region: "eu", tag: ["a", "b"] },
      },
    });
    const m = await sub.inbox.next();
    expect(m.properties).toMatchObject({
      payloadFormatIndicator: true,
      contentType: "application/json",
      responseTopic: "replies/me",
      userProperties: { region: "eu", tag: ["a", "b"] },
    });
    expect(Buffer.from(m.properties!.correlationData!).toString()).toBe("req-42");
    await Promise.all([sub.client.endAsync(), pub.client.endAsync()]);
  });

  it("supports request/response: the responder answers on the Response Topic with the Correlation Data", async () => {
    const requests = `svc/${uniqueId()}`;
    const responder = await connectV5(broker.mqttUrl);
    await responder.client.subscribeAsync(requests, { qos: 1 });
    responder.client.on("message", (_t, payload, packet) => {
      const p = packet.properties!;
      void responder.client.publishAsync(p.responseTopic!, `echo ${payload}`, { qos: 1, properties: { correlationData: p.correlationData! } });
    });
    const requesterId = uniqueId("req");
    const requester = await connectV5(broker.mqttUrl, { clientId: requesterId, properties: { requestResponseInformation: true } });
    const replyTo = `${requester.connack.properties!.responseInformation}/answers`;
    await requester.client.subscribeAsync(replyTo, { qos: 1 });
    await requester.client.publishAsync(requests, "ping", { qos: 1, properties: { responseTopic: replyTo, correlationData: Buffer.from("c1") } });
    const reply = await requester.inbox.next();
    expect(reply.payload).toBe("echo ping");
    expect(Buffer.from(reply.properties!.correlationData!).toString()).toBe("c1");
    await Promise.all([responder.client.endAsync(), requester.client.endAsync()]);
  });
});

describe("Message Expiry Interval", () => {
  it("sends the remaining interval, not the original one [MQTT-3.3.2-6]", async () => {
    const id = uniqueId("rem");
    const topic = `expiry/${id}`;
    const sub = await connectV5(broker.mqttUrl, { clientId: id, properties: { sessionExpiryInterval: 60 } });
    await sub.client.subscribeAsync(topic, { qos: 1 });
    await sub.client.endAsync();
    const pub = await connectV5(broker.mqttUrl);
    await pub.client.publishAsync(topic, "ages", { qos: 1, properties: { messageExpiryInterval: 30 } });
    await quiet(1200); // time passing is what this tests: the interval counts down while queued
    const back = await connectV5(broker.mqttUrl, { clientId: id, clean: false, properties: { sessionExpiryInterval: 60 } });
    const m = await back.inbox.next();
    expect(m.properties?.messageExpiryInterval).toBeGreaterThanOrEqual(28);
    expect(m.properties?.messageExpiryInterval).toBeLessThanOrEqual(29);
    await Promise.all([back.client.endAsync(), pub.client.endAsync()]);
  });

  it("does not deliver a queued message after it expired [MQTT-3.3.2-5]", async () => {
    const id = uniqueId("gone");
    const topic = `expiry/${id}`;
    const sub = await connectV5(broker.mqttUrl, { clientId: id, properties: { sessionExpiryInterval: 60 } });
    await sub.client.subscribeAsync(topic, { qos: 1 });
    await sub.client.endAsync();
    const pub = await connectV5(broker.mqttUrl);
    await pub.client.publishAsync(topic, "short-lived", { qos: 1, properties: { messageExpiryInterval: 1 } });
    await pub.client.publishAsync(topic, "long-lived", { qos: 1, properties: { messageExpiryInterval: 100 } });
    await quiet(1500); // time passing is what this tests: the 1 s expiry passes
    const back = await connectV5(broker.mqttUrl, { clientId: id, clean: false, properties: { sessionExpiryInterval: 60 } });
    expect((await back.inbox.next()).payload).toBe("long-lived");
    await quiet(300); // proves the expired one never arrives
    expect(back.inbox.messages).toHaveLength(1);
    await Promise.all([back.client.endAsync(), pub.client.endAsync()]);
  });

  it("expires retained messages too", async () => {
    const topic = `expiry/retained/${uniqueId()}`;
    const pub = await connectV5(broker.mqttUrl);
    await pub.client.publishAsync(topic, "brief", { qos: 1, retain: true, properties: { messageExpiryInterval: 1 } });
    await quiet(1300); // time passing is what this tests: the 1 s expiry passes
    const sub = await connectV5(broker.mqttUrl);
    await sub.client.subscribeAsync(topic, { qos: 1 });
    await quiet(300); // proves the expired retained message is not sent
    expect(sub.inbox.messages).toHaveLength(0);
    await Promise.all([sub.client.endAsync(), pub.client.endAsync()]);
  });
});

describe("topic aliases", () => {
  it("accepts a client's topic alias and resolves later PUBLISHes by alias alone [MQTT-3.3.2-12]", async () => {
    const topic = `alias/in/${uniqueId()}`;
    const sub = await connectV5(broker.mqttUrl);
    await sub.client.subscribeAsync(topic, { qos: 1 });
    const raw = await RawClient.open(broker.mqttUrl, ["mqtt"], 5);
    raw.send(v5connect(uniqueId()), 5);
    await raw.expect("connack");
    raw.send({ cmd: "publish", topic, payload: Buffer.from("first"), qos: 1, messageId: 1, retain: false, dup: false, properties: { topicAlias: 3 } } as never, 5);
    await raw.expect("puback");
    raw.send({ cmd: "publish", topic: "", payload: Buffer.from("second"), qos: 1, messageId: 2, retain: false, dup: false, properties: { topicAlias: 3 } } as never, 5);
    await raw.expect("puback");
    const got = await sub.inbox.count(2);
    expect(got.map((m) => [m.topic, m.payload])).toEqual([
      [topic, "first"],
      [topic, "second"],
    ]);
    raw.close();
    await sub.client.endAsync();
  });

  it.each([[0], [5]])("disconnects with 0x94 on topic alias %i (0 or above the maximum) [MQTT-3.3.2-8] [MQTT-3.2.2-17]", async (alias) => {
    const raw = await RawClient.open(broker.mqttUrl, ["mqtt"], 5);
    raw.send(v5connect(uniqueId()), 5);
    await raw.expect("connack");
    raw.send({ cmd: "publish", topic: "alias/bad", payload: Buffer.from("x"), qos: 0, retain: false, dup: false, properties: { topicAlias: alias } } as never, 5);
    expect(await raw.expect("disconnect")).toMatchObject({ reasonCode: 0x94 });
    await raw.closed;
  });

  it("uses topic aliases towards a client that allows them, for repeated topics", async () => {
    const topic = `alias/out/${uniqueId()}`;
    const sub = await connectV5(broker.mqttUrl, { properties: { topicAliasMaximum: 10 } });
    const publishes = packetsOf(sub.client, "publish");
    await sub.client.subscribeAsync(topic, { qos: 1 });
    const pub = await connectV5(broker.mqttUrl);
    for (const n of [1, 2, 3]) await pub.client.publishAsync(topic, `m${n}`, { qos: 1 });
    const got = await sub.inbox.count(3);
    // mqtt.js resolves aliases for the application; the wire shows them.
    expect(got.map((m) => m.topic)).toEqual([topic, topic, topic]);
    const wire = publishes as { topic: string; properties?: { topicAlias?: number } }[];
    expect(wire[0]).toMatchObject({ properties: { topicAlias: 1 } });
    expect(wire.slice(1).every((p) => p.properties?.topicAlias === 1)).toBe(true);
    await Promise.all([sub.client.endAsync(), pub.client.endAsync()]);
  });

  it("sends no topic alias to a client that did not allow them", async () => {
    const topic = `alias/none/${uniqueId()}`;
    const sub = await connectV5(broker.mqttUrl);
    const publishes = packetsOf(sub.client, "publish") as { topic: string; properties?: { topicAlias?: number } }[];
    await sub.client.subscribeAsync(topic, { qos: 0 });
    const pub = await connectV5(broker.mqttUrl);
    for (const n of [1, 2]) await pub.client.publishAsync(topic, `m${n}`, { qos: 1 });
    await sub.inbox.count(2);
    expect(publishes.every((p) => p.topic === topic && p.properties?.topicAlias === undefined)).toBe(true);
    await Promise.all([sub.client.endAsync(), pub.client.endAsync()]);
  });
});
