/** The edge connection machine, driven byte by byte with explicit time: no sockets, no timers. */
import mqttPacket, { type Packet } from "mqtt-packet";
import { describe, expect, it } from "vitest";
import { EdgeConnection, type EdgeAction, type EdgeOptions } from "./connection.js";

const OPTIONS: EdgeOptions = { maxPacketSize: 4096, maxHeldBytes: 8192, connectTimeoutMs: 10_000, stallTimeoutMs: 30_000, enforceKeepalive: true, flowWindowBytes: null, maxClientIdBytes: 256 };

const bytes = (packet: Packet, version: 4 | 5 = 4) => new Uint8Array(mqttPacket.generate(packet, { protocolVersion: version }));
const concat = (...parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts));
const connectOf = (version: 4 | 5, keepalive: number, clientId = "c1") => bytes({ cmd: "connect", protocolId: "MQTT", protocolVersion: version, clientId, clean: true, keepalive } as Packet, version);
const CONNACK_4 = bytes({ cmd: "connack", returnCode: 0, sessionPresent: false });
const connack5 = (reasonCode = 0, properties?: Record<string, unknown>) => bytes({ cmd: "connack", reasonCode, sessionPresent: false, ...(properties ? { properties } : {}) } as Packet, 5);
const PINGREQ = Uint8Array.of(0xc0, 0x00);
const PINGRESP = Uint8Array.of(0xd0, 0x00);
const publish = (payload = "x") => bytes({ cmd: "publish", topic: "t", payload: Buffer.from(payload), qos: 0, retain: false, dup: false });

const toUpstream = (actions: EdgeAction[]) => actions.filter((a) => a.type === "toUpstream").map((a) => [...(a as { bytes: Uint8Array }).bytes]);
const toClient = (actions: EdgeAction[]) => actions.filter((a) => a.type === "toClient").map((a) => [...(a as { bytes: Uint8Array }).bytes]);
const closes = (actions: EdgeAction[]) => actions.filter((a): a is Extract<EdgeAction, { type: "close" }> => a.type === "close");
const list = (b: Uint8Array) => [...b];
/** An MQTT 5 packet the edge sent, decoded. */
function decode5(b: number[]): Packet {
  const parser = mqttPacket.parser({ protocolVersion: 5 });
  let seen: Packet | undefined;
  parser.on("packet", (p: Packet) => (seen = p));
  parser.parse(Buffer.from(b));
  if (!seen) throw new Error("not a whole packet");
  return seen;
}
const reasonOf = (b: number[]) => (decode5(b) as { reasonCode?: number }).reasonCode;

/** An edge whose client sent CONNECT at `at` and whose session accepted it at the same time. */
function accepted(version: 4 | 5, keepalive: number, at = 0, options: Partial<EdgeOptions> = {}, connack = version === 5 ? connack5() : CONNACK_4) {
  const edge = new EdgeConnection({ ...OPTIONS, ...options }, at);
  edge.fromClient(connectOf(version, keepalive), at);
  edge.upstreamOpened();
  expect(edge.fromUpstream(connack, at)).toEqual([{ type: "toClient", bytes: connack }]);
  return edge;
}

