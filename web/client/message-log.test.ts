import { describe, expect, it } from "vitest";
import { makePredicate } from "./message-filter.js";
import { type NewMessage, MessageLog, MessageView, messageBytes } from "./message-log.js";

const msg = (topic: string, payload = "x", dir: "in" | "out" = "in"): NewMessage => ({ time: 0, dir, topic, payload: new TextEncoder().encode(payload), qos: 0, retain: false, dup: false });

describe("MessageLog (ring buffer)", () => {
  it("keeps at most maxMessages, dropping the oldest and counting them", () => {
    const log = new MessageLog({ maxMessages: 3, maxBytes: 1 << 20 });
    for (let i = 0; i < 5; i++) log.push(msg(`t/${i}`));
    expect(log.size).toBe(3);
    expect(log.droppedMessages).toBe(2);
    expect([...log.messages()].map((m) => m.topic)).toEqual(["t/2", "t/3", "t/4"]);
    expect(log.get(1)).toBeUndefined();
    expect(log.get(4)?.topic).toBe("t/4");
    expect(log.firstSeq).toBe(2);
  });

  it("keeps at most maxBytes (a message is never cut; one too big is kept alone)", () => {
    const one = messageBytes(msg("a", "y".repeat(1000)));
    const log = new MessageLog({ maxMessages: 100, maxBytes: 2 * one + 10 });
    for (let i = 0; i < 5; i++) log.push(msg("a", "y".repeat(1000)));
    expect(log.size).toBe(2);
    expect(log.bytes).toBe(2 * one);
    expect(log.droppedBytes).toBe(3 * one);
    log.push(msg("a", "z".repeat(5000)));
    expect(log.size).toBe(1);
  });

  it("stays bounded over 250,000 messages", () => {
    const log = new MessageLog({ maxMessages: 100_000, maxBytes: 64 << 20 });
    for (let i = 0; i < 250_000; i++) log.push(msg(`s/${i % 10}`, String(i)));
    expect(log.size).toBe(100_000);
    expect(log.droppedMessages).toBe(150_000);
    expect(log.get(249_999)?.payload).toEqual(new TextEncoder().encode("249999"));
  });

  it("setLimits keeps the newest that fit; clear empties without counting drops", () => {
    const log = new MessageLog({ maxMessages: 10, maxBytes: 1 << 20 });
    for (let i = 0; i < 10; i++) log.push(msg(`t/${i}`));
    log.setLimits({ maxMessages: 4, maxBytes: 1 << 20 });
    expect([...log.messages()].map((m) => m.topic)).toEqual(["t/6", "t/7", "t/8", "t/9"]);
    log.push(msg("t/10"));
    expect(log.size).toBe(4);
    expect(log.droppedMessages).toBe(7);
    log.clear();
    expect(log.size).toBe(0);
    expect(log.bytes).toBe(0);
    expect(log.droppedMessages).toBe(7);
    expect(() => log.setLimits({ maxMessages: 0, maxBytes: 1 << 20 })).toThrow();
  });
});

describe("MessageView", () => {
  it("without a filter: the whole log, newest first", () => {
    const log = new MessageLog({ maxMessages: 5, maxBytes: 1 << 20 });
    const view = new MessageView(log);
    for (let i = 0; i < 7; i++) log.push(msg(`t/${i}`));
    expect(view.sync()).toBe(5); // the 5 still held: rows above what was in view
    expect(view.length).toBe(5);
    expect(view.at(0)?.topic).toBe("t/6");
    expect(view.at(4)?.topic).toBe("t/2");
    expect(view.indexOf(6)).toBe(0);
    expect(view.indexOf(0)).toBe(-1);
  });

  it("with a filter: incremental, forgets what the log dropped", () => {
    const log = new MessageLog({ maxMessages: 6, maxBytes: 1 << 20 });
    const view = new MessageView(log, makePredicate({ topic: "a/+", text: "", dir: "all" }));
    log.push(msg("a/1"));
    log.push(msg("b/1"));
    log.push(msg("a/2"));
    expect(view.sync()).toBe(2);
    expect(view.length).toBe(2);
    for (let i = 0; i < 6; i++) log.push(msg(i % 2 ? "a/x" : "c"));
    expect(view.sync()).toBe(3);
    expect(view.length).toBe(3);
    expect([...view.messages()].map((m) => m.seq)).toEqual([4, 6, 8]);
    expect(view.indexOf(8)).toBe(0);
    expect(view.indexOf(4)).toBe(2);
  });

  it("filters by payload text (case-insensitive) and by direction", () => {
    const log = new MessageLog();
    const view = new MessageView(log);
    log.push(msg("x", "Hello World"));
    log.push(msg("x", "bye", "out"));
    view.setPredicate(makePredicate({ topic: "", text: "hello", dir: "all" }));
    expect(view.length).toBe(1);
    view.setPredicate(makePredicate({ topic: "", text: "", dir: "out" }));
    expect(view.at(0)?.payload).toEqual(new TextEncoder().encode("bye"));
  });
});
