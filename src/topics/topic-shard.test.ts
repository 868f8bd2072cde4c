/**
 * The topic shard core on in-memory storage with fake peers: what is stored, who gets what,
 * what reaches the wildcard shard, and what survives a restart. Shared groups are in
 * topic-shard-groups.test.ts.
 */
import { describe, expect, it } from "vitest";
import type { Delivery, DeliveryOutcome, Message, QoS } from "../protocol/message.js";
import { CountingKv } from "../storage/counting-kv.js";
import { MemoryKv } from "../storage/memory-kv.js";
import type { SyncKv } from "../storage/sync-kv.js";
import { WILDCARD_SHARD } from "../protocol/topic/shard-key.js";
import { OFFLINE_PROBE_MS, type ShardPeers, TopicShard } from "./topic-shard.js";
import type { WildcardState } from "./wildcard-link.js";

// ---- helpers ----

const msg = (topic: string, name: string, qos: QoS = 1, retain = false): Message => ({
  topic,
  payload: new TextEncoder().encode(name),
  qos,
  retain,
  origin: "pub",
});
const settle = () => new Promise<void>((r) => setImmediate(r));
const names = (batch: Delivery[]) => batch.map((d) => new TextDecoder().decode(d.message.payload));

/** Sessions that answer as `answer` says (by default: online, holding what they get in memory). */
function fakePeers(forward: (batch: Delivery[]) => Promise<WildcardState> = async () => ({ active: true, epoch: 0 })) {
  const calls: { clientId: string; batch: Delivery[] }[] = [];
  const forwards: Delivery[][] = [];
  const logs: { level: string; counter?: string }[] = [];
  const answers = new Map<string, (batch: Delivery[]) => DeliveryOutcome>();
  const peers: ShardPeers = {
    deliver: async (clientId, batch) => {
      calls.push({ clientId, batch });
      return (answers.get(clientId) ?? (() => ({ gone: false, declined: [] })))(batch);
    },
    forward: async (batch) => {
      forwards.push(batch);
      return forward(batch);
    },
    log: (level, _message, counter) => void logs.push({ level, ...(counter ? { counter } : {}) }),
    count: (counter) => void logs.push({ level: "count", counter }),
    now: () => 0,
    sleep: async () => {},
  };
  /** What `clientId` got, by payload, over all calls. */
  const got = (clientId: string) => calls.filter((c) => c.clientId === clientId).flatMap((c) => names(c.batch));
  return { peers, calls, forwards, logs, answers, got };
}

const segRows = (kv: SyncKv) => [...kv.list({ prefix: "seg:" })].length;
const idle: WildcardState = { active: false, epoch: 0 };

// ---- tests ----

