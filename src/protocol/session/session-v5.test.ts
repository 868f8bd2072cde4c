/** The session core on MQTT 5 connections: CONNACK properties, Session Expiry, Will Delay, PUBLISH rules, server DISCONNECT. */
import type { IConnectPacket } from "mqtt-packet";
import { describe, expect, it } from "vitest";
import type { Action } from "../actions.js";
import type { QoS } from "../message.js";
import { forVersion, newSession, ok, only, packets, type PacketOf, publishPacket, route, sent, settle, subscribePacket, text } from "./test-support.js";
import { ALLOWED } from "./auth-verdict.js";

// ---- helpers (the shared ones are in ./test-support.ts) ----

const { connectPacket, connect } = forVersion(5);

/** The CONNACK among `actions`. */
function connackOf(actions: Action[]): PacketOf<"connack"> {
  const [connack] = packets(actions, "connack");
  if (!connack) throw new Error("no CONNACK");
  return connack;
}

/** The server DISCONNECT with `reasonCode` went to `connId` before its connection was closed as an error. */
function expectServerDisconnect(actions: Action[], connId: string, reasonCode: number): void {
  expect(sent(actions, connId)).toEqual([expect.objectContaining({ cmd: "disconnect", reasonCode })]);
  expect(only(actions, "close")).toEqual([expect.objectContaining({ connId, error: true })]);
  const disconnectAt = actions.findIndex((a) => a.type === "send" && a.packet.cmd === "disconnect");
  const closeAt = actions.findIndex((a) => a.type === "close");
  expect(disconnectAt).toBeLessThan(closeAt);
}

const WILL = { topic: "status/c1", payload: Buffer.from("gone"), qos: 1 as QoS, retain: false };
const willWith = (properties: NonNullable<NonNullable<IConnectPacket["will"]>["properties"]>) => ({ ...WILL, properties });
const wills = (actions: Action[]) => only(actions, "route").filter((r) => r.message.topic === WILL.topic);

// ---- tests ----

