import { describe, expect, it } from "vitest";
import type { Message } from "../protocol/message.js";
import { MemoryKv } from "../storage/memory-kv.js";
import { Outbox } from "./outbox.js";

const msg = (topic: string, qos: 1 | 2 = 1): Message => ({
  topic,
  payload: new TextEncoder().encode(`payload of ${topic}`),
  qos,
  retain: false,
  origin: "pub",
});
const pendingOf = (outbox: Outbox) => [...outbox.pending()].map(({ seq, recipient, message }) => [seq, recipient, message.topic]);

describe("Outbox", () => {
  it("numbers messages from 1 upwards and counts those still pending", () => {
    const outbox = new Outbox(new MemoryKv());
    expect(outbox.size).toBe(0);
    expect(outbox.add(msg("a"), ["c1"])).toBe(1);
    expect(outbox.add(msg("b"), ["c1", "c2"])).toBe(2);
    expect(outbox.size).toBe(2);
  });

  it("keeps a message until every recipient is done with it", () => {
    const kv = new MemoryKv();
    const outbox = new Outbox(kv);
    const seq = outbox.add(msg("a"), ["c1", "c2", "c3"]);
    outbox.done("c1", [seq]);
    outbox.done("c3", [seq]);
    expect(outbox.size).toBe(1);
    expect(pendingOf(outbox)).toEqual([[seq, "c2", "a"]]);
    outbox.done("c2", [seq]);
    expect(outbox.size).toBe(0);
    expect(pendingOf(outbox)).toEqual([]);
    // Only the sequence counter is left in storage.
    expect([...kv.list()].map(([k]) => k)).toEqual(["seq"]);
  });

  it("ignores a repeated or foreign done", () => {
    const outbox = new Outbox(new MemoryKv());
    const seq = outbox.add(msg("a"), ["c1", "c2"]);
    outbox.done("c1", [seq]);
    outbox.done("c1", [seq]);
    outbox.done("stranger", [seq]);
    outbox.done("c2", [seq + 100]);
    expect(outbox.size).toBe(1);
    expect(pendingOf(outbox)).toEqual([[seq, "c2", "a"]]);
  });

  it("recovers pending deliveries in seq order on a new Outbox over the same storage", () => {
    const kv = new MemoryKv();
    const before = new Outbox(kv);
    const seqs: number[] = [];
    for (let i = 0; i < 12; i++) seqs.push(before.add(msg(`m${i}`), i % 2 === 0 ? ["c1", "c2"] : ["c2"]));
    before.done("c2", [seqs[0]!, seqs[5]!]);
    before.done("c1", [seqs[4]!]);

    const after = new Outbox(kv);
    const recovered = [...after.pending()];
    expect(recovered.map((r) => r.seq)).toEqual([...recovered.map((r) => r.seq)].sort((a, b) => a - b));
    expect(recovered.map((r) => [r.seq, r.recipient])).toEqual(
      seqs.flatMap((seq, i) => {
        const out: [number, string][] = [];
        if (i % 2 === 0 && i !== 4) out.push([seq, "c1"]);
        if (i !== 0 && i !== 5) out.push([seq, "c2"]);
        return out;
      }),
    );
    const first = recovered[0]!;
    expect(first.message.topic).toBe("m0");
    expect(new TextDecoder().decode(first.message.payload)).toBe("payload of m0");
    expect(after.size).toBe(11);
  });

  it("continues numbering after a restart instead of reusing seqs", () => {
    const kv = new MemoryKv();
    const before = new Outbox(kv);
    before.add(msg("a"), ["c1"]);
    const last = before.add(msg("b"), ["c1"]);
    before.done("c1", [1, 2]);
    const after = new Outbox(kv);
    expect(after.add(msg("c"), ["c1"])).toBe(last + 1);
  });

  it("after recovery, done removes the message once its last recipient is done", () => {
    const kv = new MemoryKv();
    const seq = new Outbox(kv).add(msg("a"), ["c1", "c2"]);
    const after = new Outbox(kv);
    expect(pendingOf(after)).toEqual([
      [seq, "c1", "a"],
      [seq, "c2", "a"],
    ]);
    after.done("c1", [seq]);
    expect(after.size).toBe(1);
    expect(pendingOf(after)).toEqual([[seq, "c2", "a"]]);
    after.done("c2", [seq]);
    expect(after.size).toBe(0);
    expect([...kv.list({ prefix: "out:" })]).toEqual([]);
  });

  it("handles recipients containing ':' and shared-group keys", () => {
    const kv = new MemoryKv();
    const group = "\u0000$share/g/a";
    const seq = new Outbox(kv).add(msg("a"), ["urn:dev:1", group]);
    const after = new Outbox(kv);
    expect(pendingOf(after)).toEqual([
      [seq, group, "a"],
      [seq, "urn:dev:1", "a"],
    ]);
    after.done(group, [seq]);
    expect(pendingOf(after)).toEqual([[seq, "urn:dev:1", "a"]]);
  });

  it("keeps a message for its other recipients when done() comes first after a restart (regression)", () => {
    const kv = new MemoryKv();
    const seq = new Outbox(kv).add(msg("a"), ["c1", "c2"]);
    const restarted = new Outbox(kv);
    restarted.done("c1", [seq]);
    expect(pendingOf(restarted)).toEqual([[seq, "c2", "a"]]);
    expect(restarted.size).toBe(1);
  });
});
