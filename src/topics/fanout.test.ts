import { describe, expect, it } from "vitest";
import type { Delivery, DeliveryOutcome } from "../protocol/message.js";
import { Fanout, type FanoutItem, MAX_BATCH } from "./fanout.js";

interface Call {
  clientId: string;
  batch: Delivery[];
  resolve: (outcome: DeliveryOutcome) => void;
  reject: (error: unknown) => void;
}

const OK: DeliveryOutcome = { gone: false, declined: [] };
const GONE: DeliveryOutcome = { gone: true };

/** A Fanout whose `send` calls wait until the test settles them, and whose `sleep` is instant. */
function harness() {
  const calls: Call[] = [];
  const delivered: [string, FanoutItem[]][] = [];
  const declined: [string, FanoutItem[]][] = [];
  const gone: [string, FanoutItem[]][] = [];
  const failed: [string, number][] = [];
  const sleeps: number[] = [];
  const fanout = new Fanout(
    {
      send: (clientId, batch) => new Promise((resolve, reject) => calls.push({ clientId, batch: [...batch], resolve, reject })),
      delivered: (clientId, items) => delivered.push([clientId, [...items]]),
      declined: (clientId, items) => declined.push([clientId, [...items]]),
      gone: (clientId, items) => gone.push([clientId, [...items]]),
      failed: (clientId, _error, attempt) => failed.push([clientId, attempt]),
    },
    async (ms) => {
      sleeps.push(ms);
    },
  );
  const last = () => calls[calls.length - 1]!;
  return { fanout, calls, delivered, declined, gone, failed, sleeps, last };
}

/** Lets pending promise callbacks run. */
const flush = () => new Promise<void>((r) => setImmediate(r));

const delivery = (seq: number | undefined, topic = "t"): Delivery => ({
  ...(seq === undefined ? {} : { seq }),
  message: { topic, payload: Uint8Array.from([1]), qos: seq === undefined ? 0 : 1, retain: false, origin: "p" },
});
const item = (seq: number | undefined, pendKey = "c1"): FanoutItem => ({ delivery: delivery(seq), pendKey });
const seqsOf = (batch: Delivery[]) => batch.map((x) => x.seq);
const itemSeqs = (items: FanoutItem[]) => items.map((i) => i.delivery.seq);

