import { describe, expect, it } from "vitest";
import { describeReason, isFailure, reasonText, retryAfterRefusal } from "./reason-codes.js";

describe("reason codes in words", () => {
  it("MQTT 5 codes, with 0x00 by packet", () => {
    expect(describeReason(0x87, "suback", 5)).toBe("0x87 Not authorized: the ACL does not let this client subscribe to this filter");
    expect(describeReason(0x86, "connack", 5)).toMatch(/^0x86 Bad User Name or Password: check/);
    expect(reasonText(0, "disconnect", 5)).toBe("Normal disconnection");
    expect(reasonText(0, "suback", 5)).toBe("Granted QoS 0");
    expect(reasonText(0x8e, "disconnect", 5)).toBe("Session taken over");
    expect(reasonText(0xa2, "suback", 5)).toBe("Wildcard Subscriptions not supported");
    expect(reasonText(0x42, "connack", 5)).toBe("unknown reason code");
  });

  it("MQTT 3.1.1 CONNACK return codes and SUBACK failure", () => {
    expect(describeReason(5, "connack", 4)).toMatch(/^0x05 Not authorized: /);
    expect(reasonText(4, "connack", 4)).toBe("Bad user name or password");
    expect(describeReason(0x80, "suback", 4)).toBe("0x80 Failure: refused (MQTT 3.1.1 gives no reason: usually the ACL)");
    expect(reasonText(1, "suback", 4)).toBe("Granted QoS 1");
    expect(isFailure(0x80)).toBe(true);
    expect(isFailure(2)).toBe(false);
  });

  it("retries only refusals that are not the user's to fix", () => {
    expect(retryAfterRefusal(0x88, "connack", 5)).toBe(true);
    expect(retryAfterRefusal(0x86, "connack", 5)).toBe(false);
    expect(retryAfterRefusal(3, "connack", 4)).toBe(true);
    expect(retryAfterRefusal(5, "connack", 4)).toBe(false);
    expect(retryAfterRefusal(0x8e, "disconnect", 5)).toBe(false);
    expect(retryAfterRefusal(0x8b, "disconnect", 5)).toBe(true);
  });
});
