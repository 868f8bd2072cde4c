/**
 * A connection is sent at most MAX_QOS0_BYTES_PER_SECOND of QoS 0 messages (twice that in a
 * burst): a client that stops reading cannot pile them up in the runtime's send buffer (review
 * finding F7). Beyond it QoS 0 messages are dropped with a counted log line; retained messages for
 * a new subscription are never dropped [MQTT-3.3.1-6]; QoS 1 is paced by the in-flight window.
 */
import { describe, expect, it } from "vitest";
import { messageBytes } from "../message.js";
import { forVersion, message, newSession, ok, only, publishes, route, settle, subscribePacket, text } from "./test-support.js";

const RATE = 10_000;

describe.each([4, 5] as const)("MQTT %s: QoS 0 rate per connection (F7)", (version) => {
  const { connect } = forVersion(version);

  function subscriber() {
    const { session } = newSession({ maxQos0BytesPerSecond: RATE });
    connect(session, "conn1", "c1");
    settle(session, session.receive("conn1", route("c1"), ok(subscribePacket([["a/b", 1]])), 0));
    return session;
  }
  const q0 = (i: number) => ({ message: message("a/b", `${i}`.padEnd(1000, "."), 0) });
  const perMessage = messageBytes(q0(0).message);

  it("sends a burst of two seconds' worth, then drops with a counted warning, then sends again as time passes", () => {
    const session = subscriber();
    const fits = Math.floor((2 * RATE) / perMessage);
    const { actions } = session.deliver(
      "t/a",
      Array.from({ length: fits + 5 }, (_, i) => q0(i)),
      0,
    );
    expect(publishes(actions)).toHaveLength(fits);
    const logs = only(actions, "log");
    expect(logs).toHaveLength(5);
    expect(logs.every((l) => l.counter === "qos0_dropped_client_rate" && l.level === "warn")).toBe(true);
    expect(logs[0]!.message).toContain("MAX_QOS0_BYTES_PER_SECOND");
    // A second later, a second's worth more.
    const later = session.deliver(
      "t/a",
      Array.from({ length: fits }, (_, i) => q0(i)),
      1000,
    );
    expect(publishes(later.actions)).toHaveLength(Math.floor(RATE / perMessage));
  });

  it("QoS 1 messages are not limited by it", () => {
    const session = subscriber();
    session.deliver(
      "t/a",
      Array.from({ length: 100 }, (_, i) => q0(i)),
      0,
    );
    const { actions } = session.deliver("t/a", [{ seq: 1, message: message("a/b", "durable", 1) }], 0);
    expect(publishes(actions).map((p) => text(p.payload))).toEqual(["durable"]);
  });

  it("retained messages for a new subscription are all sent, and hold the next page back until the budget is paid", () => {
    const session = subscriber();
    const retained = Array.from({ length: 50 }, (_, i) => message(`r/${i}`, "x".repeat(1000), 0, { retain: true }));
    const actions = session.enqueueRetained({ qos: 0 }, retained, 0);
    expect(publishes(actions)).toHaveLength(50);
    const debt = session.retainedPageDelay(0);
    expect(debt).toBeGreaterThan(0);
    expect(session.retainedPageDelay(debt)).toBe(0);
  });
});
