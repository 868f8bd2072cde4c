/** buildPublish: each PUBLISH to a client, with remaining expiry, MQTT 5 properties, topic aliases and the size limit. */
import type { IPublishPacket } from "mqtt-packet";
import { describe, expect, it } from "vitest";
import { encodePacket } from "../codec/codec.js";
import type { Message, MessageProperties, QoS } from "../message.js";
import { buildPublish, type BuildResult, type OutgoingPublish } from "./publish-out.js";
import type { ConnectionState, TopicAliases } from "./state.js";

// ---- helpers ----

/** A live MQTT 5 connection that accepts no topic aliases and has no size limit, unless `overrides` says so. */
function conn(overrides: Partial<ConnectionState> = {}): ConnectionState {
  return {
    connId: "k1",
    clientId: "c1",
    version: 5,
    keepalive: 0,
    lastSeen: 0,
    receiveMaximum: 65535,
    topicAliasMaximum: 0,
    problemInformation: true,
    connectExpiry: 0,
    auth: {},
    ...overrides,
  };
}

const message = (topic: string, payload: string, extra: Partial<Message> = {}): Message => ({
  topic,
  payload: new TextEncoder().encode(payload),
  qos: 1,
  retain: false,
  origin: "publisher",
  ...extra,
});

function out(msg: Message, extra: Partial<OutgoingPublish> = {}): OutgoingPublish {
  return { message: msg, qos: 0, retain: false, dup: false, ...extra };
}

const noAliases = (): TopicAliases => ({ inbound: {}, outbound: {} });

/** The packet of a successful build; fails the test otherwise. */
function packetOf(result: BuildResult): IPublishPacket {
  if (!result.ok) throw new Error(`not built: ${result.why}`);
  return result.packet;
}

const FORWARDED: MessageProperties = {
  payloadFormatIndicator: true,
  contentType: "text/plain",
  responseTopic: "reply/c1",
  correlationData: new Uint8Array([7, 8, 9]),
  userProperties: { k: "v", many: ["1", "2"] },
};

// ---- tests ----

describe("buildPublish: the packet", () => {
  it("carries topic, payload, QoS, retain, dup and the packet id", () => {
    const packet = packetOf(buildPublish(conn(), out(message("a/b", "hello"), { qos: 1, retain: true, dup: true, packetId: 42 }), noAliases(), 16, 0));
    expect(packet).toMatchObject({ cmd: "publish", topic: "a/b", qos: 1, retain: true, dup: true, messageId: 42 });
    expect(Buffer.from(packet.payload).toString()).toBe("hello");
  });

  it("has no packet id at QoS 0", () => {
    const packet = packetOf(buildPublish(conn(), out(message("a/b", "x"), { qos: 0, packetId: 5 }), noAliases(), 16, 0));
    expect(packet).not.toHaveProperty("messageId");
  });

  it("has no properties for an MQTT 5 message that needs none", () => {
    const packet = packetOf(buildPublish(conn(), out(message("a/b", "x")), noAliases(), 16, 0));
    expect(packet.properties).toBeUndefined();
  });
});

