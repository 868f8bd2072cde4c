import { pbkdf2Sync, randomBytes } from "node:crypto";
import { SignJWT, type JWTPayload } from "jose";
import { describe, expect, it } from "vitest";
import { parseAclFile } from "./acl-file.js";
import { authenticate, reauthenticate, type AuthResult, type AuthSettings } from "./authenticator.js";
import { createJwtVerifier, type JwtVerifier } from "./jwt.js";
import { parsePasswordFile } from "./password-file.js";
import { connackCodeFor, reauthDisconnectCodeFor } from "./reason-codes.js";

const SECRET = "a-test-secret-of-at-least-32-bytes!!";
const NOW = Date.UTC(2030, 0, 1);
const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

function passwordLine(user: string, password: string): string {
  const salt = randomBytes(12);
  const hash = pbkdf2Sync(password, salt, 1000, 64, "sha512");
  return `${user}:$7$1000$${salt.toString("base64")}$${hash.toString("base64")}`;
}

const passwordFile = parsePasswordFile([passwordLine("alice", "correct horse"), passwordLine("dotted", "my.pass.word")].join("\n"));
const jwt = createJwtVerifier({ secret: SECRET });

function token(payload: JWTPayload): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg: "HS256" }).sign(utf8(SECRET));
}

function refusal(result: AuthResult): string {
  return result.ok ? "accepted" : result.reason;
}

describe("authenticate with nothing configured", () => {
  const settings: AuthSettings = { allowAnonymous: false };

  it("refuses every client as not authorized and says which settings to set", async () => {
    for (const credentials of [{ clientId: "c1" }, { clientId: "c2", username: "alice", password: utf8("correct horse") }]) {
      const result = await authenticate(settings, credentials);
      expect(result.ok).toBe(false);
      if (result.ok) continue;
      expect(result.reason).toBe("not-authorized");
      for (const name of ["ALLOW_ANONYMOUS", "PASSWORD_FILE", "JWT_SECRET", "JWT_JWKS", "JWT_JWKS_URL"]) {
        expect(result.log).toContain(name);
      }
    }
  });
});

describe("authenticate with ALLOW_ANONYMOUS only", () => {
  const settings: AuthSettings = { allowAnonymous: true };

  it("lets clients in without credentials, with every topic allowed", async () => {
    const result = await authenticate(settings, { clientId: "c1" });
    if (!result.ok) throw new Error(result.log);
    expect(result).toMatchObject({ method: "anonymous", identity: { clientId: "c1" } });
    expect(result.identity.username).toBeUndefined();
    expect(result.rights.check("write", "any/topic")).toBe(true);
    expect(result.rights.check("subscribe", "#")).toBe(true);
  });

  it("does not check credentials when no method is configured, and keeps the username (as mosquitto)", async () => {
    const result = await authenticate(settings, { clientId: "c1", username: "bob", password: utf8("whatever") });
    expect(result).toMatchObject({ ok: true, method: "anonymous", identity: { clientId: "c1", username: "bob" } });
  });
});

