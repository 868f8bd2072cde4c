/**
 * Delivery lanes with fake hooks: a `send` the test answers, a `sleep` that only records its
 * delay, a clock the test moves, and a real MessageLog as the durable copy to catch up from.
 */
import { describe, expect, it } from "vitest";
import type { Delivery, Message, QoS } from "../protocol/message.js";
import { messageBytes } from "../protocol/message.js";
import { MemoryKv } from "../storage/memory-kv.js";
import { LANE_BYTES, type LaneHooks, Lanes, MAX_BATCH, MAX_BATCH_BYTES, REDELIVER_AFTER_MS, SHARD_LANE_BYTES, type SendResult } from "./lanes.js";
import { MessageLog } from "./message-log.js";
import { client, type Recipient, recipientKey } from "./recipient.js";

// ---- helpers ----

const MiB = 1024 * 1024;
const msg = (name: string, size = 10, qos: QoS = 1): Message => ({ topic: "t", payload: new Uint8Array(size), qos, retain: false, origin: name });
/** Lets every pending promise chain run (sends that answer at once, sleeps that return at once). */
const settle = () => new Promise<void>((r) => setImmediate(r));

interface Call {
  to: Recipient;
  batch: Delivery[];
  /** Set once answered: whether the send was refused. */
  failed?: boolean;
  answer(result?: SendResult): void;
  fail(error: unknown): void;
}

function harness() {
  const log = new MessageLog(new MemoryKv());
  const calls: Call[] = [];
  const h = {
    now: 0,
    log,
    calls,
    sleeps: [] as number[],
    released: [] as [string, number][],
    gone: [] as Recipient[],
    failures: [] as number[],
    /** How `send` answers; undefined: the test answers each call itself (`call.answer`). */
    respond: undefined as ((c: Call) => SendResult | Error) | undefined,
    lanes: undefined as unknown as Lanes,
    /** Queues a durable message: in the log, then in the lane. */
    durable(to: Recipient, message: Message): number {
      const [item] = log.append([{ message, to: [recipientKey(to)] }]);
      h.lanes.push(to, item!.seq, message);
      return item!.seq;
    },
    /** Names of the messages sent to `to` by calls that went through, in order. */
    delivered(to: Recipient): string[] {
      return calls.filter((c) => c.failed === false && recipientKey(c.to) === recipientKey(to)).flatMap((c) => c.batch.map((d) => d.message.origin));
    },
    pending: () => calls.filter((c) => c.failed === undefined),
  };
  const hooks: LaneHooks = {
    send: (to, batch) =>
      new Promise<SendResult>((resolve, reject) => {
        const call: Call = {
          to,
          batch,
          answer: (result = { gone: false }) => {
            call.failed = false;
            resolve(result);
          },
          fail: (error) => {
            call.failed = true;
            reject(error);
          },
        };
        calls.push(call);
        const r = h.respond?.(call);
        if (r instanceof Error) call.fail(r);
        else if (r) call.answer(r);
      }),
    read: (key, after, maxBytes, maxCount) => log.read(key, after, maxBytes, maxCount),
    released: (key, upTo) => {
      h.released.push([key, upTo]);
      log.releaseUpTo(key, upTo);
    },
    gone: (to) => h.gone.push(to),
    failed: (_to, _error, attempt) => h.failures.push(attempt),
    now: () => h.now,
    sleep: async (ms) => void h.sleeps.push(ms),
  };
  h.lanes = new Lanes(hooks);
  return h;
}

const batchBytes = (c: Call) => c.batch.reduce((n, d) => n + messageBytes(d.message), 0);
const A = client("a");
const B = client("b");
const OK = (): SendResult => ({ gone: false });

// ---- tests ----