describe("CONNACK properties (MQTT 5)", () => {
  it("tells the client what the broker offers, as configured", () => {
    const { session } = newSession({
      receiveMaximum: 7,
      maxPacketSize: 5000,
      topicAliasMaximum: 3,
      retainAvailable: false,
      wildcardSubscriptions: false,
      subscriptionIdentifiers: false,
      sharedSubscriptions: false,
      maximumQoS: 1,
    });
    const actions = connect(session, "k1", "c1");
    expect(actions[0]).toEqual({
      type: "send",
      connId: "k1",
      version: 5,
      packet: {
        cmd: "connack",
        reasonCode: 0,
        sessionPresent: false,
        properties: {
          receiveMaximum: 7,
          maximumPacketSize: 5000,
          topicAliasMaximum: 3,
          retainAvailable: false,
          wildcardSubscriptionAvailable: false,
          subscriptionIdentifiersAvailable: false,
          sharedSubscriptionAvailable: false,
          maximumQoS: 1,
        },
      },
    });
  });

  it("leaves Maximum QoS out when QoS 2 is supported, and says 0 when only QoS 0 is", () => {
    const defaults = connackOf(connect(newSession().session, "k1", "c1"));
    expect(defaults.properties).toEqual({
      receiveMaximum: 100,
      maximumPacketSize: 1024 * 1024,
      topicAliasMaximum: 16,
      retainAvailable: true,
      wildcardSubscriptionAvailable: true,
      subscriptionIdentifiersAvailable: true,
      sharedSubscriptionAvailable: true,
    });
    expect(connackOf(connect(newSession({ maximumQoS: 0 }).session, "k1", "c1")).properties?.maximumQoS).toBe(0);
  });

  it("returns the Assigned Client Identifier for an empty client id [MQTT-3.2.2-16], [MQTT-3.1.3-7]", () => {
    const { session } = newSession();
    const actions = session.receive("k1", route("auto-9", true), ok(connectPacket("")), 0, ALLOWED);
    const connack = connackOf(actions);
    expect(connack).toMatchObject({ reasonCode: 0, sessionPresent: false });
    expect(connack.properties?.assignedClientIdentifier).toBe("auto-9");
    expect(session.current?.clientId).toBe("auto-9");
    expect(session.record?.clientId).toBe("auto-9");
    // A client that chose its own id is not told one.
    expect(connackOf(connect(newSession().session, "k1", "c1")).properties).not.toHaveProperty("assignedClientIdentifier");
  });

  it("accepts an empty client id with Clean Start 0 (unlike 3.1.1)", () => {
    const { session } = newSession();
    const actions = session.receive("k1", route("auto-1", true), ok(connectPacket("", { clean: false, properties: { sessionExpiryInterval: 60 } })), 0, ALLOWED);
    const connack = connackOf(actions);
    expect(connack).toMatchObject({ reasonCode: 0, sessionPresent: false });
    expect(connack.properties?.assignedClientIdentifier).toBe("auto-1");
    expect(only(actions, "close")).toEqual([]);
    expect(session.record).toMatchObject({ clientId: "auto-1", expiryInterval: 60 });
  });

  it("lowers a keepalive above config.maxKeepalive with Server Keep Alive, and the broker uses it", () => {
    const { session } = newSession({ maxKeepalive: 30 });
    const connack = connackOf(connect(session, "k1", "c1", { keepalive: 60 }, 1_000));
    expect(connack.properties?.serverKeepAlive).toBe(30);
    expect(session.current?.keepalive).toBe(30);
    expect(session.nextDeadline()).toBe(1_000 + 45_000);
  });

  it("sets Server Keep Alive for a client that asked for no keepalive", () => {
    const { session } = newSession({ maxKeepalive: 30 });
    const connack = connackOf(connect(session, "k1", "c1", { keepalive: 0 }));
    expect(connack.properties?.serverKeepAlive).toBe(30);
    expect(session.current?.keepalive).toBe(30);
    expect(session.nextDeadline()).toBe(45_000);
  });

  it("keeps a keepalive within config.maxKeepalive, and any keepalive when maxKeepalive is 0", () => {
    const within = newSession({ maxKeepalive: 30 }).session;
    expect(connackOf(connect(within, "k1", "c1", { keepalive: 20 })).properties).not.toHaveProperty("serverKeepAlive");
    expect(within.current?.keepalive).toBe(20);

    const unlimited = newSession({ maxKeepalive: 0 }).session;
    expect(connackOf(connect(unlimited, "k1", "c1", { keepalive: 600 })).properties).not.toHaveProperty("serverKeepAlive");
    expect(unlimited.current?.keepalive).toBe(600);
  });

  it("sends Response Information only when the client requested it [MQTT-3.1.2-28]", () => {
    const asked = connackOf(connect(newSession().session, "k1", "c1", { properties: { requestResponseInformation: true } }));
    expect(asked.properties?.responseInformation).toBe("response/c1");
    for (const properties of [{ requestResponseInformation: false }, {}]) {
      const notAsked = connackOf(connect(newSession().session, "k1", "c1", { properties }));
      expect(notAsked.properties).not.toHaveProperty("responseInformation");
    }
    // An empty prefix in the configuration turns it off.
    const off = connackOf(connect(newSession({ responseInformation: "" }).session, "k1", "c1", { properties: { requestResponseInformation: true } }));
    expect(off.properties).not.toHaveProperty("responseInformation");
  });

  it("refuses an Authentication Method with CONNACK 0x8C, then closes [MQTT-4.12.0-1]", () => {
    const { session } = newSession();
    const actions = session.receive("k1", route("c1"), ok(connectPacket("c1", { properties: { authenticationMethod: "SCRAM-SHA-1" } })), 0, ALLOWED);
    expect(actions).toEqual([
      {
        type: "send",
        connId: "k1",
        version: 5,
        packet: { cmd: "connack", reasonCode: 0x8c, sessionPresent: false, properties: { reasonString: expect.any(String) } },
      },
      expect.objectContaining({ type: "close", connId: "k1", error: true }),
    ]);
    expect(session.current).toBeNull();
    expect(session.record).toBeUndefined();
  });

  it("refuses a will above the Maximum QoS with 0x9B and a retained will without Retain Available with 0x9A", () => {
    const qos = newSession({ maximumQoS: 1 }).session;
    const qosActions = qos.receive("k1", route("c1"), ok(connectPacket("c1", { will: { ...WILL, qos: 2 } })), 0, ALLOWED);
    expect(connackOf(qosActions)).toMatchObject({ reasonCode: 0x9b, sessionPresent: false });
    expect(only(qosActions, "close")).toEqual([expect.objectContaining({ connId: "k1", error: true })]);
    expect(qos.current).toBeNull();

    const retain = newSession({ retainAvailable: false }).session;
    const retainActions = retain.receive("k1", route("c1"), ok(connectPacket("c1", { will: { ...WILL, retain: true } })), 0, ALLOWED);
    expect(connackOf(retainActions)).toMatchObject({ reasonCode: 0x9a, sessionPresent: false });
    expect(only(retainActions, "close")).toEqual([expect.objectContaining({ connId: "k1", error: true })]);
    expect(retain.current).toBeNull();
  });

  it("closes on a Receive Maximum or Maximum Packet Size of 0 without accepting the connection", () => {
    for (const properties of [{ receiveMaximum: 0 }, { maximumPacketSize: 0 }]) {
      const { session } = newSession();
      const actions = session.receive("k1", route("c1"), ok(connectPacket("c1", { properties })), 0, ALLOWED);
      expect(packets(actions, "connack").filter((c) => c.reasonCode === 0)).toEqual([]);
      expect(only(actions, "close")).toEqual([expect.objectContaining({ connId: "k1", error: true })]);
      expect(session.current).toBeNull();
    }
  });

  it("resumes an existing session for Clean Start 0: Session Present 1 [MQTT-3.1.2-5], [MQTT-3.2.2-3]", () => {
    const { session } = newSession();
    connect(session, "k1", "c1", { clean: true, properties: { sessionExpiryInterval: 60 } });
    settle(session, session.receive("k1", route("c1"), ok(subscribePacket([["a/b", 1]])), 0));
    session.connectionLost("k1", 0);

    const actions = connect(session, "k2", "c1", { clean: false, properties: { sessionExpiryInterval: 60 } }, 1_000);
    expect(connackOf(actions)).toMatchObject({ reasonCode: 0, sessionPresent: true });
    expect(only(actions, "unsubscribe")).toEqual([]);
    expect(session.record?.subscriptions).toEqual({ "a/b": { qos: 1 } });
  });

  it("starts over for Clean Start 1 even when a session exists: Session Present 0 [MQTT-3.1.2-4], [MQTT-3.2.2-2]", () => {
    const { session } = newSession();
    connect(session, "k1", "c1", { properties: { sessionExpiryInterval: 60 } });
    settle(session, session.receive("k1", route("c1"), ok(subscribePacket([["a/b", 1]])), 0));
    session.connectionLost("k1", 0);

    const actions = connect(session, "k2", "c1", { clean: true, properties: { sessionExpiryInterval: 60 } }, 1_000);
    expect(connackOf(actions)).toMatchObject({ reasonCode: 0, sessionPresent: false });
    expect(only(actions, "unsubscribe")).toEqual([{ type: "unsubscribe", clientId: "c1", filters: ["a/b"] }]);
    expect(session.record?.subscriptions).toEqual({});
  });

  it("Clean Start 0 without a stored session creates one: Session Present 0 [MQTT-3.1.2-6]", () => {
    const { session } = newSession();
    const actions = connect(session, "k1", "c1", { clean: false, properties: { sessionExpiryInterval: 60 } });
    expect(connackOf(actions).sessionPresent).toBe(false);
    expect(session.record).toMatchObject({ clientId: "c1", expiryInterval: 60, subscriptions: {} });
  });
});