describe("buildPublish: Message Expiry Interval", () => {
  it("does not build an expired message [MQTT-3.3.2-5]", () => {
    for (const version of [4, 5] as const) {
      const c = conn({ version });
      expect(buildPublish(c, out(message("a/b", "x", { expiresAt: 1_000 })), noAliases(), 16, 1_000)).toEqual({ ok: false, why: "expired" });
      expect(buildPublish(c, out(message("a/b", "x", { expiresAt: 1_000 })), noAliases(), 16, 5_000)).toEqual({ ok: false, why: "expired" });
    }
  });

  it("retransmits a message already sent whatever its expiry, so its QoS 1/2 flow completes [MQTT-4.3.3-7] (review F23)", () => {
    const built = buildPublish(conn({ version: 5 }), out(message("a/b", "x", { expiresAt: 1_000 }), { qos: 2, packetId: 9, dup: true }), noAliases(), 16, 5_000);
    expect(built).toMatchObject({ ok: true, packet: { dup: true, qos: 2, messageId: 9, properties: { messageExpiryInterval: 1 } } });
  });

  it("sends the remaining lifetime in whole seconds, rounded up [MQTT-3.3.2-6]", () => {
    const interval = (expiresAt: number, now: number) => packetOf(buildPublish(conn(), out(message("a/b", "x", { expiresAt })), noAliases(), 16, now)).properties?.messageExpiryInterval;
    expect(interval(31_000, 1_000)).toBe(30);
    expect(interval(31_000, 2_500)).toBe(29); // 28.5 s left
    expect(interval(2_500, 1_000)).toBe(2); // 1.5 s left
    expect(interval(1_001, 1_000)).toBe(1); // 1 ms left
  });

  it("sends no Message Expiry Interval to an MQTT 3.1.1 client", () => {
    const packet = packetOf(buildPublish(conn({ version: 4 }), out(message("a/b", "x", { expiresAt: 10_000 })), noAliases(), 16, 0));
    expect(packet.properties).toBeUndefined();
  });
});

describe("buildPublish: forwarded properties", () => {
  it("forwards Payload Format Indicator, Content Type, Response Topic, Correlation Data and User Properties to MQTT 5", () => {
    const packet = packetOf(buildPublish(conn(), out(message("a/b", "x", { properties: FORWARDED })), noAliases(), 16, 0));
    expect(packet.properties).toEqual({
      payloadFormatIndicator: true,
      contentType: "text/plain",
      responseTopic: "reply/c1",
      correlationData: Buffer.from([7, 8, 9]),
      userProperties: { k: "v", many: ["1", "2"] },
    });
    expect(Buffer.isBuffer(packet.properties?.correlationData)).toBe(true);
  });

  it("forwards nothing to MQTT 3.1.1", () => {
    const msg = message("a/b", "x", { properties: FORWARDED, expiresAt: 60_000 });
    const packet = packetOf(buildPublish(conn({ version: 4 }), out(msg, { subscriptionIds: [1, 2] }), noAliases(), 16, 0));
    expect(packet.properties).toBeUndefined();
    expect(packet.topic).toBe("a/b");
  });
});

describe("buildPublish: Subscription Identifiers [MQTT-3.3.4-3], [MQTT-3.3.4-4]", () => {
  it("is a number for one identifier and an array for several", () => {
    const one = packetOf(buildPublish(conn(), out(message("a/b", "x"), { subscriptionIds: [7] }), noAliases(), 16, 0));
    expect(one.properties?.subscriptionIdentifier).toBe(7);
    const several = packetOf(buildPublish(conn(), out(message("a/b", "x"), { subscriptionIds: [7, 9, 11] }), noAliases(), 16, 0));
    expect(several.properties?.subscriptionIdentifier).toEqual([7, 9, 11]);
  });

  it("is left out for an empty list", () => {
    const packet = packetOf(buildPublish(conn(), out(message("a/b", "x"), { subscriptionIds: [] }), noAliases(), 16, 0));
    expect(packet.properties).toBeUndefined();
  });
});

