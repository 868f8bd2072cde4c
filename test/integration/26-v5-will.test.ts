/** MQTT 5.0 §3.1.2.5, §3.1.3.2: Will Properties and the Will Delay Interval. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Broker, startBroker } from "../helpers/broker.js";
import { RawClient, connectV5, quiet, uniqueId } from "../helpers/clients.js";
import { eventually } from "../helpers/eventually.js";

let broker: Broker;
beforeAll(async () => {
  broker = await startBroker();
});
afterAll(() => broker.stop());

async function watcher(topic: string) {
  const w = await connectV5(broker.mqttUrl);
  await w.client.subscribeAsync(topic, { qos: 1 });
  return w;
}

/** A raw MQTT 5 client with a will; returns it connected. */
async function withWill(topic: string, willProperties: Record<string, unknown>, properties: Record<string, unknown> = {}, clientId = uniqueId("will"), url = broker.mqttUrl) {
  const raw = await RawClient.open(url, ["mqtt"], 5);
  raw.send(
    {
      cmd: "connect",
      protocolId: "MQTT",
      protocolVersion: 5,
      clientId,
      clean: true,
      keepalive: 30,
      properties,
      will: { topic, payload: Buffer.from("offline"), qos: 1, retain: false, properties: willProperties },
    } as never,
    5,
  );
  await raw.expect("connack");
  return raw;
}

describe("Will properties", () => {
  it("forwards Content Type, Response Topic, Correlation Data, User Properties and Payload Format", async () => {
    const topic = `will5/props/${uniqueId()}`;
    const w = await watcher(topic);
    const raw = await withWill(topic, {
      contentType: "text/plain",
      responseTopic: "r/t",
      correlationData: Buffer.from("cd"),
      userProperties: { k: "v" },
      payloadFormatIndicator: true,
      messageExpiryInterval: 60,
    });
    raw.ws.terminate();
    const m = await w.inbox.next();
    expect(m.properties).toMatchObject({ contentType: "text/plain", responseTopic: "r/t", userProperties: { k: "v" }, payloadFormatIndicator: true });
    expect(m.properties?.messageExpiryInterval).toBeLessThanOrEqual(60);
    expect(Buffer.from(m.properties!.correlationData!).toString()).toBe("cd");
    await w.client.endAsync();
  });
});

describe("Will Delay Interval", () => {
  it("waits out the delay before publishing the will [MQTT-3.1.2-8]", async () => {
    const topic = `will5/delay/${uniqueId()}`;
    const w = await watcher(topic);
    const raw = await withWill(topic, { willDelayInterval: 2 }, { sessionExpiryInterval: 60 });
    const closedAt = Date.now();
    raw.ws.terminate();
    await w.inbox.next(5000);
    const waited = Date.now() - closedAt;
    expect(waited).toBeGreaterThanOrEqual(1900);
    expect(waited).toBeLessThan(3000);
    await w.client.endAsync();
  });

  it("is cancelled when the client reconnects within the delay [MQTT-3.1.3-9]", async () => {
    const topic = `will5/cancel/${uniqueId()}`;
    const id = uniqueId("cancel");
    const w = await watcher(topic);
    const raw = await withWill(topic, { willDelayInterval: 2 }, { sessionExpiryInterval: 60 }, id);
    raw.ws.terminate();
    await eventually(async () => (await broker.stats("sessions", id)).connected === false); // the session saw the connection go
    const back = await connectV5(broker.mqttUrl, { clientId: id, clean: false, properties: { sessionExpiryInterval: 60 } });
    await quiet(2500); // proves the will is not sent once the delay has passed
    expect(w.inbox.messages).toHaveLength(0);
    await Promise.all([back.client.endAsync(), w.client.endAsync()]);
  });

  it("is published at once when the session ends before the delay (Session Expiry 0)", async () => {
    const topic = `will5/expiry0/${uniqueId()}`;
    const w = await watcher(topic);
    const raw = await withWill(topic, { willDelayInterval: 30 }, { sessionExpiryInterval: 0 });
    const closedAt = Date.now();
    raw.ws.terminate();
    await w.inbox.next();
    expect(Date.now() - closedAt).toBeLessThan(1000);
    await w.client.endAsync();
  });

  it("is published when the session expires, if that comes before the delay", async () => {
    const topic = `will5/expiry1/${uniqueId()}`;
    const w = await watcher(topic);
    const raw = await withWill(topic, { willDelayInterval: 30 }, { sessionExpiryInterval: 1 });
    const closedAt = Date.now();
    raw.ws.terminate();
    await w.inbox.next(5000);
    const waited = Date.now() - closedAt;
    expect(waited).toBeGreaterThanOrEqual(900);
    expect(waited).toBeLessThan(2000);
    await w.client.endAsync();
  });

  it("is published after DISCONNECT with reason 0x04 Disconnect with Will Message", async () => {
    const topic = `will5/dc04/${uniqueId()}`;
    const w = await watcher(topic);
    const raw = await withWill(topic, {});
    raw.send({ cmd: "disconnect", reasonCode: 0x04 } as never, 5);
    expect((await w.inbox.next()).payload).toBe("offline");
    await w.client.endAsync();
  });

  it("is not published after a normal DISCONNECT [MQTT-3.1.2-10]", async () => {
    const topic = `will5/dc00/${uniqueId()}`;
    const w = await watcher(topic);
    const raw = await withWill(topic, {});
    raw.send({ cmd: "disconnect", reasonCode: 0 } as never, 5);
    await quiet(500); // proves no will after a normal DISCONNECT
    expect(w.inbox.messages).toHaveLength(0);
    await w.client.endAsync();
  });
});