describe("until CONNECT", () => {
  it("asks to open the session of the CONNECT's client id once the packet is whole, however it was split [MQTT-6.0.0-2]", () => {
    const edge = new EdgeConnection(OPTIONS, 0);
    const connect = connectOf(4, 60, "device-7");
    for (const b of connect.subarray(0, -1)) expect(edge.fromClient(Uint8Array.of(b), 0)).toEqual([]);
    expect(edge.fromClient(connect.subarray(-1), 0)).toEqual([{ type: "open", clientId: "device-7" }]);
  });

  it("asks to open with no client id when the CONNECT does not decode (the session answers it)", () => {
    const edge = new EdgeConnection(OPTIONS, 0);
    // CONNECT, protocol level 6: a whole packet the session refuses with CONNACK 0x01.
    expect(edge.fromClient(Uint8Array.of(0x10, 0x0d, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x06, 0x02, 0x00, 0x3c, 0x00, 0x01, 0x78), 0)).toEqual([{ type: "open", clientId: null }]);
  });

  it("closes when the first packet is not CONNECT [MQTT-3.1.0-1]", () => {
    const edge = new EdgeConnection(OPTIONS, 0);
    expect(closes(edge.fromClient(PINGREQ, 0))).toEqual([{ type: "close", code: 1002, reason: "first packet was not CONNECT" }]);
    expect(edge.closed).toBe(true);
    expect(edge.fromClient(connectOf(4, 60), 0)).toEqual([]);
  });

  it("closes at the CONNECT deadline, and while the upstream has not opened by then", () => {
    const silent = new EdgeConnection(OPTIONS, 1_000);
    expect(silent.nextDeadline()).toBe(11_000);
    expect(silent.timer(10_999)).toEqual([]);
    expect(closes(silent.timer(11_000))).toEqual([{ type: "close", code: 1002, reason: "no CONNECT in time" }]);
    expect(silent.nextDeadline()).toBeNull();

    const slow = new EdgeConnection(OPTIONS, 0);
    slow.fromClient(connectOf(4, 0), 100);
    expect(slow.nextDeadline()).toBe(10_000);
    expect(closes(slow.timer(10_000))[0]?.reason).toBe("the session did not open in time");

    const opened = new EdgeConnection(OPTIONS, 0);
    opened.fromClient(connectOf(4, 0), 100);
    opened.upstreamOpened();
    expect(opened.nextDeadline()).toBeNull();
  });

  it("closes on a malformed remaining length or a packet over the limit, before any byte goes upstream", () => {
    const edge = new EdgeConnection(OPTIONS, 0);
    expect(closes(edge.fromClient(Uint8Array.of(0x10, 0xff, 0xff, 0xff, 0xff, 0x01), 0))[0]?.reason).toBe("bad input: a malformed remaining length");
    const big = new EdgeConnection(OPTIONS, 0);
    expect(closes(big.fromClient(Uint8Array.of(0x10, 0xff, 0xff, 0x7f), 0))[0]?.reason).toBe("bad input: a packet of 2097155 bytes (over 4096)");
  });
});

describe("while the upstream opens", () => {
  it("holds the CONNECT and what follows, then sends them first, in order, in one frame", () => {
    const edge = new EdgeConnection(OPTIONS, 0);
    const connect = connectOf(4, 60);
    const [a, b] = [publish("a"), publish("b")];
    const both = concat(connect, a, PINGREQ, b.subarray(0, 3));
    expect(edge.fromClient(both, 0)).toEqual([{ type: "open", clientId: "c1" }]);
    expect(edge.fromClient(b.subarray(3), 0)).toEqual([]);
    expect(edge.heldBytes).toBe(connect.length + a.length + PINGREQ.length + b.length);
    expect(toUpstream(edge.upstreamOpened())).toEqual([list(concat(connect, a, PINGREQ, b))]);
    expect(edge.heldBytes).toBe(0);
    expect(edge.upstreamOpened()).toEqual([]);
  });

  it("closes with a clear reason when the client sends more than it may before the session opened", () => {
    const edge = new EdgeConnection({ ...OPTIONS, maxHeldBytes: 1000 }, 0);
    edge.fromClient(connectOf(4, 60), 0);
    let actions: EdgeAction[] = [];
    for (let i = 0; i < 20 && actions.length === 0; i++) actions = edge.fromClient(publish("x".repeat(100)), 0);
    expect(closes(actions)).toEqual([{ type: "close", code: 1008, reason: "more than 1000 bytes sent before the session opened" }]);
    expect(edge.heldBytes).toBe(0);
  });
});