describe("buildPublish: server Topic Aliases", () => {
  it("assigns alias 1 on the first send of a topic and uses it with an empty topic afterwards", () => {
    const aliases = noAliases();
    const c = conn({ topicAliasMaximum: 10 });
    const first = packetOf(buildPublish(c, out(message("sensors/temperature", "1")), aliases, 16, 0));
    expect(first.topic).toBe("sensors/temperature");
    expect(first.properties?.topicAlias).toBe(1);
    expect(aliases.outbound).toEqual({ "sensors/temperature": 1 });

    const second = packetOf(buildPublish(c, out(message("sensors/temperature", "2")), aliases, 16, 0));
    expect(second.topic).toBe("");
    expect(second.properties?.topicAlias).toBe(1);

    const other = packetOf(buildPublish(c, out(message("sensors/humidity", "3")), aliases, 16, 0));
    expect(other).toMatchObject({ topic: "sensors/humidity", properties: { topicAlias: 2 } });
    expect(aliases.outbound).toEqual({ "sensors/temperature": 1, "sensors/humidity": 2 });
  });

  it("keeps the other properties next to the alias", () => {
    const aliases = noAliases();
    const packet = packetOf(buildPublish(conn({ topicAliasMaximum: 10 }), out(message("a/b", "x", { properties: { contentType: "t" } }), { subscriptionIds: [3] }), aliases, 16, 0));
    expect(packet.properties).toEqual({ contentType: "t", subscriptionIdentifier: 3, topicAlias: 1 });
  });

  it("never assigns more than the client's Topic Alias Maximum [MQTT-3.1.2-26]", () => {
    const aliases = noAliases();
    const c = conn({ topicAliasMaximum: 2 });
    for (const topic of ["t/1", "t/2"]) buildPublish(c, out(message(topic, "x")), aliases, 16, 0);
    const third = packetOf(buildPublish(c, out(message("t/3", "x")), aliases, 16, 0));
    expect(third.topic).toBe("t/3");
    expect(third.properties).toBeUndefined();
    expect(aliases.outbound).toEqual({ "t/1": 1, "t/2": 2 });
    // Topics that have an alias keep using it.
    expect(packetOf(buildPublish(c, out(message("t/2", "x")), aliases, 16, 0))).toMatchObject({ topic: "", properties: { topicAlias: 2 } });
  });

  it("never assigns more than the broker's own limit", () => {
    const aliases = noAliases();
    const c = conn({ topicAliasMaximum: 100 });
    expect(packetOf(buildPublish(c, out(message("t/1", "x")), aliases, 1, 0)).properties?.topicAlias).toBe(1);
    expect(packetOf(buildPublish(c, out(message("t/2", "x")), aliases, 1, 0)).properties).toBeUndefined();
    expect(aliases.outbound).toEqual({ "t/1": 1 });
  });

  it("sends no alias to a client with Topic Alias Maximum 0 [MQTT-3.1.2-27], nor when the broker's limit is 0", () => {
    for (const [clientMax, limit] of [
      [0, 16],
      [16, 0],
    ] as const) {
      const aliases = noAliases();
      const c = conn({ topicAliasMaximum: clientMax });
      for (let i = 0; i < 2; i++) {
        const packet = packetOf(buildPublish(c, out(message("a/b", "x")), aliases, limit, 0));
        expect(packet.topic).toBe("a/b");
        expect(packet.properties).toBeUndefined();
      }
      expect(aliases.outbound).toEqual({});
    }
  });

  it("sends no alias to an MQTT 3.1.1 client", () => {
    const aliases = noAliases();
    const packet = packetOf(buildPublish(conn({ version: 4, topicAliasMaximum: 16 }), out(message("a/b", "x")), aliases, 16, 0));
    expect(packet.topic).toBe("a/b");
    expect(packet.properties).toBeUndefined();
    expect(aliases.outbound).toEqual({});
  });
});

