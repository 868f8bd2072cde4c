import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseAclFile } from "./acl-file.js";
import { AuthFileError } from "./auth-file-error.js";
import type { Identity } from "./authorizer.js";

const anonymous: Identity = { clientId: "anon-1" };
const alice: Identity = { clientId: "alice-phone", username: "alice" };
const bob: Identity = { clientId: "bob-laptop", username: "bob" };

function problemsOf(text: string): readonly string[] {
  try {
    parseAclFile(text);
  } catch (error) {
    if (error instanceof AuthFileError) return error.problems;
    throw error;
  }
  throw new Error("expected the file to be refused");
}

describe("parseAclFile: topic rules", () => {
  const acl = parseAclFile(`
# anonymous clients
topic read public/#

user alice
topic readwrite alice/#
topic read shared/+/news
topic write inbox/bob
topic alice-default
topic deny alice/secret

user bob
topic read  shared/#
`);

  it("read, write and readwrite apply as written; readwrite is the default", () => {
    expect(acl.check(alice, "write", "alice/notes")).toBe(true);
    expect(acl.check(alice, "read", "alice/notes")).toBe(true);
    expect(acl.check(alice, "read", "shared/x/news")).toBe(true);
    expect(acl.check(alice, "write", "shared/x/news")).toBe(false);
    expect(acl.check(alice, "write", "inbox/bob")).toBe(true);
    expect(acl.check(alice, "read", "inbox/bob")).toBe(false);
    expect(acl.check(alice, "read", "alice-default")).toBe(true);
    expect(acl.check(alice, "write", "alice-default")).toBe(true);
  });

  it("deny wins over a broader allow, whatever the order of the lines", () => {
    expect(acl.check(alice, "read", "alice/secret")).toBe(false);
    expect(acl.check(alice, "write", "alice/secret")).toBe(false);
    expect(acl.check(alice, "subscribe", "alice/secret")).toBe(false);
    expect(acl.check(alice, "read", "alice/secret/deeper")).toBe(true);
  });

  it("no matching rule means denied", () => {
    expect(acl.check(alice, "read", "elsewhere")).toBe(false);
    expect(acl.check(alice, "read", "public/news")).toBe(false); // anonymous rules are not alice's
    expect(acl.check(bob, "write", "shared/a")).toBe(false);
  });

  it("rules before any user line are for clients without a username only", () => {
    expect(acl.check(anonymous, "read", "public/news")).toBe(true);
    expect(acl.check(anonymous, "write", "public/news")).toBe(false);
    expect(acl.check(anonymous, "read", "alice/notes")).toBe(false);
    // A username without a section gets nothing (there are no patterns here).
    expect(acl.check({ clientId: "c", username: "carol" }, "read", "public/news")).toBe(false);
  });

  it("subscribe needs a read rule that covers the whole filter", () => {
    expect(acl.check(alice, "subscribe", "alice/+/c")).toBe(true);
    expect(acl.check(alice, "subscribe", "alice/#")).toBe(true);
    expect(acl.check(alice, "subscribe", "shared/+/news")).toBe(true);
    expect(acl.check(alice, "subscribe", "shared/#")).toBe(false);
    expect(acl.check(alice, "subscribe", "inbox/bob")).toBe(false); // write-only
    expect(acl.check(bob, "subscribe", "shared/a/#")).toBe(true);
    expect(acl.check(bob, "subscribe", "#")).toBe(false);
  });

  it("a subscription that only overlaps a deny rule is allowed; delivery is checked per topic", () => {
    expect(acl.check(alice, "subscribe", "alice/+")).toBe(true);
    expect(acl.check(alice, "read", "alice/secret")).toBe(false);
  });

  it("forClient gives the same answers as check", () => {
    const rights = acl.forClient(alice);
    for (const [access, topic] of [
      ["read", "alice/x"],
      ["write", "shared/a/news"],
      ["subscribe", "alice/#"],
      ["read", "alice/secret"],
    ] as const) {
      expect(rights.check(access, topic)).toBe(acl.check(alice, access, topic));
    }
  });
});

