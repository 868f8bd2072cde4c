import { describe, expect, it } from "vitest";
import { MemoryKv } from "../storage/memory-kv.js";
import { ShardSubscriptions } from "./subscriptions.js";

const clientsOf = (subs: ShardSubscriptions, topic: string) => [...subs.recipients(topic).clients].sort();
const sharesOf = (subs: ShardSubscriptions, topic: string) => [...subs.recipients(topic).shares].sort();

describe("ShardSubscriptions", () => {
  it("returns each client with a matching filter once", () => {
    const subs = new ShardSubscriptions(new MemoryKv());
    subs.add("c1", "a/+");
    subs.add("c1", "a/#");
    subs.add("c2", "a/b");
    subs.add("c3", "a/c");
    expect(subs.size).toBe(4);
    expect(clientsOf(subs, "a/b")).toEqual(["c1", "c2"]);
    expect(clientsOf(subs, "a")).toEqual(["c1"]);
    expect(clientsOf(subs, "b")).toEqual([]);
    expect(sharesOf(subs, "a/b")).toEqual([]);
  });

  it("adding the same filter twice for a client keeps one subscription [MQTT-3.8.4-3]", () => {
    const kv = new MemoryKv();
    const subs = new ShardSubscriptions(kv);
    subs.add("c1", "a/b");
    subs.add("c1", "a/b");
    expect(subs.size).toBe(1);
    expect([...kv.list({ prefix: "sub:" })]).toHaveLength(1);
  });

  it("remove drops one filter of a client", () => {
    const subs = new ShardSubscriptions(new MemoryKv());
    subs.add("c1", "a/b");
    subs.add("c1", "a/+");
    subs.add("c2", "a/b");
    subs.remove("c1", "a/b");
    expect(clientsOf(subs, "a/b")).toEqual(["c1", "c2"]);
    subs.remove("c1", "a/+");
    expect(clientsOf(subs, "a/b")).toEqual(["c2"]);
    subs.remove("c1", "never");
    expect(subs.size).toBe(1);
  });

  it("removeClient drops every filter of that client and nothing else", () => {
    const kv = new MemoryKv();
    const subs = new ShardSubscriptions(kv);
    subs.add("c1", "a/b");
    subs.add("c1", "#");
    subs.add("c1", "x/+/y");
    subs.add("c2", "a/b");
    subs.removeClient("c1");
    expect(subs.size).toBe(1);
    expect(clientsOf(subs, "a/b")).toEqual(["c2"]);
    expect(clientsOf(subs, "x/1/y")).toEqual([]);
    expect([...kv.list({ prefix: "sub:" })]).toHaveLength(1);
    subs.removeClient("nobody");
    expect(subs.size).toBe(1);
  });

  it("reloads its subscriptions from storage", () => {
    const kv = new MemoryKv();
    const before = new ShardSubscriptions(kv);
    before.add("c1", "sport/#");
    before.add("c2", "sport/+/p1");
    before.add("urn:x/y", "sport/tennis/p1");
    before.add("c3", "gone");
    before.remove("c3", "gone");

    const after = new ShardSubscriptions(kv);
    expect(after.size).toBe(3);
    expect(clientsOf(after, "sport/tennis/p1")).toEqual(["c1", "c2", "urn:x/y"]);
    expect(clientsOf(after, "gone")).toEqual([]);
    // The per-client index is rebuilt too.
    after.removeClient("c1");
    expect(clientsOf(after, "sport")).toEqual([]);
    expect(clientsOf(new ShardSubscriptions(kv), "sport/tennis/p1")).toEqual(["c2", "urn:x/y"]);
  });

  it("wildcard-first filters never match '$' topics [MQTT-4.7.2-1]", () => {
    const subs = new ShardSubscriptions(new MemoryKv());
    subs.add("c1", "#");
    subs.add("c2", "+/load");
    subs.add("c3", "$SYS/#");
    expect(clientsOf(subs, "$SYS/load")).toEqual(["c3"]);
    expect(clientsOf(subs, "x/load")).toEqual(["c1", "c2"]);
  });
});

