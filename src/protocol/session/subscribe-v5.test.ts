/** SUBSCRIBE and UNSUBSCRIBE on MQTT 5 connections: reason codes, subscription options, Retain Handling. */
import type { ISubscription } from "mqtt-packet";
import { describe, expect, it } from "vitest";
import type { Action } from "../actions.js";
import type { Session } from "./session.js";
import { forVersion, message, ok, only, packets, type PacketOf, route, sent, settle, sub, subscribePacket } from "./test-support.js";

// ---- helpers (the shared ones are in ./test-support.ts) ----

/** `connected()`: a session of "c1" connected over MQTT 5 on "k1". */
const { connected } = forVersion(5);

/** SUBSCRIBE on "k1"; the raw actions (before the shards answered). */
const subscribe = (s: Session, subscriptions: ISubscription[], messageId = 1, subscriptionIdentifier?: number) =>
  s.receive("k1", route("c1"), ok(subscribePacket(subscriptions, messageId, subscriptionIdentifier)), 0);

/** SUBSCRIBE on "k1", settled; the SUBACK sent for it. */
function suback(s: Session, subscriptions: ISubscription[], messageId = 1, subscriptionIdentifier?: number): PacketOf<"suback"> {
  const [ack] = packets(settle(s, subscribe(s, subscriptions, messageId, subscriptionIdentifier)), "suback");
  if (!ack) throw new Error("no SUBACK");
  return ack;
}

/** The `retained` flag the subscribe action asks the shards for, per filter. */
function retainedFlags(actions: Action[]): Record<string, boolean> {
  const [action] = only(actions, "subscribe");
  return Object.fromEntries((action?.subscriptions ?? []).map((x) => [x.filter, x.retained]));
}

// ---- tests ----

describe("SUBACK reason codes (MQTT 5)", () => {
  it("grants each valid filter its QoS and refuses invalid filters with 0x8F, in order [MQTT-3.9.3-1]", () => {
    const { session } = connected();
    const filters = ["ok/1", "sport/tennis#", "$share/g", "$share/g+/x", "$share/g/a/#/b", "ok/+", "a/#/b"];
    const actions = subscribe(
      session,
      filters.map((f) => sub(f, 1)),
      9,
    );
    expect(only(actions, "subscribe")[0]?.subscriptions.map((x) => x.filter)).toEqual(["ok/1", "ok/+"]);
    const [ack] = packets(settle(session, actions), "suback");
    expect(ack).toMatchObject({ messageId: 9, granted: [1, 0x8f, 0x8f, 0x8f, 0x8f, 1, 0x8f] });
    expect(Object.keys(session.record!.subscriptions)).toEqual(["ok/1", "ok/+"]);
  });

  it("answers at once, without asking the shards, when every filter is refused", () => {
    const { session } = connected();
    const actions = subscribe(session, [sub("$share/g", 0)], 3);
    expect(only(actions, "subscribe")).toEqual([]);
    expect(sent(actions)).toEqual([expect.objectContaining({ cmd: "suback", messageId: 3, granted: [0x8f] })]);
  });

  it("refuses filters beyond config.maxSubscriptions with 0x97, but replacing an existing one is fine", () => {
    const { session } = connected({ maxSubscriptions: 2 });
    expect(suback(session, [sub("a", 0), sub("b", 1), sub("c", 2)]).granted).toEqual([0, 1, 0x97]);
    expect(Object.keys(session.record!.subscriptions)).toEqual(["a", "b"]);
    expect(suback(session, [sub("b", 2), sub("d", 0)], 2).granted).toEqual([2, 0x97]);
    expect(session.record?.subscriptions.b).toEqual({ qos: 2 });
  });

  it("refuses every filter with 0x91 while the packet id belongs to an unreleased incoming QoS 2 message", () => {
    const { session } = connected();
    settle(session, session.receive("k1", route("c1"), ok({ cmd: "publish", topic: "t", payload: Buffer.from("x"), qos: 2, retain: false, dup: false, messageId: 7 }), 0));
    expect(suback(session, [sub("a", 1), sub("b", 0)], 7).granted).toEqual([0x91, 0x91]);
    expect(session.record?.subscriptions).toEqual({});
    // Another id is fine, and after PUBREL so is this one.
    expect(suback(session, [sub("a", 1)], 8).granted).toEqual([1]);
    session.receive("k1", route("c1"), ok({ cmd: "pubrel", messageId: 7 }), 0);
    expect(suback(session, [sub("b", 0)], 7).granted).toEqual([0]);
  });

  it("refuses shared subscriptions with 0x9E when they are turned off", () => {
    const { session } = connected({ sharedSubscriptions: false });
    expect(suback(session, [sub("$share/g/a", 1), sub("a", 1)]).granted).toEqual([0x9e, 1]);
    expect(Object.keys(session.record!.subscriptions)).toEqual(["a"]);
  });

  it("refuses a Subscription Identifier with 0xA1 when they are turned off", () => {
    const { session } = connected({ subscriptionIdentifiers: false });
    expect(suback(session, [sub("a", 1), sub("b", 0)], 1, 5).granted).toEqual([0xa1, 0xa1]);
    expect(session.record?.subscriptions).toEqual({});
    expect(suback(session, [sub("a", 1)], 2).granted).toEqual([1]);
  });

  it("refuses wildcard filters with 0xA2 when they are turned off, shared ones included", () => {
    const { session } = connected({ wildcardSubscriptions: false });
    expect(suback(session, [sub("a/+", 0), sub("#", 0), sub("$share/g/a/#", 0), sub("a/b", 1)]).granted).toEqual([0xa2, 0xa2, 0xa2, 1]);
    expect(Object.keys(session.record!.subscriptions)).toEqual(["a/b"]);
  });

  it("caps the granted QoS at config.maximumQoS", () => {
    const { session } = connected({ maximumQoS: 1 });
    const actions = subscribe(session, [sub("a", 2), sub("b", 1), sub("c", 0)]);
    expect(only(actions, "subscribe")[0]?.subscriptions.map((x) => x.qos)).toEqual([1, 1, 0]);
    expect(packets(settle(session, actions), "suback")[0]?.granted).toEqual([1, 1, 0]);
    expect(session.record?.subscriptions.a).toEqual({ qos: 1 });
  });

  it("closes with DISCONNECT 0x82 on No Local for a shared subscription [MQTT-3.8.3-4]", () => {
    const { session } = connected();
    const actions = subscribe(session, [sub("a", 1), sub("$share/g/a", 1, { nl: true })]);
    expect(sent(actions, "k1")).toEqual([expect.objectContaining({ cmd: "disconnect", reasonCode: 0x82 })]);
    expect(only(actions, "close")).toEqual([expect.objectContaining({ connId: "k1", error: true })]);
    expect(only(actions, "subscribe")).toEqual([]);
    expect(session.current).toBeNull();
  });

  it("closes with DISCONNECT 0x82 on a Subscription Identifier of 0", () => {
    const { session } = connected();
    const actions = subscribe(session, [sub("a", 1)], 1, 0);
    expect(sent(actions, "k1")).toEqual([expect.objectContaining({ cmd: "disconnect", reasonCode: 0x82 })]);
    expect(only(actions, "close")).toHaveLength(1);
  });
});

