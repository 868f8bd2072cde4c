import { describe, expect, it } from "vitest";
import { MemoryKv } from "../storage/memory-kv.js";
import { WildcardLink, WildcardRegistry } from "./wildcard-link.js";

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

  it("skips a forward it already took, per forwarder", () => {
    const registry = new WildcardRegistry(new MemoryKv());
    expect(registry.taken("t/a", 1)).toBe(false);
    expect(registry.taken("t/a", 1)).toBe(true);
    expect(registry.taken("t/b", 1)).toBe(false);
    expect(registry.taken("t/a", 2)).toBe(false);
  });
});
