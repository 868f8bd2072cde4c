import { describe, expect, it } from "vitest";
import { allowConnect, hostOf, isExempt } from "./connect-rate.js";

describe("connection attempts per address", () => {
  it("keys on the host, without the port", () => {
    expect(hostOf("203.0.113.7:51000")).toBe("203.0.113.7");
    expect(hostOf("[2001:db8::1]:51000")).toBe("2001:db8::1");
    expect(hostOf("2001:db8::1")).toBe("2001:db8::1");
    expect(hostOf("203.0.113.7")).toBe("203.0.113.7");
  });

  it("does not limit loopback or unknown addresses", () => {
    for (const host of ["127.0.0.1", "::1", "unknown"]) expect(isExempt(host)).toBe(true);
    expect(isExempt("203.0.113.7")).toBe(false);
  });

  it("asks the limiter with the host as key", async () => {
    const keys: string[] = [];
    const limiter = {
      limit: async ({ key }: { key: string }) => {
        keys.push(key);
        return { success: keys.length <= 1 };
      },
    };
    expect(await allowConnect(limiter, "203.0.113.7:1")).toBe(true);
    expect(await allowConnect(limiter, "203.0.113.7:2")).toBe(false);
    expect(await allowConnect(limiter, "127.0.0.1:3")).toBe(true);
    expect(await allowConnect(undefined, "203.0.113.7:4")).toBe(true);
    expect(keys).toEqual(["203.0.113.7", "203.0.113.7"]);
  });
});
