/**
 * Wills stay stored until their topic shard stored them, and are routed again until then, also
 * after a restart of the session object (review F11, [MQTT-3.1.2-8]).
 */
import { describe, expect, it } from "vitest";
import { MemoryKv } from "../../storage/memory-kv.js";
import { WILL_RETRY_MS } from "./pending-wills.js";
import { forVersion, newSession, only, settle, pendingWillRows } from "./test-support.js";

const WILL = { topic: "status/c1", payload: Buffer.from("gone"), qos: 1 as const, retain: false };

describe.each([4, 5] as const)("MQTT %s: wills are durable until routed (F11)", (version) => {
  const { connect } = forVersion(version);

  it("a will whose route failed is routed again after WILL_RETRY_MS, and then forgotten", () => {
    const { session, kv } = newSession();
    connect(session, "k1", "c1", { will: WILL });
    const [route] = only(session.connectionLost("k1", 0), "route");
    session.routeFailed(route!.routeId!, "shard down", 0);
    expect(pendingWillRows(kv)).toHaveLength(1);
    expect(session.nextDeadline()).toBe(WILL_RETRY_MS);
    const again = only(session.timer(WILL_RETRY_MS), "route");
    expect(again.map((r) => r.message.topic)).toEqual(["status/c1"]);
    settle(session, again);
    expect(pendingWillRows(kv)).toEqual([]);
    expect(session.nextDeadline()).toBeNull();
  });

  it("a will not yet stored when the object restarts is routed by the new one", () => {
    const kv = new MemoryKv();
    const { session } = newSession({}, kv);
    connect(session, "k1", "c1", { will: WILL });
    session.connectionLost("k1", 0); // the route never answers: the object is reset
    const { session: restarted } = newSession({}, kv);
    expect(restarted.nextDeadline()).toBe(0);
    const routes = only(restarted.timer(10), "route");
    expect(routes.map((r) => r.message.topic)).toEqual(["status/c1"]);
    settle(restarted, routes);
    expect(pendingWillRows(kv)).toEqual([]);
  });
});

describe.each([4, 5] as const)("MQTT %s: a connection that did not survive a restart of the runtime", (version) => {
  const { connect } = forVersion(version);

  it("ends: its will goes out and a clean session is removed", () => {
    const kv = new MemoryKv();
    const { session } = newSession({}, kv);
    connect(session, "k1", "c1", { will: WILL });
    // The runtime dies; the new object finds no socket.
    const { session: after } = newSession({}, kv);
    const actions = settle(after, after.recoverLostConnection(10));
    expect(only(actions, "route").map((r) => r.message.topic)).toEqual(["status/c1"]);
    expect(after.record).toBeUndefined();
    expect(after.recoverLostConnection(20)).toEqual([]);
  });

  it("leaves a persistent session that had disconnected alone", () => {
    const kv = new MemoryKv();
    const { session } = newSession({}, kv);
    connect(session, "k1", "c1", version === 5 ? { clean: false, properties: { sessionExpiryInterval: 600 } } : { clean: false });
    session.connectionLost("k1", 0);
    const { session: after } = newSession({}, kv);
    expect(after.recoverLostConnection(10)).toEqual([]);
    expect(after.record).toBeDefined();
  });
});

describe("storage of the wills on their way", () => {
  it("keeps one row each, so a large hand-over never makes one oversized row; an older single row is moved", () => {
    const kv = new MemoryKv();
    const message = { topic: "status/c1", payload: new Uint8Array(), qos: 1 as const, retain: false };
    kv.put("wills", [
      { id: 1, message },
      { id: 2, message, share: "$share/g/a" },
    ]);
    const { session } = newSession({}, kv);
    expect(kv.get("wills")).toBeUndefined();
    expect(pendingWillRows(kv)).toHaveLength(2);
    const routes = settle(session, session.timer(0)).filter((a) => a.type === "route" || a.type === "reshare");
    expect(routes.map((a) => a.type)).toEqual(["route", "reshare"]);
    expect(pendingWillRows(kv)).toEqual([]);
  });
});
