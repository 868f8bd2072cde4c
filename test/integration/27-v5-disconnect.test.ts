/** MQTT 5.0 §3.14, §4.13: the broker sends DISCONNECT with a reason code before closing. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Broker, startBroker } from "../helpers/broker.js";
import { RawClient, connectV5, uniqueId } from "../helpers/clients.js";

let broker: Broker;
beforeAll(async () => {
  broker = await startBroker({ vars: { MAX_PACKET_SIZE: "4096" } });
});
afterAll(() => broker.stop());

async function rawV5(extra: Record<string, unknown> = {}) {
  const raw = await RawClient.open(broker.mqttUrl, ["mqtt"], 5);
  raw.send({ cmd: "connect", protocolId: "MQTT", protocolVersion: 5, clientId: uniqueId(), clean: true, keepalive: 30, ...extra } as never, 5);
  await raw.expect("connack");
  return raw;
}

describe("server DISCONNECT reason codes", () => {
  it("0x8E Session taken over", async () => {
    const id = uniqueId("to");
    const first = await rawV5({ clientId: id });
    const second = await connectV5(broker.mqttUrl, { clientId: id });
    expect(await first.expect("disconnect")).toMatchObject({ reasonCode: 0x8e });
    await first.closed;
    await second.client.endAsync();
  });

  it("0x8D Keep alive timeout", async () => {
    const raw = await rawV5({ keepalive: 1 });
    expect(await raw.expect("disconnect", 4000)).toMatchObject({ reasonCode: 0x8d });
    await raw.closed;
  });

  it("0x82 Protocol error (a second CONNECT) with a Reason String", async () => {
    const raw = await rawV5();
    raw.send({ cmd: "connect", protocolId: "MQTT", protocolVersion: 5, clientId: "x", clean: true, keepalive: 30 } as never, 5);
    const d = (await raw.expect("disconnect")) as { reasonCode: number; properties?: { reasonString?: string } };
    expect(d.reasonCode).toBe(0x82);
    expect(d.properties?.reasonString).toMatch(/CONNECT/);
    await raw.closed;
  });

  it("0x82 Protocol error for an AUTH packet (no enhanced authentication)", async () => {
    const raw = await rawV5();
    raw.send({ cmd: "auth", reasonCode: 0x18, properties: { authenticationMethod: "x" } } as never, 5);
    expect(await raw.expect("disconnect")).toMatchObject({ reasonCode: 0x82 });
    await raw.closed;
  });

  it("0x81 Malformed packet", async () => {
    const raw = await rawV5();
    raw.send(Buffer.from([0x30, 0x03, 0x00, 0x05, 0x61])); // topic length past the end
    expect(await raw.expect("disconnect")).toMatchObject({ reasonCode: 0x81 });
    await raw.closed;
  });

  it("0x81 Malformed Packet for a wildcard in a PUBLISH topic [MQTT-3.3.2-2]", async () => {
    // Changed with issue 14: 0x90 Topic Name invalid is for a topic name that "is not malformed,
    // but is not accepted" (§2.4); one with a wildcard is not a topic name (see docs/CONFORMANCE.md).
    const raw = await rawV5();
    raw.send({ cmd: "publish", topic: "a/+", payload: Buffer.from("x"), qos: 0, retain: false, dup: false } as never, 5);
    expect(await raw.expect("disconnect")).toMatchObject({ reasonCode: 0x81 });
    await raw.closed;
  });

  it("0x95 Packet too large", async () => {
    const raw = await rawV5();
    raw.send({ cmd: "publish", topic: "big", payload: Buffer.alloc(5000), qos: 0, retain: false, dup: false } as never, 5);
    expect(await raw.expect("disconnect")).toMatchObject({ reasonCode: 0x95 });
    await raw.closed;
  });

  it("omits the Reason String when the client set Request Problem Information to 0 (§3.1.2.11.7)", async () => {
    const raw = await rawV5({ properties: { requestProblemInformation: false } });
    raw.send({ cmd: "publish", topic: "a/#", payload: Buffer.from("x"), qos: 0, retain: false, dup: false } as never, 5);
    const d = (await raw.expect("disconnect")) as { properties?: { reasonString?: string } };
    expect(d.properties?.reasonString).toBeUndefined();
    await raw.closed;
  });
});
