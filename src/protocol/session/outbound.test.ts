/** QoS 1/2 messages to the client: acknowledgement flows, the in-flight window, the queue, resume. */
import type { Packet } from "mqtt-packet";
import { describe, expect, it } from "vitest";
import { MemoryKv } from "../../storage/memory-kv.js";
import type { Action } from "../actions.js";
import type { QoS } from "../message.js";
import { INFLIGHT_BYTES } from "./outbound.js";
import type { Session } from "./session.js";
import { deliverNow, forVersion, message, newSession, ok, only, publishes, route, sent, text } from "./test-support.js";

// ---- helpers (the shared ones are in ./test-support.ts) ----

const { connect, subscribed } = forVersion(4);

// ---- tests ----

/** Delivers QoS `qos` messages m<seq> on "a/b" from the topic shard. */
function deliverMany(session: Session, seqs: number[], qos: QoS = 1): Action[] {
  return deliverNow(
    session,
    "t/a",
    seqs.map((seq) => ({ seq, message: message("a/b", `m${seq}`, qos) })),
  ).actions;
}
const ack = (session: Session, cmd: "puback" | "pubrec" | "pubcomp", messageId: number, connId = "conn1") => session.receive(connId, route("c1"), ok({ cmd, messageId } as Packet), 0);
const outKeys = (kv: MemoryKv) => [...kv.list({ prefix: "out:" })].map(([k]) => k);

describe("QoS 1 to the client [MQTT-4.3.2-1]", () => {
  it("sends PUBLISH with a packet id and forgets the message on PUBACK", () => {
    const { session, kv } = subscribed([["a/b", 1]]);
    const [p] = publishes(deliverMany(session, [1]));
    expect(p).toMatchObject({ topic: "a/b", qos: 1, dup: false });
    expect(p!.messageId).toBeGreaterThan(0);
    // Held in memory for the live client: the shard keeps the durable copy until the PUBACK.
    expect(outKeys(kv)).toEqual([]);

    // The PUBACK lets the shard go of it.
    expect(ack(session, "puback", p!.messageId!)).toEqual([{ type: "release", shard: "t/a", clientId: "c1", upTo: 1 }]);
    expect(session.outbound.size).toBe(0);
    expect(outKeys(kv)).toEqual([]);
  });

  it("logs an acknowledgement for an unknown packet id and changes nothing (§3.6.2.1: not an error during recovery)", () => {
    const { session } = subscribed([["a/b", 1]]);
    const [p] = publishes(deliverMany(session, [1]));
    const unknown = p!.messageId! + 1;
    expect(ack(session, "puback", unknown)).toEqual([expect.objectContaining({ type: "log", level: "warn", counter: "unknown_acks" })]);
    expect(ack(session, "pubcomp", unknown)).toEqual([expect.objectContaining({ counter: "unknown_acks" })]);
    // An unknown PUBREC is logged and still answered with PUBREL so the client can finish.
    expect(ack(session, "pubrec", unknown)).toEqual([
      expect.objectContaining({ counter: "unknown_acks" }),
      { type: "send", connId: "conn1", version: 4, packet: { cmd: "pubrel", messageId: unknown } },
    ]);
    expect(session.outbound.size).toBe(1);
    // The QoS 1 message is still waiting for its PUBACK.
    expect(ack(session, "puback", p!.messageId!)).toEqual([expect.objectContaining({ type: "release", upTo: 1 })]);
    expect(session.outbound.size).toBe(0);
  });

  it("[MQTT-4.3.2-1] a PUBREC or PUBCOMP for a QoS 1 message closes the connection, with no PUBREL (3.1.1 §4.8)", () => {
    for (const cmd of ["pubrec", "pubcomp"] as const) {
      const { session } = subscribed([["a/b", 1]]);
      const [p] = publishes(deliverMany(session, [1]));
      const actions = ack(session, cmd, p!.messageId!);
      expect(sent(actions)).toEqual([]);
      expect(only(actions, "close")).toEqual([expect.objectContaining({ connId: "conn1", error: true })]);
    }
  });
});

