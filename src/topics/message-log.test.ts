/**
 * The shard's message log: one row per accepted batch, releases kept in memory until `flush`,
 * and a restart that rebuilds who still needs what from the segments and the cursors.
 */
import { describe, expect, it } from "vitest";
import { messageBytes, type Message, type QoS } from "../protocol/message.js";
import { CountingKv } from "../storage/counting-kv.js";
import { MemoryKv } from "../storage/memory-kv.js";
import { MessageLog, SEGMENT_BYTES } from "./message-log.js";

// ---- helpers ----

/** A message on `topic` whose payload is `size` bytes (the byte `fill` repeated). */
const msg = (topic: string, size = 10, qos: QoS = 1, fill = 0): Message => ({
  topic,
  payload: new Uint8Array(size).fill(fill),
  qos,
  retain: false,
  origin: "pub",
});
const A = "c:a";
const B = "c:b";
const BIG = Number.MAX_SAFE_INTEGER;
const seqs = (log: MessageLog, key: string, after = 0, maxBytes = BIG, maxCount = 1000) => log.read(key, after, maxBytes, maxCount).map((i) => i.seq);
const segKeys = (kv: MemoryKv) => [...kv.list({ prefix: "seg:" })].map(([k]) => k);
const putsTo = (kv: CountingKv) => kv.cost.rowsWritten;

// ---- tests ----

