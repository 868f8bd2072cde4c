import { describe, expect, it } from "vitest";
import type { Authorizer } from "./authorizer.js";
import { parseAclClaim } from "./jwt-acl-claim.js";

const alice = { clientId: "dev-1", username: "alice" };

function rightsOf(claim: unknown): Authorizer {
  const parsed = parseAclClaim(claim);
  if (typeof parsed === "string") throw new Error(parsed);
  return parsed;
}

describe("parseAclClaim: EMQX allow-lists {pub, sub, all}", () => {
  const acl = rightsOf({ pub: ["out/%u/#"], sub: ["in/+/b", "news/#"], all: ["chat/${clientid}"] });

  it("pub grants publishing only", () => {
    expect(acl.check(alice, "write", "out/alice/x")).toBe(true);
    expect(acl.check(alice, "write", "out/bob/x")).toBe(false);
    expect(acl.check(alice, "read", "out/alice/x")).toBe(false);
    expect(acl.check(alice, "subscribe", "out/alice/#")).toBe(false);
  });

  it("sub grants subscribing inside the filter and receiving what it matches", () => {
    expect(acl.check(alice, "subscribe", "in/a/b")).toBe(true);
    expect(acl.check(alice, "subscribe", "in/+/b")).toBe(true);
    expect(acl.check(alice, "subscribe", "in/#")).toBe(false);
    expect(acl.check(alice, "subscribe", "news/+/today")).toBe(true);
    expect(acl.check(alice, "read", "in/a/b")).toBe(true);
    expect(acl.check(alice, "write", "in/a/b")).toBe(false);
  });

  it("all grants everything; anything not listed is denied", () => {
    for (const access of ["read", "write", "subscribe"] as const) {
      expect(acl.check(alice, access, "chat/dev-1")).toBe(true);
      expect(acl.check(alice, access, "chat/dev-2")).toBe(false);
      expect(acl.check(alice, access, "elsewhere")).toBe(false);
    }
  });

  it("placeholders that cannot be filled in safely make their rule not apply", () => {
    expect(acl.check({ clientId: "#" }, "write", "chat/x")).toBe(false);
    expect(acl.check({ clientId: "c" }, "write", "out/c/x")).toBe(false);
    expect(acl.check({ clientId: "c", username: "+" }, "write", "out/a/x")).toBe(false);
  });

  it("an empty claim allows nothing", () => {
    expect(rightsOf({}).check(alice, "read", "a")).toBe(false);
  });
});

describe("parseAclClaim: EMQX 5.5 rule list", () => {
  const acl = rightsOf([
    { permission: "deny", action: "all", topic: "t/secret" },
    { permission: "allow", action: "publish", topic: "t/${username}/#" },
    { permission: "allow", action: "subscribe", topic: "eq t/1/#" },
    { permission: "allow", action: "all", topic: "t/#" },
  ]);

  it("the first matching rule decides", () => {
    expect(acl.check(alice, "write", "t/secret")).toBe(false);
    expect(acl.check(alice, "read", "t/secret")).toBe(false);
    expect(acl.check(alice, "write", "t/alice/x")).toBe(true);
    expect(acl.check(alice, "write", "t/other")).toBe(true);
  });

  it("eq allows exactly that filter", () => {
    const only = rightsOf([{ permission: "allow", action: "subscribe", topic: "eq t/1/#" }]);
    expect(only.check(alice, "subscribe", "t/1/#")).toBe(true);
    expect(only.check(alice, "subscribe", "t/1/x")).toBe(false);
    // What the allowed subscription brings may be received.
    expect(only.check(alice, "read", "t/1/x")).toBe(true);
    expect(only.check(alice, "write", "t/1/x")).toBe(false);
  });

  it("no matching rule means denied", () => {
    expect(acl.check(alice, "write", "other")).toBe(false);
    expect(rightsOf([]).check(alice, "subscribe", "#")).toBe(false);
  });
});

describe("parseAclClaim: refused claims", () => {
  it.each([
    ["a string", "pub"],
    ["null", null],
    ["unknown keys", { deny: ["a"] }],
    ["a list that is not an array", { pub: "a/b" }],
    ["non-string topics", { sub: [42] }],
    ["invalid filters", { sub: ["a/#/b"] }],
    ["qos conditions", [{ permission: "allow", action: "publish", topic: "a", qos: [1] }]],
    ["retain conditions", [{ permission: "allow", action: "publish", topic: "a", retain: false }]],
    ["a bad permission", [{ permission: "maybe", action: "publish", topic: "a" }]],
    ["a bad action", [{ permission: "allow", action: "read", topic: "a" }]],
    ["a rule that is not an object", ["a/b"]],
  ])("%s", (_what, claim) => {
    expect(typeof parseAclClaim(claim)).toBe("string");
  });
});