describe("PINGREQ", () => {
  it("is forwarded until the session accepted the connection (it answers them itself)", () => {
    const edge = new EdgeConnection(OPTIONS, 0);
    edge.fromClient(connectOf(4, 60), 0);
    edge.upstreamOpened();
    expect(edge.fromClient(PINGREQ, 0)).toEqual([{ type: "toUpstream", bytes: PINGREQ }]);
  });

  it("is answered with PINGRESP by the edge once the CONNACK accepted, and never reaches the session [MQTT-3.12.4-1]", () => {
    const edge = accepted(4, 60);
    expect(edge.fromClient(PINGREQ, 1_000)).toEqual([{ type: "toClient", bytes: PINGRESP }]);
    // Two in one frame get two answers; the packets around them still go up, in order.
    const [a, b] = [publish("a"), publish("b")];
    const actions = edge.fromClient(concat(a, PINGREQ, b, PINGREQ), 2_000);
    expect(toClient(actions)).toEqual([list(PINGRESP), list(PINGRESP)]);
    expect(toUpstream(actions)).toEqual([list(concat(a, b))]);
  });

  it("is answered for MQTT 5 too, and after a CONNACK split across frames", () => {
    const edge = new EdgeConnection(OPTIONS, 0);
    edge.fromClient(connectOf(5, 60), 0);
    edge.upstreamOpened();
    const connack = connack5(0, { serverKeepAlive: 30 });
    expect(toClient(edge.fromUpstream(connack.subarray(0, 2), 0))).toEqual([list(connack.subarray(0, 2))]);
    expect(edge.fromClient(PINGREQ, 0)).toEqual([{ type: "toUpstream", bytes: PINGREQ }]);
    edge.fromUpstream(connack.subarray(2), 0);
    expect(edge.fromClient(PINGREQ, 0)).toEqual([{ type: "toClient", bytes: PINGRESP }]);
  });

  it("is forwarded after a refusing CONNACK, and nothing is timed: the session closes that connection", () => {
    const edge = accepted(5, 10, 0, {}, connack5(0x86));
    expect(edge.fromClient(PINGREQ, 0)).toEqual([{ type: "toUpstream", bytes: PINGREQ }]);
    expect(edge.nextDeadline()).toBeNull();
    const v4 = accepted(4, 10, 0, {}, bytes({ cmd: "connack", returnCode: 5, sessionPresent: false }));
    expect(v4.nextDeadline()).toBeNull();
  });

  it("a PINGREQ with flags or a body is not answered: the session rejects it", () => {
    const edge = accepted(4, 60);
    expect(toUpstream(edge.fromClient(Uint8Array.of(0xc1, 0x00), 0))).toEqual([[0xc1, 0x00]]);
  });

  it("is forwarded when another edge in front already answers PINGREQ (enforceKeepalive off), and no keepalive is kept", () => {
    const edge = accepted(4, 10, 0, { enforceKeepalive: false });
    expect(edge.fromClient(PINGREQ, 0)).toEqual([{ type: "toUpstream", bytes: PINGREQ }]);
    expect(edge.nextDeadline()).toBeNull();
    expect(edge.timer(1_000_000)).toEqual([]);
  });
});

describe("keepalive", () => {
  it("is checked at 1.5 × the keepalive after acceptance; any packet, not only PINGREQ, moves it [MQTT-3.1.2-24]", () => {
    const edge = accepted(4, 10, 1_000);
    expect(edge.nextDeadline()).toBe(16_000);
    edge.fromClient(publish(), 12_000);
    expect(edge.timer(16_000)).toEqual([]);
    expect(edge.nextDeadline()).toBe(27_000);
    edge.fromClient(PINGREQ, 20_000);
    expect(edge.timer(27_000)).toEqual([]);
    expect(edge.nextDeadline()).toBe(35_000);
  });

  it("closes an MQTT 3.1.1 connection silent for 1.5 × the keepalive, with no DISCONNECT (3.1.1 has none) [MQTT-3.1.2-24]", () => {
    const edge = accepted(4, 2);
    expect(edge.timer(2_999)).toEqual([]);
    expect(edge.timer(3_000)).toEqual([{ type: "close", code: 1002, reason: "keepalive expired" }]);
    expect(edge.closed).toBe(true);
  });

  it("tells an MQTT 5 client DISCONNECT 0x8D with a Reason String, then closes [MQTT-3.1.2-22]", () => {
    const edge = accepted(5, 2);
    const actions = edge.timer(3_000);
    expect(toClient(actions).map((b) => decode5(b))).toEqual([expect.objectContaining({ cmd: "disconnect", reasonCode: 0x8d, properties: { reasonString: "keepalive expired" } })]);
    expect(closes(actions)).toEqual([{ type: "close", code: 1002, reason: "keepalive expired" }]);
  });

  it("leaves the Reason String out when the client asked for no problem information, or it would exceed the client's Maximum Packet Size [MQTT-3.1.2-24]", () => {
    for (const properties of [{ requestProblemInformation: false }, { maximumPacketSize: 10 }]) {
      const edge = new EdgeConnection(OPTIONS, 0);
      edge.fromClient(bytes({ cmd: "connect", protocolId: "MQTT", protocolVersion: 5, clientId: "c1", clean: true, keepalive: 2, properties } as Packet, 5), 0);
      edge.upstreamOpened();
      edge.fromUpstream(connack5(), 0);
      expect(toClient(edge.timer(3_000))).toEqual([[0xe0, 0x01, 0x8d]]);
    }
  });

  it("uses MQTT 5's Server Keep Alive from CONNACK instead of the client's keepalive [MQTT-3.2.2-21]", () => {
    const lowered = accepted(5, 60, 0, {}, connack5(0, { serverKeepAlive: 5 }));
    expect(lowered.nextDeadline()).toBe(7_500);
    const imposed = accepted(5, 0, 0, {}, connack5(0, { serverKeepAlive: 4 }));
    expect(imposed.nextDeadline()).toBe(6_000);
  });

  it("is off with keepalive 0 [MQTT-3.1.2-24]", () => {
    const edge = accepted(4, 0);
    expect(edge.nextDeadline()).toBeNull();
    expect(edge.timer(10_000_000)).toEqual([]);
  });
});

