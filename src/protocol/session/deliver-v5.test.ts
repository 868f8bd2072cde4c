/** Session.deliver for MQTT 5 subscriptions: No Local, Retain As Published, identifiers, expiry, shared subscriptions. */
import type { IConnectPacket, ISubscription } from "mqtt-packet";
import { describe, expect, it } from "vitest";
import type { Session, SessionConfig } from "./session.js";
import { WILL_RETRY_MS } from "./pending-wills.js";
import { forVersion, message, newSession, ok, only, publishes, route, sent, settle, sub, subscribePacket, text, pendingWillRows } from "./test-support.js";

// ---- helpers (the shared ones are in ./test-support.ts) ----

const { connect, connected } = forVersion(5);

/** One settled SUBSCRIBE of "c1" on `connId`, with an optional Subscription Identifier. */
function subscribe(session: Session, subscriptions: ISubscription[], opts: { id?: number; messageId?: number; connId?: string } = {}): void {
  const packet = subscribePacket(subscriptions, opts.messageId ?? 1, opts.id);
  const actions = settle(session, session.receive(opts.connId ?? "k1", route("c1"), ok(packet), 0));
  expect(sent(actions)).toContainEqual(expect.objectContaining({ cmd: "suback" }));
}

/** A connected MQTT 5 session of "c1" on "k1" subscribed to `subs` (Session Expiry 60 s). */
function subscribed(subs: ISubscription[], opts: { config?: Partial<SessionConfig>; connect?: Partial<IConnectPacket>; id?: number } = {}) {
  const { session, kv } = connected(opts.config, { properties: { sessionExpiryInterval: 60 }, ...opts.connect });
  subscribe(session, subs, opts.id !== undefined ? { id: opts.id } : {});
  return { session, kv };
}

const SHARE = "$share/g/a/b";

// ---- tests ----

describe("No Local [MQTT-3.8.3-3]", () => {
  it("does not send the client its own messages on a No Local subscription", () => {
    const { session } = subscribed([sub("a/b", 1, { nl: true })]);
    const own = session.deliver("t/a", [{ seq: 1, message: message("a/b", "mine", 1, { origin: "c1" }) }], 0);
    expect(own).toMatchObject({ actions: [], outcome: { gone: false, declined: [] } });
    expect(session.outbound.size).toBe(0);

    const other = session.deliver("t/a", [{ seq: 2, message: message("a/b", "theirs", 1) }], 0);
    expect(publishes(other.actions).map((p) => text(p.payload))).toEqual(["theirs"]);
  });

  it("still sends them through an overlapping subscription without No Local, at that subscription's QoS", () => {
    const { session } = subscribed([sub("a/b", 2, { nl: true }), sub("a/#", 1)]);
    const { actions } = session.deliver("t/a", [{ seq: 1, message: message("a/b", "mine", 2, { origin: "c1" }) }], 0);
    expect(publishes(actions).map((p) => [text(p.payload), p.qos])).toEqual([["mine", 1]]);
  });
});

describe("Retain As Published", () => {
  it("keeps the retain flag of the message when set [MQTT-3.3.1-13]", () => {
    const { session } = subscribed([sub("a/b", 1, { rap: true })]);
    const { actions } = session.deliver(
      "t/a",
      [
        { seq: 1, message: message("a/b", "r", 1, { retain: true }) },
        { seq: 2, message: message("a/b", "n", 1, { retain: false }) },
      ],
      0,
    );
    expect(publishes(actions).map((p) => [text(p.payload), p.retain])).toEqual([
      ["r", true],
      ["n", false],
    ]);
  });

  it("clears the retain flag otherwise [MQTT-3.3.1-12]", () => {
    const { session } = subscribed([sub("a/b", 1)]);
    const { actions } = session.deliver("t/a", [{ seq: 1, message: message("a/b", "r", 1, { retain: true }) }], 0);
    expect(publishes(actions).map((p) => p.retain)).toEqual([false]);
  });

  it("keeps it when any matching subscription has Retain As Published", () => {
    const { session } = subscribed([sub("a/b", 1), sub("a/+", 1, { rap: true })]);
    const { actions } = session.deliver("t/a", [{ seq: 1, message: message("a/b", "r", 1, { retain: true }) }], 0);
    expect(publishes(actions).map((p) => p.retain)).toEqual([true]);
  });
});