describe("Session Expiry Interval", () => {
  it("0 (or absent): the session ends with the connection and its filters leave the shards", () => {
    const { session, kv } = newSession();
    connect(session, "k1", "c1", { properties: { sessionExpiryInterval: 0 } });
    settle(
      session,
      session.receive(
        "k1",
        route("c1"),
        ok(
          subscribePacket([
            ["a/b", 1],
            ["c/#", 0],
          ]),
        ),
        0,
      ),
    );
    const actions = session.connectionLost("k1", 5_000);
    expect(only(actions, "unsubscribe")).toEqual([{ type: "unsubscribe", clientId: "c1", filters: ["a/b", "c/#"] }]);
    expect(session.record).toBeUndefined();
    expect([...kv.list()]).toEqual([]);
    expect(session.nextDeadline()).toBeNull();
  });

  it("N seconds: the session is kept after the connection closes and discarded N s later [MQTT-3.1.2-23]", () => {
    const { session, kv } = newSession();
    connect(session, "k1", "c1", { properties: { sessionExpiryInterval: 10 } });
    settle(session, session.receive("k1", route("c1"), ok(subscribePacket([["a/b", 1]])), 0));
    expect(session.connectionLost("k1", 1_000)).toEqual([]);
    expect(session.record).toMatchObject({ clientId: "c1", subscriptions: { "a/b": { qos: 1 } } });
    expect(session.nextDeadline()).toBe(11_000);

    expect(session.timer(10_999)).toEqual([]);
    expect(session.record).toBeDefined();

    const actions = session.timer(11_000);
    expect(only(actions, "log")).toEqual([expect.objectContaining({ counter: "sessions_expired" })]);
    expect(only(actions, "unsubscribe")).toEqual([{ type: "unsubscribe", clientId: "c1", filters: ["a/b"] }]);
    expect(session.record).toBeUndefined();
    expect([...kv.list()]).toEqual([]);
    expect(session.nextDeadline()).toBeNull();
  });

  it("a reconnect before the expiry keeps the session and cancels the deadline", () => {
    const { session } = newSession();
    connect(session, "k1", "c1", { properties: { sessionExpiryInterval: 10 } });
    settle(session, session.receive("k1", route("c1"), ok(subscribePacket([["a/b", 1]])), 0));
    session.connectionLost("k1", 0);

    const actions = connect(session, "k2", "c1", { clean: false, properties: { sessionExpiryInterval: 10 } }, 9_000);
    expect(connackOf(actions).sessionPresent).toBe(true);
    expect(session.record?.expiresAt).toBeUndefined();
    expect(session.nextDeadline()).toBeNull();
    expect(session.timer(20_000)).toEqual([]);
    expect(session.record?.subscriptions).toEqual({ "a/b": { qos: 1 } });
  });

  it("a session whose expiry passed unnoticed is gone at the next CONNECT", () => {
    const { session } = newSession();
    connect(session, "k1", "c1", { properties: { sessionExpiryInterval: 10 } });
    settle(session, session.receive("k1", route("c1"), ok(subscribePacket([["a/b", 1]])), 0));
    session.connectionLost("k1", 0);

    const actions = connect(session, "k2", "c1", { clean: false, properties: { sessionExpiryInterval: 10 } }, 10_000);
    expect(connackOf(actions).sessionPresent).toBe(false);
    expect(only(actions, "unsubscribe")).toEqual([{ type: "unsubscribe", clientId: "c1", filters: ["a/b"] }]);
    expect(session.record?.subscriptions).toEqual({});
  });

  it("MAX_SESSION_EXPIRY caps what the client asks, and CONNACK says so (§3.2.2.3.2) (review F16)", () => {
    const { session } = newSession({ maxSessionExpiry: 3600 });
    const connack = packets(connect(session, "k1", "c1", { properties: { sessionExpiryInterval: 0xffffffff } }), "connack")[0]!;
    expect(connack.properties?.sessionExpiryInterval).toBe(3600);
    session.connectionLost("k1", 0);
    expect(session.record?.expiresAt).toBe(3600 * 1000);
    const { session: within } = newSession({ maxSessionExpiry: 3600 });
    expect(packets(connect(within, "k1", "c1", { properties: { sessionExpiryInterval: 60 } }), "connack")[0]!.properties?.sessionExpiryInterval).toBeUndefined();
  });

  it("0xFFFFFFFF: the session never expires, when MAX_SESSION_EXPIRY allows it", () => {
    const { session } = newSession({ maxSessionExpiry: 0xffffffff });
    connect(session, "k1", "c1", { properties: { sessionExpiryInterval: 0xffffffff } });
    settle(session, session.receive("k1", route("c1"), ok(subscribePacket([["a/b", 1]])), 0));
    expect(session.connectionLost("k1", 0)).toEqual([]);
    expect(session.record?.expiresAt).toBeUndefined();
    expect(session.nextDeadline()).toBeNull();
    expect(session.timer(100 * 365 * 24 * 3600 * 1000)).toEqual([]);
    expect(session.record?.subscriptions).toEqual({ "a/b": { qos: 1 } });
  });

  it("DISCONNECT may set a new interval when CONNECT gave a non-zero one", () => {
    const longer = newSession().session;
    connect(longer, "k1", "c1", { properties: { sessionExpiryInterval: 10 } });
    longer.receive("k1", route("c1"), ok({ cmd: "disconnect", reasonCode: 0, properties: { sessionExpiryInterval: 120 } }), 1_000);
    expect(longer.record?.expiryInterval).toBe(120);
    expect(longer.nextDeadline()).toBe(121_000);

    const ended = newSession().session;
    connect(ended, "k1", "c1", { properties: { sessionExpiryInterval: 10 } });
    settle(ended, ended.receive("k1", route("c1"), ok(subscribePacket([["a/b", 1]])), 0));
    const actions = ended.receive("k1", route("c1"), ok({ cmd: "disconnect", reasonCode: 0, properties: { sessionExpiryInterval: 0 } }), 1_000);
    expect(only(actions, "close")).toEqual([expect.objectContaining({ connId: "k1", error: false })]);
    expect(only(actions, "unsubscribe")).toEqual([{ type: "unsubscribe", clientId: "c1", filters: ["a/b"] }]);
    expect(ended.record).toBeUndefined();
  });

  it("DISCONNECT with a non-zero interval after CONNECT gave 0 is a protocol error: DISCONNECT 0x82 (§3.14.2.2.2)", () => {
    const { session } = newSession();
    connect(session, "k1", "c1", { properties: { sessionExpiryInterval: 0 } });
    const actions = session.receive("k1", route("c1"), ok({ cmd: "disconnect", reasonCode: 0, properties: { sessionExpiryInterval: 60 } }), 0);
    expectServerDisconnect(actions, "k1", 0x82);
    // The session still ends with the connection.
    expect(session.current).toBeNull();
    expect(session.record).toBeUndefined();
  });
});

