/**
 * The conformance table (test/conformance/cases.ts) with raw bytes over WebSocket and through the
 * TCP gateway, both protocol versions where a rule applies: MQTT 5 gets DISCONNECT with the
 * reason code the specification gives (CONNACK for a CONNECT), then the connection closes;
 * 3.1.1 gets nothing and the connection closes. Through the gateway the client must get the same
 * answer as over WebSocket: the gateway relays the session's last packet before it closes.
 * One broker and one gateway serve the whole file.
 */
import mqttPacket, { type Packet } from "mqtt-packet";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectBytes, props, rows, str, u16, u32, type Version } from "../conformance/cases.js";
import { type Broker, startBroker } from "../helpers/broker.js";
import { RawClient, quiet, uniqueId } from "../helpers/clients.js";
import { eventually } from "../helpers/eventually.js";
import { startTestGateway, type TestGateway } from "../helpers/gateway.js";
import { RawTcpClient } from "../helpers/tcp-client.js";

let broker: Broker;
let gateway: TestGateway;
beforeAll(async () => {
  broker = await startBroker();
  gateway = await startTestGateway(broker);
});
afterAll(async () => {
  await gateway.stop();
  await broker.stop();
});

type Transport = "websocket" | "gateway";

/** One raw connection on either transport, with what it received and whether it closed. */
interface Raw {
  packets: Packet[];
  send(bytes: Uint8Array): void;
  expect(cmd: Packet["cmd"]): Promise<Packet>;
  closed: Promise<unknown>;
  destroy(): void;
}

async function open(transport: Transport, v: Version): Promise<Raw> {
  if (transport === "gateway") {
    const tcp = await RawTcpClient.open(gateway.port, v);
    return { packets: tcp.packets, send: (b) => tcp.socket.write(b), expect: (cmd) => tcp.expect(cmd), closed: tcp.closed, destroy: () => tcp.socket.destroy() };
  }
  const ws = await RawClient.open(broker.mqttUrl, ["mqtt"], v);
  return { packets: ws.packets, send: (b) => ws.send(b), expect: (cmd) => ws.expect(cmd), closed: ws.closed, destroy: () => ws.close() };
}

const connectOf = (v: Version): Uint8Array =>
  mqttPacket.generate({ cmd: "connect", protocolId: "MQTT", protocolVersion: v, clientId: uniqueId("conf"), clean: true, keepalive: 30 } as Packet, { protocolVersion: v });

/**
 * The client subscribes at QoS 2 to a topic of its own and publishes one message there at `qos`;
 * returns the packet id the server delivered it back with, once every answer has arrived.
 */
async function deliveredTo(raw: Raw, v: Version, qos: 1 | 2): Promise<number> {
  const topic = `conformance/${uniqueId("ack")}`;
  raw.send(mqttPacket.generate({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic, qos: 2 }] } as Packet, { protocolVersion: v }));
  await raw.expect("suback");
  raw.send(mqttPacket.generate({ cmd: "publish", topic, payload: Buffer.from("x"), qos, messageId: 2, retain: false, dup: false } as Packet, { protocolVersion: v }));
  await raw.expect(qos === 1 ? "puback" : "pubrec");
  const delivered = await raw.expect("publish");
  expect(delivered).toMatchObject({ qos });
  return (delivered as { messageId: number }).messageId;
}

/** Packets received until the connection closed (fails after 10 s without a close). */
async function untilClosed(raw: Raw): Promise<Packet[]> {
  const closed = await Promise.race([raw.closed.then(() => true), quiet(10_000).then(() => false)]);
  raw.destroy();
  if (!closed) throw new Error(`the connection was not closed; received ${JSON.stringify(raw.packets.map((p) => p.cmd))}`);
  return raw.packets;
}

for (const transport of ["websocket", "gateway"] as const) {
  describe.concurrent(`conformance over ${transport === "websocket" ? "WebSocket" : "TCP through the gateway"}`, () => {
    for (const { c, v, clause } of rows()) {
      const answer = v === 5 ? `${c.connect ? "CONNACK" : "DISCONNECT"} 0x${c.reason5!.toString(16)}, then close` : "close";
      it(`${clause} ${c.name} (MQTT ${v === 5 ? "5.0" : "3.1.1"}): ${answer}`, async () => {
        const raw = await open(transport, v);
        if (!c.connect) {
          raw.send(connectOf(v));
          expect(await raw.expect("connack")).toMatchObject(v === 5 ? { reasonCode: 0 } : { returnCode: 0 });
        }
        raw.send(c.bytes(v, c.delivery ? await deliveredTo(raw, v, c.delivery) : 0));
        const got = await untilClosed(raw);
        if (v === 5) expect(got).toEqual([expect.objectContaining({ cmd: c.connect ? "connack" : "disconnect", reasonCode: c.reason5 })]);
        // 3.1.1: no server DISCONNECT exists, and a bad CONNECT gets no CONNACK [MQTT-3.1.4-1].
        else expect(got).toEqual([]);
      }, 20_000);
    }
  });
}