describe("TopicShard: publish to subscribers", () => {
  it("stores a QoS 1 publish once for two subscribers and delivers it to both; freed once both released it", async () => {
    const mem = new MemoryKv();
    const kv = new CountingKv(mem);
    const f = fakePeers();
    const shard = new TopicShard(kv, "t/a", f.peers);
    shard.wildcard.heard(idle);
    shard.subscribe("c1", [{ filter: "a/b", qos: 1, retained: false }], 0);
    shard.subscribe("c2", [{ filter: "a/#", qos: 1, retained: false }], 0);
    const written = kv.cost.rowsWritten;
    shard.accept([msg("a/b", "m1")]);
    expect(kv.cost.rowsWritten - written).toBe(1);
    await settle();
    expect(f.got("c1")).toEqual(["m1"]);
    expect(f.got("c2")).toEqual(["m1"]);
    expect(f.calls[0]!.batch[0]!.seq).toBe(1);

    shard.release("c1", 1);
    expect(shard.stats()).toMatchObject({ pendingDurable: 1 });
    shard.log.flush();
    expect(segRows(mem)).toBe(1);
    shard.release("c2", 1);
    expect(shard.stats()).toMatchObject({ pendingDurable: 0, pendingBytes: 0, lanes: 0 });
    shard.log.flush();
    expect(segRows(mem)).toBe(0);
  });

  it("a session that stored the message releases it in its answer", async () => {
    const f = fakePeers();
    const shard = new TopicShard(new MemoryKv(), "t/a", f.peers);
    shard.wildcard.heard(idle);
    f.answers.set("c1", (batch) => ({ gone: false, declined: [], released: batch.at(-1)!.seq! }));
    shard.subscribe("c1", [{ filter: "a/b", qos: 2, retained: false }], 0);
    shard.accept([msg("a/b", "m1", 2), msg("a/b", "m2", 2)]);
    await settle();
    expect(f.got("c1")).toEqual(["m1", "m2"]);
    expect(shard.stats()).toMatchObject({ pendingDurable: 0, lanes: 0 });
  });

  it("does not store QoS 0", async () => {
    const mem = new MemoryKv();
    const f = fakePeers();
    const shard = new TopicShard(mem, "t/a", f.peers);
    shard.wildcard.heard(idle);
    shard.subscribe("c1", [{ filter: "a/b", qos: 1, retained: false }], 0);
    shard.accept([msg("a/b", "m1", 0)]);
    expect(segRows(mem)).toBe(0);
    await settle();
    expect(f.calls[0]!.batch).toEqual([{ message: { ...msg("a/b", "m1", 0), publishedAt: 0 } }]);
    expect(shard.stats()).toMatchObject({ pendingDurable: 0, lanes: 0 });
  });

  it("a gone session's subscriptions and messages here are removed", async () => {
    const f = fakePeers();
    const shard = new TopicShard(new MemoryKv(), "t/a", f.peers);
    shard.wildcard.heard(idle);
    f.answers.set("c1", () => ({ gone: true }));
    shard.subscribe(
      "c1",
      [
        { filter: "a/b", qos: 1, retained: false },
        { filter: "a/c", qos: 1, retained: false },
      ],
      0,
    );
    shard.accept([msg("a/b", "m1"), msg("a/c", "m2")]);
    await settle();
    expect(shard.stats()).toMatchObject({ subscriptions: 0, pendingDurable: 0, lanes: 0 });
    expect(f.logs.map((l) => l.counter)).toContain("sessions_gone");
  });

  it("after a restart on the same storage, unreleased messages go out again from the release point", async () => {
    const kv = new MemoryKv();
    const first = fakePeers();
    const shard = new TopicShard(kv, "t/a", first.peers);
    shard.wildcard.heard(idle);
    shard.subscribe("c1", [{ filter: "a/b", qos: 1, retained: false }], 0);
    shard.accept([msg("a/b", "m1"), msg("a/b", "m2"), msg("a/b", "m3")]);
    await settle();
    shard.release("c1", 1);
    shard.log.flush();

    const f = fakePeers();
    const restarted = new TopicShard(kv, "t/a", f.peers);
    await settle();
    expect(f.calls.map((c) => [c.clientId, names(c.batch), c.batch.map((d) => d.seq)])).toEqual([["c1", ["m2", "m3"], [2, 3]]]);
    expect(restarted.stats()).toMatchObject({ subscriptions: 1, pendingDurable: 2 });
    // New publishes continue after the old seqs.
    restarted.accept([msg("a/b", "m4")]);
    await settle();
    expect(f.calls.at(-1)!.batch[0]!.seq).toBe(4);
  });
});