describe("after acceptance", () => {
  it("relays the session's bytes unparsed, as they come", () => {
    const edge = accepted(4, 60);
    const anything = Uint8Array.of(0x30, 0x03, 0x00, 0x01, 0x74, 0x99);
    expect(edge.fromUpstream(anything, 0)).toEqual([{ type: "toClient", bytes: anything }]);
  });

  it("tells an MQTT 5 client DISCONNECT 0x95 for a packet over the limit, and 0x81 for a malformed length or a text frame [MQTT-6.0.0-1]", () => {
    const big = accepted(5, 60);
    expect(toClient(big.fromClient(Uint8Array.of(0x30, 0xff, 0x7f), 0)).map(reasonOf)).toEqual([0x95]);
    expect(big.closed).toBe(true);
    const malformed = accepted(5, 60);
    expect(toClient(malformed.fromClient(Uint8Array.of(0x30, 0xff, 0xff, 0xff, 0xff, 0x01), 0)).map(reasonOf)).toEqual([0x81]);
    const text = accepted(5, 60);
    const actions = text.clientText();
    expect(toClient(actions).map(decode5)).toEqual([expect.objectContaining({ reasonCode: 0x81, properties: { reasonString: "MQTT requires binary frames" } })]);
    expect(closes(actions)).toEqual([{ type: "close", code: 1003, reason: "MQTT requires binary frames" }]);
    const v4 = accepted(4, 60);
    expect(v4.clientText()).toEqual([{ type: "close", code: 1003, reason: "MQTT requires binary frames" }]);
  });

  it("forwards the packets before a bad one, then closes", () => {
    const edge = accepted(4, 60);
    const a = publish("a");
    const actions = edge.fromClient(concat(a, Uint8Array.of(0x30, 0xff, 0x7f)), 0);
    expect(actions[0]).toEqual({ type: "toUpstream", bytes: a });
    expect(closes(actions)).toHaveLength(1);
  });
});

describe("a half packet", () => {
  it("is closed after the stall timeout without a byte, and every byte resets it", () => {
    const edge = accepted(4, 0);
    const p = publish("x".repeat(100));
    edge.fromClient(p.subarray(0, 10), 1_000);
    expect(edge.nextDeadline()).toBe(31_000);
    edge.fromClient(p.subarray(10, 20), 20_000);
    // Checked at 31 s: progress at 20 s, so the next check is at 50 s.
    expect(edge.timer(31_000)).toEqual([]);
    expect(edge.nextDeadline()).toBe(50_000);
    expect(closes(edge.timer(50_000))).toEqual([{ type: "close", code: 1008, reason: "half a packet stalled for 30 s" }]);
  });

  it("stops being timed once the packet is whole", () => {
    const edge = accepted(4, 0);
    const p = publish("x".repeat(100));
    edge.fromClient(p.subarray(0, 10), 0);
    expect(toUpstream(edge.fromClient(p.subarray(10), 5_000))).toEqual([list(p)]);
    expect(edge.nextDeadline()).toBeNull();
  });

  it("has no limit with stallTimeoutMs null", () => {
    const edge = accepted(4, 0, 0, { stallTimeoutMs: null });
    edge.fromClient(publish("x".repeat(100)).subarray(0, 10), 0);
    expect(edge.nextDeadline()).toBeNull();
  });
});

describe("closing", () => {
  it("closes once; every input after that does nothing", () => {
    const edge = accepted(4, 10);
    expect(edge.close(1000, "client closed")).toEqual([{ type: "close", code: 1000, reason: "client closed" }]);
    expect(edge.close(1000, "again")).toEqual([]);
    expect(edge.fromClient(PINGREQ, 0)).toEqual([]);
    expect(edge.fromUpstream(PINGRESP, 0)).toEqual([]);
    expect(edge.clientText()).toEqual([]);
    expect(edge.timer(1_000_000)).toEqual([]);
    expect(edge.nextDeadline()).toBeNull();
  });
});