describe("MessageLog.append", () => {
  it("assigns increasing seqs and writes one row for a whole batch", () => {
    const kv = new CountingKv(new MemoryKv());
    const log = new MessageLog(kv);
    const items = log.append(Array.from({ length: 50 }, (_, i) => ({ message: msg(`t/${i}`), to: [A] })));
    expect(items.map((i) => i.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(putsTo(kv)).toBe(1);
    // The next batch goes on from there, in a row of its own.
    expect(log.append([{ message: msg("t"), to: [A] }])[0]!.seq).toBe(51);
    expect(putsTo(kv)).toBe(2);
  });

  it("splits a batch into several rows, none above SEGMENT_BYTES (a Durable Object value takes at most 2 MB)", () => {
    const mem = new MemoryKv();
    const log = new MessageLog(mem);
    const size = Math.floor(SEGMENT_BYTES / 2.5);
    const items = log.append(Array.from({ length: 5 }, (_, i) => ({ message: msg("t", size, 1, i), to: [A] })));
    expect(items.map((i) => i.seq)).toEqual([1, 2, 3, 4, 5]);
    const rows = [...mem.list<{ items: { seq: number; message: Message }[] }>({ prefix: "seg:" })];
    expect(rows.length).toBe(3);
    for (const [, row] of rows) expect(row.items.reduce((n, it) => n + messageBytes(it.message), 0)).toBeLessThanOrEqual(SEGMENT_BYTES);
    // Rows are in seq order and hold every message once, payloads intact.
    expect(rows.flatMap(([, row]) => row.items.map((it) => [it.seq, it.message.payload[0]]))).toEqual([
      [1, 0],
      [2, 1],
      [3, 2],
      [4, 3],
      [5, 4],
    ]);
  });

  it("a single message larger than SEGMENT_BYTES still gets a row of its own", () => {
    const mem = new MemoryKv();
    const log = new MessageLog(mem);
    log.append([
      { message: msg("t", 10), to: [A] },
      { message: msg("t", SEGMENT_BYTES + 1), to: [A] },
      { message: msg("t", 10), to: [A] },
    ]);
    expect(segKeys(mem)).toHaveLength(3);
    expect(seqs(log, A)).toEqual([1, 2, 3]);
  });
});

describe("MessageLog.read", () => {
  /** 1:A,B  2:A  3:B  4:A, in one row. */
  function mixed() {
    const log = new MessageLog(new MemoryKv());
    log.append([
      { message: msg("t", 100), to: [A, B] },
      { message: msg("t", 100), to: [A] },
      { message: msg("t", 100), to: [B] },
      { message: msg("t", 100), to: [A] },
    ]);
    return log;
  }

  it("returns only the recipient's open items after `after`, in order", () => {
    const log = mixed();
    expect(seqs(log, A)).toEqual([1, 2, 4]);
    expect(seqs(log, B)).toEqual([1, 3]);
    expect(seqs(log, A, 1)).toEqual([2, 4]);
    expect(seqs(log, A, 4)).toEqual([]);
    expect(seqs(log, "c:nobody")).toEqual([]);
    expect(log.read(A, 0, BIG, 10)[0]!.message.payload.byteLength).toBe(100);
  });

  it("stays within maxCount and maxBytes, but returns at least one item", () => {
    const log = mixed();
    const one = messageBytes(msg("t", 100));
    expect(seqs(log, A, 0, BIG, 2)).toEqual([1, 2]);
    expect(seqs(log, A, 0, 2 * one)).toEqual([1, 2]);
    expect(seqs(log, A, 0, 2 * one - 1)).toEqual([1]);
    expect(seqs(log, A, 0, 1)).toEqual([1]);
  });

  it("reads rows evicted from the segment cache back from storage", () => {
    const kv = new CountingKv(new MemoryKv());
    const log = new MessageLog(kv);
    // Twelve rows of about 1 MB: more than the 8 MiB kept in memory.
    for (let i = 0; i < 12; i++) log.append([{ message: msg("t", 1_000_000, 1, i), to: [A] }]);
    const before = kv.cost.rowsRead;
    const [first] = log.read(A, 0, BIG, 1);
    expect(first!.seq).toBe(1);
    expect(first!.message.payload[0]).toBe(0);
    expect(kv.cost.rowsRead).toBe(before + 1);
    expect(log.read(A, 11, BIG, 1)[0]!.message.payload[0]).toBe(11);
  });
});

describe("MessageLog releases", () => {
  it("release closes one item; releaseUpTo everything up to a seq; releaseAll everything", () => {
    const log = new MessageLog(new MemoryKv());
    log.append([1, 2, 3, 4].map(() => ({ message: msg("t"), to: [A, B] })));
    log.release(A, 2);
    expect(seqs(log, A)).toEqual([1, 3, 4]);
    log.release(A, 99); // unknown: nothing happens
    log.releaseUpTo(A, 3);
    expect(seqs(log, A)).toEqual([4]);
    expect(log.hasOpen(A)).toBe(true);
    log.releaseAll(A);
    expect(log.hasOpen(A)).toBe(false);
    expect(seqs(log, B)).toEqual([1, 2, 3, 4]);
    expect(log.recipients()).toEqual([B]);
  });

  it("counts messages and bytes still open for at least one recipient", () => {
    const log = new MessageLog(new MemoryKv());
    const m = msg("t", 1000);
    log.append([
      { message: m, to: [A, B] },
      { message: m, to: [A] },
    ]);
    expect(log.stats).toEqual({ messages: 2, bytes: 2 * messageBytes(m), segments: 1 });
    log.releaseUpTo(A, 2);
    expect(log.stats).toMatchObject({ messages: 1, bytes: messageBytes(m) });
    log.release(B, 1);
    expect(log.stats).toMatchObject({ messages: 0, bytes: 0, segments: 1 });
    log.flush();
    expect(log.stats).toEqual({ messages: 0, bytes: 0, segments: 0 });
  });

  it("a release costs no write; flush deletes only fully released rows and writes the cursors", () => {
    const mem = new MemoryKv();
    const kv = new CountingKv(mem);
    const log = new MessageLog(kv);
    log.append([{ message: msg("t"), to: [A, B] }]); // row 1
    log.append([{ message: msg("t"), to: [A] }]); // row 2
    const written = kv.cost.rowsWritten;
    expect(log.dirty).toBe(false);
    log.releaseUpTo(A, 2);
    expect(kv.cost.rowsWritten).toBe(written);
    expect(log.dirty).toBe(true);
    log.flush();
    expect(log.dirty).toBe(false);
    expect(segKeys(mem)).toEqual(["seg:0000000000000001"]);
    expect(mem.get("cur:c:a")).toBe(2);
    expect(mem.get("cur:c:b")).toBeUndefined();
    // Nothing more to do: a second flush writes nothing.
    const after = kv.cost.rowsWritten;
    log.flush();
    expect(kv.cost.rowsWritten).toBe(after);
  });
});

describe("MessageLog across a restart", () => {
  it("after flush, each recipient sees only what it had not released", () => {
    const kv = new MemoryKv();
    const log = new MessageLog(kv);
    log.append([1, 2, 3].map(() => ({ message: msg("t"), to: [A, B] })));
    log.releaseUpTo(A, 2);
    log.release(B, 1);
    log.flush();
    const again = new MessageLog(kv);
    expect(seqs(again, A)).toEqual([3]);
    expect(seqs(again, B)).toEqual([2, 3]);
    expect(again.recipients().sort()).toEqual([A, B]);
    expect(again.stats).toMatchObject({ messages: 2 });
  });

  it("without flush, released items are open again (at least once: sessions skip what they stored)", () => {
    const kv = new MemoryKv();
    const log = new MessageLog(kv);
    log.append([1, 2].map(() => ({ message: msg("t"), to: [A] })));
    log.releaseUpTo(A, 2);
    expect(seqs(log, A)).toEqual([]);
    expect(seqs(new MessageLog(kv), A)).toEqual([1, 2]);
  });

  it("an item released above an open one is open again after a restart (the cursor stays below the oldest open item)", () => {
    const kv = new MemoryKv();
    const log = new MessageLog(kv);
    log.append([1, 2, 3].map(() => ({ message: msg("t"), to: [A] })));
    log.release(A, 2);
    log.flush();
    expect(kv.get("cur:c:a")).toBe(0);
    expect(seqs(new MessageLog(kv), A)).toEqual([1, 2, 3]);
  });

  it("never reuses a seq, even when every row was deleted", () => {
    const kv = new MemoryKv();
    const log = new MessageLog(kv);
    log.append([1, 2, 3].map(() => ({ message: msg("t"), to: [A] })));
    log.releaseAll(A);
    log.flush();
    expect(segKeys(kv)).toEqual([]);
    const again = new MessageLog(kv);
    expect(again.append([{ message: msg("t"), to: [A] }])[0]!.seq).toBe(4);
    // And without a flush, from the rows themselves.
    expect(new MessageLog(kv).append([{ message: msg("t"), to: [A] }])[0]!.seq).toBe(5);
  });

  it("rebuilds from more rows than one read page, in order", () => {
    const kv = new CountingKv(new MemoryKv());
    const log = new MessageLog(kv);
    for (let i = 0; i < 150; i++) log.append([{ message: msg("t"), to: [i % 2 === 0 ? A : B] }]);
    const again = new MessageLog(kv);
    expect(seqs(again, A)).toEqual(Array.from({ length: 75 }, (_, i) => 2 * i + 1));
    expect(seqs(again, B)).toHaveLength(75);
    expect(again.stats).toMatchObject({ messages: 150, segments: 150 });
    expect(again.append([{ message: msg("t"), to: [A] }])[0]!.seq).toBe(151);
  });

  // Regression (a defect these tests found, now fixed): releaseAll deletes the recipient's cursor row at the next flush, but rows that another
  // recipient still needs keep the gone recipient in their `to` lists. After a restart its cursor
  // reads as 0, so every one of those old messages is open for it again: a clean session that
  // came back under the same client id (and subscribed again) gets messages published before it
  // subscribed. Fix (message-log.ts `releaseAll`/`flush`): keep the cursor at nextSeq - 1 instead
  // of deleting it, and delete a cursor only once no remaining row starts at or below it
  // (segments[0].first > cursor).
  it("a recipient released with releaseAll gets none of its old messages after a restart", () => {
    const kv = new MemoryKv();
    const log = new MessageLog(kv);
    log.append([1, 2].map(() => ({ message: msg("t"), to: [A, B] })));
    log.releaseAll(A); // A's session is gone
    log.flush();
    const again = new MessageLog(kv);
    expect(seqs(again, B)).toEqual([1, 2]);
    expect(seqs(again, A)).toEqual([]);
  });
});