describe("TopicShard: forwarding to the wildcard shard", () => {
  /** Topic shard "t/a" forwarding to a real wildcard shard; sessions of both are fakes. */
  function linked() {
    const wf = fakePeers();
    const wildcard = new TopicShard(new MemoryKv(), WILDCARD_SHARD, wf.peers);
    const kv = new MemoryKv();
    const tf = fakePeers(async (batch) => wildcard.forwarded("t/a", batch));
    const topic = new TopicShard(kv, "t/a", tf.peers);
    return { wildcard, wf, topic, tf, kv };
  }

  it("forwards a retained QoS 0 message durably even while the wildcard shard is idle (F18)", async () => {
    const { wildcard, topic, tf, kv } = linked();
    topic.wildcard.heard(idle);
    topic.accept([msg("a/b", "plain", 0), msg("a/b", "kept", 0, true)]);
    expect(segRows(kv)).toBe(1);
    await settle();
    expect(tf.forwards.map((b) => b.map((d) => d.seq))).toEqual([[1]]);
    expect(wildcard.retained.matching("#", 0).messages.map((m) => new TextDecoder().decode(m.payload))).toEqual(["kept"]);
    expect(topic.stats()).toMatchObject({ pendingDurable: 0 });
  });

  it("a retained QoS 0 forward survives a restart before it went out (F18)", async () => {
    const kv = new MemoryKv();
    const broken = fakePeers(() => new Promise(() => {})); // never answers
    const topic = new TopicShard(kv, "t/a", broken.peers);
    topic.wildcard.heard(idle);
    topic.accept([msg("a/b", "kept", 0, true)]);
    await settle();

    const f = fakePeers(async () => idle);
    new TopicShard(kv, "t/a", f.peers);
    await settle();
    expect(f.forwards.map((b) => b.map((d) => [d.seq, d.message.retain]))).toEqual([[[1, true]]]);
  });

  it("forwards QoS 0 without storing it and QoS 1 durably while the wildcard shard has subscribers", async () => {
    const { wildcard, wf, topic, tf, kv } = linked();
    wildcard.subscribe("w1", [{ filter: "#", qos: 1, retained: false }], 0);
    topic.accept([msg("a/b", "q0", 0), msg("a/b", "q1", 1)]);
    expect(segRows(kv)).toBe(1);
    await settle();
    expect(tf.forwards.flatMap((b) => b.map((d) => d.seq ?? null))).toEqual([null, 1]);
    expect(wf.got("w1")).toEqual(["q0", "q1"]);
    // The wildcard shard numbers what it accepted itself.
    expect(wf.calls.flatMap((c) => c.batch.map((d) => d.seq ?? null))).toEqual([null, 1]);
  });

  it("never forwards '$' topics, retained or not [MQTT-4.7.2-1]", async () => {
    const f = fakePeers();
    const shard = new TopicShard(new MemoryKv(), "t/$SYS", f.peers);
    expect(shard.wildcard.active).toBe(true);
    shard.accept([msg("$SYS/x", "a", 0), msg("$SYS/x", "b", 1), msg("$SYS/x", "c", 0, true), msg("$SYS/x", "d", 1, true)]);
    await settle();
    expect(f.forwards).toEqual([]);
    expect(shard.stats()).toMatchObject({ pendingDurable: 0 });
  });

  it("forwarded() skips seqs already taken from the same forwarder, not from another", async () => {
    const f = fakePeers();
    const wildcard = new TopicShard(new MemoryKv(), WILDCARD_SHARD, f.peers);
    wildcard.subscribe("w1", [{ filter: "#", qos: 1, retained: false }], 0);
    wildcard.forwarded("t/a", [
      { seq: 1, message: msg("a/x", "a1") },
      { seq: 2, message: msg("a/x", "a2") },
    ]);
    // A retry after a lost reply, with one more.
    const state = wildcard.forwarded("t/a", [
      { seq: 2, message: msg("a/x", "a2") },
      { seq: 3, message: msg("a/x", "a3") },
    ]);
    wildcard.forwarded("t/b", [{ seq: 1, message: msg("b/x", "b1") }]);
    // QoS 0 carries no seq and is never taken for a duplicate.
    wildcard.forwarded("t/a", [{ message: msg("a/x", "z", 0) }, { message: msg("a/x", "z", 0) }]);
    await settle();
    expect(f.got("w1")).toEqual(["a1", "a2", "a3", "b1", "z", "z"]);
    expect(state.active).toBe(true);
  });

  it("forwarded() refuses a forward from no topic shard (its seqs could not be recognised on a retry)", async () => {
    const f = fakePeers();
    const wildcard = new TopicShard(new MemoryKv(), WILDCARD_SHARD, f.peers);
    wildcard.subscribe("w1", [{ filter: "#", qos: 1, retained: false }], 0);
    expect(() => wildcard.forwarded("", [{ seq: 1, message: msg("a/x", "a1") }])).toThrow(/names no topic shard/);
    wildcard.forwarded("t/a", [{ seq: 1, message: msg("a/x", "a1") }]);
    await settle();
    expect(f.got("w1")).toEqual(["a1"]);
    expect(wildcard.registry.owed()?.tell ?? []).not.toContain("");
  });

  it("the wildcard shard's first subscriber starts an epoch and owes an announcement; its last one ends it", () => {
    const wildcard = new TopicShard(new MemoryKv(), WILDCARD_SHARD, fakePeers().peers);
    wildcard.forwarded("t/a", []);
    expect(wildcard.subscribe("w1", [{ filter: "#", qos: 0, retained: false }], 0).becameActive).toBe(true);
    expect(wildcard.registry.owed()).toEqual({ state: { active: true, epoch: 1 }, tell: ["t/a"] });
    expect(wildcard.subscribe("w2", [{ filter: "+/b", qos: 0, retained: false }], 0).becameActive).toBe(false);
    wildcard.unsubscribe("w1", ["#"]);
    expect(wildcard.forwarded("t/a", [])).toEqual({ active: true, epoch: 1 });
    wildcard.unsubscribe("w2", ["+/b"]);
    expect(wildcard.forwarded("t/a", [])).toEqual({ active: false, epoch: 2 });
    expect(wildcard.registry.owed()).toBeNull();
  });

  it("the wildcard shard never forwards what it accepts", async () => {
    const f = fakePeers();
    const wildcard = new TopicShard(new MemoryKv(), WILDCARD_SHARD, f.peers);
    wildcard.subscribe("w1", [{ filter: "#", qos: 1, retained: false }], 0);
    wildcard.forwarded("t/a", [{ seq: 1, message: msg("a/x", "m", 1, true) }, { message: msg("a/x", "n", 0) }]);
    await settle();
    expect(f.forwards).toEqual([]);
    expect(f.got("w1")).toEqual(["m", "n"]);
  });
});