describe("Reason String on SUBACK [MQTT-3.1.2-29]", () => {
  it("explains a refusal", () => {
    const { session } = connected();
    const ack = suback(session, [sub("a/#/b", 1), sub("ok", 1)]);
    expect(ack.properties?.reasonString).toEqual(expect.stringContaining("a/#/b"));
  });

  it("is left out when nothing was refused", () => {
    const { session } = connected();
    expect(suback(session, [sub("ok", 1)])).not.toHaveProperty("properties");
  });

  it("is left out for a client that set Request Problem Information to 0", () => {
    const { session } = connected({}, { properties: { requestProblemInformation: false } });
    const ack = suback(session, [sub("a/#/b", 1), sub("ok", 1)]);
    expect(ack.granted).toEqual([0x8f, 1]);
    expect(ack).not.toHaveProperty("properties");
  });

  it("is sent when Request Problem Information is 1", () => {
    const { session } = connected({}, { properties: { requestProblemInformation: true } });
    expect(suback(session, [sub("a/#/b", 1)]).properties?.reasonString).toEqual(expect.any(String));
  });
});

describe("subscription options", () => {
  it("stores No Local, Retain As Published, Retain Handling and the Subscription Identifier", () => {
    const { session } = connected();
    suback(session, [sub("a", 2, { nl: true, rap: true, rh: 2 }), sub("b", 0)], 1, 42);
    expect(session.record?.subscriptions).toEqual({
      a: { qos: 2, noLocal: true, retainAsPublished: true, retainHandling: 2, id: 42 },
      b: { qos: 0, id: 42 },
    });
  });

  it("a new SUBSCRIBE replaces the options, the identifier too", () => {
    const { session } = connected();
    suback(session, [sub("a", 2, { nl: true })], 1, 42);
    suback(session, [sub("a", 1)], 2);
    expect(session.record?.subscriptions.a).toEqual({ qos: 1 });
  });

  it("Retain Handling 0 always asks for retained messages [MQTT-3.3.1-9]", () => {
    const { session } = connected();
    expect(retainedFlags(subscribe(session, [sub("a", 1, { rh: 0 })]))).toEqual({ a: true });
    // Again for the existing subscription.
    settle(session, subscribe(session, [sub("b", 1)], 2));
    expect(retainedFlags(subscribe(session, [sub("b", 1, { rh: 0 })], 3))).toEqual({ b: true });
  });

  it("Retain Handling 1 asks for them only when the subscription is new [MQTT-3.3.1-10]", () => {
    const { session } = connected();
    const first = subscribe(session, [sub("a", 1, { rh: 1 })]);
    expect(retainedFlags(first)).toEqual({ a: true });
    settle(session, first);
    expect(retainedFlags(subscribe(session, [sub("a", 1, { rh: 1 }), sub("b", 1, { rh: 1 })], 2))).toEqual({ a: false, b: true });
  });

  it("Retain Handling 2 never asks for them [MQTT-3.3.1-11]", () => {
    const { session } = connected();
    expect(retainedFlags(subscribe(session, [sub("a", 1, { rh: 2 })]))).toEqual({ a: false });
  });

  it("a shared subscription never asks for retained messages", () => {
    const { session } = connected();
    const actions = subscribe(session, [sub("$share/g/a", 1, { rh: 0 }), sub("$share/g/b", 1, { rh: 1 })]);
    expect(retainedFlags(actions)).toEqual({ "$share/g/a": false, "$share/g/b": false });
    // Recorded once the shards hold them.
    expect(Object.keys(session.record!.subscriptions)).toEqual([]);
    settle(session, actions);
    expect(Object.keys(session.record!.subscriptions)).toEqual(["$share/g/a", "$share/g/b"]);
  });

  it("retained messages after SUBACK carry the Subscription Identifier and the retain flag", () => {
    const { session } = connected();
    const actions = settle(session, subscribe(session, [sub("a/#", 1)], 4, 9), () => [[message("a/x", "r", 1, { retain: true })]]);
    const sentPackets = sent(actions);
    expect(sentPackets[0]).toEqual(expect.objectContaining({ cmd: "suback", messageId: 4, granted: [1] }));
    expect(sentPackets[1]).toMatchObject({ cmd: "publish", topic: "a/x", qos: 1, retain: true, properties: { subscriptionIdentifier: 9 } });
  });
});

