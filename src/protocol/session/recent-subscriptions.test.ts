/**
 * A subscription made after a message was published is not its recipient: the copy from the
 * wildcard shard of a message published while only `#` existed is delivered even after `slow/#`
 * (whose shard never had it) was added (review F9, [MQTT-4.5.0-1]).
 */
import { describe, expect, it } from "vitest";
import { WILDCARD_SHARD } from "../topic/shard-key.js";
import { KEEP_MS, RecentSubscriptions } from "./recent-subscriptions.js";
import { forVersion, message, newSession, ok, publishes, route, settle, subscribePacket, text } from "./test-support.js";

describe.each([4, 5] as const)("MQTT %s: subscriptions newer than a message in transit (F9)", (version) => {
  const { connect } = forVersion(version);

  it("the wildcard shard's copy of an earlier message is delivered although a newer filter lives in the topic's shard", () => {
    const { session } = newSession();
    connect(session, "k1", "c1");
    settle(session, session.receive("k1", route("c1"), ok(subscribePacket([["#", 1]])), 0));
    settle(session, session.receive("k1", route("c1"), ok(subscribePacket([["slow/#", 1]], 2)), 100));
    const early = session.deliver(WILDCARD_SHARD, [{ seq: 1, message: { ...message("slow/x", "early", 1), publishedAt: 50 } }], 200);
    expect(publishes(early.actions).map((p) => text(p.payload))).toEqual(["early"]);
    // A message published after both exist comes from the topic's shard only.
    const late = { ...message("slow/x", "late", 1), publishedAt: 150 };
    expect(publishes(session.deliver(WILDCARD_SHARD, [{ seq: 2, message: late }], 200).actions)).toEqual([]);
    expect(publishes(session.deliver("t/slow", [{ seq: 1, message: late }], 200).actions).map((p) => text(p.payload))).toEqual(["late"]);
  });

  it("a message published while an overlapping filter existed is delivered once although that filter was removed meanwhile", () => {
    const { session } = newSession();
    connect(session, "k1", "c1");
    settle(session, session.receive("k1", route("c1"), ok(subscribePacket([["#", 1]])), 0));
    settle(session, session.receive("k1", route("c1"), ok(subscribePacket([["slow/#", 1]], 2)), 10));
    const early = { ...message("slow/x", "early", 1), publishedAt: 50 };
    // The wildcard shard's copy comes first: while slow/# exists, the topic's shard delivers it.
    expect(publishes(session.deliver(WILDCARD_SHARD, [{ seq: 1, message: early }], 60).actions)).toEqual([]);
    settle(session, session.receive("k1", route("c1"), ok({ cmd: "unsubscribe", messageId: 3, unsubscriptions: ["slow/#"] }), 100));
    // The topic shard's copy arrives after the UNSUBSCRIBE: slow/# still counts for it, so it is delivered.
    expect(publishes(session.deliver("t/slow", [{ seq: 1, message: early }], 120).actions).map((p) => text(p.payload))).toEqual(["early"]);
    // A message published after the UNSUBSCRIBE comes from the wildcard shard only.
    const late = { ...message("slow/x", "late", 1), publishedAt: 150 };
    expect(publishes(session.deliver("t/slow", [{ seq: 2, message: late }], 160).actions)).toEqual([]);
    expect(publishes(session.deliver(WILDCARD_SHARD, [{ seq: 2, message: late }], 160).actions).map((p) => text(p.payload))).toEqual(["late"]);
  });
});

describe("RecentSubscriptions", () => {
  it("forgets beginnings after KEEP_MS", () => {
    const r = new RecentSubscriptions();
    r.began("a/#", 1000);
    expect(r.newerThan("a/#", 500)).toBe(true);
    expect(r.newerThan("a/#", 1000)).toBe(false);
    r.began("b/#", 1000 + KEEP_MS);
    expect(r.newerThan("a/#", 500)).toBe(false);
    expect(r.newerThan("b/#", 500)).toBe(true);
  });
});