describe("a takeover crossed by the old connection's DISCONNECT (a device that disconnects and reconnects at once)", () => {
  // The session handles the new CONNECT first and closes the old connection with 0x8E; the old
  // connection's DISCONNECT, sent before the client saw that, still arrives. The client ended
  // cleanly, so its will is discarded [MQTT-3.14.4-3]; without such a DISCONNECT it goes out
  // [MQTT-3.1.4-3].
  async function takeOver(topic: string, clientId: string): Promise<RawClient> {
    // Straight to the session object, as the gateway's devices are (the case seen in the soak).
    const old = await withWill(topic, {}, {}, clientId, `${broker.mqttUrl}?clientId=${clientId}`);
    const next = await RawClient.open(broker.mqttUrl, ["mqtt"], 5);
    next.send({ cmd: "connect", protocolId: "MQTT", protocolVersion: 5, clientId, clean: false, keepalive: 30 } as never, 5);
    return new Promise((resolve) => {
      old.ws.on("message", (data: Buffer) => {
        // DISCONNECT 0x8E Session taken over: answer at once, as if ours had been on its way.
        if (data[0] === 0xe0 && data[2] === 0x8e) old.send(Uint8Array.of(0xe0, 0x01, 0x00));
        resolve(next);
      });
    });
  }

  it("a DISCONNECT 0x00 that crossed the takeover discards the will", async () => {
    const topic = `will5/crossed/${uniqueId()}`;
    const w = await watcher(topic);
    const next = await takeOver(topic, uniqueId("crossed"));
    expect(await next.expect("connack")).toMatchObject({ reasonCode: 0 });
    // Proving that nothing comes: longer than the will's hold (TAKEOVER_WILL_HOLD_MS, 2 s).
    await quiet(3000);
    expect(w.inbox.messages).toHaveLength(0);
    next.close();
    await w.client.endAsync();
  });

  it("without one, the taken-over connection's will is published as soon as it has closed", async () => {
    const topic = `will5/taken/${uniqueId()}`;
    const w = await watcher(topic);
    const clientId = uniqueId("taken");
    const old = await withWill(topic, {}, {}, clientId);
    const started = Date.now();
    const next = await RawClient.open(broker.mqttUrl, ["mqtt"], 5);
    next.send({ cmd: "connect", protocolId: "MQTT", protocolVersion: 5, clientId, clean: false, keepalive: 30 } as never, 5);
    expect((await w.inbox.next()).payload).toBe("offline");
    // Its close released it, well before the hold ran out.
    expect(Date.now() - started).toBeLessThan(2000);
    await old.closed;
    next.close();
    await w.client.endAsync();
  });
});
