/** The shell reports route outcomes as events; the core keeps the order of what follows them. */
import { describe, expect, it } from "vitest";
import { ALLOWED } from "./auth-verdict.js";
import { PendingRoutes } from "./pending-routes.js";
import { forVersion, newSession, ok, only, packets, publishPacket, route, routeIds, sent, pendingWillRows } from "./test-support.js";

describe("PendingRoutes", () => {
  it("completes routes in the order issued, whatever the order of their outcomes", () => {
    const routes = new PendingRoutes<string>();
    const [a, b, c] = [routes.add("a"), routes.add("b"), routes.add("c")];
    expect(routes.settle(c, { ok: true })).toEqual([]);
    expect(routes.settle(b, { ok: false, reason: "down" })).toEqual([]);
    expect(routes.settle(a, { ok: true }).map((d) => [d.value, d.outcome.ok])).toEqual([
      ["a", true],
      ["b", false],
      ["c", true],
    ]);
    expect(routes.size).toBe(0);
  });

  it("ignores an unknown id and a second outcome for the same route", () => {
    const routes = new PendingRoutes<string>();
    const a = routes.add("a");
    const b = routes.add("b");
    expect(routes.settle(99, { ok: true })).toEqual([]);
    expect(routes.settle(b, { ok: true })).toEqual([]);
    expect(routes.settle(b, { ok: false, reason: "again" })).toEqual([]);
    expect(routes.settle(a, { ok: true }).map((d) => [d.value, d.outcome.ok])).toEqual([
      ["a", true],
      ["b", true],
    ]);
    expect(routes.settle(a, { ok: true })).toEqual([]);
  });
});