describe("Will Delay Interval [MQTT-3.1.3-9]", () => {
  it("a will with a delay goes out when the delay has passed, not at connection loss", () => {
    const { session } = newSession();
    connect(session, "k1", "c1", { properties: { sessionExpiryInterval: 60 }, will: willWith({ willDelayInterval: 5 }) });
    expect(only(session.connectionLost("k1", 1_000), "route")).toEqual([]);
    expect(session.nextDeadline()).toBe(6_000);
    expect(session.timer(5_999)).toEqual([]);

    // (Settled: the shard stored the will, so no retry is due; see pending-wills.ts.)
    const actions = settle(session, session.timer(6_000));
    const [will] = wills(actions);
    expect(will?.message).toMatchObject({ topic: "status/c1", qos: 1, retain: false, origin: "c1" });
    expect(text(will!.message.payload)).toBe("gone");
    expect(only(actions, "log")).toEqual([expect.objectContaining({ counter: "wills_published" })]);
    // Published once; the session lives on until its own expiry.
    expect(session.record).toBeDefined();
    expect(session.nextDeadline()).toBe(61_000);
    expect(only(session.timer(7_000), "route")).toEqual([]);
  });

  it("a reconnect before the delay passed cancels the will [MQTT-3.1.3-9]", () => {
    const { session } = newSession();
    connect(session, "k1", "c1", { properties: { sessionExpiryInterval: 60 }, will: willWith({ willDelayInterval: 5 }) });
    session.connectionLost("k1", 0);
    const actions = connect(session, "k2", "c1", { clean: false, properties: { sessionExpiryInterval: 60 } }, 3_000);
    expect(only(actions, "route")).toEqual([]);
    expect(session.record?.delayedWill).toBeUndefined();
    expect(session.nextDeadline()).toBeNull();
    expect(only(session.timer(5_000), "route")).toEqual([]);
    expect(only(session.connectionLost("k2", 6_000), "route")).toEqual([]);
  });

  it("[MQTT-3.1.2-8] a new connection for the client id within the delay cancels the will, even with Clean Start 1 (which ends the session)", () => {
    const { session } = newSession();
    connect(session, "k1", "c1", { properties: { sessionExpiryInterval: 60 }, will: willWith({ willDelayInterval: 30 }) });
    session.connectionLost("k1", 0);
    const actions = settle(session, connect(session, "k2", "c1", { clean: true }, 3_000));
    expect(wills(actions)).toEqual([]);
    expect(session.nextDeadline()).toBeNull();
    expect(only(session.timer(30_000), "route")).toEqual([]);
  });

  it("[MQTT-3.1.2-8] a takeover within the delay cancels the taken-over connection's delayed will, with Clean Start 1 too", () => {
    const { session } = newSession();
    connect(session, "k1", "c1", { properties: { sessionExpiryInterval: 60 }, will: willWith({ willDelayInterval: 30 }) });
    const actions = settle(session, connect(session, "k2", "c1", { clean: true }, 1_000));
    expect(wills(actions)).toEqual([]);
    expect(only(session.timer(31_000), "route")).toEqual([]);
  });

  it("a Clean Start 1 reconnect after the delay passed (its timer not yet run) still publishes the will: the delay elapsed first", () => {
    const { session } = newSession();
    connect(session, "k1", "c1", { properties: { sessionExpiryInterval: 60 }, will: willWith({ willDelayInterval: 5 }) });
    session.connectionLost("k1", 0);
    expect(wills(settle(session, connect(session, "k2", "c1", { clean: true }, 5_000)))).toHaveLength(1);
  });

  it("a session that ends before the delay publishes the will when it ends", () => {
    const { session } = newSession();
    connect(session, "k1", "c1", { properties: { sessionExpiryInterval: 2 }, will: willWith({ willDelayInterval: 30 }) });
    expect(only(session.connectionLost("k1", 1_000), "route")).toEqual([]);
    expect(session.nextDeadline()).toBe(3_000);
    expect(session.timer(2_999)).toEqual([]);

    const actions = settle(session, session.timer(3_000));
    expect(wills(actions)).toHaveLength(1);
    expect(only(actions, "log").map((l) => l.counter)).toContain("sessions_expired");
    expect(session.record).toBeUndefined();
    expect(session.nextDeadline()).toBeNull();
  });

  it("a will with a delay on a session with expiry 0 goes out at connection loss", () => {
    const { session } = newSession();
    connect(session, "k1", "c1", { will: willWith({ willDelayInterval: 30 }) });
    expect(wills(session.connectionLost("k1", 0))).toHaveLength(1);
    expect(session.record).toBeUndefined();
  });

  it("DISCONNECT with reason code 0x04 publishes the will", () => {
    const { session } = newSession();
    connect(session, "k1", "c1", { will: WILL });
    const actions = session.receive("k1", route("c1"), ok({ cmd: "disconnect", reasonCode: 0x04 }), 0);
    expect(only(actions, "close")).toEqual([expect.objectContaining({ connId: "k1", error: false })]);
    expect(wills(actions)).toHaveLength(1);
  });

  it("DISCONNECT with reason code 0x00 discards the will [MQTT-3.14.4-3], [MQTT-3.1.2-10]", () => {
    const { session } = newSession();
    connect(session, "k1", "c1", { properties: { sessionExpiryInterval: 60 }, will: willWith({ willDelayInterval: 5 }) });
    const actions = session.receive("k1", route("c1"), ok({ cmd: "disconnect", reasonCode: 0 }), 0);
    expect(only(actions, "route")).toEqual([]);
    expect(session.record?.delayedWill).toBeUndefined();
    expect(session.nextDeadline()).toBe(60_000);
    expect(only(session.timer(60_000), "route")).toEqual([]);
  });

  it("the will's Message Expiry Interval counts from when the will is published", () => {
    const now = newSession().session;
    connect(now, "k1", "c1", { will: willWith({ messageExpiryInterval: 30 }) });
    const [immediate] = wills(now.connectionLost("k1", 1_000));
    expect(immediate?.message.expiresAt).toBe(31_000);

    const delayed = newSession().session;
    connect(delayed, "k1", "c1", { properties: { sessionExpiryInterval: 60 }, will: willWith({ willDelayInterval: 5, messageExpiryInterval: 30 }) });
    delayed.connectionLost("k1", 1_000);
    const [late] = wills(delayed.timer(6_000));
    expect(late?.message.expiresAt).toBe(36_000);
  });

  it("the will carries its forwardable properties, not the delay or expiry", () => {
    const { session } = newSession();
    connect(session, "k1", "c1", {
      will: willWith({
        willDelayInterval: 0,
        messageExpiryInterval: 10,
        payloadFormatIndicator: true,
        contentType: "text/plain",
        responseTopic: "reply/c1",
        correlationData: Buffer.from([1, 2, 3]),
        userProperties: { why: "lost" },
      }),
    });
    const [will] = wills(session.connectionLost("k1", 0));
    expect(will?.message.properties).toEqual({
      payloadFormatIndicator: true,
      contentType: "text/plain",
      responseTopic: "reply/c1",
      correlationData: new Uint8Array([1, 2, 3]),
      userProperties: { why: "lost" },
    });
  });
});

