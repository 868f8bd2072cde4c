/**
 * The SyncKv contract: what the stores rely on, as cases that each get an empty KV and throw when
 * it does not behave. No test framework here, so the same cases run in Node against MemoryKv and
 * inside workerd against a Durable Object's `ctx.storage.kv` (test/helpers/kv-contract-worker.ts);
 * describeKvContract (kv-contract.suite.ts) turns them into tests.
 */
import { deepStrictEqual, strictEqual } from "node:assert";
import type { SyncKv, SyncKvListOptions } from "./sync-kv.js";

export interface KvCase {
  name: string;
  run(kv: SyncKv): void;
}

/** Puts a, b/1, b/2, b/3, c (values: their keys), out of order. */
function fill(kv: SyncKv): void {
  for (const k of ["c", "b/2", "a", "b/3", "b/1"]) kv.put(k, k);
}
const keys = (kv: SyncKv, options?: SyncKvListOptions) => [...kv.list(options)].map(([k]) => k);

export const kvContract: KvCase[] = [
  {
    name: "copies values on put and on get, bytes included",
    run(kv) {
      const value = { n: 1, bytes: new Uint8Array([1, 2]) };
      kv.put("k", value);
      value.n = 2;
      const read = kv.get<typeof value>("k")!;
      deepStrictEqual(read, { n: 1, bytes: new Uint8Array([1, 2]) });
      read.n = 3;
      strictEqual(kv.get<typeof value>("k")!.n, 1);
    },
  },
  {
    name: "get of a missing key is undefined; put replaces",
    run(kv) {
      strictEqual(kv.get("missing"), undefined);
      kv.put("k", "one");
      kv.put("k", "two");
      strictEqual(kv.get("k"), "two");
    },
  },
  {
    name: "delete says whether the key existed",
    run(kv) {
      fill(kv);
      strictEqual(kv.delete("a"), true);
      strictEqual(kv.delete("a"), false);
      deepStrictEqual(keys(kv), ["b/1", "b/2", "b/3", "c"]);
    },
  },
  {
    name: "lists in key order, by prefix, with the values",
    run(kv) {
      fill(kv);
      deepStrictEqual(keys(kv), ["a", "b/1", "b/2", "b/3", "c"]);
      deepStrictEqual(keys(kv, { prefix: "b/" }), ["b/1", "b/2", "b/3"]);
      deepStrictEqual([...kv.list<string>({ prefix: "c" })], [["c", "c"]]);
    },
  },
  {
    name: "start is inclusive, startAfter exclusive, end exclusive",
    run(kv) {
      fill(kv);
      deepStrictEqual(keys(kv, { start: "b/2" }), ["b/2", "b/3", "c"]);
      deepStrictEqual(keys(kv, { startAfter: "b/2" }), ["b/3", "c"]);
      deepStrictEqual(keys(kv, { end: "b/2" }), ["a", "b/1"]);
      deepStrictEqual(keys(kv, { start: "b/1", end: "c" }), ["b/1", "b/2", "b/3"]);
      deepStrictEqual(keys(kv, { prefix: "b/", startAfter: "b/1", end: "b/3" }), ["b/2"]);
    },
  },
  {
    name: "limit counts after the filters; reverse with limit gives the last keys, highest first",
    run(kv) {
      fill(kv);
      deepStrictEqual(keys(kv, { limit: 2 }), ["a", "b/1"]);
      deepStrictEqual(keys(kv, { prefix: "b/", startAfter: "b/1", limit: 1 }), ["b/2"]);
      deepStrictEqual(keys(kv, { reverse: true }), ["c", "b/3", "b/2", "b/1", "a"]);
      deepStrictEqual(keys(kv, { prefix: "b/", reverse: true, limit: 2 }), ["b/3", "b/2"]);
      deepStrictEqual(keys(kv, { startAfter: "b/3", reverse: true }), ["c"]);
    },
  },
  {
    name: "pages through a prefix with startAfter and limit",
    run(kv) {
      for (let i = 0; i < 25; i++) kv.put(`p:${String(i).padStart(3, "0")}`, i);
      kv.put("q:0", "another prefix");
      const seen: number[] = [];
      let after: string | undefined;
      for (;;) {
        const page = [...kv.list<number>({ prefix: "p:", limit: 10, ...(after ? { startAfter: after } : {}) })];
        if (page.length === 0) break;
        seen.push(...page.map(([, v]) => v));
        after = page.at(-1)![0];
      }
      deepStrictEqual(
        seen,
        Array.from({ length: 25 }, (_, i) => i),
      );
    },
  },
  {
    // Keys hold topic names, any Unicode: tests must see the order production sees.
    name: "orders keys by their UTF-8 bytes (as SQLite does), not by UTF-16 code units",
    run(kv) {
      for (const k of ["t/\u00ff", "t/z", "t/\uffff", "t/\u{1f600}", "t/\u00e9"]) kv.put(k, 1);
      deepStrictEqual(keys(kv, { prefix: "t/" }), ["t/z", "t/\u00e9", "t/\u00ff", "t/\uffff", "t/\u{1f600}"]);
    },
  },
];
