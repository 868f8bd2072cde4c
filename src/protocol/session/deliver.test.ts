/** Messages from topic shards to the session: QoS choice, designated shard, duplicate marks. */
import { describe, expect, it } from "vitest";
import { MemoryKv } from "../../storage/memory-kv.js";
import { shardForTopic, shardsForPublish, WILDCARD_SHARD } from "../topic/shard-key.js";
import type { Action } from "../actions.js";
import type { Message } from "../message.js";
import type { Session } from "./session.js";
import { deliverNow, forVersion, message, newSession, ok, only, type Publish, publishPacket, publishes, route, settle, subscribePacket, text } from "./test-support.js";

// ---- helpers (the shared ones are in ./test-support.ts) ----

const { subscribed } = forVersion(4);

const summary = (p: Publish) => ({ topic: p.topic, payload: text(p.payload), qos: p.qos, retain: p.retain, dup: p.dup });

// ---- tests ----

/** Delivers `message` from every shard its publish reaches, as the shards would. */
function fromEveryShard(session: Session, msg: Message, seq?: number): Action[] {
  const out: Action[] = [];
  for (const shard of shardsForPublish(msg.topic)) {
    const result = deliverNow(session, shard, [seq === undefined ? { message: msg } : { seq, message: msg }]);
    expect(result.outcome.gone).toBe(false);
    out.push(...result.actions);
  }
  return out;
}

