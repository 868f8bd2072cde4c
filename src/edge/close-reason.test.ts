import { describe, expect, it } from "vitest";
import { closeReason, MAX_CLOSE_REASON_BYTES } from "./close-reason.js";

const utf8 = (s: string) => new TextEncoder().encode(s).length;

describe("closeReason (F12)", () => {
  it("keeps a short reason", () => {
    expect(closeReason("keepalive expired")).toBe("keepalive expired");
  });

  it("cuts to 123 UTF-8 bytes at a character boundary, whatever the characters", () => {
    for (const ch of ["a", "é", "€", "😀"]) {
      const cut = closeReason(`invalid topic ${ch.repeat(200)}`);
      expect(utf8(cut)).toBeLessThanOrEqual(MAX_CLOSE_REASON_BYTES);
      expect(utf8(cut)).toBeGreaterThan(MAX_CLOSE_REASON_BYTES - 4);
      expect(cut).not.toContain("\uFFFD");
    }
  });
});
