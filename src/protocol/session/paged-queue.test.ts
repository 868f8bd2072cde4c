/**
 * The session's queue lives in storage and only a page of it is in memory (review F4: an offline
 * subscriber's queue loaded in full bricked the client id): PAGE_COUNT entries and PAGE_BYTES at
 * most, read back a page at a time, in order; the queue is bounded in bytes (maxQueuedBytes).
 */
import type { Packet } from "mqtt-packet";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../config.js";
import { CountingKv } from "../../storage/counting-kv.js";
import { KvSessionStore } from "../../storage/kv-session-store.js";
import type { MemoryKv } from "../../storage/memory-kv.js";
import { type Outbound, PAGE_BYTES, PAGE_COUNT } from "./outbound.js";
import { Session, type SessionConfig } from "./session.js";
import type { OutboundEntry } from "./state.js";
import { forVersion, message, newSession, ok, only, publishes, route, settle, subscribePacket, text } from "./test-support.js";

// ---- helpers (the shared ones are in ./test-support.ts) ----

const CONFIG: Partial<SessionConfig> = { maxQueuedMessages: 5000, maxInflight: 10 };

/** Test-only look at the queued entries the Outbound holds in memory (private fields). */
function inMemory(outbound: Outbound): OutboundEntry[] {
  const o = outbound as unknown as { queue: OutboundEntry[]; head: number };
  return o.queue.slice(o.head);
}

/** A session on `kv` (counted), as the object builds it when it starts. */
const restart = (kv: MemoryKv, config: Partial<SessionConfig> = CONFIG) => {
  const counting = new CountingKv(kv);
  return { session: new Session(new KvSessionStore(counting), { ...loadConfig({}), ...CONFIG, ...config }), cost: counting.cost };
};