describe("authenticate with a password file", () => {
  const settings: AuthSettings = { allowAnonymous: false, passwordFile };

  it("accepts the right password", async () => {
    const result = await authenticate(settings, { clientId: "c1", username: "alice", password: utf8("correct horse") });
    expect(result).toMatchObject({ ok: true, method: "password-file", identity: { clientId: "c1", username: "alice" } });
    expect(result.ok && result.expiresAt).toBeUndefined();
  });

  it("refuses a wrong password or an unknown user as bad credentials, without logging the password", async () => {
    for (const credentials of [
      { clientId: "c1", username: "alice", password: utf8("wrong horse") },
      { clientId: "c1", username: "mallory", password: utf8("correct horse") },
      { clientId: "c1", password: utf8("correct horse") },
    ]) {
      const result = await authenticate(settings, credentials);
      expect(refusal(result)).toBe("bad-credentials");
      expect(result.ok || result.log.includes("horse")).toBe(false);
    }
  });

  it("refuses clients without credentials, or with a username only, as not authorized", async () => {
    expect(refusal(await authenticate(settings, { clientId: "c1" }))).toBe("not-authorized");
    expect(refusal(await authenticate(settings, { clientId: "c1", username: "alice" }))).toBe("not-authorized");
    const anonymousToo = { ...settings, allowAnonymous: true };
    expect(refusal(await authenticate(anonymousToo, { clientId: "c1", username: "alice" }))).toBe("not-authorized");
  });

  it("with ALLOW_ANONYMOUS too, lets anonymous clients in but still refuses wrong passwords", async () => {
    const anonymousToo = { ...settings, allowAnonymous: true };
    expect(await authenticate(anonymousToo, { clientId: "c1" })).toMatchObject({ ok: true, method: "anonymous" });
    const wrong = await authenticate(anonymousToo, { clientId: "c1", username: "alice", password: utf8("nope") });
    expect(refusal(wrong)).toBe("bad-credentials");
  });
});

describe("authenticate with JWTs", () => {
  const settings: AuthSettings = { allowAnonymous: false, passwordFile, jwt };

  it("accepts a JWT as the password, with its expiry and, without an MQTT username, its user", async () => {
    const password = utf8(await token({ sub: "carol", exp: NOW / 1000 + 600 }));
    const named = await authenticate(settings, { clientId: "c1", username: "carol", password }, NOW);
    expect(named).toMatchObject({ ok: true, method: "jwt", identity: { username: "carol" }, expiresAt: NOW + 600_000 });
    const unnamed = await authenticate(settings, { clientId: "c1", password }, NOW);
    expect(unnamed).toMatchObject({ ok: true, method: "jwt", identity: { clientId: "c1", username: "carol" } });
  });

  it("refuses expired tokens and tokens for another user as bad credentials", async () => {
    const expired = utf8(await token({ sub: "carol", exp: NOW / 1000 - 60 }));
    const result = await authenticate(settings, { clientId: "c1", username: "carol", password: expired }, NOW);
    expect(refusal(result)).toBe("bad-credentials");
    expect(result.ok || result.log).toContain("JWT expired");
    const other = utf8(await token({ sub: "carol" }));
    expect(refusal(await authenticate(settings, { clientId: "c1", username: "dave", password: other }, NOW))).toBe("bad-credentials");
  });

  it("still tries the password file when a password only looks like a JWT", async () => {
    const result = await authenticate(settings, { clientId: "c1", username: "dotted", password: utf8("my.pass.word") });
    expect(result).toMatchObject({ ok: true, method: "password-file" });
    expect(await authenticate(settings, { clientId: "c1", username: "alice", password: utf8("correct horse") })).toMatchObject({
      ok: true,
      method: "password-file",
    });
  });

  it("reports an unreachable key server as server unavailable", async () => {
    const unreachable: JwtVerifier = {
      verify: async () => ({ ok: false, reason: "key-unavailable", detail: "JWKS fetch failed" }),
    };
    const result = await authenticate({ allowAnonymous: false, jwt: unreachable }, { clientId: "c1", password: utf8("a.b.c") });
    expect(refusal(result)).toBe("server-unavailable");
  });
});

