import { describe, expect, it } from "vitest";
import { allOf, allowEverything, allRightsOf, authorizerFrom, everythingAllowed, type TopicRights } from "./authorizer.js";

const only = (topic: string): TopicRights => ({ check: (_access, t) => t === topic });

describe("combining rights", () => {
  it("allRightsOf allows only what every part allows; no parts allow everything", () => {
    const both = allRightsOf([only("a"), { check: (access) => access === "read" }]);
    expect(both.check("read", "a")).toBe(true);
    expect(both.check("write", "a")).toBe(false);
    expect(both.check("read", "b")).toBe(false);
    expect(allRightsOf([])).toBe(everythingAllowed);
  });

  it("allOf combines authorizers per client", () => {
    const byUser = authorizerFrom((identity) => only(`u/${identity.username ?? "-"}`));
    const combined = allOf([byUser, allowEverything]);
    expect(combined.check({ clientId: "c", username: "x" }, "write", "u/x")).toBe(true);
    expect(combined.check({ clientId: "c", username: "x" }, "write", "u/y")).toBe(false);
    expect(combined.forClient({ clientId: "c" }).check("read", "u/-")).toBe(true);
  });
});
