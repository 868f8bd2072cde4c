/**
 * MemoryKv, the unit tests' stand-in for a Durable Object's synchronous KV: copies on write and
 * read, and `list` ordered by key with prefix, start, startAfter, end, limit and reverse; and
 * CountingKv, which counts the rows written and read as Cloudflare bills them.
 */
import { describe, expect, it } from "vitest";
import { CountingKv, newCostCounters } from "./counting-kv.js";
import { MemoryKv, type SyncKvListOptions } from "./memory-kv.js";

// ---- helpers ----

/** A store holding a, b/1, b/2, b/3, c (values: their keys). */
function filled(): MemoryKv {
  const kv = new MemoryKv();
  for (const k of ["c", "b/2", "a", "b/3", "b/1"]) kv.put(k, k);
  return kv;
}
const keys = (kv: MemoryKv | CountingKv, options?: SyncKvListOptions) => [...kv.list(options)].map(([k]) => k);

// ---- tests ----

describe("MemoryKv", () => {
  it("copies values on put and on get", () => {
    const kv = new MemoryKv();
    const value = { n: 1, bytes: new Uint8Array([1, 2]) };
    kv.put("k", value);
    value.n = 2;
    const read = kv.get<typeof value>("k")!;
    expect(read).toEqual({ n: 1, bytes: new Uint8Array([1, 2]) });
    read.n = 3;
    expect(kv.get<typeof value>("k")!.n).toBe(1);
    expect(kv.get("missing")).toBeUndefined();
  });

  it("delete says whether the key existed", () => {
    const kv = filled();
    expect(kv.delete("a")).toBe(true);
    expect(kv.delete("a")).toBe(false);
    expect(keys(kv)).toEqual(["b/1", "b/2", "b/3", "c"]);
  });

  it("lists in key order, by prefix", () => {
    const kv = filled();
    expect(keys(kv)).toEqual(["a", "b/1", "b/2", "b/3", "c"]);
    expect(keys(kv, { prefix: "b/" })).toEqual(["b/1", "b/2", "b/3"]);
    expect([...kv.list<string>({ prefix: "c" })]).toEqual([["c", "c"]]);
  });

  it("start is inclusive, startAfter exclusive, end exclusive", () => {
    const kv = filled();
    expect(keys(kv, { start: "b/2" })).toEqual(["b/2", "b/3", "c"]);
    expect(keys(kv, { startAfter: "b/2" })).toEqual(["b/3", "c"]);
    expect(keys(kv, { end: "b/2" })).toEqual(["a", "b/1"]);
    expect(keys(kv, { start: "b/1", end: "c" })).toEqual(["b/1", "b/2", "b/3"]);
    expect(keys(kv, { prefix: "b/", startAfter: "b/1", end: "b/3" })).toEqual(["b/2"]);
  });

  it("limit counts after the filters; reverse with limit gives the last keys, highest first", () => {
    const kv = filled();
    expect(keys(kv, { limit: 2 })).toEqual(["a", "b/1"]);
    expect(keys(kv, { prefix: "b/", startAfter: "b/1", limit: 1 })).toEqual(["b/2"]);
    expect(keys(kv, { reverse: true })).toEqual(["c", "b/3", "b/2", "b/1", "a"]);
    expect(keys(kv, { prefix: "b/", reverse: true, limit: 2 })).toEqual(["b/3", "b/2"]);
    expect(keys(kv, { limit: 0 })).toEqual([]);
  });

  it("pages through a prefix with startAfter and limit", () => {
    const kv = new MemoryKv();
    for (let i = 0; i < 25; i++) kv.put(`p:${String(i).padStart(3, "0")}`, i);
    const seen: number[] = [];
    let after: string | undefined;
    for (;;) {
      const page = [...kv.list<number>({ prefix: "p:", limit: 10, ...(after ? { startAfter: after } : {}) })];
      if (page.length === 0) break;
      seen.push(...page.map(([, v]) => v));
      after = page.at(-1)![0];
    }
    expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => i));
  });
});

describe("CountingKv", () => {
  it("counts a put or a delete as a row written, and a row found or listed as a row read", () => {
    const kv = new CountingKv(filled());
    kv.put("d", 1);
    kv.delete("d");
    kv.delete("never");
    expect(kv.cost.rowsWritten).toBe(3);
    expect(kv.get("a")).toBe("a");
    expect(kv.get("missing")).toBeUndefined();
    expect(kv.cost.rowsRead).toBe(1);
    expect(keys(kv, { prefix: "b/" })).toEqual(["b/1", "b/2", "b/3"]);
    expect(kv.cost.rowsRead).toBe(4);
  });

  it("counts only the listed rows that were read (list is lazy)", () => {
    const kv = new CountingKv(filled());
    for (const _ of kv.list()) break;
    expect(kv.cost.rowsRead).toBe(1);
  });

  it("passes list options through, and can share counters", () => {
    const cost = newCostCounters();
    const kv = new CountingKv(filled(), cost);
    expect(keys(kv, { startAfter: "b/3", reverse: true })).toEqual(["c"]);
    expect(cost.rowsRead).toBe(1);
    expect(cost.instance).toMatch(/[0-9a-f-]{36}/);
  });
});
