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
  it("tells every forwarding shard when it becomes active, nobody when it becomes idle, with a new epoch each time", () => {
    const kv = new MemoryKv();
    const registry = new WildcardRegistry(kv);
    registry.register("t/a");
    registry.register("t/b");
    registry.register("t/a");
    expect(registry.changed(true)).toEqual({ epoch: 1, tell: ["t/a", "t/b"] });
    expect(registry.changed(false)).toEqual({ epoch: 2, tell: [] });
    const restarted = new WildcardRegistry(kv);
    expect(restarted.state(false)).toEqual({ active: false, epoch: 2 });
    expect(restarted.changed(true).tell.sort()).toEqual(["t/a", "t/b"]);
  });
});