describe("Subscription Identifiers [MQTT-3.3.4-3], [MQTT-3.3.4-4]", () => {
  function withIds() {
    const { session } = newSession();
    connect(session, "k1", "c1", { properties: { sessionExpiryInterval: 60 } });
    subscribe(session, [sub("a/b", 1)], { id: 1, messageId: 1 });
    subscribe(session, [sub("a/+", 2)], { id: 2, messageId: 2 });
    subscribe(session, [sub("a/#", 0)], { messageId: 3 });
    return session;
  }

  it("sends one copy with the identifiers of every matching subscription", () => {
    const session = withIds();
    const [p] = publishes(session.deliver("t/a", [{ seq: 1, message: message("a/b", "m", 2) }], 0).actions);
    expect(p?.qos).toBe(2);
    expect([...((p?.properties?.subscriptionIdentifier ?? []) as number[])].sort()).toEqual([1, 2]);
  });

  it("sends a single identifier as a number, and none when no matching subscription has one", () => {
    const session = withIds();
    const [one] = publishes(session.deliver("t/a", [{ seq: 1, message: message("a/c", "m", 1) }], 0).actions);
    expect(one?.properties?.subscriptionIdentifier).toBe(2);
    const [none] = publishes(session.deliver("t/a", [{ seq: 2, message: message("a/c/d", "m", 1) }], 0).actions);
    expect(none?.properties).toBeUndefined();
  });

  it("keeps the identifiers of a queued message until it is sent after a reconnect", () => {
    const session = withIds();
    session.connectionLost("k1", 0);
    session.deliver("t/a", [{ seq: 1, message: message("a/b", "later", 1) }], 0);
    const [p] = publishes(connect(session, "k2", "c1", { clean: false, properties: { sessionExpiryInterval: 60 } }));
    expect(text(p!.payload)).toBe("later");
    expect([...((p?.properties?.subscriptionIdentifier ?? []) as number[])].sort()).toEqual([1, 2]);
  });
});

describe("Message Expiry", () => {
  it("does not deliver a message whose expiry has passed [MQTT-3.3.2-5]", () => {
    const { session } = subscribed([sub("a/b", 1)]);
    const { actions, outcome } = session.deliver("t/a", [{ seq: 1, message: message("a/b", "late", 1, { expiresAt: 1_000 }) }, { message: message("a/b", "late0", 0, { expiresAt: 999 }) }], 1_000);
    expect(actions).toEqual([]);
    expect(outcome).toMatchObject({ gone: false, declined: [] });
    expect(session.outbound.size).toBe(0);
  });

  it("delivers a message still alive with its remaining lifetime [MQTT-3.3.2-6]", () => {
    const { session } = subscribed([sub("a/b", 1)]);
    const [p] = publishes(session.deliver("t/a", [{ seq: 1, message: message("a/b", "m", 1, { expiresAt: 2_500 }) }], 1_000).actions);
    expect(p?.properties?.messageExpiryInterval).toBe(2);
  });

  it("drops a queued message that expired before the client came back", () => {
    const { session } = subscribed([sub("a/b", 1)]);
    session.connectionLost("k1", 0);
    session.deliver(
      "t/a",
      [
        { seq: 1, message: message("a/b", "short", 1, { expiresAt: 5_000 }) },
        { seq: 2, message: message("a/b", "long", 1, { expiresAt: 60_000 }) },
      ],
      0,
    );
    expect(session.outbound.size).toBe(2);
    const actions = connect(session, "k2", "c1", { clean: false, properties: { sessionExpiryInterval: 60 } }, 10_000);
    expect(publishes(actions).map((p) => [text(p.payload), p.properties?.messageExpiryInterval])).toEqual([["long", 50]]);
    expect(only(actions, "log")).toEqual([expect.objectContaining({ counter: "dropped_expired" })]);
    expect(session.outbound.size).toBe(1);
  });
});