describe("parseAclFile: patterns", () => {
  const acl = parseAclFile(`
pattern readwrite users/%u/#
pattern read devices/%c/config
pattern write devices/%c/state
pattern deny users/%u/locked
pattern read broadcast/#
user alice
topic read users/bob/profile
`);

  it("substitute the username and client id of each client", () => {
    expect(acl.check(bob, "write", "users/bob/x")).toBe(true);
    expect(acl.check(bob, "write", "users/alice/x")).toBe(false);
    expect(acl.check(bob, "read", "devices/bob-laptop/config")).toBe(true);
    expect(acl.check(bob, "write", "devices/bob-laptop/config")).toBe(false);
    expect(acl.check(bob, "write", "devices/bob-laptop/state")).toBe(true);
    expect(acl.check(bob, "write", "devices/alice-phone/state")).toBe(false);
    expect(acl.check(bob, "subscribe", "users/bob/+/x")).toBe(true);
    expect(acl.check(bob, "subscribe", "users/+/x")).toBe(false);
  });

  it("apply to every client, on top of its own section", () => {
    expect(acl.check(alice, "read", "users/bob/profile")).toBe(true);
    expect(acl.check(alice, "write", "users/alice/x")).toBe(true);
    expect(acl.check(anonymous, "read", "broadcast/now")).toBe(true);
    expect(acl.check(anonymous, "read", "devices/anon-1/config")).toBe(true);
  });

  it("%u patterns do not apply to clients without a username", () => {
    expect(acl.check(anonymous, "write", "users/anon-1/x")).toBe(false);
  });

  it("a deny pattern wins over an allow in the user's section", () => {
    expect(acl.check(bob, "read", "users/bob/locked")).toBe(false);
    const withSectionAllow = parseAclFile("pattern deny users/%u/locked\nuser bob\ntopic read users/bob/#\n");
    expect(withSectionAllow.check(bob, "read", "users/bob/open")).toBe(true);
    expect(withSectionAllow.check(bob, "read", "users/bob/locked")).toBe(false);
  });

  it("a username or client id with '+', '#' or '/' never widens a pattern", () => {
    const sneaky = [
      { clientId: "c", username: "#" },
      { clientId: "c", username: "+" },
      { clientId: "c", username: "bob/x" },
    ];
    for (const identity of sneaky) {
      expect(acl.check(identity, "read", "users/bob/x")).toBe(false);
      expect(acl.check(identity, "subscribe", "users/#")).toBe(false);
      // Patterns without placeholders still apply.
      expect(acl.check(identity, "read", "broadcast/now")).toBe(true);
    }
    expect(acl.check({ clientId: "#" }, "read", "devices/x/config")).toBe(false);
    expect(acl.check({ clientId: "a/b" }, "read", "devices/a/b/config")).toBe(false);
    expect(acl.check({ clientId: "+" }, "subscribe", "devices/+/config")).toBe(false);
  });
});