describe("ShardSubscriptions: shared subscriptions (MQTT 5 §4.8.2)", () => {
  it("a shared group matches as one recipient, not as its members", () => {
    const subs = new ShardSubscriptions(new MemoryKv());
    subs.add("c1", "$share/g/a/+");
    subs.add("c2", "$share/g/a/+");
    subs.add("c3", "a/b");
    expect(subs.recipients("a/b")).toEqual({ clients: new Set(["c3"]), shares: ["$share/g/a/+"] });
    expect(sharesOf(subs, "b/a")).toEqual([]);
    expect(subs.size).toBe(3);
  });

  it("groups on the same filter are separate", () => {
    const subs = new ShardSubscriptions(new MemoryKv());
    subs.add("c1", "$share/g1/a/#");
    subs.add("c2", "$share/g2/a/#");
    expect(sharesOf(subs, "a/x")).toEqual(["$share/g1/a/#", "$share/g2/a/#"]);
  });

  it("members take turns, skipping excluded ones", () => {
    const subs = new ShardSubscriptions(new MemoryKv());
    for (const c of ["c1", "c2", "c3"]) subs.add(c, "$share/g/t");
    const share = "$share/g/t";
    expect([subs.pickMember(share), subs.pickMember(share), subs.pickMember(share), subs.pickMember(share)]).toEqual(["c1", "c2", "c3", "c1"]);
    expect(subs.pickMember(share, new Set(["c2"]))).toBe("c3");
    expect(subs.pickMember(share, new Set(["c1", "c2", "c3"]))).toBeNull();
    expect(subs.pickMember("$share/other/t")).toBeNull();
    expect(subs.firstMember(share)).toBe("c1");
    expect(subs.firstMember("$share/other/t")).toBeNull();
  });

  it("a member that leaves no longer gets turns; the last one leaving removes the group", () => {
    const subs = new ShardSubscriptions(new MemoryKv());
    subs.add("c1", "$share/g/t");
    subs.add("c2", "$share/g/t");
    subs.remove("c1", "$share/g/t");
    expect([subs.pickMember("$share/g/t"), subs.pickMember("$share/g/t")]).toEqual(["c2", "c2"]);
    expect(sharesOf(subs, "t")).toEqual(["$share/g/t"]);
    subs.removeClient("c2");
    expect(sharesOf(subs, "t")).toEqual([]);
    expect(subs.pickMember("$share/g/t")).toBeNull();
    expect(subs.size).toBe(0);
  });

  it("a client in a group and subscribed directly to the same filter is both a member and a recipient", () => {
    const subs = new ShardSubscriptions(new MemoryKv());
    subs.add("c1", "t/+");
    subs.add("c1", "$share/g/t/+");
    expect(subs.recipients("t/x")).toEqual({ clients: new Set(["c1"]), shares: ["$share/g/t/+"] });
    subs.remove("c1", "t/+");
    expect(subs.recipients("t/x")).toEqual({ clients: new Set(), shares: ["$share/g/t/+"] });
  });

  it("reloads groups and their members from storage", () => {
    const kv = new MemoryKv();
    const before = new ShardSubscriptions(kv);
    before.add("c1", "$share/g/t");
    before.add("c2", "$share/g/t");
    const after = new ShardSubscriptions(kv);
    expect(sharesOf(after, "t")).toEqual(["$share/g/t"]);
    expect(new Set([after.pickMember("$share/g/t"), after.pickMember("$share/g/t")])).toEqual(new Set(["c1", "c2"]));
    after.removeClient("c1");
    after.removeClient("c2");
    expect(sharesOf(new ShardSubscriptions(kv), "t")).toEqual([]);
  });
});

describe("ShardSubscriptions: only subscriptions older than the message ([MQTT-4.5.0-1])", () => {
  it("a subscription made after a message was published does not get it, also after a restart", () => {
    const kv = new MemoryKv();
    const subs = new ShardSubscriptions(kv);
    subs.add("early", "+/+", 1000);
    subs.add("late", "+/+", 2000);
    expect([...subs.recipients("a/b", 1500).clients]).toEqual(["early"]);
    expect([...subs.recipients("a/b", 2000).clients].sort()).toEqual(["early", "late"]);
    expect([...new ShardSubscriptions(kv).recipients("a/b", 1500).clients]).toEqual(["early"]);
    // A repeated SUBSCRIBE keeps the subscription's first time.
    subs.add("early", "+/+", 3000);
    expect([...subs.recipients("a/b", 1500).clients]).toEqual(["early"]);
  });
});
