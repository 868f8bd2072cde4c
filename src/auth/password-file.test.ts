import { createHash, pbkdf2Sync, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, expect, it, vi } from "vitest";
import { AuthFileError } from "./auth-file-error.js";
import { MAX_PBKDF2_ITERATIONS, parsePasswordFile } from "./password-file.js";
import { verifyPassword } from "./password-verify.js";

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
const mosquittoFile = readFileSync(new URL("./fixtures/mosquitto-2.0.11.passwd", import.meta.url), "utf8");

/** A `$7$` line as mosquitto writes it, computed independently with node:crypto. */
function pbkdf2Line(user: string, password: Uint8Array, iterations: number, saltBytes: number): string {
  const salt = randomBytes(saltBytes);
  const hash = pbkdf2Sync(password, salt, iterations, 64, "sha512");
  return `${user}:$7$${iterations}$${salt.toString("base64")}$${hash.toString("base64")}`;
}

function sha512Line(user: string, password: string): string {
  const salt = randomBytes(12);
  const hash = createHash("sha512").update(password).update(salt).digest();
  return `${user}:$6$${salt.toString("base64")}$${hash.toString("base64")}`;
}

function problemsOf(text: string): readonly string[] {
  try {
    parsePasswordFile(text);
  } catch (error) {
    if (error instanceof AuthFileError) return error.problems;
    throw error;
  }
  throw new Error("expected the file to be refused");
}

describe("password file written by mosquitto_passwd 2.0.11", () => {
  const file = parsePasswordFile(mosquittoFile);

  it("reads every user", () => {
    expect([...file.users.keys()]).toEqual(["alice", "bob", "carol", "dave"]);
    expect(file.users.get("alice")).toMatchObject({ kind: "pbkdf2-sha512", iterations: 101 });
    expect(file.users.get("alice")!.salt.length).toBe(12);
    expect(file.users.get("carol")).toMatchObject({ kind: "sha512" });
  });

  it("accepts the right passwords ($7$ and $6$, UTF-8, colons inside)", async () => {
    expect(await verifyPassword(file, "alice", utf8("correct horse"))).toBe(true);
    expect(await verifyPassword(file, "bob", utf8("s3cr3t:with:colons"))).toBe(true);
    expect(await verifyPassword(file, "carol", utf8("legacy-1.x"))).toBe(true);
    expect(await verifyPassword(file, "dave", utf8("ünïcödé pässwörd"))).toBe(true);
  });

  it("refuses wrong passwords, another user's password and empty passwords", async () => {
    expect(await verifyPassword(file, "alice", utf8("correct horse "))).toBe(false);
    expect(await verifyPassword(file, "alice", utf8("Correct horse"))).toBe(false);
    expect(await verifyPassword(file, "alice", utf8("legacy-1.x"))).toBe(false);
    expect(await verifyPassword(file, "carol", utf8("legacy-1.X"))).toBe(false);
    expect(await verifyPassword(file, "alice", new Uint8Array(0))).toBe(false);
  });

  it("refuses unknown users after hashing like for a known one", async () => {
    const deriveBits = vi.spyOn(crypto.subtle, "deriveBits");
    try {
      expect(await verifyPassword(file, "mallory", utf8("correct horse"))).toBe(false);
      expect(deriveBits).toHaveBeenCalledTimes(1);
      expect(deriveBits.mock.calls[0]![0]).toMatchObject({ name: "PBKDF2", iterations: 101 });
    } finally {
      deriveBits.mockRestore();
    }
    // Usernames are exact: no case folding, no trimming at check time.
    expect(await verifyPassword(file, "Alice", utf8("correct horse"))).toBe(false);
  });
});