describe("Session.deliver", () => {
  it("delivers at the maximum QoS of overlapping subscriptions [MQTT-3.3.5-1]", () => {
    const { session } = subscribed([
      ["a/+", 0],
      ["a/b", 2],
      ["a/#", 1],
    ]);
    const { actions, outcome } = deliverNow(session, shardForTopic("a/b"), [{ seq: 1, message: message("a/b", "m", 2) }]);
    expect(outcome).toMatchObject({ gone: false, declined: [] });
    expect(publishes(actions).map(summary)).toEqual([{ topic: "a/b", payload: "m", qos: 2, retain: false, dup: false }]);
  });

  it("sends one copy when a topic-shard and a wildcard-shard filter overlap, from the topic shard [MQTT-3.3.5-1]", () => {
    const { session } = subscribed([
      ["a/b", 1],
      ["+/b", 2],
      ["#", 0],
    ]);
    expect(deliverNow(session, WILDCARD_SHARD, [{ seq: 1, message: message("a/b", "m", 2) }]).actions).toEqual([]);
    const { actions } = deliverNow(session, "t/a", [{ seq: 1, message: message("a/b", "m", 2) }]);
    expect(publishes(actions).map((p) => p.qos)).toEqual([2]);
    // And exactly one copy over both shards.
    expect(publishes(fromEveryShard(session, message("a/b", "again", 1), 2))).toHaveLength(1);
  });

  it("delivers from the wildcard shard when only wildcard-first filters match", () => {
    const { session } = subscribed([
      ["+/b", 1],
      ["#", 2],
    ]);
    expect(deliverNow(session, "t/a", [{ seq: 1, message: message("a/b", "m", 2) }]).actions).toEqual([]);
    const { actions } = deliverNow(session, WILDCARD_SHARD, [{ seq: 1, message: message("a/b", "m", 2) }]);
    expect(publishes(actions).map(summary)).toEqual([{ topic: "a/b", payload: "m", qos: 2, retain: false, dup: false }]);
  });

  it("caps the QoS at the published QoS [MQTT-3.8.4-6]", () => {
    const { session } = subscribed([["a/b", 2]]);
    const [p0] = publishes(deliverNow(session, "t/a", [{ message: message("a/b", "zero", 0) }]).actions);
    expect(p0).toMatchObject({ qos: 0 });
    expect(p0!.messageId).toBeUndefined();
    const [p1] = publishes(deliverNow(session, "t/a", [{ seq: 1, message: message("a/b", "one", 1) }]).actions);
    expect(p1).toMatchObject({ qos: 1 });
    expect(p1!.messageId).toBeGreaterThan(0);
  });

  it("downgrades to the granted QoS [MQTT-3.8.4-6]", () => {
    const { session } = subscribed([["a/b", 0]]);
    expect(publishes(deliverNow(session, "t/a", [{ seq: 1, message: message("a/b", "m", 2) }]).actions).map((p) => p.qos)).toEqual([0]);
  });

  it("clears the retain flag on messages forwarded to an existing subscription [MQTT-3.3.1-9]", () => {
    const { session } = subscribed([["a/b", 1]]);
    const [p] = publishes(deliverNow(session, "t/a", [{ seq: 1, message: message("a/b", "r", 1, { retain: true }) }]).actions);
    expect(p!.retain).toBe(false);
  });

  it("ignores messages no subscription matches", () => {
    const { session } = subscribed([["a/b", 1]]);
    expect(deliverNow(session, "t/a", [{ seq: 1, message: message("a/c", "m", 1) }])).toMatchObject({ actions: [], outcome: { gone: false, declined: [] } });
    expect(session.outbound.size).toBe(0);
  });

  it("delivers a batch in order", () => {
    const { session } = subscribed([["a/#", 1]]);
    const batch = [1, 2, 3, 4].map((seq) => ({ seq, message: message(`a/${seq}`, `m${seq}`, 1) }));
    expect(publishes(deliverNow(session, "t/a", batch).actions).map((p) => p.topic)).toEqual(["a/1", "a/2", "a/3", "a/4"]);
  });

  it("skips a durable delivery whose seq it already took from that shard", () => {
    const { session } = subscribed([
      ["a/#", 1],
      ["+/x", 1],
    ]);
    expect(publishes(deliverNow(session, "t/a", [{ seq: 5, message: message("a/b", "m5", 1) }]).actions)).toHaveLength(1);
    // The shard retries (e.g. it never saw the answer): nothing is queued twice.
    expect(deliverNow(session, "t/a", [{ seq: 5, message: message("a/b", "m5", 1) }]).actions).toEqual([]);
    expect(deliverNow(session, "t/a", [{ seq: 4, message: message("a/b", "m4", 1) }]).actions).toEqual([]);
    expect(session.outbound.size).toBe(1);
    // A mixed retry batch delivers only the new one.
    const mixed = deliverNow(session, "t/a", [
      { seq: 5, message: message("a/b", "m5", 1) },
      { seq: 6, message: message("a/b", "m6", 1) },
    ]);
    expect(publishes(mixed.actions).map((p) => text(p.payload))).toEqual(["m6"]);
    // Marks are per shard: seq 1 from the wildcard shard is new.
    expect(publishes(deliverNow(session, WILDCARD_SHARD, [{ seq: 1, message: message("q/x", "w1", 1) }]).actions)).toHaveLength(1);
  });

  it("keeps the duplicate marks across a restart of the object", () => {
    const kv = new MemoryKv();
    const { session } = subscribed([["a/#", 1]], { clean: false, kv });
    deliverNow(session, "t/a", [{ seq: 3, message: message("a/b", "m", 1) }]);
    const { session: restarted } = newSession({}, kv);
    expect(deliverNow(restarted, "t/a", [{ seq: 3, message: message("a/b", "m", 1) }]).actions).toEqual([]);
    expect(restarted.outbound.size).toBe(1);
  });

  it("does not deduplicate QoS 0 deliveries, which carry no seq", () => {
    const { session } = subscribed([["a/b", 0]]);
    expect(publishes(deliverNow(session, "t/a", [{ message: message("a/b", "x", 0) }]).actions)).toHaveLength(1);
    expect(publishes(deliverNow(session, "t/a", [{ message: message("a/b", "x", 0) }]).actions)).toHaveLength(1);
  });

  it("refuses a delivery from no shard (an unnamed sender) instead of releasing what it did not take", () => {
    const { session } = subscribed([["a/#", 2]]);
    // Neither the topic's shard nor the wildcard shard: the message would be skipped as
    // designated elsewhere and its seq released. The shard's retry, named, is taken.
    expect(() => deliverNow(session, "", [{ seq: 1, message: message("a/b", "m", 2) }])).toThrow(/names no shard/);
    expect(session.outbound.size).toBe(0);
    const { actions, outcome } = deliverNow(session, "t/a", [{ seq: 1, message: message("a/b", "m", 2) }]);
    expect(publishes(actions).map((p) => text(p.payload))).toEqual(["m"]);
    expect(outcome).toMatchObject({ released: 1 });
  });

  it("answers gone with no session", () => {
    const { session } = newSession();
    expect(deliverNow(session, "t/a", [{ seq: 1, message: message("a/b", "m", 1) }])).toEqual({ actions: [], outcome: { gone: true } });
  });

  it("delivers '$SYS' topics to '$SYS/#' from their topic shard and never to '#' [MQTT-4.7.2-1]", () => {
    const { session } = subscribed([
      ["#", 1],
      ["$SYS/#", 1],
    ]);
    expect(shardsForPublish("$SYS/load")).toEqual([shardForTopic("$SYS/load")]);
    const [p] = publishes(fromEveryShard(session, message("$SYS/load", "1", 1), 1));
    expect(p?.topic).toBe("$SYS/load");

    const other = subscribed([
      ["#", 1],
      ["+/load", 1],
    ]).session;
    expect(fromEveryShard(other, message("$SYS/load", "1", 1), 1)).toEqual([]);
  });

  it("drops QoS 0 and queues QoS 1/2 for an offline persistent session", () => {
    const { session } = subscribed([["a/b", 2]], { clean: false });
    session.connectionLost("conn1", 0);
    const r0 = deliverNow(session, "t/a", [{ message: message("a/b", "q0", 0) }]);
    expect(r0).toMatchObject({ actions: [], outcome: { gone: false, declined: [] } });
    const r1 = deliverNow(session, "t/a", [
      { seq: 1, message: message("a/b", "q1", 1) },
      { seq: 2, message: message("a/b", "q2", 2) },
    ]);
    expect(r1).toMatchObject({ actions: [], outcome: { gone: false, declined: [] } });
    expect(session.outbound.size).toBe(2);
  });
});