describe("shared subscriptions", () => {
  it("declines a shared delivery while the client is offline, so the group can give it to another member", () => {
    const { session } = subscribed([sub(SHARE, 1)]);
    session.connectionLost("k1", 0);
    const result = session.deliver("t/a", [{ message: message("a/b", "m", 1), share: SHARE }], 0);
    expect(result).toMatchObject({ actions: [], outcome: { gone: false, declined: [0] } });
    expect(session.outbound.size).toBe(0);
  });

  it("takes a forced shared delivery while offline and sends it on reconnect", () => {
    const { session } = subscribed([sub(SHARE, 1)]);
    session.connectionLost("k1", 0);
    const result = session.deliver("t/a", [{ message: message("a/b", "m", 1), share: SHARE, force: true }], 0);
    expect(result.outcome).toMatchObject({ gone: false, declined: [] });
    expect(session.outbound.size).toBe(1);
    const [p] = publishes(connect(session, "k2", "c1", { clean: false, properties: { sessionExpiryInterval: 60 } }));
    expect(p).toMatchObject({ topic: "a/b", qos: 1 });
  });

  it("reports the index of each declined delivery in a mixed batch", () => {
    const { session } = subscribed([sub(SHARE, 1), sub("a/b", 1)]);
    session.connectionLost("k1", 0);
    const { outcome } = session.deliver(
      "t/a",
      [
        { seq: 1, message: message("a/b", "plain", 1) },
        { message: message("a/b", "shared", 1), share: SHARE },
        { message: message("a/b", "forced", 1), share: SHARE, force: true },
        { message: message("a/b", "other group", 1), share: "$share/h/a/b" },
      ],
      0,
    );
    expect(outcome).toMatchObject({ gone: false, declined: [1, 3] });
    expect(session.outbound.messages().map((m) => text(m.payload))).toEqual(["plain", "forced"]);
  });

  it("accepts a shared delivery while connected, at min(granted, published) QoS with the subscription's identifier", () => {
    const { session } = subscribed([sub(SHARE, 1, { rap: true })], { id: 4 });
    const { actions, outcome } = session.deliver("t/a", [{ message: message("a/b", "m", 2, { retain: true }), share: SHARE }], 0);
    expect(outcome).toMatchObject({ gone: false, declined: [] });
    expect(publishes(actions)).toEqual([expect.objectContaining({ topic: "a/b", qos: 1, retain: true, properties: { subscriptionIdentifier: 4 } })]);
  });

  it("declines a shared delivery for a filter the session does not hold, even connected", () => {
    const { session } = subscribed([sub("a/b", 1)]);
    const result = session.deliver("t/a", [{ message: message("a/b", "m", 1), share: SHARE, force: true }], 0);
    expect(result).toMatchObject({ actions: [], outcome: { gone: false, declined: [0] } });
  });

  it("a retried group delivery (its reply was lost) is taken once: QoS 2 reaches the application once (review F10)", () => {
    const { session, kv } = subscribed([sub(SHARE, 2)]);
    const batch = [{ seq: 7, message: message("a/b", "once", 2), share: SHARE }];
    expect(publishes(session.deliver("t/a", batch, 0).actions)).toHaveLength(1);
    expect(session.deliver("t/a", batch, 1)).toMatchObject({ actions: [], outcome: { gone: false, declined: [] } });
    expect(session.outbound.size).toBe(1);
    // Also when the retry reaches a restarted session object (its client still connected).
    const { session: restarted } = newSession({}, kv);
    restarted.restore(session.current!, session.rights);
    expect(restarted.deliver("t/a", batch, 2).outcome).toMatchObject({ declined: [] });
    expect(restarted.outbound.size).toBe(1);
  });

  it("says which delivered topics no filter of the session matches, so the shard drops its phantom rows (F20)", () => {
    const { session } = subscribed([sub("a/c", 1), sub(SHARE, 1)]);
    const { outcome } = session.deliver(
      "t/a",
      [
        { seq: 1, message: message("a/b", "phantom", 1) },
        { seq: 2, message: message("a/c", "real", 1) },
      ],
      0,
    );
    expect(outcome).toMatchObject({ gone: false, unmatched: ["a/b"] });
  });

  it("a shared message is not delivered again through the non-shared path", () => {
    const { session } = subscribed([sub(SHARE, 1)]);
    expect(session.deliver("t/a", [{ seq: 1, message: message("a/b", "m", 1) }], 0).actions).toEqual([]);
  });

  it("when the session ends, unfinished shared messages go back to their group", () => {
    const { session } = subscribed([sub(SHARE, 2), sub("x", 1)], { connect: { properties: { sessionExpiryInterval: 10 } } });
    const live = session.deliver(
      "t/a",
      [
        { message: message("a/b", "in flight", 1), share: SHARE },
        { message: message("a/b", "released", 2), share: SHARE },
      ],
      0,
    );
    const [, released] = publishes(live.actions);
    // PUBREC: the client has the QoS 2 message; only PUBCOMP is missing, so it is not handed on.
    session.receive("k1", route("c1"), ok({ cmd: "pubrec", messageId: released!.messageId! }), 0);
    session.deliver("t/x", [{ seq: 1, message: message("x", "not shared", 1) }], 0);
    session.connectionLost("k1", 0);
    session.deliver("t/a", [{ message: message("a/b", "queued", 1), share: SHARE, force: true }], 0);

    const actions = session.timer(10_000);
    expect(only(actions, "reshare").map((r) => [r.share, text(r.message.payload)])).toEqual([
      [SHARE, "in flight"],
      [SHARE, "queued"],
    ]);
    expect(only(actions, "unsubscribe")).toEqual([{ type: "unsubscribe", clientId: "c1", filters: [SHARE, "x"] }]);
    expect(session.record).toBeUndefined();
  });

  it("a session with expiry 0 hands its shared messages back at connection loss", () => {
    const { session } = subscribed([sub(SHARE, 1)], { connect: { properties: { sessionExpiryInterval: 0 } } });
    session.deliver("t/a", [{ message: message("a/b", "m", 1), share: SHARE }], 0);
    const actions = session.connectionLost("k1", 0);
    expect(only(actions, "reshare")).toEqual([{ type: "reshare", share: SHARE, message: expect.objectContaining({ topic: "a/b" }), routeId: expect.any(Number) }]);
  });

  it("a hand-over that fails is kept and tried again, although the session's rows are gone (F10)", () => {
    const { session, kv } = subscribed([sub(SHARE, 1)], { connect: { properties: { sessionExpiryInterval: 0 } } });
    session.deliver("t/a", [{ message: message("a/b", "m", 1), share: SHARE }], 0);
    const [first] = only(session.connectionLost("k1", 0), "reshare");
    expect(session.record).toBeUndefined();
    // No client to blame: nothing is closed; the timer hands it over again.
    expect(only(session.routeFailed(first!.routeId, "shard unreachable", 10), "close")).toEqual([]);
    expect(pendingWillRows(kv)).toHaveLength(1);
    const [again] = only(session.timer(10 + WILL_RETRY_MS), "reshare");
    expect(again).toMatchObject({ share: SHARE, message: expect.objectContaining({ topic: "a/b" }) });
    session.routed(again!.routeId, 6000);
    expect(pendingWillRows(kv)).toEqual([]);
  });
});