describe("parsePasswordFile", () => {
  it("accepts mosquitto 2.1 entries: 1000 iterations and a 64-byte salt, or any other count", async () => {
    const text = [pbkdf2Line("new", utf8("pw-2.1"), 1000, 64), pbkdf2Line("hardened", utf8("pw-hard"), 50_000, 16), sha512Line("old", "pw-1.x")].join("\n");
    const file = parsePasswordFile(text);
    expect(file.users.get("new")).toMatchObject({ iterations: 1000 });
    expect(await verifyPassword(file, "new", utf8("pw-2.1"))).toBe(true);
    expect(await verifyPassword(file, "hardened", utf8("pw-hard"))).toBe(true);
    expect(await verifyPassword(file, "old", utf8("pw-1.x"))).toBe(true);
    expect(await verifyPassword(file, "new", utf8("pw-hard"))).toBe(false);
  });

  it("treats passwords as bytes: binary passwords with NUL and invalid UTF-8 work", async () => {
    const password = new Uint8Array([0, 1, 2, 0xff, 0xfe, 0]);
    const file = parsePasswordFile(pbkdf2Line("device", password, 1000, 12));
    expect(await verifyPassword(file, "device", password)).toBe(true);
    expect(await verifyPassword(file, "device", password.subarray(1))).toBe(false);
    expect(await verifyPassword(file, "device", new Uint8Array([0, 1, 3, 0xff, 0xfe, 0]))).toBe(false);
  });

  it("skips blank lines and comments, trims blanks and CRLF line ends", async () => {
    const text = `# users\r\n\r\n   \r\n  ${pbkdf2Line("alice", utf8("pw"), 1000, 12)}  \r\n\t# indented comment\r\n`;
    const file = parsePasswordFile(text);
    expect([...file.users.keys()]).toEqual(["alice"]);
    expect(await verifyPassword(file, "alice", utf8("pw"))).toBe(true);
  });

  it("an empty file has no users and still hashes for unknown ones", async () => {
    const file = parsePasswordFile("# nobody yet\n");
    expect(file.users.size).toBe(0);
    expect(file.dummy).toMatchObject({ kind: "pbkdf2-sha512", iterations: 1000 });
    expect(await verifyPassword(file, "anyone", utf8(""))).toBe(false);
  });

  it("the dummy entry costs what most users cost", () => {
    const text = [pbkdf2Line("a", utf8("x"), 2000, 12), pbkdf2Line("b", utf8("x"), 2000, 12), pbkdf2Line("c", utf8("x"), 1000, 12)].join("\n");
    expect(parsePasswordFile(text).dummy).toMatchObject({ kind: "pbkdf2-sha512", iterations: 2000 });
    expect(parsePasswordFile(sha512Line("a", "x")).dummy).toMatchObject({ kind: "sha512" });
  });

  it("lists every malformed line by number and never quotes a hash", () => {
    const good = pbkdf2Line("alice", utf8("pw"), 1000, 12);
    const hash = good.slice(good.indexOf(":") + 1);
    const text = [
      "# comment", // 1
      good, // 2
      "no colon here", // 3
      `:${hash}`, // 4
      `alice:${hash}`, // 5: duplicate
      "plain:secret", // 6
      "short7:$7$1000$c2FsdA==", // 7
      "nan:$7$many$c2FsdA==$aGFzaA==", // 8
      `toomany:$7$${MAX_PBKDF2_ITERATIONS + 1}$c2FsdA==$${hash.split("$")[4]}`, // 9
      "zero:$7$0$c2FsdA==$aGFzaA==", // 10
      "badsalt:$7$1000$!!!$aGFzaA==", // 11
      "shorthash:$7$1000$c2FsdA==$aGFzaA==", // 12
      "old:$6$c2FsdA==", // 13
      "argon:$argon2id$v=19$m=47104,t=1,p=1$c2FsdA$aGFzaA", // 14
    ].join("\n");
    const problems = problemsOf(text);
    expect(problems.map((p) => p.split(":")[0])).toEqual(["line 3", "line 4", "line 5", "line 6", "line 7", "line 8", "line 9", "line 10", "line 11", "line 12", "line 13", "line 14"]);
    expect(problems[2]).toContain("already defined on line 2");
    expect(problems[3]).toContain("plain-text passwords are not accepted");
    expect(problems[11]).toContain("argon2id");
    const message = problems.join("\n");
    expect(message).not.toContain(hash.split("$")[4]!);
    expect(message).not.toContain("secret");
    expect(message).not.toContain("aGFzaA");
  });

  it("names the setting in the error", () => {
    expect(() => parsePasswordFile("x")).toThrow(/^PASSWORD_FILE: line 1: /);
    expect(() => parsePasswordFile("x", "OTHER")).toThrow(/^OTHER: line 1/);
  });
});