describe("TopicShard: offline subscribers get no QoS 0 (F28)", () => {
  function offlineSubscriber() {
    const f = fakePeers();
    let now = 0;
    f.peers.now = () => now;
    const shard = new TopicShard(new MemoryKv(), "t/a", f.peers);
    shard.wildcard.heard(idle);
    shard.subscribe("c1", [{ filter: "a/b", qos: 1, retained: false }], 0);
    f.answers.set("c1", () => ({ gone: false, declined: [], offline: true }));
    return { f, shard, at: (t: number) => (now = t) };
  }

  it("holds back QoS 0 after the session said offline, counted, while QoS 1 still goes", async () => {
    const { f, shard } = offlineSubscriber();
    shard.accept([msg("a/b", "first", 0)]);
    await settle();
    for (let i = 0; i < 100; i++) shard.accept([msg("a/b", `q${i}`, 0)]);
    shard.accept([msg("a/b", "durable", 1)]);
    await settle();
    expect(f.got("c1")).toEqual(["first", "durable"]);
    expect(f.logs.filter((l) => l.counter === "qos0_not_sent_offline")).toHaveLength(100);
  });

  it("sends QoS 0 again once the session says its client is back", async () => {
    const { f, shard } = offlineSubscriber();
    shard.accept([msg("a/b", "first", 0)]);
    await settle();
    f.answers.delete("c1");
    shard.online("c1");
    shard.accept([msg("a/b", "back", 0)]);
    await settle();
    expect(f.got("c1")).toEqual(["first", "back"]);
  });

  it("probes with one QoS 0 message after OFFLINE_PROBE_MS, in case the online call was lost", async () => {
    const { f, shard, at } = offlineSubscriber();
    shard.accept([msg("a/b", "first", 0)]);
    await settle();
    f.answers.delete("c1");
    at(OFFLINE_PROBE_MS - 1);
    shard.accept([msg("a/b", "held back", 0)]);
    at(OFFLINE_PROBE_MS);
    shard.accept([msg("a/b", "probe", 0)]);
    await settle();
    shard.accept([msg("a/b", "after", 0)]);
    await settle();
    expect(f.got("c1")).toEqual(["first", "probe", "after"]);
  });
});

