/**
 * Recipient keys: one prefix per kind, so no client id can be taken for a shared group or for
 * the wildcard shard (review F1), and every key parses back to what it was made from.
 */
import { describe, expect, it } from "vitest";
import { client, describe as describeRecipient, group, parseRecipient, recipientKey, WILDCARD } from "./recipient.js";

describe("recipient keys (F1)", () => {
  it("prefixes each kind", () => {
    expect(recipientKey(client("c1"))).toBe("c:c1");
    expect(recipientKey(group("$share/g/a"))).toBe("g:$share/g/a");
    expect(recipientKey(WILDCARD)).toBe("w:");
  });

  it.each(["\u0001wildcard", "w:", "g:x", "c:", "", "\u0000x", "a/b"])("client id %j stays a client through its key", (id) => {
    const key = recipientKey(client(id));
    expect(key).not.toBe(recipientKey(WILDCARD));
    expect(key.startsWith("c:")).toBe(true);
    expect(parseRecipient(key)).toEqual(client(id));
  });

  it("groups and the wildcard shard parse back", () => {
    expect(parseRecipient(recipientKey(group("$share/g/#")))).toEqual(group("$share/g/#"));
    expect(parseRecipient("w:")).toEqual(WILDCARD);
  });

  it("refuses a key of no known kind", () => {
    expect(() => parseRecipient("\u0001wildcard")).toThrow(/not a recipient key/);
    expect(() => parseRecipient("x")).toThrow();
  });

  it("describes recipients for logs", () => {
    expect(describeRecipient(client("c1"))).toBe("c1");
    expect(describeRecipient(group("$share/g/a"))).toBe("group $share/g/a");
    expect(describeRecipient(WILDCARD)).toBe("the wildcard shard");
  });
});