describe("buildPublish: the client's Maximum Packet Size [MQTT-3.1.2-24]", () => {
  /** The encoded size of `msg` sent without an alias. */
  const sizeOf = (msg: Message, version: 4 | 5 = 5, qos: QoS = 0) => {
    const built = packetOf(buildPublish(conn({ version }), out(msg, { qos, ...(qos > 0 ? { packetId: 1 } : {}) }), noAliases(), 16, 0));
    return encodePacket(built, version).length;
  };

  it("does not build a packet above it", () => {
    const msg = message("a/b", "x".repeat(100), { properties: { contentType: "text/plain" } });
    const size = sizeOf(msg);
    expect(buildPublish(conn({ maximumPacketSize: size - 1 }), out(msg), noAliases(), 16, 0)).toEqual({ ok: false, why: "too-large" });
  });

  it("builds a packet at or below it and hands over its encoding", () => {
    const msg = message("a/b", "x".repeat(100), { properties: { userProperties: { a: "b" } } });
    const size = sizeOf(msg, 5, 1);
    for (const maximumPacketSize of [size, size + 1, 10_000]) {
      const built = buildPublish(conn({ maximumPacketSize }), out(msg, { qos: 1, packetId: 1 }), noAliases(), 16, 0);
      if (!built.ok) throw new Error(`not built: ${built.why}`);
      expect(built.bytes).toBeDefined();
      expect(Buffer.from(built.bytes!)).toEqual(Buffer.from(encodePacket(built.packet, 5)));
      expect(built.bytes!.length).toBe(size);
    }
  });

  it("measures MQTT 3.1.1 packets in their own encoding", () => {
    const msg = message("a/b", "x".repeat(10), { properties: FORWARDED });
    const size = sizeOf(msg, 4);
    const built = buildPublish(conn({ version: 4, maximumPacketSize: size }), out(msg), noAliases(), 16, 0);
    if (!built.ok) throw new Error(`not built: ${built.why}`);
    expect(Buffer.from(built.bytes!)).toEqual(Buffer.from(encodePacket(built.packet, 4)));
    expect(buildPublish(conn({ version: 4, maximumPacketSize: size - 1 }), out(msg), noAliases(), 16, 0)).toEqual({ ok: false, why: "too-large" });
  });

  it("hands over no encoding when the client set no maximum", () => {
    const built = buildPublish(conn(), out(message("a/b", "x")), noAliases(), 16, 0);
    expect(built).toEqual({ ok: true, packet: expect.objectContaining({ topic: "a/b" }) });
    expect(built).not.toHaveProperty("bytes");
  });

  it("assigns no alias for a packet it refused", () => {
    const aliases = noAliases();
    const msg = message("a/b", "x".repeat(100));
    expect(buildPublish(conn({ maximumPacketSize: 20, topicAliasMaximum: 5 }), out(msg), aliases, 16, 0)).toEqual({ ok: false, why: "too-large" });
    expect(aliases.outbound).toEqual({});
  });

  it("checks expiry before size", () => {
    const msg = message("a/b", "x".repeat(100), { expiresAt: 0 });
    expect(buildPublish(conn({ maximumPacketSize: 20 }), out(msg), noAliases(), 16, 0)).toEqual({ ok: false, why: "expired" });
  });
});

describe("topic aliases and the client's Maximum Packet Size (regression)", () => {
  it("measures the packet with its alias; when only the new alias makes it too large, sends it without [MQTT-3.1.2-24]", () => {
    const plain = encodePacket({ cmd: "publish", topic: "a/b", payload: Buffer.alloc(50), qos: 0, retain: false, dup: false }, 5).length;
    const aliases = noAliases();
    const result = buildPublish(conn({ maximumPacketSize: plain, topicAliasMaximum: 5 }), out(message("a/b", "x".repeat(50))), aliases, 16, 0);
    if (!result.ok) throw new Error(result.why);
    expect(result.packet.topic).toBe("a/b");
    expect(result.packet.properties?.topicAlias).toBeUndefined();
    expect(result.bytes?.length).toBe(plain);
    expect(aliases.outbound).toEqual({});
    const tooBig = buildPublish(conn({ maximumPacketSize: plain - 1, topicAliasMaximum: 5 }), out(message("a/b", "x".repeat(50))), aliases, 16, 0);
    expect(tooBig).toEqual({ ok: false, why: "too-large" });
  });

  it.each(["__proto__", "constructor"])("assigns an alias to the topic %s like any other", (topic) => {
    const aliases = noAliases();
    const first = packetOf(buildPublish(conn({ topicAliasMaximum: 5 }), out(message(topic, "x")), aliases, 16, 0));
    const second = packetOf(buildPublish(conn({ topicAliasMaximum: 5 }), out(message(topic, "x")), aliases, 16, 0));
    expect([first.topic, first.properties?.topicAlias, second.topic, second.properties?.topicAlias]).toEqual([topic, 1, "", 1]);
  });
});