describe("flow control towards the session (a device that writes faster than its session takes)", () => {
  const big = (n: number) => bytes({ cmd: "publish", topic: "t", payload: Buffer.alloc(n), qos: 0, retain: false, dup: false });

  it("sends a probe after a window of bytes and asks the shell to stop reading until it is answered", () => {
    const edge = accepted(4, 60, 0, { flowWindowBytes: 1000 });
    // Under the window: relayed as is, nothing paused.
    expect(toUpstream(edge.fromClient(big(400), 1))).toEqual([list(big(400))]);
    expect(edge.paused).toBe(false);
    // The window is reached: a PINGREQ of our own follows the packet.
    expect(toUpstream(edge.fromClient(big(700), 2))).toEqual([[...list(big(700)), 0xc0, 0x00]]);
    expect(edge.paused).toBe(false);
    // Another window before the answer: the shell must stop reading the client.
    edge.fromClient(big(1100), 3);
    expect(edge.paused).toBe(true);
    // The session's PINGRESP answers the probe; it is not the client's, so it is not relayed; a
    // full window already waited, so the next probe goes at once.
    const answer = edge.fromUpstream(Uint8Array.of(0xd0, 0x00), 4);
    expect(toClient(answer)).toEqual([]);
    expect(toUpstream(answer)).toEqual([[0xc0, 0x00]]);
    expect(edge.paused).toBe(false);
    expect(toClient(edge.fromUpstream(Uint8Array.of(0xd0, 0x00), 5))).toEqual([]);
    // With no probe outstanding, a PINGRESP from upstream is relayed as any packet.
    expect(toClient(edge.fromUpstream(Uint8Array.of(0xd0, 0x00), 6))).toEqual([[0xd0, 0x00]]);
  });

  it("is off for the Worker pipe (a Worker cannot stop reading a WebSocket)", () => {
    const edge = accepted(4, 60, 0, { flowWindowBytes: null });
    for (let i = 0; i < 3; i++) expect(toUpstream(edge.fromClient(big(3000), i))).toEqual([list(big(3000))]);
    expect(edge.paused).toBe(false);
  });
});

describe("client ids that cannot name a session [MQTT-3.1.3-8]", () => {
  // The server may refuse a client id: CONNACK 0x85 Client Identifier not valid (MQTT 5 §3.1.3.1),
  // 0x02 Identifier rejected (3.1.1 [MQTT-3.1.3-8]), then it closes [MQTT-3.2.2-5]. An id above
  // maxClientIdBytes never reaches a session object (its name, route header, socket attachment).
  it.each([
    [4, [0x20, 0x02, 0x00, 0x02]],
    [5, [0x20, 0x03, 0x00, 0x85, 0x00]],
  ] as const)("MQTT %i: refuses an id above maxClientIdBytes itself, opening nothing", (version, connack) => {
    const edge = new EdgeConnection(OPTIONS, 0);
    const actions = edge.fromClient(connectOf(version, 0, "x".repeat(257)), 0);
    expect(actions.map((a) => a.type)).toEqual(["toClient", "close"]);
    expect(toClient(actions)).toEqual([[...connack]]);
    expect(edge.closed).toBe(true);
    expect(edge.fromClient(PINGREQ, 1)).toEqual([]);
  });

  it("counts bytes, not characters, and opens an id at the limit", () => {
    expect(new EdgeConnection(OPTIONS, 0).fromClient(connectOf(5, 0, "€".repeat(86)), 0).map((a) => a.type)).toEqual(["toClient", "close"]); // 258 bytes
    expect(new EdgeConnection(OPTIONS, 0).fromClient(connectOf(5, 0, `${"€".repeat(85)}x`), 0)).toEqual([{ type: "open", clientId: `${"€".repeat(85)}x` }]); // 256
  });

  it("with the id the URL named (too long to go straight to its session), refuses a CONNECT with another id", () => {
    const hinted = { ...OPTIONS, clientIdHint: "y".repeat(2000) };
    expect(toClient(new EdgeConnection(hinted, 0).fromClient(connectOf(4, 0, "short"), 0))).toEqual([[0x20, 0x02, 0x00, 0x02]]);
    expect(toClient(new EdgeConnection(hinted, 0).fromClient(connectOf(4, 0, "y".repeat(2000)), 0))).toEqual([[0x20, 0x02, 0x00, 0x02]]);
  });

  it("leaves an empty id (assigned by the broker) and an undecodable CONNECT to the session", () => {
    expect(new EdgeConnection(OPTIONS, 0).fromClient(connectOf(5, 0, ""), 0)).toEqual([{ type: "open", clientId: "" }]);
    const illFormed = connectOf(4, 0, "ab");
    illFormed[illFormed.length - 1] = 0xff;
    expect(new EdgeConnection(OPTIONS, 0).fromClient(illFormed, 0)).toEqual([{ type: "open", clientId: null }]);
  });
});
