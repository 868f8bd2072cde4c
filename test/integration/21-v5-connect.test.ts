/** MQTT 5.0 §3.1 / §3.2: CONNECT properties, CONNACK properties, session expiry. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Broker, startBroker } from "../helpers/broker.js";
import { RawClient, collect, connect, connectV5, quiet, uniqueId } from "../helpers/clients.js";
import { eventually } from "../helpers/eventually.js";

let broker: Broker;
beforeAll(async () => {
  broker = await startBroker({ vars: { MAX_KEEPALIVE: "30", RECEIVE_MAXIMUM: "50", TOPIC_ALIAS_MAXIMUM: "8" } });
});
afterAll(() => broker.stop());

const v5connect = (clientId: string, extra: Record<string, unknown> = {}) => ({ cmd: "connect", protocolId: "MQTT", protocolVersion: 5, clientId, clean: true, keepalive: 10, ...extra }) as never;

describe("CONNACK", () => {
  it("carries reason code 0 and the broker's limits and features, as configured", async () => {
    const { client, connack } = await connectV5(broker.mqttUrl, { keepalive: 10 });
    expect(connack.reasonCode).toBe(0);
    expect(connack.properties).toMatchObject({
      receiveMaximum: 50,
      maximumPacketSize: 1048576,
      topicAliasMaximum: 8,
      retainAvailable: true,
      wildcardSubscriptionAvailable: true,
      subscriptionIdentifiersAvailable: true,
      sharedSubscriptionAvailable: true,
    });
    expect(connack.properties?.serverKeepAlive).toBeUndefined();
    await client.endAsync();
  });

  it("assigns a client id to an empty one and returns it as Assigned Client Identifier [MQTT-3.2.2-16]", async () => {
    const { client, connack } = await connectV5(broker.mqttUrl, { clientId: "" });
    const assigned = connack.properties?.assignedClientIdentifier;
    expect(assigned).toMatch(/^[0-9a-zA-Z]{23}$/);
    await client.endAsync();
  });

  it("lowers the keepalive to MAX_KEEPALIVE with Server Keep Alive [MQTT-3.2.2-21]", async () => {
    const { client, connack } = await connectV5(broker.mqttUrl, { keepalive: 300 });
    expect(connack.properties?.serverKeepAlive).toBe(30);
    await client.endAsync();
    const zero = await connectV5(broker.mqttUrl, { keepalive: 0 });
    expect(zero.connack.properties?.serverKeepAlive).toBe(30);
    await zero.client.endAsync();
  });

  it("answers an Authentication Method with 0x8C Bad authentication method and closes [MQTT-4.12.0-1]", async () => {
    const raw = await RawClient.open(broker.mqttUrl, ["mqtt"], 5);
    raw.send(v5connect(uniqueId(), { properties: { authenticationMethod: "SCRAM-SHA-1" } }), 5);
    expect(await raw.expect("connack")).toMatchObject({ reasonCode: 0x8c });
    await raw.closed;
  });

  it("gives Response Information when the client requests it", async () => {
    const id = uniqueId("rr");
    const { client, connack } = await connectV5(broker.mqttUrl, { clientId: id, properties: { requestResponseInformation: true } });
    expect(connack.properties?.responseInformation).toBe(`response/${id}`);
    await client.endAsync();
    const plain = await connectV5(broker.mqttUrl);
    expect(plain.connack.properties?.responseInformation).toBeUndefined();
    await plain.client.endAsync();
  });
});

describe("Session Expiry Interval", () => {
  it("ends the session with the connection when it is 0 (the default) (MQTT 5 §3.1.2.11.2)", async () => {
    const id = uniqueId("exp0");
    const first = await connectV5(broker.mqttUrl, { clientId: id, clean: false });
    await first.client.subscribeAsync(`exp0/${id}`, { qos: 1 });
    await first.client.endAsync();
    const again = await connectV5(broker.mqttUrl, { clientId: id, clean: false });
    expect(again.connack.sessionPresent).toBe(false);
    await again.client.endAsync();
  });

  it("keeps the session and queues messages within the interval [MQTT-3.1.2-5]", async () => {
    const id = uniqueId("exp");
    const topic = `exp/${id}`;
    const first = await connectV5(broker.mqttUrl, { clientId: id, clean: true, properties: { sessionExpiryInterval: 60 } });
    await first.client.subscribeAsync(topic, { qos: 1 });
    await first.client.endAsync();
    const pub = await connect(broker.mqttUrl);
    await pub.publishAsync(topic, "kept", { qos: 1 });
    await pub.endAsync();
    const again = await connectV5(broker.mqttUrl, { clientId: id, clean: false, properties: { sessionExpiryInterval: 60 } });
    expect(again.connack.sessionPresent).toBe(true);
    expect((await again.inbox.next()).payload).toBe("kept");
    await again.client.endAsync();
  });

  it("discards the session and its queued messages once the interval passed", async () => {
    const id = uniqueId("expired");
    const topic = `expired/${id}`;
    const first = await connectV5(broker.mqttUrl, { clientId: id, properties: { sessionExpiryInterval: 1 } });
    await first.client.subscribeAsync(topic, { qos: 1 });
    await first.client.endAsync();
    const pub = await connect(broker.mqttUrl);
    await pub.publishAsync(topic, "lost with the session", { qos: 1 });
    await pub.endAsync();
    const stats = await eventually(async () => {
      const stats = await broker.stats("sessions", id);
      expect(stats.clientId, JSON.stringify(stats)).toBeUndefined();
      return stats;
    });
    expect(stats.queued).toBe(0);
    const again = await connectV5(broker.mqttUrl, { clientId: id, clean: false, properties: { sessionExpiryInterval: 60 } });
    expect(again.connack.sessionPresent).toBe(false);
    await quiet(300); // proves the discarded message is not delivered
    expect(again.inbox.messages).toHaveLength(0);
    await again.client.endAsync();
  });

  it("0xFFFFFFFF (never) is capped at MAX_SESSION_EXPIRY (7 days by default), and CONNACK says so (§3.2.2.3.2)", async () => {
    const id = uniqueId("never");
    const first = await connectV5(broker.mqttUrl, { clientId: id, properties: { sessionExpiryInterval: 0xffffffff } });
    expect(first.connack.properties?.sessionExpiryInterval).toBe(604800);
    await first.client.endAsync();
    expect(await broker.stats("sessions", id)).toMatchObject({ clientId: id, expiryInterval: 604800, connected: false });
  });

  it("lets DISCONNECT shorten the interval but not raise it from 0 (MQTT 5 §3.14.2.2.2)", async () => {
    const id = uniqueId("disc");
    const raw = await RawClient.open(broker.mqttUrl, ["mqtt"], 5);
    raw.send(v5connect(id), 5);
    await raw.expect("connack");
    raw.send({ cmd: "disconnect", reasonCode: 0, properties: { sessionExpiryInterval: 60 } } as never, 5);
    expect(await raw.expect("disconnect")).toMatchObject({ reasonCode: 0x82 });
    await raw.closed;
  });

  it("keeps a 3.1.1 subscriber and a 5.0 publisher on one topic, both ways", async () => {
    const topic = `mixed/${uniqueId()}`;
    const old = await connect(broker.mqttUrl);
    await old.subscribeAsync(topic, { qos: 1 });
    const oldInbox = collect(old);
    const { client: v5, inbox: v5Inbox } = await connectV5(broker.mqttUrl);
    await v5.subscribeAsync(topic, { qos: 1 });
    await v5.publishAsync(topic, "from five", { qos: 1, properties: { contentType: "text/plain", userProperties: { a: "1" } } });
    expect(await oldInbox.next()).toMatchObject({ payload: "from five", qos: 1 });
    expect((await v5Inbox.next()).properties).toMatchObject({ contentType: "text/plain", userProperties: { a: "1" } });
    await old.publishAsync(topic, "from three", { qos: 1 });
    expect(await v5Inbox.next()).toMatchObject({ payload: "from three" });
    await Promise.all([old.endAsync(), v5.endAsync()]);
  });
});