describe("PUBLISH from an MQTT 5 client", () => {
  it("resolves a Topic Alias: set with a topic, then used with an empty topic", () => {
    const { session } = newSession();
    connect(session, "k1", "c1");
    const set = session.receive("k1", route("c1"), ok(publishPacket("sensors/temperature", "20", 0, undefined, { properties: { topicAlias: 1 } })), 0);
    expect(only(set, "route").map((r) => r.message.topic)).toEqual(["sensors/temperature"]);

    const used = session.receive("k1", route("c1"), ok(publishPacket("", "21", 0, undefined, { properties: { topicAlias: 1 } })), 0);
    const [r] = only(used, "route");
    expect(r?.message.topic).toBe("sensors/temperature");
    expect(text(r!.message.payload)).toBe("21");
    // The alias is not forwarded as a message property.
    expect(r?.message.properties).toBeUndefined();

    // A new topic for the same alias replaces the mapping.
    session.receive("k1", route("c1"), ok(publishPacket("sensors/humidity", "40", 0, undefined, { properties: { topicAlias: 1 } })), 0);
    const again = session.receive("k1", route("c1"), ok(publishPacket("", "41", 0, undefined, { properties: { topicAlias: 1 } })), 0);
    expect(only(again, "route").map((x) => x.message.topic)).toEqual(["sensors/humidity"]);
  });

  it("closes with 0x94 on a Topic Alias of 0 [MQTT-3.3.2-8]", () => {
    const { session } = newSession();
    connect(session, "k1", "c1");
    const actions = session.receive("k1", route("c1"), ok(publishPacket("a/b", "x", 0, undefined, { properties: { topicAlias: 0 } })), 0);
    expectServerDisconnect(actions, "k1", 0x94);
    expect(only(actions, "route")).toEqual([]);
    expect(session.current).toBeNull();
  });

  it("closes with 0x94 on a Topic Alias above the Topic Alias Maximum in CONNACK [MQTT-3.2.2-17]", () => {
    const { session } = newSession({ topicAliasMaximum: 4 });
    connect(session, "k1", "c1");
    const within = session.receive("k1", route("c1"), ok(publishPacket("a/b", "x", 0, undefined, { properties: { topicAlias: 4 } })), 0);
    expect(only(within, "route")).toHaveLength(1);
    const actions = session.receive("k1", route("c1"), ok(publishPacket("a/b", "x", 0, undefined, { properties: { topicAlias: 5 } })), 0);
    expectServerDisconnect(actions, "k1", 0x94);
  });

  it("closes with 0x94 on any Topic Alias when the broker offers none", () => {
    const { session } = newSession({ topicAliasMaximum: 0 });
    connect(session, "k1", "c1");
    const actions = session.receive("k1", route("c1"), ok(publishPacket("a/b", "x", 0, undefined, { properties: { topicAlias: 1 } })), 0);
    expectServerDisconnect(actions, "k1", 0x94);
  });

  it("closes with 0x82 on an empty topic with an alias that was never set", () => {
    const { session } = newSession();
    connect(session, "k1", "c1");
    const actions = session.receive("k1", route("c1"), ok(publishPacket("", "x", 0, undefined, { properties: { topicAlias: 3 } })), 0);
    expectServerDisconnect(actions, "k1", 0x82);
    expect(only(actions, "route")).toEqual([]);
  });

  it("forgets inbound Topic Aliases with the connection", () => {
    const { session } = newSession();
    connect(session, "k1", "c1", { properties: { sessionExpiryInterval: 60 } });
    session.receive("k1", route("c1"), ok(publishPacket("a/b", "x", 0, undefined, { properties: { topicAlias: 1 } })), 0);
    session.connectionLost("k1", 0);
    connect(session, "k2", "c1", { clean: false, properties: { sessionExpiryInterval: 60 } });
    const actions = session.receive("k2", route("c1"), ok(publishPacket("", "x", 0, undefined, { properties: { topicAlias: 1 } })), 0);
    expectServerDisconnect(actions, "k2", 0x82);
  });

  it("closes with 0x9B on a QoS above the Maximum QoS [MQTT-3.2.2-11]", () => {
    const { session } = newSession({ maximumQoS: 1 });
    connect(session, "k1", "c1");
    expect(only(session.receive("k1", route("c1"), ok(publishPacket("a/b", "x", 1, 1)), 0), "route")).toHaveLength(1);
    const actions = session.receive("k1", route("c1"), ok(publishPacket("a/b", "x", 2, 2)), 0);
    expectServerDisconnect(actions, "k1", 0x9b);
    expect(only(actions, "route")).toEqual([]);
  });

  it("closes with 0x9A on a retained PUBLISH when Retain Available is 0 [MQTT-3.2.2-14]", () => {
    const { session } = newSession({ retainAvailable: false });
    connect(session, "k1", "c1");
    expect(only(session.receive("k1", route("c1"), ok(publishPacket("a/b", "x", 0)), 0), "route")).toHaveLength(1);
    const actions = session.receive("k1", route("c1"), ok(publishPacket("a/b", "x", 0, undefined, { retain: true })), 0);
    expectServerDisconnect(actions, "k1", 0x9a);
    expect(only(actions, "route")).toEqual([]);
  });

  it("closes with 0x82 on a Subscription Identifier from the client [MQTT-3.3.4-6]", () => {
    const { session } = newSession();
    connect(session, "k1", "c1");
    const actions = session.receive("k1", route("c1"), ok(publishPacket("a/b", "x", 1, 1, { properties: { subscriptionIdentifier: 3 } })), 0);
    expectServerDisconnect(actions, "k1", 0x82);
    expect(only(actions, "route")).toEqual([]);
  });

  it("closes with 0x82 on a Response Topic with a wildcard", () => {
    const { session } = newSession();
    connect(session, "k1", "c1");
    const actions = session.receive("k1", route("c1"), ok(publishPacket("a/b", "x", 0, undefined, { properties: { responseTopic: "reply/#" } })), 0);
    expectServerDisconnect(actions, "k1", 0x82);
  });

  it("closes with 0x90 on a topic name with a wildcard", () => {
    const { session } = newSession();
    connect(session, "k1", "c1");
    expectServerDisconnect(session.receive("k1", route("c1"), ok(publishPacket("a/+", "x", 0)), 0), "k1", 0x90);
  });

  it("forwards the message properties and turns Message Expiry Interval into expiresAt", () => {
    const { session } = newSession();
    connect(session, "k1", "c1");
    const properties = {
      payloadFormatIndicator: true,
      contentType: "application/json",
      responseTopic: "reply/c1",
      correlationData: Buffer.from("req-7"),
      userProperties: { a: "1", b: ["x", "y"] },
      messageExpiryInterval: 30,
    };
    const actions = session.receive("k1", route("c1"), ok(publishPacket("a/b", "{}", 1, 4, { properties })), 1_000);
    const [r] = only(actions, "route");
    expect(r?.message).toMatchObject({ topic: "a/b", qos: 1, retain: false, origin: "c1", expiresAt: 31_000 });
    expect(r?.message.properties).toEqual({
      payloadFormatIndicator: true,
      contentType: "application/json",
      responseTopic: "reply/c1",
      correlationData: new Uint8Array(Buffer.from("req-7")),
      userProperties: { a: "1", b: ["x", "y"] },
    });
    expect(sent(settle(session, actions))).toEqual([{ cmd: "puback", messageId: 4, reasonCode: 0 }]);
  });

  it("a PUBLISH without properties routes a message without properties or expiry", () => {
    const { session } = newSession();
    connect(session, "k1", "c1");
    const [r] = only(session.receive("k1", route("c1"), ok(publishPacket("a/b", "x", 0)), 0), "route");
    expect(r?.message).not.toHaveProperty("properties");
    expect(r?.message).not.toHaveProperty("expiresAt");
  });

  it("QoS 2: PUBREC and PUBCOMP carry reason code 0; PUBREL for an unknown id gets PUBCOMP 0x92", () => {
    const { session } = newSession();
    connect(session, "k1", "c1");
    const pub = settle(session, session.receive("k1", route("c1"), ok(publishPacket("a/b", "x", 2, 8)), 0));
    expect(sent(pub)).toEqual([{ cmd: "pubrec", messageId: 8, reasonCode: 0 }]);
    expect(sent(session.receive("k1", route("c1"), ok({ cmd: "pubrel", messageId: 8 }), 0))).toEqual([{ cmd: "pubcomp", messageId: 8, reasonCode: 0 }]);
    const unknown = session.receive("k1", route("c1"), ok({ cmd: "pubrel", messageId: 9 }), 0);
    expect(unknown).toEqual([{ type: "send", connId: "k1", version: 5, packet: { cmd: "pubcomp", messageId: 9, reasonCode: 0x92 } }]);
    expect(session.current).not.toBeNull();
  });
});