describe("UNSUBACK reason codes (MQTT 5)", () => {
  it("says 0x00 for a filter that was subscribed and 0x11 for one that was not", () => {
    const { session } = connected();
    settle(session, subscribe(session, [sub("a/b", 1), sub("c", 0)]));
    const actions = session.receive("k1", route("c1"), ok({ cmd: "unsubscribe", messageId: 5, unsubscriptions: ["a/b", "zzz", "c"] }), 0);
    expect(only(actions, "unsubscribe")).toEqual([expect.objectContaining({ clientId: "c1", filters: ["a/b", "c"] })]);
    expect(packets(settle(session, actions), "unsuback")).toEqual([{ cmd: "unsuback", messageId: 5, granted: [0x00, 0x11, 0x00] }]);
    expect(session.record?.subscriptions).toEqual({});
  });

  it("says 0x11 at once when no filter was subscribed", () => {
    const { session } = connected();
    const actions = session.receive("k1", route("c1"), ok({ cmd: "unsubscribe", messageId: 6, unsubscriptions: ["nope"] }), 0);
    expect(only(actions, "unsubscribe")).toEqual([]);
    expect(sent(actions)).toEqual([{ cmd: "unsuback", messageId: 6, granted: [0x11] }]);
  });
});

describe("names that are also JavaScript object keys (regression)", () => {
  it.each(["__proto__", "constructor", "toString"])("subscribes, delivers to and unsubscribes the filter %s", (filter) => {
    const { session } = connected();
    expect(suback(session, [sub(filter, 1, { rh: 1 })]).granted).toEqual([1]);
    expect(Object.hasOwn(session.record!.subscriptions, filter)).toBe(true);
    const delivered = session.deliver(`t/${filter}`, [{ message: message(filter, "x", 1) }], 0);
    expect(sent(delivered.actions)).toContainEqual(expect.objectContaining({ cmd: "publish", topic: filter }));
    const unsub = settle(session, session.receive("k1", route("c1"), ok({ cmd: "unsubscribe", messageId: 9, unsubscriptions: [filter, "hasOwnProperty"] }), 0));
    expect(packets(unsub, "unsuback")[0]?.granted).toEqual([0x00, 0x11]);
  });
});

describe("a filter repeated in one SUBSCRIBE (regression)", () => {
  it("is handled as a sequence of SUBSCRIBEs: not counted twice against the quota [MQTT-3.8.4-5]", () => {
    const { session } = connected({ maxSubscriptions: 1 });
    expect(suback(session, [sub("a", 1), sub("a", 1)]).granted).toEqual([1, 1]);
  });

  it("a duplicate in UNSUBSCRIBE exists only the first time", () => {
    const { session } = connected();
    suback(session, [sub("a", 1)]);
    const unsub = settle(session, session.receive("k1", route("c1"), ok({ cmd: "unsubscribe", messageId: 9, unsubscriptions: ["a", "a"] }), 0));
    expect(packets(unsub, "unsuback")[0]?.granted).toEqual([0x00, 0x11]);
  });
});
