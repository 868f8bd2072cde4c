/** QoS 2 publishes routed again after an uncertain outcome are not stored twice (review F14). */
import { describe, expect, it } from "vitest";
import type { Message } from "../protocol/message.js";
import { MemoryKv } from "../storage/memory-kv.js";
import { KEYS_PER_PUBLISHER, PublishKeys } from "./publish-keys.js";

const m = (origin: string, stamp: number, qos: 0 | 1 | 2 = 2): Message => ({ topic: "a/b", payload: new Uint8Array(), qos, retain: false, origin, stamp });

describe("PublishKeys", () => {
  it("knows a QoS 2 publish it stored before, by publisher and stamp, also after a restart", () => {
    const kv = new MemoryKv();
    const keys = new PublishKeys(kv, 60_000);
    expect(keys.repeated(m("p1", 1), 0)).toBe(false);
    expect(keys.repeated(m("p1", 1), 1)).toBe(true);
    expect(keys.repeated(m("p2", 1), 2)).toBe(false);
    expect(new PublishKeys(kv, 60_000).repeated(m("p1", 1), 3)).toBe(true);
  });

  it("costs nothing for QoS 0 and 1 (at least once allows a second copy)", () => {
    const kv = new MemoryKv();
    const keys = new PublishKeys(kv, 60_000);
    expect(keys.repeated(m("p1", 1, 1), 0)).toBe(false);
    expect(keys.repeated(m("p1", 1, 1), 0)).toBe(false);
    expect([...kv.list()]).toHaveLength(0);
  });

  it("is bounded: the last KEYS_PER_PUBLISHER stamps per publisher, rows unused for keepMs deleted", () => {
    const kv = new MemoryKv();
    const keys = new PublishKeys(kv, 1000);
    for (let i = 0; i <= KEYS_PER_PUBLISHER; i++) keys.repeated(m("p1", i), 0);
    expect(keys.repeated(m("p1", 0), 0)).toBe(false); // the oldest was let go (and is now the newest)
    for (const p of ["p2", "p3"]) keys.repeated(m(p, 1), 0);
    // Much later, new keys sweep the old rows away.
    for (let i = 0; i < 3; i++) keys.repeated(m(`q${i}`, 1), 5000);
    expect([...kv.list({ prefix: "pk:" })].map(([k]) => k).sort()).toEqual(["pk:q0", "pk:q1", "pk:q2"]);
  });
});
