import { describe, expect, it } from "vitest";
import type { Message } from "../protocol/message.js";
import { MemoryKv } from "../storage/memory-kv.js";
import { RetainedStore } from "./retained-store.js";

const retained = (topic: string, payload = `v:${topic}`, qos: Message["qos"] = 1): Message => ({
  topic,
  payload: new TextEncoder().encode(payload),
  qos,
  retain: true,
  origin: "pub",
});
const NOW = 1_000_000;
const topics = (messages: Message[]) => messages.map((m) => m.topic);
const body = (m: Message | undefined) => (m ? new TextDecoder().decode(m.payload) : undefined);

function storeWith(...list: string[]) {
  const store = new RetainedStore(new MemoryKv());
  for (const topic of list) store.apply(retained(topic));
  return store;
}

describe("RetainedStore", () => {
  it("returns the retained message of an exact topic", () => {
    const store = storeWith("a/b", "a/c");
    const [m] = store.matching("a/b", NOW).messages;
    expect(m).toMatchObject({ topic: "a/b", qos: 1, retain: true, origin: "pub" });
    expect(body(m)).toBe("v:a/b");
    expect(store.matching("a", NOW).messages).toEqual([]);
  });

  it("a new retained message replaces the topic's previous one [MQTT-3.3.1-5]", () => {
    const store = new RetainedStore(new MemoryKv());
    store.apply(retained("a/b", "first", 2));
    store.apply(retained("a/b", "second", 0));
    const all = store.matching("a/b", NOW).messages;
    expect(all).toHaveLength(1);
    expect(body(all[0])).toBe("second");
    expect(all[0]!.qos).toBe(0);
  });

  it("an empty payload deletes the retained message and is not stored [MQTT-3.3.1-10], [MQTT-3.3.1-11]", () => {
    const kv = new MemoryKv();
    const store = new RetainedStore(kv);
    store.apply(retained("a/b"));
    store.apply(retained("a/b", ""));
    expect(store.matching("a/b", NOW).messages).toEqual([]);
    expect(store.matching("#", NOW).messages).toEqual([]);
    store.apply(retained("x", ""));
    expect([...kv.list({ prefix: "ret:" })]).toEqual([]);
    expect(store.size).toBe(0);
  });

  it("matches wildcard filters, in topic order", () => {
    const store = storeWith("sport/tennis/p2", "sport", "sports/x", "sport/tennis/p1", "sport/golf", "other/sport");
    expect(topics(store.matching("sport/#", NOW).messages)).toEqual(["sport", "sport/golf", "sport/tennis/p1", "sport/tennis/p2"]);
    expect(topics(store.matching("sport/+", NOW).messages)).toEqual(["sport/golf"]);
    expect(topics(store.matching("sport/tennis/+", NOW).messages)).toEqual(["sport/tennis/p1", "sport/tennis/p2"]);
    expect(topics(store.matching("+/sport", NOW).messages)).toEqual(["other/sport"]);
    expect(topics(store.matching("+", NOW).messages)).toEqual(["sport"]);
    expect(topics(store.matching("+/+/p1", NOW).messages)).toEqual(["sport/tennis/p1"]);
  });

  it("'+' and '#' match empty levels", () => {
    const store = storeWith("/finance", "a//b");
    expect(topics(store.matching("+/+", NOW).messages)).toEqual(["/finance"]);
    expect(topics(store.matching("/+", NOW).messages)).toEqual(["/finance"]);
    expect(topics(store.matching("a/+/b", NOW).messages)).toEqual(["a//b"]);
    expect(topics(store.matching("#", NOW).messages)).toEqual(["/finance", "a//b"]);
  });

  it("first-level wildcards do not return '$' topics; '$SYS/#' does [MQTT-4.7.2-1]", () => {
    const store = storeWith("$SYS/load", "a");
    expect(topics(store.matching("#", NOW).messages)).toEqual(["a"]);
    expect(topics(store.matching("+/load", NOW).messages)).toEqual([]);
    expect(topics(store.matching("$SYS/#", NOW).messages)).toEqual(["$SYS/load"]);
    expect(topics(store.matching("$SYS/load", NOW).messages)).toEqual(["$SYS/load"]);
  });

  it("is durable: a new store on the same storage sees the messages", () => {
    const kv = new MemoryKv();
    new RetainedStore(kv).apply(retained("a/b", "kept"));
    expect(body(new RetainedStore(kv).matching("a/#", NOW).messages[0])).toBe("kept");
  });

  it("does not return a retained message past its expiry, and forgets it (MQTT 5 §3.3.2.3.3)", () => {
    const kv = new MemoryKv();
    const store = new RetainedStore(kv);
    store.apply({ ...retained("a/old"), expiresAt: NOW });
    store.apply({ ...retained("a/new"), expiresAt: NOW + 1 });
    store.apply(retained("a/forever"));
    expect(topics(store.matching("a/#", NOW - 1).messages)).toEqual(["a/forever", "a/new", "a/old"]);
    expect(topics(store.matching("a/#", NOW).messages)).toEqual(["a/forever", "a/new"]);
    expect(kv.get("ret:a/old")).toBeUndefined();
    expect(store.matching("a/new", NOW + 1).messages).toEqual([]);
    expect(kv.get("ret:a/new")).toBeUndefined();
    expect(topics(store.matching("a/forever", Number.MAX_SAFE_INTEGER).messages)).toEqual(["a/forever"]);
  });

  it("answers a wildcard filter a page at a time, within the byte limit, so no answer nears the RPC limit (F6)", () => {
    const store = new RetainedStore(new MemoryKv());
    for (let i = 0; i < 10; i++) store.apply({ ...retained(`big/${i}`), payload: new Uint8Array(1000) });
    const seen: string[] = [];
    let after: string | undefined;
    let pages = 0;
    do {
      const page = store.matching("#", NOW, after, 3500);
      expect(page.messages.length).toBeLessThanOrEqual(3);
      seen.push(...page.messages.map((m) => m.topic));
      after = page.next;
      pages++;
    } while (after !== undefined);
    expect(pages).toBe(4);
    expect(seen).toEqual(Array.from({ length: 10 }, (_, i) => `big/${i}`));
  });
});

describe("RetainedStore: MAX_RETAINED_PER_SHARD", () => {
  it("refuses a new topic beyond the limit, but replaces and deletes existing ones", () => {
    const kv = new MemoryKv();
    const store = new RetainedStore(kv, 2);
    expect(store.apply(retained("a/1"))).toBe(true);
    expect(store.apply(retained("a/2"))).toBe(true);
    expect(store.apply(retained("a/3"))).toBe(false);
    expect(store.apply(retained("a/1", "newer"))).toBe(true);
    expect(store.apply(retained("a/2", ""))).toBe(true);
    expect(store.size).toBe(1);
    expect(store.apply(retained("a/3"))).toBe(true);
    expect(topics(store.matching("a/#", NOW).messages)).toEqual(["a/1", "a/3"]);
    // The count survives a restart, and is taken from the rows for a store that never had one.
    expect(new RetainedStore(kv, 2).size).toBe(2);
    kv.delete("retcount");
    expect(new RetainedStore(kv, 2).size).toBe(2);
  });

  it("an expired message leaves the count", () => {
    const store = new RetainedStore(new MemoryKv(), 1);
    store.apply({ ...retained("a/x"), expiresAt: NOW - 1 });
    expect(store.matching("a/#", NOW).messages).toEqual([]);
    expect(store.size).toBe(0);
    expect(store.apply(retained("a/y"))).toBe(true);
  });
});