describe("the client's own publishes and its later subscriptions [MQTT-4.5.0-1]", () => {
  // The broker takes a PUBLISH when it handles it, for the subscriptions that exist then
  // [MQTT-4.5.0-1]. A SUBSCRIBE the client sent after it must not receive it, however late the
  // PUBLISH reaches a shard (another call, or forwarded to the wildcard shard).
  const { connect } = forVersion(5);
  const persistent = { clean: false, properties: { sessionExpiryInterval: 600 } };

  /** "c1" connected on "k1": publishes `topic` (QoS 1), then subscribes to `filters`; returns the routed message. */
  function publishThenSubscribe(filters: string[], kv = new MemoryKv()) {
    const { session } = newSession({}, kv);
    connect(session, "k1", "c1", persistent);
    const routed = only(session.receive("k1", route("c1"), ok(publishPacket("a/b", "before", 1, 1)), 0), "route");
    expect(routed).toHaveLength(1);
    settle(
      session,
      session.receive(
        "k1",
        route("c1"),
        ok(
          subscribePacket(
            filters.map((f) => [f, 1]),
            2,
          ),
        ),
        0,
      ),
    );
    return { session, kv, before: routed[0]!.message };
  }
  const payloads = (actions: Action[]) => publishes(actions).map((p) => text(p.payload));

  it("does not deliver a PUBLISH handled before the SUBSCRIBE, from the topic shard or the wildcard shard", () => {
    for (const filter of ["a/b", "+/b", "#"]) {
      const { session, before } = publishThenSubscribe([filter]);
      expect(fromEveryShard(session, before, 1), filter).toEqual([]);
      // The release point moves past it: it was not wanted.
      expect(session.marks.releasePoint(shardForTopic("a/b")), filter).toBe(1);
      const after = only(session.receive("k1", route("c1"), ok(publishPacket("a/b", "after", 1, 3)), 0), "route")[0]!.message;
      expect(payloads(fromEveryShard(session, after, 2)), filter).toEqual(["after"]);
    }
  });

  it("still delivers it through a subscription that existed before the PUBLISH, at that subscription's QoS", () => {
    const { session } = newSession();
    connect(session, "k1", "c1", persistent);
    settle(session, session.receive("k1", route("c1"), ok(subscribePacket([["a/#", 0]], 1)), 0));
    const before = only(session.receive("k1", route("c1"), ok(publishPacket("a/b", "before", 1, 1)), 0), "route")[0]!.message;
    settle(session, session.receive("k1", route("c1"), ok(subscribePacket([["a/b", 1]], 2)), 0));
    // Re-subscribing to the older filter (replacing it) does not make it new.
    settle(session, session.receive("k1", route("c1"), ok(subscribePacket([["a/#", 0]], 3)), 0));
    expect(publishes(fromEveryShard(session, before, 1)).map((p) => [text(p.payload), p.qos])).toEqual([["before", 0]]);
  });

  it("delivers other clients' messages whenever they come", () => {
    const { session } = publishThenSubscribe(["a/b"]);
    expect(payloads(fromEveryShard(session, message("a/b", "theirs", 1), 1))).toEqual(["theirs"]);
  });

  it("keeps telling them apart after the object restarts, whatever its clock says", () => {
    const { kv, before } = publishThenSubscribe(["a/b"]);
    const { session } = newSession({}, kv);
    connect(session, "k2", "c1", persistent);
    expect(fromEveryShard(session, before, 1)).toEqual([]);
    // Stamps of the new instance go on above the subscription's mark even with the clock at 0.
    const after = only(session.receive("k2", route("c1"), ok(publishPacket("a/b", "after", 1, 3)), 0), "route")[0]!.message;
    expect(after.stamp).toBeGreaterThan(before.stamp!);
    expect(payloads(fromEveryShard(session, after, 2))).toEqual(["after"]);
  });
});