describe("Fanout", () => {
  it("sends a pushed delivery and reports the item delivered once the session took it", async () => {
    const h = harness();
    h.fanout.push("c1", item(1));
    expect(h.calls).toHaveLength(1);
    expect(h.calls[0]).toMatchObject({ clientId: "c1", batch: [delivery(1)] });
    expect(h.fanout.pending("c1")).toBe(1);
    expect(h.delivered).toEqual([]);

    h.calls[0]!.resolve(OK);
    await flush();
    expect(h.delivered).toEqual([["c1", [item(1)]]]);
    expect(h.fanout.pending("c1")).toBe(0);
  });

  it("keeps one call in flight per client and sends what arrived meanwhile next, in order", async () => {
    const h = harness();
    h.fanout.push("c1", item(1));
    h.fanout.push("c1", item(2));
    h.fanout.push("c1", item(3));
    expect(h.calls).toHaveLength(1);
    expect(h.fanout.pending("c1")).toBe(3);

    h.calls[0]!.resolve(OK);
    await flush();
    expect(h.calls).toHaveLength(2);
    expect(seqsOf(h.calls[1]!.batch)).toEqual([2, 3]);
    h.calls[1]!.resolve(OK);
    await flush();
    expect(h.delivered.map(([c, items]) => [c, itemSeqs(items)])).toEqual([
      ["c1", [1]],
      ["c1", [2, 3]],
    ]);
  });

  it("sends batches of at most MAX_BATCH and never reorders", async () => {
    const h = harness();
    const total = 2 * MAX_BATCH + 21;
    for (let seq = 1; seq <= total; seq++) h.fanout.push("c1", item(seq));
    for (let i = 0; i < 10 && h.fanout.pending("c1") > 0; i++) {
      h.last().resolve(OK);
      await flush();
    }
    expect(h.fanout.pending("c1")).toBe(0);
    expect(h.calls.every((c) => c.batch.length <= MAX_BATCH)).toBe(true);
    expect(h.calls.some((c) => c.batch.length === MAX_BATCH)).toBe(true);
    const all = h.calls.flatMap((c) => seqsOf(c.batch));
    expect(all).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(h.delivered.flatMap(([, items]) => itemSeqs(items))).toEqual(all);
  });

  it("does not let a slow client hold up another", async () => {
    const h = harness();
    h.fanout.push("slow", item(1, "slow"));
    h.fanout.push("fast", item(1, "fast"));
    const fast = h.calls.find((c) => c.clientId === "fast")!;
    fast.resolve(OK);
    await flush();
    h.fanout.push("fast", item(2, "fast"));
    expect(h.calls.filter((c) => c.clientId === "fast").map((c) => seqsOf(c.batch))).toEqual([[1], [2]]);
    expect(h.fanout.pending("slow")).toBe(1);
    expect(h.fanout.pending("fast")).toBe(1);
  });

  it("retries a failed call with the same batch first, skipping nothing", async () => {
    const h = harness();
    h.fanout.push("c1", item(1));
    h.fanout.push("c1", item(2)); // waits behind the call for seq 1
    h.calls[0]!.reject(new Error("network"));
    await flush();
    expect(h.failed).toEqual([["c1", 1]]);
    expect(h.sleeps).toHaveLength(1);
    expect(h.calls).toHaveLength(2);
    expect(seqsOf(h.calls[1]!.batch)).toEqual([1, 2]);
    expect(h.delivered).toEqual([]);

    h.fanout.push("c1", item(3));
    h.calls[1]!.reject(new Error("again"));
    await flush();
    expect(h.failed).toEqual([
      ["c1", 1],
      ["c1", 2],
    ]);
    expect(seqsOf(h.calls[2]!.batch)).toEqual([1, 2, 3]);
    h.calls[2]!.resolve(OK);
    await flush();
    expect(h.delivered.map(([c, items]) => [c, itemSeqs(items)])).toEqual([["c1", [1, 2, 3]]]);
    expect(h.fanout.pending("c1")).toBe(0);
  });

  it("backs off exponentially up to 30 s and starts over after a success", async () => {
    const h = harness();
    h.fanout.push("c1", item(1));
    for (let i = 0; i < 10; i++) {
      h.last().reject(new Error("down"));
      await flush();
    }
    expect(h.sleeps).toEqual([200, 400, 800, 1600, 3200, 6400, 12800, 25600, 30000, 30000]);
    expect(h.failed.map(([, attempt]) => attempt)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    h.last().resolve(OK);
    await flush();

    h.fanout.push("c1", item(2));
    h.last().reject(new Error("down"));
    await flush();
    expect(h.failed[h.failed.length - 1]).toEqual(["c1", 1]);
    expect(h.sleeps[h.sleeps.length - 1]).toBe(200);
  });

  it("on 'gone' drops the client's queue, hands every undelivered item to `gone`, and reports nothing delivered", async () => {
    const h = harness();
    h.fanout.push("c1", item(1));
    h.fanout.push("c1", item(2));
    h.fanout.push("c1", item(undefined));
    h.fanout.push("c2", item(9, "c2"));
    h.calls[0]!.resolve(GONE);
    await flush();
    expect(h.gone).toEqual([["c1", [item(1), item(2), item(undefined)]]]);
    expect(h.delivered).toEqual([]);
    expect(h.fanout.pending("c1")).toBe(0);
    expect(h.calls.filter((c) => c.clientId === "c1")).toHaveLength(1);
    // Other clients are unaffected.
    expect(h.fanout.pending("c2")).toBe(1);
    // A later push for the same client starts afresh.
    h.fanout.push("c1", item(3));
    expect(seqsOf(h.last().batch)).toEqual([3]);
  });

  it("splits a batch into taken items (delivered) and declined ones (declined), by index", async () => {
    const h = harness();
    h.fanout.push("c1", item(1));
    h.fanout.push("c1", item(2));
    h.fanout.push("c1", item(3));
    h.fanout.push("c1", item(undefined));
    h.calls[0]!.resolve(OK);
    await flush();
    expect(seqsOf(h.calls[1]!.batch)).toEqual([2, 3, undefined]);
    h.calls[1]!.resolve({ gone: false, declined: [0, 2] });
    await flush();
    expect(h.delivered.map(([c, items]) => [c, itemSeqs(items)])).toEqual([
      ["c1", [1]],
      ["c1", [3]],
    ]);
    expect(h.declined).toEqual([["c1", [item(2), item(undefined)]]]);
    // Declined items are not sent to this client again.
    expect(h.calls).toHaveLength(2);
    expect(h.fanout.pending("c1")).toBe(0);
  });

  it("does not call `delivered` when every item of a batch was declined", async () => {
    const h = harness();
    h.fanout.push("c1", item(1));
    h.calls[0]!.resolve({ gone: false, declined: [0] });
    await flush();
    expect(h.delivered).toEqual([]);
    expect(h.declined.map(([c, items]) => [c, itemSeqs(items)])).toEqual([["c1", [1]]]);
  });

  it("hands back each item with its pendKey, so the shard can settle the right outbox row", async () => {
    const h = harness();
    const shared: FanoutItem = { delivery: { ...delivery(4), share: "$share/g/t" }, pendKey: "\u0000$share/g/t" };
    h.fanout.push("c1", shared);
    h.calls[0]!.resolve(OK);
    await flush();
    expect(h.delivered).toEqual([["c1", [shared]]]);
    expect(h.calls[0]!.batch).toEqual([shared.delivery]);
  });
});
