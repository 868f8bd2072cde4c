/** Joining whole packets into one frame: a view when they are neighbours, a copy otherwise. */
import { describe, expect, it } from "vitest";
import { joinPackets } from "./join.js";

describe("joinPackets", () => {
  it("returns a view over neighbouring packets of one buffer, without copying", () => {
    const chunk = Uint8Array.of(1, 2, 3, 4, 5, 6);
    const joined = joinPackets([chunk.subarray(1, 3), chunk.subarray(3, 5)]);
    expect([...joined]).toEqual([2, 3, 4, 5]);
    expect(joined.buffer).toBe(chunk.buffer);
  });

  it("copies packets that are not neighbours, in order", () => {
    const chunk = Uint8Array.of(1, 2, 3, 4, 5, 6);
    const joined = joinPackets([chunk.subarray(0, 2), chunk.subarray(4, 6), Uint8Array.of(9)]);
    expect([...joined]).toEqual([1, 2, 5, 6, 9]);
    expect(joined.buffer).not.toBe(chunk.buffer);
  });

  it("passes one packet through and joins none into an empty frame", () => {
    const one = Uint8Array.of(0xc0, 0x00);
    expect(joinPackets([one])).toBe(one);
    expect(joinPackets([]).length).toBe(0);
  });
});