describe("a CONNACK never exceeds the client's Maximum Packet Size [MQTT-3.1.2-24]", () => {
  for (const transport of ["websocket", "gateway"] as const) {
    it(`[MQTT-3.2.2-19] a refused MQTT 5 CONNECT with Maximum Packet Size 8 gets CONNACK 0x82 without its Reason String (${transport})`, async () => {
      const raw = await open(transport, 5);
      // Receive Maximum 0 is a Protocol Error (§3.1.2.11.3).
      raw.send(connectBytes(5, { clientId: str(uniqueId("small")), properties: props(0x27, ...u32(8), 0x21, ...u16(0)) }));
      const got = await untilClosed(raw);
      expect(got).toEqual([expect.objectContaining({ cmd: "connack", reasonCode: 0x82 })]);
      expect(mqttPacket.generate(got[0]!, { protocolVersion: 5 }).byteLength).toBeLessThanOrEqual(8);
    });

    it(`[MQTT-3.2.2-16] a CONNACK whose Assigned Client Identifier cannot fit a Maximum Packet Size of 20 is CONNACK 0x80, then close (${transport})`, async () => {
      const raw = await open(transport, 5);
      raw.send(connectBytes(5, { clientId: str(""), properties: props(0x27, ...u32(20)) }));
      const got = await untilClosed(raw);
      expect(got).toEqual([expect.objectContaining({ cmd: "connack", reasonCode: 0x80 })]);
      expect(mqttPacket.generate(got[0]!, { protocolVersion: 5 }).byteLength).toBeLessThanOrEqual(20);
    });

    it(`no CONNACK fits a Maximum Packet Size of 4: the connection closes with nothing sent (${transport})`, async () => {
      const raw = await open(transport, 5);
      raw.send(connectBytes(5, { clientId: str(uniqueId("tiny")), properties: props(0x27, ...u32(4)) }));
      expect(await untilClosed(raw)).toEqual([]);
    });

    it(`an accepting CONNACK fits a Maximum Packet Size of 16 (${transport})`, async () => {
      const raw = await open(transport, 5);
      raw.send(connectBytes(5, { clientId: str(uniqueId("small")), properties: props(0x27, ...u32(16)) }));
      const connack = await raw.expect("connack");
      expect(connack).toMatchObject({ reasonCode: 0 });
      expect(mqttPacket.generate(connack, { protocolVersion: 5 }).byteLength).toBeLessThanOrEqual(16);
      raw.destroy();
    });
  }
});

describe("[MQTT-3.1.2-8] a new connection for the client id within the Will Delay cancels the will, whatever Clean Start says", () => {
  for (const transport of ["websocket", "gateway"] as const) {
    it(`[MQTT-3.1.2-8] a reconnect with Clean Start 1 within a Will Delay of 2 s publishes no will (${transport})`, async () => {
      const topic = `conformance/will/${uniqueId()}`;
      const clientId = uniqueId("will");
      const watcher = await open(transport, 5);
      watcher.send(connectOf(5));
      await watcher.expect("connack");
      watcher.send(mqttPacket.generate({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic, qos: 1 }] } as Packet, { protocolVersion: 5 }));
      await watcher.expect("suback");

      const connect = (clean: boolean, will: boolean) =>
        mqttPacket.generate(
          {
            cmd: "connect",
            protocolId: "MQTT",
            protocolVersion: 5,
            clientId,
            clean,
            keepalive: 30,
            properties: { sessionExpiryInterval: 60 },
            ...(will ? { will: { topic, payload: Buffer.from("gone"), qos: 1, retain: false, properties: { willDelayInterval: 2 } } } : {}),
          } as Packet,
          { protocolVersion: 5 },
        );
      const first = await open(transport, 5);
      first.send(connect(true, true));
      await first.expect("connack");
      // Closed without DISCONNECT: the will waits out its delay.
      first.destroy();
      await eventually(async () => (await broker.stats("sessions", clientId)).connected === false);

      const second = await open(transport, 5);
      second.send(connect(true, false));
      expect(await second.expect("connack")).toMatchObject({ reasonCode: 0, sessionPresent: false });
      await quiet(3_000);
      expect(watcher.packets.filter((p) => p.cmd === "publish")).toEqual([]);
      second.destroy();
      watcher.destroy();
    }, 20_000);
  }
});