describe("TopicShard: client ids are only clients (F1)", () => {
  it.each(["\u0001wildcard", "w:", "g:x", "c:c1"])("client id %j is delivered to as a client, also after a restart", async (id) => {
    const kv = new MemoryKv();
    const f = fakePeers();
    const shard = new TopicShard(kv, "t/a", f.peers);
    shard.wildcard.heard(idle);
    shard.subscribe(id, [{ filter: "a/#", qos: 1, retained: false }], 0);
    shard.accept([msg("a/b", "m1")]);
    await settle();
    expect(f.calls.map((c) => c.clientId)).toEqual([id]);
    expect(f.forwards).toEqual([]);

    const g = fakePeers();
    new TopicShard(kv, "t/a", g.peers);
    await settle();
    expect(g.calls.map((c) => c.clientId)).toEqual([id]);
    expect(g.forwards).toEqual([]);
  });

  it("a '\\u0001wildcard' client subscribed to '#' on the wildcard shard gets each forward once: no loop", async () => {
    const f = fakePeers();
    const wildcard = new TopicShard(new MemoryKv(), WILDCARD_SHARD, f.peers);
    wildcard.subscribe("\u0001wildcard", [{ filter: "#", qos: 1, retained: false }], 0);
    wildcard.subscribe("normal", [{ filter: "#", qos: 1, retained: false }], 0);
    wildcard.forwarded("t/news", [{ seq: 1, message: msg("news/today", "m") }]);
    await settle();
    await settle();
    expect(f.got("\u0001wildcard")).toEqual(["m"]);
    expect(f.got("normal")).toEqual(["m"]);
    expect(f.forwards).toEqual([]);
  });
});

describe("TopicShard: a late `gone` (review F21)", () => {
  it("removes only the subscriptions made before the delivery went out, not a reconnected client's fresh one", async () => {
    let now = 100;
    const f = fakePeers();
    f.peers.now = () => now;
    const shard = new TopicShard(new MemoryKv(), "t/a", f.peers);
    shard.wildcard.heard(idle);
    shard.subscribe("c1", [{ filter: "a/b", qos: 1, retained: false }], 0);
    // The session answers `gone`, but the answer is slow: meanwhile the client reconnects with a
    // clean session and subscribes again (a new filter, and the same one again).
    let answer!: (o: DeliveryOutcome) => void;
    f.peers.deliver = (clientId, batch) => {
      f.calls.push({ clientId, batch });
      return new Promise((r) => (answer = r));
    };
    shard.accept([msg("a/b", "before")]);
    await settle();
    now = 200;
    shard.unsubscribe("c1", ["a/b"]); // the clean start dropped the old one...
    shard.subscribe("c1", [{ filter: "a/b", qos: 1, retained: false }], now); // ...and subscribed afresh
    answer({ gone: true });
    await settle();
    expect(shard.stats().subscriptions).toBe(1);
    f.peers.deliver = async (clientId, batch) => {
      f.calls.push({ clientId, batch });
      return { gone: false, declined: [] };
    };
    shard.accept([msg("a/b", "after")]);
    await settle();
    expect(f.got("c1")).toContain("after");
  });
});

describe("TopicShard: phantom subscriptions (review F20)", () => {
  it("a session that holds no filter for a delivered topic has its subscriptions here for it removed", async () => {
    const f = fakePeers();
    const shard = new TopicShard(new MemoryKv(), "t/a", f.peers);
    shard.wildcard.heard(idle);
    shard.subscribe(
      "c1",
      [
        { filter: "a/b", qos: 1, retained: false },
        { filter: "a/+", qos: 1, retained: false },
        { filter: "a/c", qos: 1, retained: false },
      ],
      0,
    );
    // The session's UNSUBSCRIBE of a/b and a/+ never reached this shard (the call failed).
    f.answers.set("c1", () => ({ gone: false, declined: [], unmatched: ["a/b"] }));
    shard.accept([msg("a/b", "m1")]);
    await settle();
    expect(shard.stats().subscriptions).toBe(1);
    expect(f.logs.map((l) => l.counter)).toContain("phantom_subscriptions_removed");
    f.answers.delete("c1");
    shard.accept([msg("a/b", "m2"), msg("a/c", "m3")]);
    await settle();
    expect(f.got("c1")).toEqual(["m1", "m3"]);
  });
});
