/** The session core driven packet by packet: CONNECT, PUBLISH from the client, SUBSCRIBE, lifecycle. */
import type { Packet } from "mqtt-packet";
import { describe, expect, it } from "vitest";
import { MemoryKv } from "../../storage/memory-kv.js";
import type { QoS } from "../message.js";
import type { Session } from "./session.js";
import { deliverNow, forVersion, message, newSession, ok, only, publishPacket, route, sent, settle, subscribePacket, text, pendingWillRows } from "./test-support.js";
import { ALLOWED } from "./auth-verdict.js";
import { TAKEOVER_WILL_HOLD_MS } from "./pending-wills.js";

// ---- helpers (the shared ones are in ./test-support.ts) ----

const { connectPacket, connect } = forVersion(4);

const WILL = { topic: "status/c1", payload: Buffer.from("gone"), qos: 1 as QoS, retain: true };

// ---- tests ----

describe("CONNECT and CONNACK", () => {
  it("answers CONNACK 0 first, with sessionPresent=0 for a clean session [MQTT-3.2.0-1], [MQTT-3.2.2-1]", () => {
    const { session } = newSession();
    const actions = session.receive("conn1", route("c1"), ok(connectPacket("c1", { clean: true })), 0, ALLOWED);
    expect(actions[0]).toEqual({
      type: "send",
      connId: "conn1",
      version: 4,
      packet: { cmd: "connack", returnCode: 0, sessionPresent: false },
    });
    expect(session.current).toMatchObject({ connId: "conn1", clientId: "c1", version: 4 });
    expect(session.record).toMatchObject({ clientId: "c1", subscriptions: {} });
  });

  it("answers sessionPresent=0 for a new persistent session and 1 when it resumes [MQTT-3.2.2-3], [MQTT-3.2.2-2]", () => {
    const { session } = newSession();
    const first = connect(session, "conn1", "c1", { clean: false });
    expect(sent(first)).toContainEqual(expect.objectContaining({ cmd: "connack", sessionPresent: false }));
    settle(session, session.receive("conn1", route("c1"), ok(subscribePacket([["a/b", 1]])), 0));
    session.connectionLost("conn1", 0);

    const second = connect(session, "conn2", "c1", { clean: false });
    expect(sent(second)).toContainEqual(expect.objectContaining({ cmd: "connack", sessionPresent: true }));
    // The subscriptions are part of the resumed session [MQTT-3.1.2-4].
    expect(session.record?.subscriptions).toEqual({ "a/b": { qos: 1 } });
  });

  it("keeps the session over a restart of the object (new Session on the same storage)", () => {
    const kv = new MemoryKv();
    const { session } = newSession({}, kv);
    connect(session, "conn1", "c1", { clean: false });
    settle(session, session.receive("conn1", route("c1"), ok(subscribePacket([["x/+", 2]])), 0));
    session.connectionLost("conn1", 0);

    const { session: restarted } = newSession({}, kv);
    const actions = connect(restarted, "conn2", "c1", { clean: false });
    expect(sent(actions)).toContainEqual(expect.objectContaining({ cmd: "connack", sessionPresent: true }));
    expect(restarted.record?.subscriptions).toEqual({ "x/+": { qos: 2 } });
  });

  it("a clean CONNECT discards the stored session and its subscriptions leave the shards [MQTT-3.1.2-6]", () => {
    const { session } = newSession();
    connect(session, "conn1", "c1", { clean: false });
    settle(
      session,
      session.receive(
        "conn1",
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
    session.connectionLost("conn1", 0);

    const actions = connect(session, "conn2", "c1", { clean: true });
    expect(only(actions, "unsubscribe")).toEqual([{ type: "unsubscribe", clientId: "c1", filters: ["a/b", "c/#"] }]);
    expect(sent(actions)).toContainEqual(expect.objectContaining({ cmd: "connack", sessionPresent: false }));
    expect(session.record).toMatchObject({ clientId: "c1", subscriptions: {} });
  });

  it("assigns the routed client id to an empty one with CleanSession=1 [MQTT-3.1.3-6]", () => {
    const { session } = newSession();
    const actions = session.receive("conn1", route("auto-123", true), ok(connectPacket("", { clean: true })), 0, ALLOWED);
    expect(sent(actions)).toEqual([{ cmd: "connack", returnCode: 0, sessionPresent: false }]);
    expect(session.current?.clientId).toBe("auto-123");
    expect(session.record?.clientId).toBe("auto-123");
    const routed = only(session.receive("conn1", route("auto-123", true), ok(publishPacket("t", "x", 0)), 0), "route");
    expect(routed[0]?.message.origin).toBe("auto-123");
  });

  it("rejects an empty client id with CleanSession=0: CONNACK 2, then close [MQTT-3.1.3-8], [MQTT-3.2.2-5]", () => {
    const { session } = newSession();
    const actions = session.receive("conn1", route("auto-1", true), ok(connectPacket("", { clean: false })), 0, ALLOWED);
    expect(actions).toEqual([
      { type: "send", connId: "conn1", version: 4, packet: { cmd: "connack", returnCode: 2, sessionPresent: false } },
      expect.objectContaining({ type: "close", connId: "conn1", error: true }),
    ]);
    expect(session.current).toBeNull();
    expect(session.record).toBeUndefined();
  });

  it("rejects an empty client id the Worker did not route for assignment with CONNACK 2", () => {
    const { session } = newSession();
    const actions = session.receive("conn1", route("c1", false), ok(connectPacket("", { clean: true })), 0, ALLOWED);
    expect(sent(actions)).toEqual([{ cmd: "connack", returnCode: 2, sessionPresent: false }]);
    expect(only(actions, "close")).toHaveLength(1);
    expect(session.current).toBeNull();
  });

  it("rejects a client id that does not match the route with CONNACK 2 and close", () => {
    const { session } = newSession();
    const actions = session.receive("conn1", route("other"), ok(connectPacket("mine")), 0, ALLOWED);
    expect(actions).toEqual([
      { type: "send", connId: "conn1", version: 4, packet: { cmd: "connack", returnCode: 2, sessionPresent: false } },
      expect.objectContaining({ type: "close", connId: "conn1", error: true }),
    ]);
    expect(session.record).toBeUndefined();
    expect(session.current).toBeNull();
  });

  it("answers an unacceptable protocol level with CONNACK 1, then close [MQTT-3.1.2-2]", () => {
    const { session } = newSession();
    const actions = session.receive("conn1", route("c1"), { ok: false, error: "unacceptable-protocol", detail: "MQTT level 6" }, 0);
    expect(actions).toEqual([
      { type: "send", connId: "conn1", version: 4, packet: { cmd: "connack", returnCode: 1, sessionPresent: false } },
      expect.objectContaining({ type: "close", connId: "conn1", error: true }),
    ]);
    expect(session.current).toBeNull();
  });

  it("closes a connection whose first packet is not CONNECT, without answering [MQTT-3.1.0-1]", () => {
    const { session } = newSession();
    for (const packet of [{ cmd: "pingreq" }, publishPacket("a", "x", 1, 1), subscribePacket([["a", 0]])] as Packet[]) {
      const actions = session.receive("conn1", route("c1"), ok(packet), 0);
      expect(actions).toEqual([expect.objectContaining({ type: "close", connId: "conn1", error: true })]);
    }
    expect(session.record).toBeUndefined();
  });

  it("closes on a second CONNECT and publishes the will [MQTT-3.1.0-2], [MQTT-3.1.2-8]", () => {
    const { session } = newSession();
    connect(session, "conn1", "c1", { will: WILL });
    const actions = session.receive("conn1", route("c1"), ok(connectPacket("c1")), 0, ALLOWED);
    expect(sent(actions)).toEqual([]);
    expect(only(actions, "close")).toEqual([expect.objectContaining({ connId: "conn1", error: true })]);
    expect(only(actions, "route").map((r) => r.message.topic)).toEqual(["status/c1"]);
    expect(session.current).toBeNull();
  });

  it("closes on a will topic with a wildcard, without CONNACK", () => {
    const { session } = newSession();
    const actions = session.receive("conn1", route("c1"), ok(connectPacket("c1", { will: { ...WILL, topic: "status/#" } })), 0, ALLOWED);
    expect(sent(actions)).toEqual([]);
    expect(only(actions, "close")).toEqual([expect.objectContaining({ connId: "conn1", error: true })]);
    expect(session.current).toBeNull();
  });

  it("closes the connection on a malformed packet and publishes the will", () => {
    const { session } = newSession();
    connect(session, "conn1", "c1", { will: WILL });
    const actions = session.receive("conn1", route("c1"), { ok: false, error: "malformed", detail: "bad" }, 0);
    expect(only(actions, "close")).toEqual([expect.objectContaining({ connId: "conn1", error: true })]);
    expect(only(actions, "route")).toHaveLength(1);
  });

  it("closes on a server-to-client packet such as CONNACK from the client", () => {
    const { session } = newSession();
    connect(session, "conn1", "c1");
    const actions = session.receive("conn1", route("c1"), ok({ cmd: "connack", returnCode: 0, sessionPresent: false }), 0);
    expect(only(actions, "close")).toEqual([expect.objectContaining({ connId: "conn1", error: true })]);
    expect(session.current).toBeNull();
  });
});

describe("session takeover [MQTT-3.1.4-2]", () => {
  it("a CONNECT on a second connection closes the first, publishes its will [MQTT-3.1.4-3], and answers the second", () => {
    const { session } = newSession();
    connect(session, "conn1", "c1", { clean: false, will: WILL });
    settle(session, session.receive("conn1", route("c1"), ok(subscribePacket([["a/b", 1]])), 0));

    const actions = session.receive("conn2", route("c1"), ok(connectPacket("c1", { clean: false })), 5, ALLOWED);
    const close = only(actions, "close");
    expect(close).toEqual([expect.objectContaining({ connId: "conn1", error: false })]);
    // The will waits for the old connection's close (a DISCONNECT may have crossed the takeover).
    expect(only(actions, "route")).toEqual([]);
    const routed = only(session.connectionLost("conn1", 6), "route");
    expect(routed).toHaveLength(1);
    expect(routed[0]!.message).toMatchObject({ topic: "status/c1", qos: 1, retain: true, origin: "c1" });
    expect(text(routed[0]!.message.payload)).toBe("gone");
    // The old connection is closed before the new one is acknowledged.
    const closeAt = actions.findIndex((a) => a.type === "close");
    const connackAt = actions.findIndex((a) => a.type === "send" && a.packet.cmd === "connack");
    expect(closeAt).toBeLessThan(connackAt);
    expect(sent(actions, "conn2")).toEqual([{ cmd: "connack", returnCode: 0, sessionPresent: true }]);
    expect(sent(actions, "conn1")).toEqual([]);
    expect(session.current?.connId).toBe("conn2");
    expect(session.record?.subscriptions).toEqual({ "a/b": { qos: 1 } });
  });

  it("the taken-over connection can no longer act on the session", () => {
    const { session } = newSession();
    connect(session, "conn1", "c1", { will: WILL });
    connect(session, "conn2", "c1");
    expect(session.receive("conn1", route("c1"), ok(publishPacket("a", "x", 0)), 0)).toEqual([expect.objectContaining({ type: "close", connId: "conn1" })]);
    // Its close releases the will it left (no DISCONNECT came), and nothing else.
    expect(only(session.connectionLost("conn1", 0), "route")).toHaveLength(1);
    expect(session.connectionLost("conn1", 0)).toEqual([]);
    expect(session.current?.connId).toBe("conn2");
  });

  describe("a DISCONNECT that crossed the takeover (the client reconnected at once by another path)", () => {
    it("with reason 0x00 discards the will the taken-over connection left [MQTT-3.14.4-3]", () => {
      const { session, kv } = newSession();
      connect(session, "conn1", "c1", { will: WILL });
      connect(session, "conn2", "c1");
      expect(only(session.lateDisconnect("conn1", 0, 10), "log")).toEqual([expect.objectContaining({ counter: "wills_discarded_crossed_disconnect" })]);
      expect(only(session.connectionLost("conn1", 20), "route")).toEqual([]);
      expect(only(session.timer(TAKEOVER_WILL_HOLD_MS + 1), "route")).toEqual([]);
      expect(pendingWillRows(kv)).toEqual([]);
    });

    it("with another reason publishes the will at once", () => {
      const { session } = newSession();
      connect(session, "conn1", "c1", { will: WILL });
      connect(session, "conn2", "c1");
      expect(only(session.lateDisconnect("conn1", 0x04, 10), "route").map((r) => r.message.topic)).toEqual(["status/c1"]);
    });

    it("none coming: the will goes out when the hold passes, and is durable meanwhile", () => {
      const kv = new MemoryKv();
      const { session } = newSession({}, kv);
      connect(session, "conn1", "c1", { will: WILL });
      connect(session, "conn2", "c1");
      expect(session.nextDeadline()).toBe(TAKEOVER_WILL_HOLD_MS);
      expect(only(session.timer(TAKEOVER_WILL_HOLD_MS - 1), "route")).toEqual([]);
      // The object is reset within the hold: the new one still publishes it.
      const { session: after } = newSession({}, kv);
      const routes = only(after.timer(TAKEOVER_WILL_HOLD_MS), "route");
      expect(routes.map((r) => r.message.topic)).toEqual(["status/c1"]);
      settle(after, routes);
      expect(pendingWillRows(kv)).toEqual([]);
    });

    it("a takeover with Clean Start 1 keeps the hold: the discarded session does not publish it early", () => {
      const { session } = newSession();
      connect(session, "conn1", "c1", { clean: false, will: WILL });
      const actions = session.receive("conn2", route("c1"), ok(connectPacket("c1", { clean: true })), 5, ALLOWED);
      expect(only(actions, "route")).toEqual([]);
      expect(only(session.lateDisconnect("conn1", 0, 10), "route")).toEqual([]);
    });
  });

  it("the new connection's will replaces the old one", () => {
    const { session } = newSession();
    connect(session, "conn1", "c1", { will: WILL });
    connect(session, "conn2", "c1", { will: { topic: "status/new", payload: Buffer.from("n"), qos: 0, retain: false } });
    const lost = session.connectionLost("conn2", 0);
    expect(only(lost, "route").map((r) => r.message.topic)).toEqual(["status/new"]);
  });
});

describe("PUBLISH from the client", () => {
  it("routes QoS 0 with no acknowledgement", () => {
    const { session } = newSession();
    connect(session, "conn1", "c1");
    const actions = session.receive("conn1", route("c1"), ok(publishPacket("a/b", "hello", 0, undefined, { retain: true })), 0);
    expect(actions).toHaveLength(1);
    const [r] = only(actions, "route");
    expect(r!.routeId).toBeUndefined();
    expect(r!.message).toMatchObject({ topic: "a/b", qos: 0, retain: true, origin: "c1" });
    expect(text(r!.message.payload)).toBe("hello");
  });

  it("sends PUBACK for QoS 1 only after the shards stored the message [MQTT-4.3.2-2]", () => {
    const { session } = newSession();
    connect(session, "conn1", "c1");
    const actions = session.receive("conn1", route("c1"), ok(publishPacket("a/b", "m", 1, 17)), 0);
    expect(sent(actions)).toEqual([]);
    const [r] = only(actions, "route");
    expect(r!.message).toMatchObject({ topic: "a/b", qos: 1 });
    expect(r!.routeId).toBeDefined();
    expect(sent(session.routed(r!.routeId!, 0))).toEqual([{ cmd: "puback", messageId: 17 }]);
  });

  it("QoS 2: PUBREC after routing, a retransmission is not routed again, PUBREL gets PUBCOMP [MQTT-4.3.3-2]", () => {
    const { session } = newSession();
    connect(session, "conn1", "c1");
    const first = session.receive("conn1", route("c1"), ok(publishPacket("a/b", "once", 2, 5)), 0);
    expect(sent(first)).toEqual([]);
    const [r] = only(first, "route");
    expect(r!.message).toMatchObject({ topic: "a/b", qos: 2 });
    expect(sent(session.routed(r!.routeId!, 0))).toEqual([{ cmd: "pubrec", messageId: 5 }]);

    const dup = session.receive("conn1", route("c1"), ok(publishPacket("a/b", "once", 2, 5, { dup: true })), 0);
    expect(only(dup, "route")).toEqual([]);
    expect(sent(dup)).toEqual([{ cmd: "pubrec", messageId: 5 }]);

    const rel = session.receive("conn1", route("c1"), ok({ cmd: "pubrel", messageId: 5 }), 0);
    expect(sent(rel)).toEqual([{ cmd: "pubcomp", messageId: 5 }]);

    // The packet id is free again: a new message with it is a new message.
    const next = session.receive("conn1", route("c1"), ok(publishPacket("a/b", "second", 2, 5)), 0);
    expect(only(next, "route")).toHaveLength(1);
  });

  it("QoS 2: a retransmission whose first routing failed routes the first copy again", () => {
    const { session } = newSession();
    connect(session, "conn1", "c1", { clean: false });
    const [first] = only(session.receive("conn1", route("c1"), ok(publishPacket("a/b", "original", 2, 9)), 0), "route");
    // The shards could not store it: the connection is closed, and the client reconnects and retransmits.
    const failed = session.routeFailed(first!.routeId!, "shard down", 0);
    expect(only(failed, "close")).toEqual([expect.objectContaining({ connId: "conn1", error: true })]);
    expect(only(failed, "log")).toEqual([expect.objectContaining({ counter: "route_failures" })]);
    connect(session, "conn2", "c1", { clean: false });
    const retry = session.receive("conn2", route("c1"), ok(publishPacket("a/b", "original", 2, 9, { dup: true })), 0);
    const [r] = only(retry, "route");
    expect(text(r!.message.payload)).toBe("original");
    expect(sent(session.routed(r!.routeId!, 0))).toEqual([{ cmd: "pubrec", messageId: 9 }]);
  });

  it("QoS 2: a retransmission while the first copy is still being stored is not routed again; one PUBREC follows, on the live connection [MQTT-4.3.3-2]", () => {
    const { session } = newSession();
    connect(session, "conn1", "c1", { clean: false });
    const [first] = only(session.receive("conn1", route("c1"), ok(publishPacket("a/b", "once", 2, 9)), 0), "route");
    // The client reconnects (a takeover) and retransmits before the route completed.
    connect(session, "conn2", "c1", { clean: false });
    const retry = session.receive("conn2", route("c1"), ok(publishPacket("a/b", "once", 2, 9, { dup: true })), 0);
    expect(only(retry, "route")).toHaveLength(0);
    const done = session.routed(first!.routeId!, 0);
    expect(only(done, "send").map((a) => [a.connId, a.packet.cmd])).toEqual([["conn2", "pubrec"]]);
  });

  it("QoS 2: a route that completes after its clean session ended leaves nothing in the new session", () => {
    const { session } = newSession();
    connect(session, "conn1", "c1");
    const [first] = only(session.receive("conn1", route("c1"), ok(publishPacket("a/b", "old", 2, 9)), 0), "route");
    session.connectionLost("conn1", 0);
    connect(session, "conn2", "c1");
    expect(session.routed(first!.routeId!, 0)).toEqual([]);
    // The new session's own QoS 2 with the same id is routed, not taken for a retransmission.
    expect(only(session.receive("conn2", route("c1"), ok(publishPacket("a/b", "new", 2, 9)), 0), "route")).toHaveLength(1);
  });

  it("QoS 2 packet ids are remembered across a reconnect of a persistent session", () => {
    const kv = new MemoryKv();
    const { session } = newSession({}, kv);
    connect(session, "conn1", "c1", { clean: false });
    settle(session, session.receive("conn1", route("c1"), ok(publishPacket("a/b", "m", 2, 3)), 0));
    session.connectionLost("conn1", 0);
    const { session: restarted } = newSession({}, kv);
    connect(restarted, "conn2", "c1", { clean: false });
    const dup = restarted.receive("conn2", route("c1"), ok(publishPacket("a/b", "m", 2, 3, { dup: true })), 0);
    expect(only(dup, "route")).toEqual([]);
    expect(sent(dup)).toEqual([{ cmd: "pubrec", messageId: 3 }]);
  });

  it.each(["a/+", "a/#", "#"])("closes the connection on a PUBLISH to %j [MQTT-3.3.2-2]", (topic) => {
    const { session } = newSession();
    connect(session, "conn1", "c1", { will: WILL });
    const actions = session.receive("conn1", route("c1"), ok(publishPacket(topic, "x", 1, 1)), 0);
    expect(only(actions, "close")).toEqual([expect.objectContaining({ connId: "conn1", error: true })]);
    expect(only(actions, "route").map((r) => r.message.topic)).toEqual(["status/c1"]);
    expect(sent(actions)).toEqual([]);
  });

  it("answers PINGREQ with PINGRESP [MQTT-3.12.4-1]", () => {
    const { session } = newSession();
    connect(session, "conn1", "c1");
    expect(session.receive("conn1", route("c1"), ok({ cmd: "pingreq" }), 0)).toEqual([{ type: "send", connId: "conn1", version: 4, packet: { cmd: "pingresp" } }]);
  });
});

describe("SUBSCRIBE", () => {
  it("registers the filters and sends SUBACK with the same packet id once the shards hold them [MQTT-3.8.4-1], [MQTT-3.8.4-2]", () => {
    const { session } = newSession();
    connect(session, "conn1", "c1");
    const actions = session.receive(
      "conn1",
      route("c1"),
      ok(
        subscribePacket(
          [
            ["a/b", 1],
            ["c/#", 2],
          ],
          42,
        ),
      ),
      0,
    );
    expect(sent(actions)).toEqual([]);
    const [sub] = only(actions, "subscribe");
    expect(sub).toMatchObject({
      clientId: "c1",
      subscriptions: [
        { filter: "a/b", qos: 1 },
        { filter: "c/#", qos: 2 },
      ],
    });
    expect(sent(session.subscribed(sub!.subscribeId, [[], []]))).toEqual([{ cmd: "suback", messageId: 42, granted: [1, 2] }]);
    expect(session.record?.subscriptions).toEqual({ "a/b": { qos: 1 }, "c/#": { qos: 2 } });
  });

  it("refuses an invalid filter with 0x80 and grants the others, in order [MQTT-3.8.4-5], [MQTT-3.9.3-1]", () => {
    const { session } = newSession();
    connect(session, "conn1", "c1");
    const actions = session.receive(
      "conn1",
      route("c1"),
      ok(
        subscribePacket(
          [
            ["ok/1", 0],
            ["sport/tennis#", 1],
            ["ok/+", 1],
            ["sport+", 2],
          ],
          7,
        ),
      ),
      0,
    );
    const [sub] = only(actions, "subscribe");
    expect(sub!.subscriptions).toEqual([
      { filter: "ok/1", qos: 0, retained: true },
      { filter: "ok/+", qos: 1, retained: true },
    ]);
    expect(sent(session.subscribed(sub!.subscribeId, [[], []]))).toEqual([{ cmd: "suback", messageId: 7, granted: [0, 0x80, 1, 0x80] }]);
    expect(Object.keys(session.record!.subscriptions)).toEqual(["ok/1", "ok/+"]);
  });

  it("answers at once when every filter is invalid", () => {
    const { session } = newSession();
    connect(session, "conn1", "c1");
    const actions = session.receive("conn1", route("c1"), ok(subscribePacket([["a/#/b", 1]], 8)), 0);
    expect(only(actions, "subscribe")).toEqual([]);
    expect(sent(actions)).toEqual([{ cmd: "suback", messageId: 8, granted: [0x80] }]);
  });

  it("closes on a SUBSCRIBE without filters [MQTT-3.8.3-3]", () => {
    const { session } = newSession();
    connect(session, "conn1", "c1");
    const actions = session.receive("conn1", route("c1"), ok(subscribePacket([], 1)), 0);
    expect(only(actions, "close")).toEqual([expect.objectContaining({ error: true })]);
  });

  it("a subscription to an existing filter replaces its QoS [MQTT-3.8.4-3]", () => {
    const { session } = newSession();
    connect(session, "conn1", "c1");
    settle(session, session.receive("conn1", route("c1"), ok(subscribePacket([["a/b", 2]])), 0));
    settle(session, session.receive("conn1", route("c1"), ok(subscribePacket([["a/b", 0]], 2)), 0));
    expect(session.record?.subscriptions).toEqual({ "a/b": { qos: 0 } });
  });

  it("sends retained messages after SUBACK with retain=1 at min(granted, published QoS) [MQTT-3.3.1-6], [MQTT-3.3.1-8], [MQTT-3.8.4-6]", () => {
    const { session } = newSession();
    connect(session, "conn1", "c1");
    const actions = session.receive(
      "conn1",
      route("c1"),
      ok(
        subscribePacket(
          [
            ["a/#", 1],
            ["b", 2],
          ],
          4,
        ),
      ),
      0,
    );
    const [sub] = only(actions, "subscribe");
    const after = session.subscribed(sub!.subscribeId, [[message("a/x", "ax", 2, { retain: true }), message("a/y", "ay", 0, { retain: true })], [message("b", "bb", 1, { retain: true })]]);
    const packets = sent(after);
    expect(packets[0]).toEqual({ cmd: "suback", messageId: 4, granted: [1, 2] });
    const publishes = packets.slice(1);
    expect(publishes.map((p) => p.cmd === "publish" && [p.topic, p.qos, p.retain, text(p.payload)])).toEqual([
      // QoS 0 goes out at once; QoS 1/2 go through the in-flight window, in order.
      ["a/y", 0, true, "ay"],
      ["a/x", 1, true, "ax"],
      ["b", 1, true, "bb"],
    ]);
    for (const p of publishes) {
      if (p.cmd !== "publish") throw new Error("expected publish");
      expect(p.dup).toBe(false);
      if (p.qos > 0) expect(p.messageId).toBeGreaterThan(0);
    }
  });
});

describe("UNSUBSCRIBE", () => {
  it("removes known filters, tells the shards, then sends UNSUBACK [MQTT-3.10.4-4]", () => {
    const { session } = newSession();
    connect(session, "conn1", "c1");
    settle(
      session,
      session.receive(
        "conn1",
        route("c1"),
        ok(
          subscribePacket([
            ["a/b", 1],
            ["c", 0],
          ]),
        ),
        0,
      ),
    );
    const actions = session.receive("conn1", route("c1"), ok({ cmd: "unsubscribe", messageId: 11, unsubscriptions: ["a/b", "zzz"] }), 0);
    expect(sent(actions)).toEqual([]);
    const [unsub] = only(actions, "unsubscribe");
    expect(unsub).toMatchObject({ clientId: "c1", filters: ["a/b"] });
    expect(sent(session.unsubscribed(unsub!.unsubscribeId!))).toEqual([expect.objectContaining({ cmd: "unsuback", messageId: 11 })]);
    expect(session.record?.subscriptions).toEqual({ c: { qos: 0 } });
  });

  it("answers UNSUBACK even when no filter was subscribed [MQTT-3.10.4-5]", () => {
    const { session } = newSession();
    connect(session, "conn1", "c1");
    const actions = session.receive("conn1", route("c1"), ok({ cmd: "unsubscribe", messageId: 12, unsubscriptions: ["nope"] }), 0);
    expect(only(actions, "unsubscribe")).toEqual([]);
    expect(sent(actions)).toEqual([expect.objectContaining({ cmd: "unsuback", messageId: 12 })]);
  });
});

describe("end of a connection", () => {
  it("DISCONNECT closes without publishing the will [MQTT-3.14.4-3], [MQTT-3.1.2-10]", () => {
    const { session, kv } = newSession({ maxSessionExpiry: 0xffffffff });
    connect(session, "conn1", "c1", { clean: false, will: WILL });
    const actions = session.receive("conn1", route("c1"), ok({ cmd: "disconnect" }), 0);
    expect(only(actions, "route")).toEqual([]);
    expect(only(actions, "close")).toEqual([expect.objectContaining({ connId: "conn1", error: false })]);
    expect(session.current).toBeNull();
    expect(session.nextDeadline()).toBeNull();
    expect(kv.get("will")).toBeUndefined();
    // The will is gone for good: a later connection loss has nothing to publish.
    expect(session.connectionLost("conn1", 0)).toEqual([]);
  });

  it("connection loss publishes the will once [MQTT-3.1.2-8]", () => {
    const { session } = newSession();
    connect(session, "conn1", "c1", { clean: false, will: WILL });
    const actions = session.connectionLost("conn1", 0);
    const routed = only(actions, "route");
    expect(routed).toHaveLength(1);
    expect(routed[0]!.message).toMatchObject({ topic: "status/c1", qos: 1, retain: true, origin: "c1" });
    expect(text(routed[0]!.message.payload)).toBe("gone");
    expect(only(actions, "log")).toEqual([expect.objectContaining({ counter: "wills_published" })]);
    expect(session.current).toBeNull();

    connect(session, "conn2", "c1", { clean: false });
    expect(only(session.connectionLost("conn2", 0), "route")).toEqual([]);
  });

  it("connection loss of an unknown connection does nothing", () => {
    const { session } = newSession();
    connect(session, "conn1", "c1", { will: WILL });
    expect(session.connectionLost("other", 0)).toEqual([]);
    expect(session.current?.connId).toBe("conn1");
  });

  it("the end of a clean session unsubscribes every filter and clears its storage [MQTT-3.1.2-6]", () => {
    const { session, kv } = newSession();
    connect(session, "conn1", "c1", { clean: true, will: WILL });
    settle(
      session,
      session.receive(
        "conn1",
        route("c1"),
        ok(
          subscribePacket([
            ["a/b", 1],
            ["+/x", 2],
          ]),
        ),
        0,
      ),
    );
    deliverNow(session, "t/a", [{ seq: 1, message: message("a/b", "m", 1) }]);
    expect([...kv.list()].length).toBeGreaterThan(0);

    const actions = settle(session, session.connectionLost("conn1", 0));
    expect(only(actions, "unsubscribe")).toEqual([{ type: "unsubscribe", clientId: "c1", filters: ["a/b", "+/x"] }]);
    expect([...kv.list()]).toEqual([]);
    expect(session.record).toBeUndefined();
    expect(session.outbound.size).toBe(0);
    expect(deliverNow(session, "t/a", [{ seq: 2, message: message("a/b", "m", 1) }]).outcome.gone).toBe(true);
  });

  it("a clean session ended by DISCONNECT is discarded too", () => {
    const { session, kv } = newSession();
    connect(session, "conn1", "c1", { clean: true });
    settle(session, session.receive("conn1", route("c1"), ok(subscribePacket([["a", 0]])), 0));
    const actions = session.receive("conn1", route("c1"), ok({ cmd: "disconnect" }), 0);
    expect(only(actions, "unsubscribe")).toEqual([{ type: "unsubscribe", clientId: "c1", filters: ["a"] }]);
    expect([...kv.list()]).toEqual([]);
  });

  it("a persistent session outlives its connection [MQTT-3.1.2-4]", () => {
    const { session, kv } = newSession();
    connect(session, "conn1", "c1", { clean: false });
    settle(session, session.receive("conn1", route("c1"), ok(subscribePacket([["a/b", 1]])), 0));
    const actions = session.connectionLost("conn1", 0);
    expect(only(actions, "unsubscribe")).toEqual([]);
    expect(session.record).toMatchObject({ clientId: "c1", subscriptions: { "a/b": { qos: 1 } } });
    expect(kv.get("session")).toMatchObject({ clientId: "c1", subscriptions: { "a/b": { qos: 1 } } });
    // It is still there for the next connection.
    expect(deliverNow(session, "t/a", [{ seq: 1, message: message("a/b", "m", 1) }]).outcome.gone).toBe(false);
    expect(session.outbound.size).toBe(1);
  });
});

describe("keepalive [MQTT-3.1.2-24]", () => {
  it("CONNECT sets the first check at 1.5 times the keepalive", () => {
    const { session } = newSession();
    expect(session.nextDeadline()).toBeNull();
    connect(session, "conn1", "c1", { keepalive: 10 }, 1_000);
    expect(session.nextDeadline()).toBe(1_000 + 15_000);
  });

  it("a keepalive of 0 sets no deadline and the timer never closes", () => {
    const { session } = newSession();
    connect(session, "conn1", "c1", { keepalive: 0 }, 0);
    expect(session.nextDeadline()).toBeNull();
    expect(session.timer(10_000_000)).toEqual([]);
    expect(session.current).not.toBeNull();
  });

  it("a check before the deadline does nothing; a packet moves the deadline", () => {
    const { session } = newSession();
    connect(session, "conn1", "c1", { keepalive: 10 }, 0);
    expect(session.timer(14_999)).toEqual([]);
    expect(session.nextDeadline()).toBe(15_000);
    session.receive("conn1", route("c1"), ok({ cmd: "pingreq" }), 12_000);
    // Checked at 15 s: the client spoke at 12 s, so the next check is 12 + 15 s.
    expect(session.timer(15_000)).toEqual([]);
    expect(session.nextDeadline()).toBe(27_000);
    expect(session.current).not.toBeNull();
    expect(only(session.timer(26_999), "close")).toEqual([]);
  });

  it("is not timed here when the edge in front enforces it (route.edgeKeepalive): PINGREQs no longer reach the session", () => {
    for (const version of [4, 5] as const) {
      const { session } = newSession();
      const edgeRoute = { ...route("c1"), edgeKeepalive: true };
      const actions = session.receive("conn1", edgeRoute, ok(forVersion(version).connectPacket("c1", { keepalive: 10, will: WILL })), 0, ALLOWED);
      expect(sent(actions)[0]).toMatchObject({ cmd: "connack" });
      expect(session.current?.keepalive).toBe(10);
      expect(session.current?.keepaliveCheckAt).toBeUndefined();
      expect(session.nextDeadline()).toBeNull();
      expect(session.timer(1_000_000)).toEqual([]);
      expect(session.current).not.toBeNull();
      // The edge closes the silent connection; the session sees it lost and publishes the will.
      expect(only(session.connectionLost("conn1", 1_000_000), "route").map((r) => r.message.topic)).toEqual(["status/c1"]);
    }
  });

  it("at 1.5 times the keepalive without a packet the connection is closed and the will published", () => {
    const { session } = newSession();
    connect(session, "conn1", "c1", { keepalive: 10, will: WILL }, 0);
    session.receive("conn1", route("c1"), ok({ cmd: "pingreq" }), 5_000);
    expect(session.timer(15_000)).toEqual([]);
    const actions = settle(session, session.timer(20_000));
    expect(only(actions, "close")).toEqual([expect.objectContaining({ connId: "conn1", error: true })]);
    expect(only(actions, "route").map((r) => r.message.topic)).toEqual(["status/c1"]);
    expect(session.current).toBeNull();
    expect(session.nextDeadline()).toBeNull();
    expect(session.timer(100_000)).toEqual([]);
  });
});

describe("QoS 2 receive maximum (regression)", () => {
  it("does not cap unreleased QoS 2 messages of a 3.1.1 client: 3.1.1 has no Receive Maximum", () => {
    const { session } = newSession({ receiveMaximum: 2 });
    connect(session, "k1", "c1");
    for (const id of [1, 2, 3, 4]) {
      const actions = settle(session, session.receive("k1", route("c1"), ok(publishPacket("t", "x", 2, id)), 0));
      expect(sent(actions)).toContainEqual(expect.objectContaining({ cmd: "pubrec", messageId: id }));
    }
  });

  it("disconnects an MQTT 5 client above the broker's Receive Maximum with 0x93", () => {
    const { session } = newSession({ receiveMaximum: 2 });
    connect5(session);
    for (const id of [1, 2]) settle(session, session.receive("k1", route("c1"), ok(publishPacket("t", "x", 2, id)), 0));
    const actions = session.receive("k1", route("c1"), ok(publishPacket("t", "x", 2, 3)), 0);
    expect(sent(actions)).toContainEqual(expect.objectContaining({ cmd: "disconnect", reasonCode: 0x93 }));
    expect(only(actions, "close")).toHaveLength(1);
  });
});

/** CONNECT "c1" over MQTT 5 on "k1" and check it was accepted. */
function connect5(session: Session) {
  forVersion(5).connect(session, "k1", "c1");
}
