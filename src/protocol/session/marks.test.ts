/**
 * Marks: what a session took from each topic shard (so a shard's retry is never queued twice)
 * and how far each shard may let go of its copies. Held messages keep the release point below
 * them; stored ones are written in the same commit as the mark (`save`).
 */
import { describe, expect, it } from "vitest";
import { KvSessionStore } from "../../storage/kv-session-store.js";
import { MemoryKv } from "../../storage/memory-kv.js";
import { Marks } from "./marks.js";

const fresh = (kv = new MemoryKv()) => ({ kv, marks: new Marks(new KvSessionStore(kv)) });

describe("Marks", () => {
  it("knows nothing of a shard it never heard from", () => {
    const { marks } = fresh();
    expect(marks.taken("t/a", 1)).toBe(false);
    expect(marks.releasePoint("t/a")).toBeUndefined();
    expect(marks.toReport()).toEqual([]);
  });

  it("a seen seq and everything below it are taken; the release point follows", () => {
    const { marks } = fresh();
    marks.see("t/a", 3);
    expect([1, 3, 4].map((s) => marks.taken("t/a", s))).toEqual([true, true, false]);
    expect(marks.releasePoint("t/a")).toBe(3);
    expect(marks.taken("t/b", 1)).toBe(false);
  });

  it("held seqs keep the release point below the oldest of them until unheld", () => {
    const { marks } = fresh();
    marks.hold("t/a", 5);
    marks.hold("t/a", 6);
    marks.see("t/a", 7);
    expect(marks.releasePoint("t/a")).toBe(4);
    marks.unhold("t/a", 6);
    expect(marks.releasePoint("t/a")).toBe(4);
    marks.unhold("t/a", 5);
    expect(marks.releasePoint("t/a")).toBe(7);
    marks.unhold("t/zz", 1); // unknown: nothing happens
  });

  it("toReport gives each moved release point once; reported() marks one as told", () => {
    const { marks } = fresh();
    marks.see("t/a", 2);
    marks.see("t/b", 9);
    marks.reported("t/b", 9);
    expect(marks.toReport()).toEqual([{ shard: "t/a", upTo: 2 }]);
    expect(marks.toReport()).toEqual([]);
    marks.see("t/a", 3);
    expect(marks.toReport()).toEqual([{ shard: "t/a", upTo: 3 }]);
  });

  it("save writes only shards with a stored seq; the mark never claims a held seq", () => {
    const { kv, marks } = fresh();
    marks.see("t/a", 1);
    marks.hold("t/a", 2);
    marks.stored("t/a", 3);
    marks.see("t/b", 5);
    marks.save();
    expect(Object.fromEntries(kv.list({ prefix: "mark:" }))).toEqual({ "mark:t/a": { upTo: 1, above: [3] } });

    // After a restart: the stored seq and those up to the mark are taken, the held one is not.
    const { marks: again } = fresh(kv);
    expect([1, 2, 3, 4].map((s) => again.taken("t/a", s))).toEqual([true, false, true, false]);
    expect(again.taken("t/b", 5)).toBe(false);
    expect(again.toReport()).toEqual([]);
  });

  it("a later save folds stored seqs into upTo once the release point passed them", () => {
    const { kv, marks } = fresh();
    marks.hold("t/a", 1);
    marks.stored("t/a", 2);
    marks.save();
    expect(kv.get("mark:t/a")).toEqual({ upTo: 0, above: [2] });
    marks.unhold("t/a", 1);
    marks.stored("t/a", 3);
    marks.save();
    expect(kv.get("mark:t/a")).toEqual({ upTo: 3, above: [] });
  });

  it("holds thousands of messages and keeps the release point right as they finish in any order", () => {
    const { marks } = fresh();
    for (let seq = 1; seq <= 5000; seq++) marks.hold("t/a", seq);
    expect(marks.releasePoint("t/a")).toBe(0);
    marks.unhold("t/a", 3);
    marks.unhold("t/a", 1);
    expect(marks.releasePoint("t/a")).toBe(1);
    for (let seq = 2; seq <= 4000; seq++) marks.unhold("t/a", seq);
    expect(marks.releasePoint("t/a")).toBe(4000);
    for (let seq = 5000; seq > 4000; seq--) marks.unhold("t/a", seq);
    expect(marks.releasePoint("t/a")).toBe(5000);
    // Held and stored ones are taken; a new one is not.
    expect(marks.taken("t/a", 4500)).toBe(true);
    expect(marks.taken("t/a", 5001)).toBe(false);
  });
});
