import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { parsePasswordFile } from "./password-file.js";
import { verifyPassword } from "./password-verify.js";

const run = promisify(execFile);
const script = fileURLToPath(new URL("../../scripts/passwd.mjs", import.meta.url));
const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

async function passwd(args: string[], stdin?: string): Promise<{ stdout: string; stderr: string }> {
  const child = run(process.execPath, [script, ...args]);
  child.child.stdin?.end(stdin ?? "");
  return child;
}

describe("scripts/passwd.mjs", () => {
  it("prints a mosquitto 2.1-style $7$ line that verifyPassword accepts", async () => {
    const { stdout } = await passwd(["alice", "--password", "wonder land"]);
    expect(stdout).toMatch(/^alice:\$7\$1000\$[A-Za-z0-9+/]{16}\$[A-Za-z0-9+/]{86}==\n$/);
    const file = parsePasswordFile(stdout);
    expect(file.users.get("alice")).toMatchObject({ kind: "pbkdf2-sha512", iterations: 1000 });
    expect(file.users.get("alice")!.salt.length).toBe(12);
    expect(await verifyPassword(file, "alice", utf8("wonder land"))).toBe(true);
    expect(await verifyPassword(file, "alice", utf8("wonderland"))).toBe(false);
  });

  it("reads the password from stdin when it is not a terminal, and takes --iterations", async () => {
    const { stdout } = await passwd(["bob", "--iterations", "4096"], "from stdin\n");
    const file = parsePasswordFile(stdout);
    expect(file.users.get("bob")).toMatchObject({ iterations: 4096 });
    expect(await verifyPassword(file, "bob", utf8("from stdin"))).toBe(true);
  });

  it("uses a fresh salt every time", async () => {
    const [a, b] = await Promise.all([passwd(["u", "--password", "p"]), passwd(["u", "--password", "p"])]);
    expect(a.stdout).not.toBe(b.stdout);
  });

  it("refuses usernames that cannot be written in the file, and empty passwords", async () => {
    await expect(passwd(["a:b", "--password", "p"])).rejects.toMatchObject({ code: 2 });
    await expect(passwd(["bob"], "")).rejects.toMatchObject({ code: 2 });
    await expect(passwd(["bob", "--iterations", "0", "--password", "p"])).rejects.toMatchObject({ code: 2 });
  });
});
