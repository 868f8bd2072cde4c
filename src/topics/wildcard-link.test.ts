import { describe, expect, it } from "vitest";
import { MemoryKv } from "../storage/memory-kv.js";
import { INACTIVE_VALID_MS, WildcardLink, WildcardRegistry } from "./wildcard-link.js";

describe("WildcardLink (topic shard side)", () => {
  it("forwards until told otherwise, and keeps the newest state it heard", () => {
    const link = new WildcardLink(new MemoryKv());
    expect(link.active).toBe(true);
    link.heard({ active: false, epoch: 0 });
    expect(link.active).toBe(false);
    link.heard({ active: true, epoch: 1 });
    // A reply computed before the activation arrives late: ignored.
    link.heard({ active: false, epoch: 0 });
    expect(link.active).toBe(true);
  });

  it("remembers its state across restarts", () => {
    const kv = new MemoryKv();
    new WildcardLink(kv).heard({ active: false, epoch: 3 });
    expect(new WildcardLink(kv).active).toBe(false);
  });
});

describe("WildcardRegistry (wildcard shard side)", () => {
  it("owes every forwarding shard an announcement when it becomes active, until it was made", () => {
    const kv = new MemoryKv();
    const registry = new WildcardRegistry(kv);
    registry.register("t/a");
    registry.register("t/b");
    registry.register("t/a");
    registry.changed(true);
    expect(registry.owed()).toEqual({ state: { active: true, epoch: 1 }, tell: ["t/a", "t/b"] });
    // Owed across a restart, until announced.
    const restarted = new WildcardRegistry(kv);
    expect(restarted.owed()?.state.epoch).toBe(1);
    restarted.announced(1);
    expect(restarted.owed()).toBeNull();
    restarted.changed(false);
    expect(restarted.owed()).toBeNull();
    expect(restarted.state(false)).toEqual({ active: false, epoch: 2 });
  });

  it("skips a forward it already took, per forwarder, with one write per batch", () => {
    const kv = new MemoryKv();
    const registry = new WildcardRegistry(kv);
    const d = (...seqs: (number | undefined)[]) => seqs.map((seq) => (seq === undefined ? {} : { seq }));
    expect(registry.fresh("t/a", d(1, 2, undefined, 3))).toEqual(d(1, 2, undefined, 3));
    expect(kv.get("mark:t/a")).toBe(3);
    expect(registry.fresh("t/a", d(2, 3, 4, undefined))).toEqual(d(4, undefined));
    expect(registry.fresh("t/b", d(1))).toEqual(d(1));
  });
});

describe("a bounded registry (review F8)", () => {
  it('a topic shard trusts "inactive" for a limited time, then forwards again', () => {
    let now = 1_000_000;
    const link = new WildcardLink(new MemoryKv(), () => now);
    link.heard({ active: false, epoch: 0 });
    expect(link.active).toBe(false);
    now += INACTIVE_VALID_MS;
    expect(link.active).toBe(true);
    // The forward's reply renews it.
    link.heard({ active: false, epoch: 0 });
    expect(link.active).toBe(false);
  });

  it("announces only to topic shards that forwarded recently, and forgets the others", () => {
    let now = 1_000_000;
    const kv = new MemoryKv();
    const registry = new WildcardRegistry(kv, () => now);
    for (let i = 0; i < 500; i++) registry.register(`t/device-${i}`);
    now += INACTIVE_VALID_MS + 60_000;
    registry.register("t/recent");
    registry.changed(true);
    expect(registry.owed()?.tell).toEqual(["t/recent"]);
    expect(registry.size).toBe(1);
    expect([...kv.list({ prefix: "forwarder:" })].map(([k]) => k)).toEqual(["forwarder:t/recent"]);
  });
});