describe("parseAclFile: details of the format", () => {
  it("everything after the access word is the filter, spaces included", () => {
    const acl = parseAclFile("topic read  with space/x  \ntopic write a b c\n");
    expect(acl.check(anonymous, "read", "with space/x")).toBe(true);
    expect(acl.check(anonymous, "write", "a b c")).toBe(true);
  });

  it("a single word after topic is the filter, with readwrite (as in mosquitto)", () => {
    const acl = parseAclFile("topic read\n");
    expect(acl.check(anonymous, "write", "read")).toBe(true);
  });

  it("user names may contain spaces; repeated sections add up; CRLF is fine", () => {
    const acl = parseAclFile("user Jane Doe\r\ntopic a\r\nuser bob\r\ntopic b\r\nuser Jane Doe\r\ntopic c\r\n");
    const jane = { clientId: "j", username: "Jane Doe" };
    expect(acl.check(jane, "read", "a")).toBe(true);
    expect(acl.check(jane, "read", "c")).toBe(true);
    expect(acl.check(jane, "read", "b")).toBe(false);
  });

  it("'#' rules do not reach '$' topics", () => {
    const acl = parseAclFile("topic #\ntopic read $SYS/broker/#\n");
    expect(acl.check(anonymous, "read", "$SYS/broker/uptime")).toBe(true);
    expect(acl.check(anonymous, "read", "$SYS/other")).toBe(false);
    expect(acl.check(anonymous, "subscribe", "$SYS/#")).toBe(false);
    expect(acl.check(anonymous, "subscribe", "#")).toBe(true);
  });

  it("an ACL without rules denies everything", () => {
    const acl = parseAclFile("# nothing yet\n\n");
    expect(acl.check(anonymous, "read", "a")).toBe(false);
    expect(acl.check(alice, "subscribe", "#")).toBe(false);
  });

  it("lists every malformed line by number", () => {
    const problems = problemsOf(
      [
        "topic read a/#", // 1 fine
        "topics read a", // 2
        "topic subscribe a/b", // 3: mosquitto's acl_file has no subscribe access
        "topic read a/#/b", // 4
        "pattern write a+", // 5
        "user", // 6
        "topic", // 7
        "  # indented comment is fine", // 8
        "pattern", // 9
      ].join("\n"),
    );
    expect(problems).toEqual([
      'line 2: unknown keyword "topics" (expected topic, pattern or user)',
      'line 3: topic: unknown access "subscribe" (expected read, write, readwrite or deny)',
      'line 4: topic: invalid topic filter "a/#/b"',
      'line 5: pattern: invalid topic filter "a+"',
      "line 6: user needs a username",
      "line 7: topic: needs a topic filter",
      "line 9: pattern: needs a topic filter",
    ]);
    expect(() => parseAclFile("bogus")).toThrow(/^ACL_FILE: line 1: /);
  });

  it("hundreds of users and patterns stay exact", () => {
    const lines: string[] = [];
    for (let i = 0; i < 300; i++) lines.push(`user u${i}`, `topic readwrite u${i}/#`, `topic deny u${i}/private`);
    for (let i = 0; i < 100; i++) lines.push(`pattern read p${i}/%u/#`);
    const acl = parseAclFile(lines.join("\n"));
    const u42 = acl.forClient({ clientId: "c", username: "u42" });
    expect(u42.check("write", "u42/a")).toBe(true);
    expect(u42.check("write", "u41/a")).toBe(false);
    expect(u42.check("write", "u42/private")).toBe(false);
    expect(u42.check("read", "p99/u42/x")).toBe(true);
    expect(u42.check("read", "p99/u41/x")).toBe(false);
  });
});

describe("the conformance suite's ACL (fixtures/conformance.acl)", () => {
  const acl = parseAclFile(readFileSync(new URL("./fixtures/conformance.acl", import.meta.url), "utf8"));
  const clients: Identity[] = [{ clientId: "myclientid" }, { clientId: "myclientid2", username: "myusername" }];

  for (const client of clients) {
    describe(client.username === undefined ? "anonymous client" : "client with a username", () => {
      const rights = acl.forClient(client);

      it("may publish, subscribe and receive anywhere else", () => {
        for (const topic of ["TopicA", "TopicA/B", "Topic/C", "test/other", "/TopicA"]) {
          expect(rights.check("write", topic)).toBe(true);
          expect(rights.check("read", topic)).toBe(true);
          expect(rights.check("subscribe", topic)).toBe(true);
        }
        for (const filter of ["#", "TopicA/+", "+/+", "test/#"]) expect(rights.check("subscribe", filter)).toBe(true);
      });

      it("may not subscribe to, receive or publish on test/nosubscribe", () => {
        expect(rights.check("subscribe", "test/nosubscribe")).toBe(false);
        expect(rights.check("read", "test/nosubscribe")).toBe(false);
        expect(rights.check("write", "test/nosubscribe")).toBe(false);
      });
    });
  }
});
