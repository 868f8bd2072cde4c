/**
 * MemoryKv, the unit tests' stand-in for a Durable Object's synchronous KV, passes the SyncKv
 * contract (kv-contract.ts; the real one passes it in test/integration/16-storage-contract.test.ts);
 * and CountingKv counts the rows written and read as Cloudflare bills them.
 */
import { describe, expect, it } from "vitest";
import { describeKvContract } from "./kv-contract.suite.js";
import { CountingKv, newCostCounters } from "./counting-kv.js";
import { MemoryKv } from "./memory-kv.js";
import type { SyncKvListOptions } from "./sync-kv.js";

// ---- helpers ----

/** A store holding a, b/1, b/2, b/3, c (values: their keys). */
function filled(): MemoryKv {
  const kv = new MemoryKv();
  for (const k of ["c", "b/2", "a", "b/3", "b/1"]) kv.put(k, k);
  return kv;
}
const keys = (kv: MemoryKv | CountingKv, options?: SyncKvListOptions) => [...kv.list(options)].map(([k]) => k);

// ---- tests ----

describeKvContract("MemoryKv", () => new MemoryKv());

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