describe("QoS 2 to the client [MQTT-4.3.3-1]", () => {
  it("PUBLISH, PUBREC → PUBREL, PUBCOMP → done", () => {
    const { session, kv } = subscribed([["a/b", 2]]);
    const [p] = publishes(deliverMany(session, [1], 2));
    expect(p).toMatchObject({ qos: 2, dup: false });
    const id = p!.messageId!;

    expect(sent(ack(session, "pubrec", id))).toEqual([{ cmd: "pubrel", messageId: id }]);
    expect(kv.get<{ state: string }>(outKeys(kv)[0]!)?.state).toBe("released");
    // A repeated PUBREC gets PUBREL again.
    expect(sent(ack(session, "pubrec", id))).toEqual([{ cmd: "pubrel", messageId: id }]);

    expect(ack(session, "pubcomp", id)).toEqual([]);
    expect(session.outbound.size).toBe(0);
    expect(outKeys(kv)).toEqual([]);
  });

  it("[MQTT-4.3.3-1] a PUBCOMP before PUBREC, or a PUBACK, for a QoS 2 message closes the connection (3.1.1 §4.8)", () => {
    for (const cmd of ["pubcomp", "puback"] as const) {
      const { session } = subscribed([["a/b", 2]]);
      const id = publishes(deliverMany(session, [1], 2))[0]!.messageId!;
      const actions = ack(session, cmd, id);
      expect(sent(actions)).toEqual([]);
      expect(only(actions, "close")).toEqual([expect.objectContaining({ connId: "conn1", error: true })]);
    }
    // Released by PUBREL, it waits for PUBCOMP: a PUBACK is as wrong then.
    const { session } = subscribed([["a/b", 2]]);
    const id = publishes(deliverMany(session, [1], 2))[0]!.messageId!;
    expect(sent(ack(session, "pubrec", id))).toEqual([{ cmd: "pubrel", messageId: id }]);
    expect(only(ack(session, "puback", id), "close")).toEqual([expect.objectContaining({ error: true })]);
  });
});

describe("in-flight window and queue", () => {
  it("sends at most maxInflight messages; each acknowledgement lets the next one go, in order [MQTT-4.6.0-6]", () => {
    const { session } = subscribed([["a/b", 1]], { config: { maxInflight: 2 } });
    const first = publishes(deliverMany(session, [1, 2, 3, 4, 5]));
    expect(first.map((p) => text(p.payload))).toEqual(["m1", "m2"]);
    expect(new Set(first.map((p) => p.messageId)).size).toBe(2);
    expect(session.outbound.size).toBe(5);

    const next = publishes(ack(session, "puback", first[0]!.messageId!));
    expect(next.map((p) => text(p.payload))).toEqual(["m3"]);
    // Acknowledging out of order still keeps the publish order of what follows.
    const after = publishes(ack(session, "puback", next[0]!.messageId!));
    expect(after.map((p) => text(p.payload))).toEqual(["m4"]);
    const last = publishes(ack(session, "puback", first[1]!.messageId!));
    expect(last.map((p) => text(p.payload))).toEqual(["m5"]);
  });

  it("a QoS 2 message holds its window slot until PUBCOMP", () => {
    const { session } = subscribed([["a/b", 2]], { config: { maxInflight: 1 } });
    const [p] = publishes(deliverMany(session, [1, 2], 2));
    expect(publishes(ack(session, "pubrec", p!.messageId!))).toEqual([]);
    const next = publishes(ack(session, "pubcomp", p!.messageId!));
    expect(next.map((x) => text(x.payload))).toEqual(["m2"]);
  });

  it("gives in-flight messages distinct non-zero packet ids [MQTT-2.3.1-4]", () => {
    const { session } = subscribed([["a/b", 1]], { config: { maxInflight: 50 } });
    const ids = publishes(
      deliverMany(
        session,
        Array.from({ length: 50 }, (_, i) => i + 1),
      ),
    ).map((p) => p.messageId);
    expect(ids).toHaveLength(50);
    expect(ids.every((id) => id !== undefined && id > 0 && id <= 65535)).toBe(true);
    expect(new Set(ids).size).toBe(50);
  });

  it("drops a message when the queue is full and says so with dropped_queue_full", () => {
    const { session } = subscribed([["a/b", 1]], { config: { maxQueuedMessages: 3, maxInflight: 1 } });
    const actions = deliverMany(session, [1, 2, 3, 4]);
    expect(publishes(actions).map((p) => text(p.payload))).toEqual(["m1"]);
    const logs = only(actions, "log");
    expect(logs).toEqual([expect.objectContaining({ level: "warn", counter: "dropped_queue_full" })]);
    expect(logs[0]!.message).toContain("a/b");
    expect(session.outbound.size).toBe(3);
    // The queue has room again once a message is acknowledged.
    ack(session, "puback", publishes(actions)[0]!.messageId!);
    expect(only(deliverMany(session, [5]), "log")).toEqual([]);
    expect(session.outbound.size).toBe(3);
  });

  it("counts an offline session's queue against maxQueuedMessages", () => {
    const { session } = subscribed([["a/b", 1]], { clean: false, config: { maxQueuedMessages: 2 } });
    session.connectionLost("conn1", 0);
    const actions = deliverMany(session, [1, 2, 3]);
    expect(only(actions, "log").map((l) => l.counter)).toEqual(["dropped_queue_full"]);
    expect(session.outbound.size).toBe(2);
  });
});