describe.each([4, 5] as const)("MQTT %s: route completions as events", (version) => {
  const { connect, connected } = forVersion(version);
  const publish = (s: ReturnType<typeof newSession>["session"], connId: string, id: number, qos: 1 | 2 = 1) => s.receive(connId, route("c1"), ok(publishPacket("a/b", `m${id}`, qos, id)), 0);

  it("PUBACKs go out in the order of the PUBLISHes when their routes complete out of order [MQTT-4.6.0-2]", () => {
    const { session } = connected();
    const [r1, r2, r3, r4] = [1, 2, 3, 4].flatMap((id) => routeIds(publish(session, "k1", id)));
    // Routes 3, then 2 complete first: nothing may be acknowledged before PUBLISH 1 is.
    expect(sent(session.routed(r3!, 0))).toEqual([]);
    expect(sent(session.routed(r2!, 0))).toEqual([]);
    expect(packets(session.routed(r1!, 0), "puback").map((p) => p.messageId)).toEqual([1, 2, 3]);
    expect(packets(session.routed(r4!, 0), "puback").map((p) => p.messageId)).toEqual([4]);
    expect(session.routesUnderWay).toBe(0);
  });

  it("PUBRECs and PUBACKs share the order [MQTT-4.6.0-3]", () => {
    const { session } = connected();
    const r1 = routeIds(publish(session, "k1", 1, 2))[0]!;
    const r2 = routeIds(publish(session, "k1", 2, 1))[0]!;
    const r3 = routeIds(publish(session, "k1", 3, 2))[0]!;
    expect(sent(session.routed(r3, 0))).toEqual([]);
    expect(sent(session.routed(r2, 0))).toEqual([]);
    expect(sent(session.routed(r1, 0)).map((p) => [p.cmd, "messageId" in p ? p.messageId : undefined])).toEqual([
      ["pubrec", 1],
      ["puback", 2],
      ["pubrec", 3],
    ]);
  });

  it("a failed route in the middle: the PUBLISHes before it are acknowledged, then the connection closes, and nothing after it is", () => {
    const { session } = connected({}, { clean: false });
    const [r1, r2, r3] = [1, 2, 3].flatMap((id) => routeIds(publish(session, "k1", id)));
    expect(session.routed(r3!, 0)).toEqual([]);
    expect(session.routeFailed(r2!, "shard down", 0)).toEqual([]);
    const actions = session.routed(r1!, 0);
    expect(packets(actions, "puback").map((p) => p.messageId)).toEqual([1]);
    expect(only(actions, "log")).toEqual([expect.objectContaining({ level: "warn", counter: "route_failures" })]);
    expect(only(actions, "close")).toEqual([expect.objectContaining({ connId: "k1", error: true })]);
    // The PUBACK comes before the close; PUBLISH 3, stored, is not acknowledged (the client retransmits it).
    expect(actions.findIndex((a) => a.type === "send" && a.packet.cmd === "puback")).toBeLessThan(actions.findIndex((a) => a.type === "close"));
    expect(session.current).toBeNull();
    expect(session.inbound).toEqual({ count: 0, bytes: 0 });
  });

  it("completions for a connection that has gone send nothing to it, and free its QoS 1 window", () => {
    const { session } = connected({}, { clean: false });
    const [r1, r2] = [1, 2].flatMap((id) => routeIds(publish(session, "k1", id)));
    session.connectionLost("k1", 0);
    connect(session, "k2", "c1", { clean: false });
    expect(sent(session.routed(r2!, 0))).toEqual([]);
    expect(sent(session.routed(r1!, 0))).toEqual([]);
    expect(session.inbound).toEqual({ count: 0, bytes: 0 });
    // The new connection's own PUBLISH is acknowledged on it.
    const r3 = routeIds(publish(session, "k2", 1))[0]!;
    expect(only(session.routed(r3, 0), "send").map((a) => [a.connId, a.packet.cmd])).toEqual([["k2", "puback"]]);
  });

  it("completions after the session ended are harmless", () => {
    const { session } = connected();
    const r1 = routeIds(publish(session, "k1", 1))[0]!;
    const r2 = routeIds(publish(session, "k1", 2, 2))[0]!;
    session.connectionLost("k1", 0);
    expect(session.record).toBeUndefined();
    expect(session.routeFailed(r2, "shard down", 0)).toEqual([]);
    // The failure is logged; there is no connection to close, and nothing to acknowledge.
    expect(session.routed(r1, 0)).toEqual([expect.objectContaining({ type: "log", counter: "route_failures" })]);
    expect(session.routesUnderWay).toBe(0);
    // A new session starts with nothing in flight.
    connect(session, "k2", "c1");
    expect(session.inbound).toEqual({ count: 0, bytes: 0 });
    expect(session.qos2InFlight.size).toBe(0);
  });

  it("a will's completion waits its turn behind the PUBLISHes before it", () => {
    const { session, kv } = newSession();
    const will = { topic: "status/c1", payload: Buffer.from("gone"), qos: 1 as const, retain: false };
    connect(session, "k1", "c1", { will });
    const r1 = routeIds(publish(session, "k1", 1))[0]!;
    const [w] = routeIds(session.connectionLost("k1", 0));
    expect(session.routed(w!, 0)).toEqual([]);
    expect(pendingWillRows(kv)).toHaveLength(1);
    session.routed(r1, 0);
    expect(pendingWillRows(kv)).toEqual([]);
  });

  it("a SUBSCRIBE is acknowledged only when its shards answer; a failed call leaves nothing behind", () => {
    const { session } = connected();
    const [sub] = only(session.receive("k1", route("c1"), ok({ cmd: "subscribe", messageId: 3, subscriptions: [{ topic: "a/b", qos: 1 }] }), 0, ALLOWED), "subscribe");
    session.shardCallFailed(sub!.subscribeId);
    expect(session.subscribed(sub!.subscribeId, [[]])).toEqual([]);
    expect(session.record?.subscriptions).toEqual({});
  });
});