describe("Lanes: order and batching", () => {
  it("keeps publish order with one call in flight per recipient, recipients in parallel", async () => {
    const h = harness();
    h.durable(A, msg("a1"));
    h.durable(A, msg("a2"));
    h.lanes.push(A, undefined, msg("a3", 10, 0));
    h.durable(B, msg("b1"));
    expect(h.pending().map((c) => recipientKey(c.to))).toEqual(["c:a", "c:b"]);
    h.calls[0]!.answer();
    await settle();
    expect(h.pending().map((c) => c.batch.map((d) => d.message.origin))).toEqual([["b1"], ["a2", "a3"]]);
    h.durable(A, msg("a4"));
    expect(h.pending()).toHaveLength(2);
    h.respond = OK;
    for (const c of h.pending()) c.answer();
    await settle();
    expect(h.delivered(A)).toEqual(["a1", "a2", "a3", "a4"]);
    expect(h.delivered(B)).toEqual(["b1"]);
    // Durable messages carry their seq; QoS 0 ones none.
    expect(h.calls[2]!.batch.map((d) => d.seq)).toEqual([2, undefined]);
  });

  it(`caps a batch at MAX_BATCH (${MAX_BATCH}) messages`, async () => {
    const h = harness();
    for (let i = 0; i < 600; i++) h.durable(A, msg(`m${i}`));
    h.respond = OK;
    h.calls[0]!.answer();
    await settle();
    expect(h.calls.map((c) => c.batch.length)).toEqual([1, MAX_BATCH, MAX_BATCH, 600 - 1 - 2 * MAX_BATCH]);
    expect(h.delivered(A)).toEqual(Array.from({ length: 600 }, (_, i) => `m${i}`));
  });

  it("caps a batch at MAX_BATCH_BYTES: ten 1 MiB messages go in several calls of at most 4 MiB (F2)", async () => {
    const h = harness();
    h.respond = OK;
    for (let i = 0; i < 10; i++) h.durable(A, msg(`m${i}`, MiB));
    await settle();
    expect(h.delivered(A)).toEqual(Array.from({ length: 10 }, (_, i) => `m${i}`));
    expect(h.calls.length).toBeGreaterThanOrEqual(4);
    for (const c of h.calls) expect(batchBytes(c)).toBeLessThanOrEqual(MAX_BATCH_BYTES);
  });
});

describe("Lanes: failures", () => {
  it("halves a refused batch until it goes through: a poison batch is never retried identically (F2)", async () => {
    const h = harness();
    h.durable(A, msg("m0"));
    for (let i = 1; i <= 8; i++) h.durable(A, msg(`m${i}`, MiB));
    // The recipient takes at most 1.5 MiB per call (think: the 32 MiB RPC limit).
    h.respond = (c) => (batchBytes(c) > 1.5 * MiB ? new Error("Serialized RPC arguments are limited") : OK());
    h.calls[0]!.answer();
    await settle();
    expect(h.delivered(A)).toEqual(Array.from({ length: 9 }, (_, i) => `m${i}`));
    const failed = h.calls.filter((c) => c.failed);
    expect(failed.length).toBeGreaterThan(0);
    h.calls.forEach((c, i) => {
      const next = h.calls[i + 1];
      if (c.failed && next) expect(next.batch.length).toBeLessThanOrEqual(Math.max(1, Math.floor(c.batch.length / 2)));
    });
    expect(h.failures.length).toBe(failed.length);
  });

  it("backs off exponentially up to 30 s, then resets after a success", async () => {
    const h = harness();
    let refusals = 12;
    h.respond = () => (refusals-- > 0 ? new Error("down") : OK());
    h.durable(A, msg("m1"));
    await settle();
    expect(h.sleeps).toEqual([200, 400, 800, 1600, 3200, 6400, 12800, 25600, 30000, 30000, 30000, 30000]);
    expect(h.failures).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(h.delivered(A)).toEqual(["m1"]);
    refusals = 1;
    h.durable(A, msg("m2"));
    await settle();
    expect(h.sleeps.at(-1)).toBe(200);
    expect(h.delivered(A)).toEqual(["m1", "m2"]);
  });
});

describe("Lanes: memory bounds", () => {
  it("drops QoS 0 beyond LANE_BYTES; durable ones switch the lane to catch-up and come back from the log in order", async () => {
    const h = harness();
    const pushed = [0, 1, 2, 3].map((i) => h.lanes.push(A, undefined, msg(`q${i}`, MiB, 0)));
    expect(pushed).toEqual([true, true, true, false]);
    expect(h.lanes.memoryBytes).toBeLessThanOrEqual(LANE_BYTES);
    const held = h.lanes.memoryBytes;
    for (let i = 1; i <= 3; i++) h.durable(A, msg(`d${i}`, MiB));
    // Not held in memory: the log has them.
    expect(h.lanes.memoryBytes).toBe(held);
    // While catching up, QoS 0 is dropped even when small (it would overtake the durable ones).
    expect(h.lanes.push(A, undefined, msg("late", 10, 0))).toBe(false);
    h.respond = OK;
    h.calls[0]!.answer();
    await settle();
    expect(h.delivered(A)).toEqual(["q0", "q1", "q2", "d1", "d2", "d3"]);
    expect(h.lanes.memoryBytes).toBe(0);
  });

  it(`bounds all lanes together at SHARD_LANE_BYTES (${SHARD_LANE_BYTES / MiB} MiB)`, () => {
    const h = harness();
    const payload = new Uint8Array(3.6 * MiB);
    const pushed = Array.from({ length: 9 }, (_, i) => h.lanes.push(client(`r${i}`), undefined, { ...msg(`r${i}`, 0, 0), payload }));
    expect(pushed).toEqual([true, true, true, true, true, true, true, true, false]);
    expect(h.lanes.memoryBytes).toBeLessThanOrEqual(SHARD_LANE_BYTES);
  });
});