describe.each([4, 5] as const)("MQTT %s: the queue in pages (F4)", (version) => {
  const { connect } = forVersion(version);
  const persistent = version === 5 ? { clean: false, properties: { sessionExpiryInterval: 3600 } } : { clean: false };

  /** Client c1, subscribed to a/b at QoS 1, now offline; its queue holds `n` messages of `size` bytes. */
  function offlineWith(n: number, size = 10, config: Partial<SessionConfig> = CONFIG) {
    const { session, kv } = newSession(config);
    connect(session, "conn1", "c1", persistent);
    settle(session, session.receive("conn1", route("c1"), ok(subscribePacket([["a/b", 1]])), 0));
    session.connectionLost("conn1", 0);
    const pad = "x".repeat(size);
    const actions = session.deliver(
      "t/a",
      Array.from({ length: n }, (_, i) => ({ seq: i + 1, message: message("a/b", `m${i + 1}:${pad}`, 1) })),
      0,
    ).actions;
    return { session, kv, actions };
  }

  it(`keeps at most PAGE_COUNT (${PAGE_COUNT}) queued entries in memory while enqueueing`, () => {
    const { session, kv } = offlineWith(1000);
    expect(session.outbound.size).toBe(1000);
    expect(inMemory(session.outbound).length).toBeLessThanOrEqual(PAGE_COUNT);
    expect([...kv.list({ prefix: "out:" })]).toHaveLength(1000);
  });

  it("a new Session on the same storage keeps one page in memory and still delivers all 1,000 in order after reconnecting", () => {
    const { kv } = offlineWith(1000);
    const { session } = restart(kv);
    expect(session.outbound.size).toBe(1000);
    expect(inMemory(session.outbound).length).toBeLessThanOrEqual(PAGE_COUNT);

    const got: string[] = [];
    let inflight = publishes(connect(session, "conn2", "c1", persistent));
    let maxInMemory = 0;
    while (inflight.length > 0) {
      const [p, ...rest] = inflight;
      got.push(text(p!.payload).split(":")[0]!);
      inflight = rest.concat(publishes(session.receive("conn2", route("c1"), ok({ cmd: "puback", messageId: p!.messageId } as Packet), 0)));
      maxInMemory = Math.max(maxInMemory, inMemory(session.outbound).length);
    }
    expect(got).toEqual(Array.from({ length: 1000 }, (_, i) => `m${i + 1}`));
    expect(maxInMemory).toBeLessThanOrEqual(PAGE_COUNT);
    expect(session.outbound.size).toBe(0);
    expect([...kv.list({ prefix: "out:" })]).toEqual([]);
  });

  // Regression (F4, found by these tests, now fixed): the Outbound constructor read every `out:` row, payloads included, to
  // count the queue (`for (;;) listOutbound(page)`): memory stays at one page, but each start of
  // the object (every wake of an offline session, which every delivery causes) reads the whole
  // queue: up to MAX_QUEUED_MESSAGES rows and 64 MiB by default, billed and deserialized. F4
  // asks for a start whose cost does not depend on the queue. Fix (outbound.ts constructor,
  // store.ts): keep the queue's count and bytes in a small row written in the same commit as the
  // `out:` changes (or count with SQL behind a `SessionStore.outboundTotals()`), and read only the
  // in-flight entries and the first page at start.
  it("starting on a queue of 1,000 reads about one page of rows, not the whole queue (F4)", () => {
    const { kv } = offlineWith(1000);
    const { cost } = restart(kv);
    expect(cost.rowsRead).toBeLessThanOrEqual(PAGE_COUNT + 10);
  });

  it(`keeps at most PAGE_BYTES (${PAGE_BYTES}) of queued messages in memory`, () => {
    const { session, kv } = offlineWith(30, 100_000);
    const bytes = (o: Outbound) => inMemory(o).reduce((n, e) => n + e.bytes, 0);
    expect(bytes(session.outbound)).toBeLessThanOrEqual(PAGE_BYTES);
    const { session: restarted } = restart(kv);
    expect(bytes(restarted.outbound)).toBeLessThanOrEqual(PAGE_BYTES);
    expect(inMemory(restarted.outbound).length).toBeGreaterThan(0);
    expect(restarted.outbound.size).toBe(30);
  });

  it("messages arriving while stored ones wait go behind them, and all come out in order", () => {
    const { kv } = offlineWith(300);
    const { session } = restart(kv);
    let inflight = publishes(connect(session, "conn2", "c1", persistent));
    inflight.push(...publishes(session.deliver("t/a", [{ seq: 301, message: message("a/b", "m301:", 1) }], 0).actions));
    const got: string[] = [];
    while (inflight.length > 0) {
      const [p, ...rest] = inflight;
      got.push(text(p!.payload).split(":")[0]!);
      inflight = rest.concat(publishes(session.receive("conn2", route("c1"), ok({ cmd: "puback", messageId: p!.messageId } as Packet), 0)));
    }
    expect(got).toEqual(Array.from({ length: 301 }, (_, i) => `m${i + 1}`));
  });

  it("drops a message beyond maxQueuedBytes with counter dropped_queue_full", () => {
    // Each message is about 64 + 500 + topic bytes: two fit in 1,200 bytes, the third does not.
    const { session, actions } = offlineWith(3, 500, { ...CONFIG, maxQueuedBytes: 1200 });
    expect(only(actions, "log").map((l) => l.counter)).toEqual(["dropped_queue_full"]);
    expect(session.outbound.size).toBe(2);
    expect(session.outbound.queuedBytes).toBeLessThanOrEqual(1200);
  });

  it("counts messages held in memory for a live client against maxQueuedBytes too", () => {
    const { session } = newSession({ ...CONFIG, maxQueuedBytes: 1200 });
    connect(session, "conn1", "c1", persistent);
    settle(session, session.receive("conn1", route("c1"), ok(subscribePacket([["a/b", 1]])), 0));
    const pad = "x".repeat(500);
    const { actions } = session.deliver(
      "t/a",
      [1, 2, 3].map((seq) => ({ seq, message: message("a/b", pad, 1) })),
      0,
    );
    expect(publishes(actions)).toHaveLength(2);
    expect(only(actions, "log").map((l) => l.counter)).toEqual(["dropped_queue_full"]);
  });
});
