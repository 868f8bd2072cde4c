import { describe, expect, it } from "vitest";
import { backoffDelay } from "./backoff.js";
import { numericValue, Series, shortNumber } from "./chart.js";

const b = (s: string) => new TextEncoder().encode(s);

describe("chart values", () => {
  it("reads numbers from text, JSON and JSON fields", () => {
    expect(numericValue(b(" 21.5 "))).toBe(21.5);
    expect(numericValue(b("-3e2"))).toBe(-300);
    expect(numericValue(b("abc"))).toBeUndefined();
    expect(numericValue(b(""))).toBeUndefined();
    expect(numericValue(b('{"t":{"c":"7"}}'), "t.c")).toBe(7);
    expect(numericValue(b('{"v":[1,2]}'), "v.1")).toBe(2);
    expect(numericValue(b('{"on":true}'), "on")).toBe(1);
    expect(numericValue(b('{"v":"x"}'), "v")).toBeUndefined();
  });

  it("keeps the last points in a ring", () => {
    const s = new Series(3);
    for (let i = 1; i <= 5; i++) s.push(i, i * 10);
    expect(s.length).toBe(3);
    expect(s.point(0)).toEqual([3, 30]);
    expect(s.range()).toEqual({ min: 30, max: 50 });
    expect(s.last()).toBe(50);
    expect(shortNumber(1234567)).toBe("1.2e+6");
    expect(shortNumber(21.456)).toBe("21.46");
  });
});

describe("reconnect backoff", () => {
  it("doubles from 1 s to at most 30 s, with bounded jitter", () => {
    const mid = () => 0.5;
    expect([1, 2, 3, 4, 5, 6, 10].map((n) => backoffDelay(n, undefined, mid))).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000]);
    expect(backoffDelay(1, undefined, () => 0)).toBe(800);
    expect(backoffDelay(1, undefined, () => 1)).toBe(1200);
    expect(backoffDelay(20, undefined, () => 1)).toBe(30000);
  });
});