describe("rights from the ACL file and the JWT acl claim", () => {
  const acl = parseAclFile("pattern readwrite users/%u/#\nuser alice\ntopic read news/#\n");

  it("come from the ACL file for password users", async () => {
    const result = await authenticate({ allowAnonymous: true, passwordFile, acl }, { clientId: "c1", username: "alice", password: utf8("correct horse") });
    if (!result.ok) throw new Error(result.log);
    expect(result.rights.check("read", "news/today")).toBe(true);
    expect(result.rights.check("write", "users/alice/x")).toBe(true);
    expect(result.rights.check("write", "users/bob/x")).toBe(false);
    const anonymous = await authenticate({ allowAnonymous: true, passwordFile, acl }, { clientId: "c2" });
    expect(anonymous.ok && anonymous.rights.check("read", "news/today")).toBe(false);
  });

  it("must both allow when a token carries an acl claim too", async () => {
    const password = utf8(await token({ sub: "alice", acl: { all: ["users/alice/#", "news/#"] } }));
    const result = await authenticate({ allowAnonymous: false, jwt, acl }, { clientId: "c1", username: "alice", password }, NOW);
    if (!result.ok) throw new Error(result.log);
    expect(result.rights.check("write", "users/alice/x")).toBe(true); // both allow
    expect(result.rights.check("write", "news/today")).toBe(false); // the ACL file allows only read
    expect(result.rights.check("read", "news/today")).toBe(true);
    const onlyToken = await authenticate({ allowAnonymous: false, jwt }, { clientId: "c1", username: "alice", password }, NOW);
    expect(onlyToken.ok && onlyToken.rights.check("write", "news/today")).toBe(true);
    expect(onlyToken.ok && onlyToken.rights.check("write", "elsewhere")).toBe(false);
  });
});

describe("reauthenticate (MQTT 5 AUTH with a fresh token)", () => {
  const settings: AuthSettings = { allowAnonymous: false, jwt };
  const carol = { clientId: "c1", username: "carol" };

  it("accepts a fresh token for the same user, with its new expiry and rights", async () => {
    const fresh = await token({ sub: "carol", exp: NOW / 1000 + 3600, acl: { pub: ["a/#"] } });
    const result = await reauthenticate(settings, carol, utf8(fresh), NOW);
    if (!result.ok) throw new Error(result.log);
    expect(result).toMatchObject({ identity: carol, method: "jwt", expiresAt: NOW + 3_600_000 });
    expect(result.rights.check("write", "a/b")).toBe(true);
    expect(result.rights.check("write", "b")).toBe(false);
  });

  it("refuses tokens for someone else, expired or not tokens at all", async () => {
    expect(refusal(await reauthenticate(settings, carol, await token({ sub: "dave" }), NOW))).toBe("bad-credentials");
    const expired = await token({ sub: "carol", exp: NOW / 1000 - 60 });
    expect(refusal(await reauthenticate(settings, carol, expired, NOW))).toBe("bad-credentials");
    expect(refusal(await reauthenticate(settings, carol, "password", NOW))).toBe("bad-credentials");
  });

  it("needs a JWT method and a client with a username", async () => {
    const fresh = await token({ sub: "carol" });
    expect(refusal(await reauthenticate({ allowAnonymous: true, passwordFile }, carol, fresh, NOW))).toBe("not-authorized");
    expect(refusal(await reauthenticate(settings, { clientId: "c1" }, fresh, NOW))).toBe("not-authorized");
  });
});

describe("reason codes", () => {
  it("map refusals to CONNACK codes of MQTT 3.1.1 and 5.0", () => {
    expect(connackCodeFor("bad-credentials", 4)).toBe(0x04);
    expect(connackCodeFor("bad-credentials", 5)).toBe(0x86);
    expect(connackCodeFor("not-authorized", 4)).toBe(0x05);
    expect(connackCodeFor("not-authorized", 5)).toBe(0x87);
    expect(connackCodeFor("server-unavailable", 4)).toBe(0x03);
    expect(connackCodeFor("server-unavailable", 5)).toBe(0x88);
    expect(connackCodeFor("bad-credentials", 3)).toBe(0x04); // MQTT 3.1 uses the 3.1.1 codes
  });

  it("map failed re-authentication to DISCONNECT reason codes that exist", () => {
    expect(reauthDisconnectCodeFor("bad-credentials")).toBe(0x87);
    expect(reauthDisconnectCodeFor("not-authorized")).toBe(0x87);
    expect(reauthDisconnectCodeFor("server-unavailable")).toBe(0x89);
  });
});