describe("limits the client set in CONNECT", () => {
  it("keeps at most the client's Receive Maximum QoS 1/2 messages in flight [MQTT-3.3.4-9]", () => {
    const { session } = subscribed([sub("a/b", 1)], { connect: { properties: { receiveMaximum: 2 } } });
    const batch = [1, 2, 3, 4].map((seq) => ({ seq, message: message("a/b", `m${seq}`, 1) }));
    const first = publishes(session.deliver("t/a", batch, 0).actions);
    expect(first.map((p) => text(p.payload))).toEqual(["m1", "m2"]);
    const next = session.receive("k1", route("c1"), ok({ cmd: "puback", messageId: first[0]!.messageId! }), 0);
    expect(publishes(next).map((p) => text(p.payload))).toEqual(["m3"]);
  });

  it("drops a message above the client's Maximum Packet Size as if it were sent [MQTT-3.1.2-24], [MQTT-3.1.2-25]", () => {
    const { session } = subscribed([sub("a/b", 1)], { connect: { properties: { maximumPacketSize: 64 } } });
    const { actions } = session.deliver(
      "t/a",
      [{ seq: 1, message: message("a/b", "x".repeat(200), 1) }, { seq: 2, message: message("a/b", "small", 1) }, { message: message("a/b", "y".repeat(200), 0) }],
      0,
    );
    expect(publishes(actions).map((p) => text(p.payload))).toEqual(["small"]);
    expect(only(actions, "log").map((l) => l.counter)).toEqual(["dropped_too_large", "dropped_too_large"]);
    expect(session.outbound.messages().map((m) => text(m.payload))).toEqual(["small"]);
    for (const a of only(actions, "send")) expect(a.bytes?.length).toBeLessThanOrEqual(64);
  });

  it("uses server Topic Aliases up to the client's maximum, and starts over on a new connection", () => {
    const { session } = subscribed([sub("a/b", 0)], { connect: { properties: { topicAliasMaximum: 5, sessionExpiryInterval: 60 } } });
    const first = publishes(session.deliver("t/a", [{ message: message("a/b", "1", 0) }, { message: message("a/b", "2", 0) }], 0).actions);
    expect(first.map((p) => [p.topic, p.properties?.topicAlias])).toEqual([
      ["a/b", 1],
      ["", 1],
    ]);

    session.connectionLost("k1", 0);
    connect(session, "k2", "c1", { clean: false, properties: { topicAliasMaximum: 5, sessionExpiryInterval: 60 } });
    const [again] = publishes(session.deliver("t/a", [{ message: message("a/b", "3", 0) }], 0).actions);
    expect([again?.topic, again?.properties?.topicAlias]).toEqual(["a/b", 1]);
  });
});
