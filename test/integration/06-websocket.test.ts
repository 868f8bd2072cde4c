/** MQTT 3.1.1 §6 (WebSocket transport) and the /mqtt route's HTTP behaviour. */
import mqttPacket from "mqtt-packet";
import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Broker, startBroker } from "../helpers/broker.js";
import { RawClient, collect, connect, connectPacket, uniqueId } from "../helpers/clients.js";

let broker: Broker;
beforeAll(async () => {
  broker = await startBroker();
});
afterAll(() => broker.stop());

describe("the /mqtt endpoint", () => {
  it("refuses a plain HTTP request with 426 and says why", async () => {
    const res = await fetch(`${broker.url}/mqtt`);
    expect(res.status).toBe(426);
    expect(await res.text()).toMatch(/WebSocket/);
  });

  it("refuses an upgrade without an MQTT subprotocol with 400 and says why", async () => {
    const status = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`${broker.mqttUrl}`, ["chat"]);
      ws.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
      ws.on("open", () => resolve(101));
    });
    expect(status).toBe(400);
  });

  it.each([["mqtt"], ["mqttv3.1"]])("answers exactly one chosen subprotocol (%s): mqtt [MQTT-6.0.0-4], or mqttv3.1 for older clients that offer only it", async (protocol) => {
    const raw = await RawClient.open(broker.mqttUrl, ["unknown", protocol]);
    expect(raw.ws.protocol).toBe(protocol);
    raw.close();
  });

  it("accepts a CONNECT split into many frames (as mqtt.js in Node writes it) [MQTT-6.0.0-2]", async () => {
    const raw = await RawClient.open(broker.mqttUrl);
    const bytes = mqttPacket.generate(connectPacket(uniqueId()));
    for (const byte of bytes) raw.send(Uint8Array.of(byte));
    expect(await raw.expect("connack")).toMatchObject({ returnCode: 0 });
    raw.close();
  });

  it("handles several packets in one frame, in order [MQTT-6.0.0-2]", async () => {
    const topic = `ws/coalesced/${uniqueId()}`;
    const sub = await connect(broker.mqttUrl);
    await sub.subscribeAsync(topic, { qos: 1 });
    const inbox = collect(sub);
    const raw = await RawClient.open(broker.mqttUrl);
    const packets = [
      connectPacket(uniqueId()),
      ...[1, 2, 3].map((n) => ({ cmd: "publish", topic, payload: Buffer.from(`p${n}`), qos: 1, messageId: n, retain: false, dup: false }) as const),
      { cmd: "pingreq" } as const,
    ];
    raw.send(Buffer.concat(packets.map((p) => mqttPacket.generate(p))));
    await raw.expect("connack");
    for (const n of [1, 2, 3]) expect(await raw.expect("puback")).toMatchObject({ messageId: n });
    await raw.expect("pingresp");
    expect((await inbox.count(3)).map((m) => m.payload)).toEqual(["p1", "p2", "p3"]);
    raw.close();
    await sub.endAsync();
  });

  it("passes a packet split across frames after CONNECT, with the next packet in the same frame", async () => {
    const topic = `ws/split/${uniqueId()}`;
    const sub = await connect(broker.mqttUrl);
    await sub.subscribeAsync(topic, { qos: 1 });
    const inbox = collect(sub);
    const raw = await RawClient.open(broker.mqttUrl);
    raw.send(connectPacket(uniqueId()));
    await raw.expect("connack");
    const a = mqttPacket.generate({ cmd: "publish", topic, payload: Buffer.alloc(3000, 97), qos: 1, messageId: 1, retain: false, dup: false });
    const b = mqttPacket.generate({ cmd: "publish", topic, payload: Buffer.from("second"), qos: 1, messageId: 2, retain: false, dup: false });
    const all = Buffer.concat([a, b]);
    raw.send(all.subarray(0, 1000));
    raw.send(all.subarray(1000, a.length + 5));
    raw.send(all.subarray(a.length + 5));
    await raw.expect("puback");
    await raw.expect("puback");
    const got = await inbox.count(2);
    expect(got[0]?.payload).toHaveLength(3000);
    expect(got[1]?.payload).toBe("second");
    raw.close();
    await sub.endAsync();
  });

  it("closes the connection on a text frame [MQTT-6.0.0-1]", async () => {
    const raw = await RawClient.open(broker.mqttUrl);
    raw.send(connectPacket(uniqueId()));
    await raw.expect("connack");
    raw.ws.send("not binary");
    await raw.closed;
  });

  it("carries a message close to the maximum packet size (1 MiB) both ways", async () => {
    const topic = `ws/large/${uniqueId()}`;
    const sub = await connect(broker.mqttUrl);
    await sub.subscribeAsync(topic, { qos: 1 });
    const inbox = collect(sub);
    const pub = await connect(broker.mqttUrl);
    const payload = Buffer.alloc(1024 * 1024 - 200, 120);
    await pub.publishAsync(topic, payload, { qos: 1 });
    expect((await inbox.next(10_000)).payload.length).toBe(payload.length);
    await Promise.all([pub.endAsync(), sub.endAsync()]);
  });
});

describe("stats endpoints", () => {
  it("refuse requests without the operator's token", async () => {
    const res = await fetch(`${broker.url}/stats/sessions/anyone`);
    expect(res.status).toBe(401);
  });
});
