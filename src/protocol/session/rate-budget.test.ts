import { describe, expect, it } from "vitest";
import { RateBudget } from "./rate-budget.js";

describe("RateBudget", () => {
  it("allows a burst of two seconds' worth, then refills at the rate", () => {
    const b = new RateBudget(1000, 0);
    expect(b.take(1500, 0)).toBe(true);
    expect(b.take(600, 0)).toBe(false);
    expect(b.take(500, 0)).toBe(true);
    expect(b.take(1, 0)).toBe(false);
    expect(b.take(100, 100)).toBe(true);
    expect(b.take(1, 100)).toBe(false);
  });

  it("never holds more than its capacity, however long it was idle", () => {
    const b = new RateBudget(1000, 0);
    expect(b.take(2000, 3_600_000)).toBe(true);
    expect(b.take(1, 3_600_000)).toBe(false);
  });

  it("retained messages are charged even into debt, and say how long until it is paid", () => {
    const b = new RateBudget(1000, 0);
    b.charge(3000, 0);
    expect(b.debtMs(0)).toBe(1000);
    expect(b.take(1, 500)).toBe(false);
    expect(b.debtMs(1000)).toBe(0);
    expect(b.take(100, 1100)).toBe(true);
  });

  it("refuses a message larger than the whole capacity without spending anything", () => {
    const b = new RateBudget(1000, 0);
    expect(b.take(5000, 0)).toBe(false);
    expect(b.take(2000, 0)).toBe(true);
  });
});
