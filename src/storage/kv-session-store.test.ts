import { describe, expect, it } from "vitest";
import type { Message } from "../protocol/message.js";
import { NEVER_EXPIRES, type OutboundEntry, type SessionRecord, type Will } from "../protocol/session/state.js";
import { KvSessionStore } from "./kv-session-store.js";
import { MemoryKv } from "./memory-kv.js";

const message = (topic: string, bytes: number[] = [1, 2]): Message => ({
  topic,
  payload: Uint8Array.from(bytes),
  qos: 1,
  retain: false,
  origin: "pub",
});
const entry = (seq: number, extra: Partial<OutboundEntry> = {}): OutboundEntry => ({
  seq,
  message: message(`t/${seq}`, [seq & 0xff, 1, 2]),
  qos: 1,
  retain: false,
  state: "queued",
  bytes: 70,
  ...extra,
});
const record = (extra: Partial<SessionRecord> = {}): SessionRecord => ({
  clientId: "c1",
  expiryInterval: NEVER_EXPIRES,
  subscriptions: {},
  ...extra,
});

function setup() {
  const kv = new MemoryKv();
  return { kv, store: new KvSessionStore(kv) };
}

describe("KvSessionStore", () => {
  it("has no session, will, outbound or incoming entries at first", () => {
    const { store } = setup();
    expect(store.readSession()).toBeUndefined();
    expect(store.readWill()).toBeUndefined();
    expect(store.listOutbound()).toEqual([]);
    expect(store.getIncoming(1)).toBeUndefined();
    expect(store.countIncoming()).toBe(0);
    expect(store.readAliases()).toBeUndefined();
  });

  it("writes and reads the session record as a copy", () => {
    const { store } = setup();
    const written = record({ subscriptions: { "a/#": { qos: 1 } } });
    store.writeSession(written);
    written.subscriptions.b = { qos: 0 };
    const read = store.readSession();
    expect(read).toEqual(record({ subscriptions: { "a/#": { qos: 1 } } }));
    read!.subscriptions["a/#"]!.qos = 0;
    expect(store.readSession()?.subscriptions["a/#"]?.qos).toBe(1);
  });

  it("keeps one mark row per shard, apart from the session record (F17: a delivery never rewrites the record)", () => {
    const { store, kv } = setup();
    store.writeSession(record({ subscriptions: { "a/#": { qos: 1 } } }));
    store.writeMark("t/a", { upTo: 4, above: [7] });
    store.writeMark("#", { upTo: 2, above: [] });
    expect(store.readMarks()).toEqual({ "t/a": { upTo: 4, above: [7] }, "#": { upTo: 2, above: [] } });
    store.clear();
    expect(store.readMarks()).toEqual({});
    expect([...kv.list()]).toEqual([]);
  });

  it("lists outbound entries a page at a time", () => {
    const { store } = setup();
    for (let seq = 1; seq <= 5; seq++) store.putOutbound(entry(seq));
    expect(store.listOutbound({ limit: 2 }).map((e) => e.seq)).toEqual([1, 2]);
    expect(store.listOutbound({ after: 2, limit: 2 }).map((e) => e.seq)).toEqual([3, 4]);
    expect(store.listOutbound({ after: 4 }).map((e) => e.seq)).toEqual([5]);
  });

  it("stores the will and deletes it when written as undefined", () => {
    const { store, kv } = setup();
    const will: Will = { message: { ...message("w"), payload: new TextEncoder().encode("bye"), qos: 2, retain: true }, delay: 0 };
    store.writeWill(will);
    const read = store.readWill();
    expect(read?.message).toMatchObject({ topic: "w", qos: 2, retain: true, origin: "pub" });
    expect(new TextDecoder().decode(read!.message.payload)).toBe("bye");
    store.writeWill(undefined);
    expect(store.readWill()).toBeUndefined();
    expect([...kv.list()]).toEqual([]);
  });

  it("lists outbound entries in sequence order, past 10 and 100", () => {
    const { store } = setup();
    const seqs = [100, 2, 11, 1, 10, 9, 101, 1000, 99, 12345678];
    for (const seq of seqs) store.putOutbound(entry(seq));
    const listed = store.listOutbound();
    expect(listed.map((e) => e.seq)).toEqual([...seqs].sort((a, b) => a - b));
    expect(listed[0]).toEqual(entry(1));
    expect(listed[0]!.message.payload).toBeInstanceOf(Uint8Array);
  });

  it("replaces an outbound entry with the same seq and deletes by seq", () => {
    const { store } = setup();
    store.putOutbound(entry(1));
    store.putOutbound(entry(2));
    store.putOutbound(entry(1, { state: "sent", packetId: 7 }));
    expect(store.listOutbound()).toEqual([entry(1, { state: "sent", packetId: 7 }), entry(2)]);
    store.deleteOutbound(1);
    expect(store.listOutbound().map((e) => e.seq)).toEqual([2]);
    store.deleteOutbound(42);
    expect(store.listOutbound().map((e) => e.seq)).toEqual([2]);
  });

  it("keeps incoming QoS 2 receipts by packet id and counts them", () => {
    const { store } = setup();
    const msg = message("a");
    store.putIncoming({ packetId: 1, routed: false, message: msg });
    store.putIncoming({ packetId: 65535, routed: true });
    expect(store.countIncoming()).toBe(2);
    expect(store.getIncoming(1)).toEqual({ packetId: 1, routed: false, message: msg });
    expect(store.getIncoming(65535)).toEqual({ packetId: 65535, routed: true });
    expect(store.getIncoming(2)).toBeUndefined();
    store.putIncoming({ packetId: 1, routed: true });
    expect(store.getIncoming(1)).toEqual({ packetId: 1, routed: true });
    expect(store.countIncoming()).toBe(2);
    store.deleteIncoming(1);
    expect(store.getIncoming(1)).toBeUndefined();
    expect(store.getIncoming(65535)).toBeDefined();
    expect(store.countIncoming()).toBe(1);
  });

  it("keeps outbound and incoming entries apart", () => {
    const { store } = setup();
    store.putIncoming({ packetId: 3, routed: true });
    store.putOutbound(entry(3));
    expect(store.listOutbound()).toEqual([entry(3)]);
    expect(store.countIncoming()).toBe(1);
    store.deleteOutbound(3);
    expect(store.getIncoming(3)).toEqual({ packetId: 3, routed: true });
  });

  it("stores topic aliases and deletes them when written as undefined", () => {
    const { store } = setup();
    store.writeAliases({ inbound: { 1: "a/b" }, outbound: { "c/d": 2 } });
    expect(store.readAliases()).toEqual({ inbound: { 1: "a/b" }, outbound: { "c/d": 2 } });
    store.writeAliases(undefined);
    expect(store.readAliases()).toBeUndefined();
  });

  it("clear() removes everything the session stored", () => {
    const { store, kv } = setup();
    store.writeSession(record());
    store.writeWill({ message: message("w"), delay: 5 });
    store.writeAliases({ inbound: { 1: "x" }, outbound: {} });
    for (let seq = 1; seq <= 120; seq++) store.putOutbound(entry(seq));
    for (let id = 1; id <= 15; id++) store.putIncoming({ packetId: id, routed: false });
    store.clear();
    expect([...kv.list()]).toEqual([]);
    expect(store.readSession()).toBeUndefined();
    expect(store.readWill()).toBeUndefined();
    expect(store.readAliases()).toBeUndefined();
    expect(store.listOutbound()).toEqual([]);
    expect(store.countIncoming()).toBe(0);
  });

  it("state written by one store is read by another on the same storage", () => {
    const kv = new MemoryKv();
    new KvSessionStore(kv).putOutbound(entry(5));
    expect(new KvSessionStore(kv).listOutbound()).toEqual([entry(5)]);
  });
});

describe("clear (review F22)", () => {
  it("leaves nothing of the session behind: counters and the muted list too", () => {
    const kv = new MemoryKv();
    const store = new KvSessionStore(kv);
    kv.put("stats", { dropped_queue_full: 3 });
    store.writeMuted(["t/a"]);
    store.writeSession({ clientId: "c", expiryInterval: 0, subscriptions: {} });
    store.clear();
    expect([...kv.list()]).toEqual([]);
  });
});