describe("Lanes: recipients' answers", () => {
  it("a gone recipient's lane is dropped and hooks.gone is told", async () => {
    const h = harness();
    h.durable(A, msg("m1"));
    h.durable(A, msg("m2"));
    h.calls[0]!.answer({ gone: true });
    await settle();
    expect(h.gone).toEqual([A]);
    expect(h.lanes.size).toBe(0);
    expect(h.lanes.memoryBytes).toBe(0);
    expect(h.calls).toHaveLength(1);
  });

  it("release points flow to hooks.released, only when they move", async () => {
    const h = harness();
    h.respond = () => ({ gone: false, released: 1 });
    h.durable(A, msg("m1"));
    h.durable(A, msg("m2"));
    await settle();
    expect(h.released).toEqual([["c:a", 1]]);
    h.lanes.release("c:a", 1);
    h.lanes.release("c:a", 2);
    expect(h.released).toEqual([
      ["c:a", 1],
      ["c:a", 2],
    ]);
    // A recipient without a lane still gets its release through.
    h.lanes.release("c:zz", 5);
    expect(h.released.at(-1)).toEqual(["c:zz", 5]);
  });

  it("lanes are pruned once idle: nothing queued, in flight or unreleased", async () => {
    const h = harness();
    h.respond = OK;
    h.lanes.push(B, undefined, msg("q", 10, 0));
    h.durable(A, msg("m1"));
    await settle();
    expect(h.lanes.size).toBe(1); // B (QoS 0 only) is gone already; A waits for its release
    expect(h.lanes.unreleased).toBe(true);
    h.lanes.release("c:a", 1);
    expect(h.lanes.size).toBe(0);
    expect(h.lanes.unreleased).toBe(false);
    expect(h.log.stats.messages).toBe(0);
  });
});

describe("Lanes.redeliverStalled", () => {
  it(`after REDELIVER_AFTER_MS without a release, sends again from the release point, from the log`, async () => {
    const h = harness();
    h.respond = OK;
    h.durable(A, msg("m1"));
    h.durable(A, msg("m2"));
    h.durable(A, msg("m3"));
    await settle();
    h.lanes.release("c:a", 1);
    const sent = h.calls.length;
    h.now = REDELIVER_AFTER_MS - 1;
    h.lanes.redeliverStalled();
    await settle();
    expect(h.calls.length).toBe(sent);
    h.now = REDELIVER_AFTER_MS;
    h.lanes.redeliverStalled();
    await settle();
    expect(h.calls.slice(sent).flatMap((c) => c.batch.map((d) => d.seq))).toEqual([2, 3]);
    h.lanes.release("c:a", 3);
    expect(h.lanes.size).toBe(0);
  });

  // Regression (a defect these tests found, now fixed): `Lane.progressAt` is set when the lane is created and on releases, never when the
  // recipient takes its first unreleased message. A lane whose first call took longer than
  // REDELIVER_AFTER_MS (retries with backoff while the recipient was unreachable) is rewound by
  // the next alarm right after the recipient took the messages, an extra redelivery RPC.
  // Fix (lanes.ts `drain`): when a successful send raises `sentUpTo` from `releasedUpTo`, set
  // `lane.progressAt = this.hooks.now()`.
  it("counts the stall from when the recipient took the messages, not from when the lane was made", async () => {
    const h = harness();
    h.durable(A, msg("m1"));
    h.now = 100_000;
    h.calls[0]!.answer();
    await settle();
    h.now = 100_001;
    h.lanes.redeliverStalled();
    await settle();
    expect(h.calls).toHaveLength(1);
  });

  // Regression (a defect these tests found, now fixed): a rewind while a batch is in flight keeps the batch's QoS 0 messages in the queue (they
  // are consumed only after the call, and not at all when the epoch changed), so they are sent a
  // second time: QoS 0 is at most once [MQTT-4.3.1-1]. Fix (lanes.ts `rewind`/`drain`): remember
  // the batch in flight and leave its items out of `kept`, or consume the QoS 0 items of a
  // successful call even when the epoch changed.
  it("a rewind while a call is in flight does not send its QoS 0 messages twice [MQTT-4.3.1-1]", async () => {
    const h = harness();
    h.durable(A, msg("d1"));
    h.calls[0]!.answer();
    await settle();
    h.lanes.push(A, undefined, msg("q", 10, 0));
    h.now = REDELIVER_AFTER_MS;
    h.lanes.redeliverStalled();
    h.respond = OK;
    h.pending()[0]!.answer();
    await settle();
    expect(h.delivered(A).filter((n) => n === "q")).toEqual(["q"]);
  });
});