describe.each([4, 5] as const)("MQTT %s: the CONNECT deadline", (version) => {
  const { connect } = forVersion(version);
  const TIMEOUT = 1000;

  it("a socket that sends no CONNECT in time is closed (§3.1)", () => {
    const { session } = newSession({ connectTimeoutMs: TIMEOUT });
    expect(session.opened("s1", route("c1"), 100)).toBe(100 + TIMEOUT);
    expect(session.opened("s2", route("c1"), 300)).toBe(300 + TIMEOUT);
    expect(session.nextDeadline()).toBe(100 + TIMEOUT);
    expect(session.timer(100 + TIMEOUT - 1)).toEqual([]);
    expect(session.timer(100 + TIMEOUT)).toEqual([{ type: "close", connId: "s1", reason: "no CONNECT in time", error: true }]);
    expect(session.nextDeadline()).toBe(300 + TIMEOUT);
    expect(only(session.timer(300 + TIMEOUT), "close").map((a) => a.connId)).toEqual(["s2"]);
    expect(session.nextDeadline()).toBeNull();
    expect(session.timer(10_000)).toEqual([]);
  });

  it("a CONNECT in time ends the deadline", () => {
    const { session } = newSession({ connectTimeoutMs: TIMEOUT });
    session.opened("s1", route("c1"), 0);
    connect(session, "s1", "c1", {}, 500);
    expect(session.nextDeadline()).toBeNull();
    expect(only(session.timer(TIMEOUT), "close")).toEqual([]);
    expect(session.current?.connId).toBe("s1");
  });

  it("a socket closed before its CONNECT, or closed by the core for its first packet, is forgotten", () => {
    const { session } = newSession({ connectTimeoutMs: TIMEOUT });
    session.opened("s1", route("c1"), 0);
    session.opened("s2", route("c1"), 0);
    session.connectionLost("s1", 10);
    expect(only(session.receive("s2", route("c1"), ok({ cmd: "pingreq" }), 20), "close").map((a) => a.connId)).toEqual(["s2"]);
    expect(session.nextDeadline()).toBeNull();
  });

  it("no deadline when an edge in front enforces it (route.edgeKeepalive)", () => {
    const { session } = newSession({ connectTimeoutMs: TIMEOUT });
    expect(session.opened("s1", { ...route("c1"), edgeKeepalive: true }, 0)).toBeUndefined();
    expect(session.nextDeadline()).toBeNull();
  });

  it("is kept across hibernation: the shell restores it from the socket's attachment", () => {
    const { session, kv } = newSession({ connectTimeoutMs: TIMEOUT });
    const by = session.opened("s1", route("c1"), 0)!;
    // The object hibernates: a new core, told by the shell what the attachment kept.
    const { session: woken } = newSession({ connectTimeoutMs: TIMEOUT }, kv);
    woken.restoreAwaitingConnect("s1", by);
    expect(woken.nextDeadline()).toBe(by);
    expect(only(woken.timer(by), "close").map((a) => a.connId)).toEqual(["s1"]);
  });

  it("does not hold back the live connection's own deadlines", () => {
    const { session } = newSession({ connectTimeoutMs: TIMEOUT, maxKeepalive: 65535 });
    connect(session, "k1", "c1", { keepalive: 10 });
    session.opened("s2", route("c1"), 0);
    expect(session.nextDeadline()).toBe(TIMEOUT);
    expect(only(session.timer(TIMEOUT), "close").map((a) => a.connId)).toEqual(["s2"]);
    expect(session.nextDeadline()).toBe(15_000);
    expect(session.current?.connId).toBe("k1");
  });
});

describe.each([4, 5] as const)("MQTT %s: a core rebuilt from storage (SessionDO.rebuildCore)", (version) => {
  const { connect } = forVersion(version);

  it("takes over the work under way: routes complete in order on the new core, CONNECT deadlines stay", () => {
    const { session: old, kv } = newSession({ connectTimeoutMs: 1000 });
    connect(old, "k1", "c1", { clean: false });
    const r1 = routeIds(old.receive("k1", route("c1"), ok(publishPacket("a/b", "one", 1, 1)), 0))[0]!;
    const r2 = routeIds(old.receive("k1", route("c1"), ok(publishPacket("a/b", "two", 2, 2)), 0))[0]!;
    old.opened("s2", route("c1"), 0);
    const { session: rebuilt } = newSession({ connectTimeoutMs: 1000 }, kv);
    rebuilt.restore(old.current!, { check: () => true });
    rebuilt.carryOver(old);
    expect(rebuilt.inbound.count).toBe(1);
    expect(rebuilt.qos2InFlight.has(2)).toBe(true);
    // A retransmission of the QoS 2 message is still recognised as under way: not routed twice.
    expect(only(rebuilt.receive("k1", route("c1"), ok(publishPacket("a/b", "two", 2, 2, { dup: true })), 0), "route")).toEqual([]);
    expect(rebuilt.routed(r2, 0)).toEqual([]);
    expect(sent(rebuilt.routed(r1, 0)).map((p) => p.cmd)).toEqual(["puback", "pubrec"]);
    expect(rebuilt.inbound).toEqual({ count: 0, bytes: 0 });
    expect(rebuilt.qos2InFlight.size).toBe(0);
    expect(rebuilt.nextDeadline()).toBe(1000);
  });
});
