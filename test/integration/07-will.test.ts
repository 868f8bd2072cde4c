/** MQTT 3.1.1 §3.1.2.5 and §3.1.3.2: the Last Will and Testament. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Broker, startBroker } from "../helpers/broker.js";
import { RawClient, collect, connect, connectPacket, connectWithInbox, quiet, uniqueId } from "../helpers/clients.js";

let broker: Broker;
beforeAll(async () => {
  broker = await startBroker();
});
afterAll(() => broker.stop());

async function watcher(topic: string) {
  const c = await connect(broker.mqttUrl);
  await c.subscribeAsync(topic, { qos: 1 });
  return { client: c, inbox: collect(c) };
}

const will = (topic: string, payload = "gone", extra = {}) => ({ will: { topic, payload: Buffer.from(payload), qos: 1 as const, retain: false, ...extra } });

describe("Last Will", () => {
  it("is published when the network connection closes without DISCONNECT [MQTT-3.1.2-8]", async () => {
    const topic = `will/closed/${uniqueId()}`;
    const w = await watcher(topic);
    const raw = await RawClient.open(broker.mqttUrl);
    raw.send(connectPacket(uniqueId(), will(topic, "closed")));
    await raw.expect("connack");
    raw.ws.terminate();
    expect(await w.inbox.next()).toMatchObject({ topic, payload: "closed", qos: 1 });
    await w.client.endAsync();
  });

  it("is not published after DISCONNECT [MQTT-3.1.2-10] [MQTT-3.14.4-3]", async () => {
    const topic = `will/disconnect/${uniqueId()}`;
    const w = await watcher(topic);
    const c = await connect(broker.mqttUrl, will(topic));
    await c.endAsync();
    await quiet(500); // proves no will is sent after DISCONNECT
    expect(w.inbox.messages).toHaveLength(0);
    await w.client.endAsync();
  });

  it("is published on a protocol error [MQTT-3.1.2-8]", async () => {
    const topic = `will/error/${uniqueId()}`;
    const w = await watcher(topic);
    const raw = await RawClient.open(broker.mqttUrl);
    raw.send(connectPacket(uniqueId(), will(topic, "violated")));
    await raw.expect("connack");
    raw.send({ cmd: "publish", topic: "bad/+/topic", payload: Buffer.from("x"), qos: 0, retain: false, dup: false });
    await raw.closed;
    expect((await w.inbox.next()).payload).toBe("violated");
    await w.client.endAsync();
  });

  it("is published when the session is taken over by a new connection [MQTT-3.1.4-2]", async () => {
    const topic = `will/takeover/${uniqueId()}`;
    const w = await watcher(topic);
    const id = uniqueId("will-takeover");
    const first = await connect(broker.mqttUrl, { clientId: id, ...will(topic, "taken over") });
    const second = await connect(broker.mqttUrl, { clientId: id });
    expect((await w.inbox.next()).payload).toBe("taken over");
    await Promise.all([first.endAsync(true), second.endAsync(), w.client.endAsync()]);
  });

  it("is published when the keepalive expires [MQTT-3.1.2-24]", async () => {
    const topic = `will/keepalive/${uniqueId()}`;
    const w = await watcher(topic);
    const raw = await RawClient.open(broker.mqttUrl);
    const started = Date.now();
    raw.send(connectPacket(uniqueId(), { keepalive: 1, ...will(topic, "silent") }));
    await raw.expect("connack");
    // Silent from here on: 1.5 × 1 s later the broker closes and publishes the will.
    expect((await w.inbox.next(6000)).payload).toBe("silent");
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(1400);
    await raw.closed;
    await w.client.endAsync();
  });

  it("honours the will retain flag [MQTT-3.1.2-17]", async () => {
    const topic = `will/retained/${uniqueId()}`;
    const w = await watcher(topic);
    const raw = await RawClient.open(broker.mqttUrl);
    raw.send(connectPacket(uniqueId(), will(topic, "retained will", { retain: true })));
    await raw.expect("connack");
    raw.ws.terminate();
    await w.inbox.next(); // the will is published (and so retained)
    await w.client.endAsync();
    const { client, inbox } = await connectWithInbox(broker.mqttUrl);
    await client.subscribeAsync(topic, { qos: 1 });
    expect(await inbox.next()).toMatchObject({ payload: "retained will", retain: true });
    await client.endAsync();
  });
});

describe("keepalive", () => {
  it("keeps a connection that sends PINGREQ within the keepalive [MQTT-3.1.2-23]", async () => {
    const raw = await RawClient.open(broker.mqttUrl);
    raw.send(connectPacket(uniqueId(), { keepalive: 1 }));
    await raw.expect("connack");
    for (let i = 0; i < 4; i++) {
      await quiet(700); // pings paced within the keepalive: the time is what this tests
      raw.send({ cmd: "pingreq" });
      await raw.expect("pingresp");
    }
    expect(raw.ws.readyState).toBe(raw.ws.OPEN);
    raw.close();
  });

  it("closes a connection silent for 1.5 × keepalive [MQTT-3.1.2-24]", async () => {
    const raw = await RawClient.open(broker.mqttUrl);
    raw.send(connectPacket(uniqueId(), { keepalive: 1 }));
    await raw.expect("connack");
    const started = Date.now();
    await raw.closed;
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(1400);
    expect(elapsed).toBeLessThan(3000);
  });
});