describe("server DISCONNECT (MQTT 5 §4.13)", () => {
  it("keepalive expiry sends DISCONNECT 0x8D, then closes and publishes the will", () => {
    const { session } = newSession();
    connect(session, "k1", "c1", { keepalive: 10, will: WILL }, 0);
    const actions = session.timer(15_000);
    expectServerDisconnect(actions, "k1", 0x8d);
    const [disconnect] = packets(actions, "disconnect");
    expect(disconnect?.properties?.reasonString).toEqual(expect.any(String));
    expect(wills(actions)).toHaveLength(1);
    expect(session.current).toBeNull();
  });

  it("leaves the Reason String out for a client that set Request Problem Information to 0 [MQTT-3.1.2-29]", () => {
    const { session } = newSession();
    connect(session, "k1", "c1", { keepalive: 10, properties: { requestProblemInformation: false } }, 0);
    const actions = session.timer(15_000);
    expect(sent(actions, "k1")).toEqual([{ cmd: "disconnect", reasonCode: 0x8d }]);
  });

  it("a takeover sends DISCONNECT 0x8E to the old connection and closes it [MQTT-3.1.4-3]", () => {
    const { session } = newSession();
    connect(session, "k1", "c1", { properties: { sessionExpiryInterval: 60 } });
    const actions = session.receive("k2", route("c1"), ok(connectPacket("c1", { clean: false, properties: { sessionExpiryInterval: 60 } })), 0, ALLOWED);
    expect(sent(actions, "k1")).toEqual([expect.objectContaining({ cmd: "disconnect", reasonCode: 0x8e })]);
    // Not the client's fault: the close is no protocol error.
    expect(only(actions, "close")).toEqual([expect.objectContaining({ connId: "k1", error: false })]);
    expect(sent(actions, "k2")).toEqual([expect.objectContaining({ cmd: "connack", reasonCode: 0, sessionPresent: true })]);
    const disconnectAt = actions.findIndex((a) => a.type === "send" && a.packet.cmd === "disconnect");
    const connackAt = actions.findIndex((a) => a.type === "send" && a.packet.cmd === "connack");
    expect(disconnectAt).toBeLessThan(connackAt);
    expect(session.current?.connId).toBe("k2");
  });

  it("a takeover publishes the old connection's will without a delay, but not a delayed one resumed with Clean Start 0", () => {
    const immediate = newSession().session;
    connect(immediate, "k1", "c1", { properties: { sessionExpiryInterval: 60 }, will: WILL });
    const taken = immediate.receive("k2", route("c1"), ok(connectPacket("c1", { clean: false, properties: { sessionExpiryInterval: 60 } })), 0, ALLOWED);
    // Once the old connection has closed without a DISCONNECT crossing the takeover.
    expect(wills(taken)).toEqual([]);
    expect(wills(immediate.connectionLost("k1", 1))).toHaveLength(1);

    const delayed = newSession().session;
    connect(delayed, "k1", "c1", { properties: { sessionExpiryInterval: 60 }, will: willWith({ willDelayInterval: 10 }) });
    const resumed = delayed.receive("k2", route("c1"), ok(connectPacket("c1", { clean: false, properties: { sessionExpiryInterval: 60 } })), 0, ALLOWED);
    expect(wills(resumed)).toEqual([]);
    expect(delayed.nextDeadline()).toBeNull();
    expect(only(delayed.timer(10_000), "route")).toEqual([]);
  });

  it("AUTH after CONNECT is a protocol error: DISCONNECT 0x82", () => {
    const { session } = newSession();
    connect(session, "k1", "c1");
    const actions = session.receive("k1", route("c1"), ok({ cmd: "auth", reasonCode: 0x18, properties: { authenticationMethod: "SCRAM-SHA-1" } }), 0);
    expectServerDisconnect(actions, "k1", 0x82);
    expect(session.current).toBeNull();
  });

  it("a malformed packet gets DISCONNECT 0x81", () => {
    const { session } = newSession();
    connect(session, "k1", "c1");
    expectServerDisconnect(session.receive("k1", route("c1"), { ok: false, error: "malformed", detail: "bad" }, 0), "k1", 0x81);
  });
});

describe("DISCONNECT reason codes and the will (regression)", () => {
  it("publishes the will for any DISCONNECT reason other than 0x00 [MQTT-3.14.4-3]", () => {
    const { session } = newSession();
    connect(session, "k1", "c1", { will: WILL });
    const actions = session.receive("k1", route("c1"), ok({ cmd: "disconnect", reasonCode: 0x80 }), 0);
    expect(only(actions, "route").map((r) => r.message.topic)).toEqual([WILL.topic]);
  });
});
