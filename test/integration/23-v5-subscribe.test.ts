/** MQTT 5.0 §3.8–§3.11: subscription options, subscription identifiers, SUBACK/UNSUBACK reason codes. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Broker, startBroker } from "../helpers/broker.js";
import { RawClient, connectV5, quiet, uniqueId } from "../helpers/clients.js";

let broker: Broker;
beforeAll(async () => {
  broker = await startBroker({ vars: { MAX_SUBSCRIPTIONS: "3" } });
});
afterAll(() => broker.stop());

const v5connect = (clientId: string) => ({ cmd: "connect", protocolId: "MQTT", protocolVersion: 5, clientId, clean: true, keepalive: 30 }) as never;

async function rawV5(url = broker.mqttUrl) {
  const raw = await RawClient.open(url, ["mqtt"], 5);
  raw.send(v5connect(uniqueId()), 5);
  await raw.expect("connack");
  return raw;
}

describe("subscription options", () => {
  it("No Local: the client's own messages are not sent back [MQTT-3.8.3-3]", async () => {
    const topic = `nl/${uniqueId()}`;
    const c = await connectV5(broker.mqttUrl);
    await c.client.subscribeAsync(topic, { qos: 1, nl: true });
    const other = await connectV5(broker.mqttUrl);
    await c.client.publishAsync(topic, "mine", { qos: 1 });
    await other.client.publishAsync(topic, "theirs", { qos: 1 });
    expect((await c.inbox.next()).payload).toBe("theirs");
    await quiet(300); // proves its own message never arrives
    expect(c.inbox.messages).toHaveLength(1);
    await Promise.all([c.client.endAsync(), other.client.endAsync()]);
  });

  it("Retain As Published keeps the retain flag when forwarding; without it the flag is cleared [MQTT-3.3.1-12] [MQTT-3.3.1-13]", async () => {
    const topic = `rap/${uniqueId()}`;
    const keep = await connectV5(broker.mqttUrl);
    await keep.client.subscribeAsync(topic, { qos: 1, rap: true });
    const clear = await connectV5(broker.mqttUrl);
    await clear.client.subscribeAsync(topic, { qos: 1 });
    const pub = await connectV5(broker.mqttUrl);
    await pub.client.publishAsync(topic, "r", { qos: 1, retain: true });
    expect((await keep.inbox.next()).retain).toBe(true);
    expect((await clear.inbox.next()).retain).toBe(false);
    await Promise.all([keep.client.endAsync(), clear.client.endAsync(), pub.client.endAsync()]);
  });

  it("Retain Handling 0 / 1 / 2 [MQTT-3.3.1-9] [MQTT-3.3.1-10] [MQTT-3.3.1-11]", async () => {
    const topic = `rh/${uniqueId()}`;
    const pub = await connectV5(broker.mqttUrl);
    await pub.client.publishAsync(topic, "retained", { qos: 1, retain: true });

    const rh0 = await connectV5(broker.mqttUrl);
    await rh0.client.subscribeAsync(topic, { qos: 1, rh: 0 });
    await rh0.inbox.next();
    await rh0.client.subscribeAsync(topic, { qos: 1, rh: 0 }); // again: sent again
    await rh0.inbox.next();

    const rh1 = await connectV5(broker.mqttUrl);
    await rh1.client.subscribeAsync(topic, { qos: 1, rh: 1 });
    await rh1.inbox.next();
    await rh1.client.subscribeAsync(topic, { qos: 1, rh: 1 }); // exists: not sent

    const rh2 = await connectV5(broker.mqttUrl);
    await rh2.client.subscribeAsync(topic, { qos: 1, rh: 2 });
    await quiet(400); // proves no further retained copies are sent
    expect([rh0.inbox.messages.length, rh1.inbox.messages.length, rh2.inbox.messages.length]).toEqual([2, 1, 0]);
    await Promise.all([pub.client.endAsync(), rh0.client.endAsync(), rh1.client.endAsync(), rh2.client.endAsync()]);
  });

  it("sends every matching Subscription Identifier in one copy [MQTT-3.3.4-3]", async () => {
    const root = `sid${uniqueId()}`;
    const c = await connectV5(broker.mqttUrl);
    await c.client.subscribeAsync(`${root}/+`, { qos: 1, properties: { subscriptionIdentifier: 7 } });
    await c.client.subscribeAsync("#", { qos: 0, properties: { subscriptionIdentifier: 42 } });
    const pub = await connectV5(broker.mqttUrl);
    await pub.client.publishAsync(`${root}/x`, "ids", { qos: 1 });
    // "#" also brings the retained messages of earlier tests: look for this topic.
    let m = await c.inbox.next();
    while (m.topic !== `${root}/x`) m = await c.inbox.next();
    const ids = m.properties?.subscriptionIdentifier;
    expect(([] as number[]).concat(ids as number | number[]).sort((a, b) => a - b)).toEqual([7, 42]);
    expect(m.qos).toBe(1);
    await quiet(300); // proves one copy only
    expect(c.inbox.messages.filter((x) => x.topic === `${root}/x`)).toHaveLength(1);
    await Promise.all([c.client.endAsync(), pub.client.endAsync()]);
  });
});

describe("SUBACK and UNSUBACK reason codes", () => {
  it("closes with DISCONNECT 0x81 on an ill-formed filter instead of refusing it in SUBACK [MQTT-4.7.1-1]", async () => {
    // Changed with issue 14: 0x8F Topic Filter invalid is for a filter that "is correctly formed
    // but is not allowed" (§3.9.3); "a/#/b" is not correctly formed, so the packet is malformed
    // (see docs/CONFORMANCE.md). Filters beyond this broker's limits still get 0x8F (limits.test.ts).
    const raw = await rawV5();
    raw.send(
      {
        cmd: "subscribe",
        messageId: 3,
        subscriptions: [
          { topic: "a/#/b", qos: 1 },
          { topic: "ok/+", qos: 2 },
        ],
      } as never,
      5,
    );
    expect(await raw.expect("disconnect")).toMatchObject({ reasonCode: 0x81 });
    await raw.closed;
  });

  it("leaves the Reason String off acks when Request Problem Information is 0 [MQTT-3.1.2-29]", async () => {
    const raw = await RawClient.open(broker.mqttUrl, ["mqtt"], 5);
    raw.send({ ...(v5connect(uniqueId()) as object), properties: { requestProblemInformation: false } } as never, 5);
    await raw.expect("connack");
    // The fourth filter is beyond MAX_SUBSCRIPTIONS: refused (0x97), which would carry a Reason String.
    raw.send({ cmd: "subscribe", messageId: 3, subscriptions: ["r/1", "r/2", "r/3", "r/4"].map((topic) => ({ topic, qos: 0 })) } as never, 5);
    const suback = (await raw.expect("suback")) as { granted: number[]; properties?: { reasonString?: string } };
    expect(suback.granted).toContain(0x97);
    expect(suback.properties?.reasonString).toBeUndefined();
    raw.close();
  });

  it("says 0x97 Quota exceeded beyond MAX_SUBSCRIPTIONS", async () => {
    const raw = await rawV5();
    raw.send({ cmd: "subscribe", messageId: 4, subscriptions: ["q/1", "q/2", "q/3", "q/4"].map((topic) => ({ topic, qos: 0 })) } as never, 5);
    expect(await raw.expect("suback")).toMatchObject({ granted: [0, 0, 0, 0x97] });
    raw.close();
  });

  it("says 0x91 when the packet id is in use by an unreleased QoS 2 PUBLISH", async () => {
    const raw = await rawV5();
    raw.send({ cmd: "publish", topic: "pid/x", payload: Buffer.from("x"), qos: 2, messageId: 9, retain: false, dup: false } as never, 5);
    await raw.expect("pubrec");
    raw.send({ cmd: "subscribe", messageId: 9, subscriptions: [{ topic: "pid/y", qos: 0 }] } as never, 5);
    expect(await raw.expect("suback")).toMatchObject({ granted: [0x91] });
    raw.close();
  });

  it("answers UNSUBSCRIBE with 0x00 or 0x11 No subscription existed per filter", async () => {
    const c = await connectV5(broker.mqttUrl);
    await c.client.subscribeAsync("un/a", { qos: 0 });
    const raw = await rawV5();
    raw.send({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic: "un/a", qos: 0 }] } as never, 5);
    await raw.expect("suback");
    raw.send({ cmd: "unsubscribe", messageId: 2, unsubscriptions: ["un/a", "un/never"] } as never, 5);
    expect(await raw.expect("unsuback")).toMatchObject({ messageId: 2, granted: [0x00, 0x11] });
    raw.close();
    await c.client.endAsync();
  });

  it("is a protocol error to set No Local on a shared subscription [MQTT-3.8.3-4]", async () => {
    const raw = await rawV5();
    raw.send({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic: "$share/g/t", qos: 0, nl: true }] } as never, 5);
    expect(await raw.expect("disconnect")).toMatchObject({ reasonCode: 0x82 });
    await raw.closed;
  });

  it("refuses features that are configured off: 0x9E, 0xA1, 0xA2", async () => {
    const limited = await startBroker({ vars: { SHARED_SUBSCRIPTIONS: "false", SUBSCRIPTION_IDENTIFIERS: "false", WILDCARD_SUBSCRIPTIONS: "false" } });
    try {
      const { connack, client } = await connectV5(limited.mqttUrl);
      expect(connack.properties).toMatchObject({ sharedSubscriptionAvailable: false, subscriptionIdentifiersAvailable: false, wildcardSubscriptionAvailable: false });
      await client.endAsync();
      const raw = await rawV5(limited.mqttUrl);
      raw.send(
        {
          cmd: "subscribe",
          messageId: 1,
          subscriptions: [
            { topic: "$share/g/t", qos: 0 },
            { topic: "w/+", qos: 0 },
            { topic: "plain", qos: 1 },
          ],
        } as never,
        5,
      );
      expect(await raw.expect("suback")).toMatchObject({ granted: [0x9e, 0xa2, 1] });
      raw.send({ cmd: "subscribe", messageId: 2, properties: { subscriptionIdentifier: 5 }, subscriptions: [{ topic: "plain", qos: 1 }] } as never, 5);
      expect(await raw.expect("suback")).toMatchObject({ granted: [0xa1] });
      raw.close();
    } finally {
      await limited.stop();
    }
  });
});
