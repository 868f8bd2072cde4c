/** MQTT 3.1.1 §3.1 / §3.2: CONNECT validation, CONNACK, client ids, takeover. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Broker, startBroker } from "../helpers/broker.js";
import { RawClient, collect, connect, connectPacket, uniqueId } from "../helpers/clients.js";

let broker: Broker;
beforeAll(async () => {
  broker = await startBroker();
});
afterAll(() => broker.stop());

describe("CONNECT", () => {
  it("accepts a v3.1.1 CONNECT with CONNACK 0 [MQTT-3.2.0-1]", async () => {
    const raw = await RawClient.open(broker.mqttUrl);
    raw.send(connectPacket(uniqueId()));
    const connack = await raw.expect("connack");
    expect(connack).toMatchObject({ returnCode: 0, sessionPresent: false });
    raw.close();
  });

  it("answers an unacceptable protocol level with CONNACK 0x01 and closes [MQTT-3.1.2-2]", async () => {
    const raw = await RawClient.open(broker.mqttUrl);
    const bytes = Buffer.from(
      // CONNECT, "MQTT", level 6, clean session, keepalive 60, client id "x".
      [0x10, 0x0d, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x06, 0x02, 0x00, 0x3c, 0x00, 0x01, 0x78],
    );
    raw.send(bytes);
    expect(await raw.expect("connack")).toMatchObject({ returnCode: 1 });
    await raw.closed;
  });

  it("closes the connection when the reserved CONNECT flag is set [MQTT-3.1.2-3]", async () => {
    const raw = await RawClient.open(broker.mqttUrl);
    raw.send(Buffer.from([0x10, 0x0d, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0x03, 0x00, 0x3c, 0x00, 0x01, 0x78]));
    await raw.closed;
    expect(raw.packets.filter((p) => p.cmd === "connack")).toHaveLength(0);
  });

  it("assigns a client id to an empty one with CleanSession=1 [MQTT-3.1.3-6]", async () => {
    const client = await connect(broker.mqttUrl, { clientId: "", clean: true });
    expect(client.connected).toBe(true);
    // The assigned session works: it can subscribe and receive.
    await client.subscribeAsync("assigned/t", { qos: 1 });
    const inbox = collect(client);
    await client.publishAsync("assigned/t", "hi", { qos: 1 });
    expect((await inbox.next()).payload).toBe("hi");
    await client.endAsync();
  });

  it("rejects an empty client id with CleanSession=0 with CONNACK 0x02 [MQTT-3.1.3-8]", async () => {
    const raw = await RawClient.open(broker.mqttUrl);
    // mqtt.js and mqtt-packet refuse to build this packet, so it is written by hand.
    raw.send(Buffer.from([0x10, 0x0c, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0x00, 0x00, 0x3c, 0x00, 0x00]));
    expect(await raw.expect("connack")).toMatchObject({ returnCode: 2 });
    await raw.closed;
  });

  it("closes a connection whose first packet is not CONNECT [MQTT-3.1.0-1]", async () => {
    const raw = await RawClient.open(broker.mqttUrl);
    raw.send({ cmd: "pingreq" });
    await raw.closed;
    expect(raw.packets).toHaveLength(0);
  });

  it("treats a second CONNECT as a protocol violation and closes [MQTT-3.1.0-2]", async () => {
    const raw = await RawClient.open(broker.mqttUrl);
    const id = uniqueId();
    raw.send(connectPacket(id));
    await raw.expect("connack");
    raw.send(connectPacket(id));
    await raw.closed;
  });

  it("takes over the session of a connected client id and closes the first connection [MQTT-3.1.4-2]", async () => {
    const id = uniqueId("takeover");
    const first = await connect(broker.mqttUrl, { clientId: id });
    const firstClosed = new Promise<void>((resolve) => first.once("close", () => resolve()));
    const second = await connect(broker.mqttUrl, { clientId: id });
    await firstClosed;
    expect(second.connected).toBe(true);
    await second.subscribeAsync("takeover/t");
    const inbox = collect(second);
    await second.publishAsync("takeover/t", "still here");
    expect((await inbox.next()).payload).toBe("still here");
    await second.endAsync();
  });

  it("routes with a ?clientId= hint straight to the session and rejects a mismatching CONNECT with 0x02", async () => {
    const id = uniqueId("hint");
    const ok = await connect(`${broker.mqttUrl}?clientId=${id}`, { clientId: id });
    expect(ok.connected).toBe(true);
    await ok.endAsync();
    const raw = await RawClient.open(`${broker.mqttUrl}?clientId=${id}`);
    raw.send(connectPacket("someone-else"));
    expect(await raw.expect("connack")).toMatchObject({ returnCode: 2 });
    await raw.closed;
  });
});
