/**
 * The stub cache (reuse, replacement after an error: review F3, LRU bound) and the rate-limited
 * log (every event counted, one line per counter every LOG_EVERY_MS).
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { LOG_EVERY_MS, RateLimitedLog } from "./rate-limited-log.js";
import { MAX_STUBS, StubCache } from "./stub-cache.js";

// ---- helpers ----

/** A cache of numbered fake stubs: `made` lists the names each new stub was made for. */
function cache() {
  const made: string[] = [];
  let n = 0;
  const stubs = new StubCache((name) => {
    made.push(name);
    return { name, id: ++n };
  });
  const idOf = (name: string) => stubs.call(name, async (s) => s.id);
  return { stubs, made, idOf };
}

afterEach(() => vi.restoreAllMocks());

// ---- tests ----

describe("StubCache", () => {
  it("makes one stub per name and reuses it", async () => {
    const { stubs, made, idOf } = cache();
    expect(await idOf("a")).toBe(1);
    expect(await idOf("a")).toBe(1);
    expect(await idOf("b")).toBe(2);
    expect(made).toEqual(["a", "b"]);
    expect(stubs.size).toBe(2);
  });

  it("after a call throws, the next call gets a new stub, and the error still reaches the caller (F3)", async () => {
    const { stubs, made, idOf } = cache();
    await idOf("a");
    await expect(stubs.call("a", async () => Promise.reject(new Error("Durable Object reset")))).rejects.toThrow("Durable Object reset");
    expect(await idOf("a")).toBe(2);
    expect(made).toEqual(["a", "a"]);
    // A synchronous throw inside the call counts too.
    await expect(
      stubs.call("a", () => {
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    expect(await idOf("a")).toBe(3);
  });

  it("a late failure of an old stub does not drop its replacement", async () => {
    const { stubs, idOf } = cache();
    let failOld!: (e: Error) => void;
    const slow = stubs.call("a", () => new Promise((_, reject) => (failOld = reject)));
    await expect(stubs.call("a", async () => Promise.reject(new Error("first")))).rejects.toThrow();
    expect(await idOf("a")).toBe(2);
    failOld(new Error("late"));
    await expect(slow).rejects.toThrow("late");
    expect(await idOf("a")).toBe(2);
  });

  it(`keeps at most MAX_STUBS (${MAX_STUBS}) stubs, dropping the least recently used`, async () => {
    const { stubs, made, idOf } = cache();
    for (let i = 0; i < MAX_STUBS; i++) await idOf(`s${i}`);
    expect(stubs.size).toBe(MAX_STUBS);
    await idOf("s0"); // s0 is used again: s1 is now the oldest
    await idOf("new");
    expect(stubs.size).toBe(MAX_STUBS);
    const count = made.length;
    await idOf("s0");
    expect(made.length).toBe(count);
    await idOf("s1");
    expect(made.length).toBe(count + 1);
    expect(made.at(-1)).toBe("s1");
  });
});

describe("RateLimitedLog", () => {
  it("counts every event and logs one line per counter every LOG_EVERY_MS, saying how many it stands for", () => {
    let now = 0;
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const log = new RateLimitedLog("shard", () => now);
    for (let i = 0; i < 5; i++) log.log("warn", "dropped", "drops");
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn).toHaveBeenLastCalledWith(expect.stringMatching(/^\d{4}-\d\d-\d\dT[\d:.]+Z shard: dropped$/));
    now = LOG_EVERY_MS - 1;
    log.log("warn", "dropped", "drops");
    expect(warn).toHaveBeenCalledTimes(1);
    now = LOG_EVERY_MS;
    log.log("warn", "dropped", "drops");
    expect(warn).toHaveBeenCalledTimes(2);
    expect(warn).toHaveBeenLastCalledWith(expect.stringMatching(/Z shard: dropped \(and 5 more like it; drops=7\)$/));
    expect(log.snapshot()).toEqual({ drops: 7 });
  });

  it("limits each counter on its own, and never limits lines without a counter", () => {
    const info = vi.spyOn(console, "log").mockImplementation(() => {});
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const log = new RateLimitedLog("session", () => 0);
    log.log("info", "a", "one");
    log.log("info", "b", "two");
    log.log("info", "c", "one");
    log.log("warn", "plain");
    log.log("warn", "plain");
    expect(info).toHaveBeenCalledTimes(2);
    expect(warn).toHaveBeenCalledTimes(2);
    expect(log.snapshot()).toEqual({ one: 2, two: 1 });
  });

  it("count() counts without logging; snapshot() is a copy", () => {
    const log = new RateLimitedLog("x", () => 0);
    expect(log.count("n")).toBe(1);
    expect(log.count("n")).toBe(2);
    const snap = log.snapshot();
    snap.n = 99;
    expect(log.snapshot()).toEqual({ n: 2 });
  });
});