describe("resuming a persistent session [MQTT-4.4.0-1]", () => {
  it("resends unacknowledged PUBLISH packets with DUP=1 and the same ids, then the queued ones [MQTT-3.3.1-1]", () => {
    const { session } = subscribed([["a/b", 1]], { clean: false });
    const inflight = publishes(deliverMany(session, [1, 2]));
    expect(inflight).toHaveLength(2);
    session.connectionLost("conn1", 0);
    expect(deliverMany(session, [3, 4])).toEqual([]);

    const actions = connect(session, "conn2", "c1", { clean: false });
    expect(sent(actions)[0]).toMatchObject({ cmd: "connack", sessionPresent: true });
    const resent = publishes(actions);
    expect(resent.map((p) => [text(p.payload), p.dup])).toEqual([
      ["m1", true],
      ["m2", true],
      ["m3", false],
      ["m4", false],
    ]);
    expect(resent.slice(0, 2).map((p) => p.messageId)).toEqual(inflight.map((p) => p.messageId));
    expect(only(actions, "send").every((a) => a.connId === "conn2")).toBe(true);
    // The queued ones are first attempts with fresh ids.
    expect(new Set(resent.map((p) => p.messageId)).size).toBe(4);
  });

  it("resends PUBREL for a QoS 2 message that was already released [MQTT-4.4.0-1]", () => {
    const { session } = subscribed([["a/b", 2]], { clean: false });
    const id = publishes(deliverMany(session, [1], 2))[0]!.messageId!;
    ack(session, "pubrec", id);
    session.connectionLost("conn1", 0);

    const actions = connect(session, "conn2", "c1", { clean: false });
    expect(publishes(actions)).toEqual([]);
    expect(sent(actions)).toContainEqual({ cmd: "pubrel", messageId: id });
    expect(ack(session, "pubcomp", id, "conn2")).toEqual([]);
    expect(session.outbound.size).toBe(0);
  });

  it("resends PUBREL from storage after the object restarts, and PUBCOMP completes it", () => {
    const kv = new MemoryKv();
    const { session } = subscribed([["a/b", 2]], { clean: false, kv });
    const id = publishes(deliverMany(session, [1], 2))[0]!.messageId!;
    ack(session, "pubrec", id);
    session.connectionLost("conn1", 0);

    const { session: restarted } = newSession({}, kv);
    const actions = connect(restarted, "conn2", "c1", { clean: false });
    expect(sent(actions).slice(1)).toEqual([{ cmd: "pubrel", messageId: id }]);
    expect(ack(restarted, "pubcomp", id, "conn2")).toEqual([]);
    expect(restarted.outbound.size).toBe(0);
  });

  it("a takeover resends the in-flight messages on the new connection", () => {
    const { session } = subscribed([["a/b", 1]], { clean: false });
    const [p] = publishes(deliverMany(session, [1]));
    const actions = connect(session, "conn2", "c1", { clean: false });
    const resent = only(actions, "send").filter((a) => a.packet.cmd === "publish");
    expect(resent.map((a) => a.connId)).toEqual(["conn2"]);
    expect(resent[0]!.packet).toMatchObject({ messageId: p!.messageId, dup: true });
  });

  it("respects the in-flight window when resuming", () => {
    const { session } = subscribed([["a/b", 1]], { clean: false, config: { maxInflight: 3 } });
    deliverMany(session, [1, 2]);
    session.connectionLost("conn1", 0);
    deliverMany(session, [3, 4, 5]);
    const actions = connect(session, "conn2", "c1", { clean: false });
    expect(publishes(actions).map((p) => [text(p.payload), p.dup])).toEqual([
      ["m1", true],
      ["m2", true],
      ["m3", false],
    ]);
  });

  it("resumes from storage after the object restarts, and acknowledgements still work", () => {
    const kv = new MemoryKv();
    const { session } = subscribed([["a/b", 1]], { clean: false, kv, config: { maxInflight: 2 } });
    const first = publishes(deliverMany(session, [1, 2, 3]));
    session.connectionLost("conn1", 0);

    const { session: restarted } = newSession({ maxInflight: 2 }, kv);
    expect(restarted.outbound.size).toBe(3);
    const actions = connect(restarted, "conn2", "c1", { clean: false });
    expect(publishes(actions).map((p) => [text(p.payload), p.dup, p.messageId])).toEqual([
      ["m1", true, first[0]!.messageId],
      ["m2", true, first[1]!.messageId],
    ]);
    const next = publishes(ack(restarted, "puback", first[0]!.messageId!, "conn2"));
    expect(next.map((p) => text(p.payload))).toEqual(["m3"]);
    // The new id does not collide with the one still in flight.
    expect(next[0]!.messageId).not.toBe(first[1]!.messageId);
  });

  it("a clean CONNECT drops the queued messages of the old session [MQTT-3.1.2-6]", () => {
    const { session, kv } = subscribed([["a/b", 1]], { clean: false });
    deliverMany(session, [1]);
    session.connectionLost("conn1", 0);
    deliverMany(session, [2]);
    const actions = connect(session, "conn2", "c1", { clean: true });
    expect(publishes(actions)).toEqual([]);
    expect(session.outbound.size).toBe(0);
    expect(outKeys(kv)).toEqual([]);
  });
});

describe("the in-flight window is bounded in bytes too", () => {
  it(`sends no more than INFLIGHT_BYTES (${INFLIGHT_BYTES}) of messages before acknowledgements, at least one`, () => {
    const { session } = subscribed([["a/b", 2]], { config: { maxInflight: 64, maxQueuedBytes: 64 * 1024 * 1024 } });
    const big = "x".repeat(2 * 1024 * 1024);
    const sentNow = publishes(
      deliverNow(
        session,
        "t/a",
        [1, 2, 3, 4, 5, 6].map((seq) => ({ seq, message: message("a/b", big, 2) })),
      ).actions,
    );
    expect(sentNow).toHaveLength(4); // 4 × 2 MiB reach 8 MiB
    const huge = "y".repeat(9 * 1024 * 1024);
    const { session: alone } = subscribed([["a/b", 2]], { config: { maxInflight: 64, maxQueuedBytes: 64 * 1024 * 1024 } });
    expect(publishes(deliverNow(alone, "t/a", [{ seq: 1, message: message("a/b", huge, 2) }]).actions)).toHaveLength(1);
  });
});
