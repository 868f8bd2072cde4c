import { pbkdf2Sync, randomBytes } from "node:crypto";
import { exportJWK, generateKeyPair } from "jose";
import { describe, expect, it } from "vitest";
import { loadAuthSettings, type AuthVars } from "./auth-config.js";

const SECRET = "a-test-secret-of-at-least-32-bytes!!";

function passwordLine(user: string, password: string): string {
  const salt = randomBytes(12);
  return `${user}:$7$1000$${salt.toString("base64")}$${pbkdf2Sync(password, salt, 1000, 64, "sha512").toString("base64")}`;
}

function errorsOf(vars: AuthVars): string[] {
  const result = loadAuthSettings(vars);
  if (result.ok) throw new Error("expected errors");
  return result.errors;
}

describe("loadAuthSettings", () => {
  it("defaults to nothing configured and anonymous access off", () => {
    const result = loadAuthSettings({});
    expect(result).toEqual({ ok: true, settings: { allowAnonymous: false } });
    expect(loadAuthSettings({ ALLOW_ANONYMOUS: "", JWT_SECRET: "" })).toEqual(result);
  });

  it("reads every setting", async () => {
    const { publicKey } = await generateKeyPair("ES256", { extractable: true });
    const result = loadAuthSettings({
      ALLOW_ANONYMOUS: "true",
      PASSWORD_FILE: passwordLine("alice", "pw"),
      ACL_FILE: "topic read a/#\n",
      JWT_SECRET: SECRET,
      JWT_JWKS: JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), alg: "ES256", kid: "k" }] }),
      JWT_ISSUER: "https://issuer.example",
      JWT_AUDIENCE: "mqtt",
    });
    if (!result.ok) throw new Error(result.errors.join("\n"));
    expect(result.settings.allowAnonymous).toBe(true);
    expect(result.settings.passwordFile?.users.has("alice")).toBe(true);
    expect(result.settings.acl?.check({ clientId: "c" }, "read", "a/b")).toBe(true);
    expect(result.settings.jwt).toBeDefined();
  });

  it("accepts a JWKS URL over https, or http on localhost", () => {
    expect(loadAuthSettings({ JWT_JWKS_URL: "https://issuer.example/.well-known/jwks.json" }).ok).toBe(true);
    expect(loadAuthSettings({ JWT_JWKS_URL: "http://127.0.0.1:9000/jwks" }).ok).toBe(true);
  });

  it("lists every bad setting by name", () => {
    const errors = errorsOf({
      ALLOW_ANONYMOUS: "yes",
      PASSWORD_FILE: "alice",
      ACL_FILE: "topic maybe a",
      JWT_SECRET: "short",
      JWT_JWKS: "{not json",
      JWT_JWKS_URL: "http://issuer.example/jwks",
    });
    expect(errors).toEqual([
      'ALLOW_ANONYMOUS must be "true" or "false", got "yes"',
      'PASSWORD_FILE: line 1: expected "username:hash"',
      'ACL_FILE: line 1: topic: unknown access "maybe" (expected read, write, readwrite or deny)',
      "JWT_SECRET must be at least 32 bytes (RFC 7518 §3.2 for HS256)",
      "set JWT_JWKS or JWT_JWKS_URL, not both",
      "JWT_JWKS is not valid JSON",
      "JWT_JWKS_URL must be an https:// URL (http:// only for localhost)",
    ]);
  });

  it("refuses JWKS that could not verify RS256 / ES256 safely", async () => {
    const { publicKey, privateKey } = await generateKeyPair("RS256", { extractable: true });
    const rsa = await exportJWK(publicKey);
    expect(errorsOf({ JWT_JWKS: "[]" })).toEqual(['JWT_JWKS must be a JWKS: {"keys": [...]} with at least one key']);
    expect(errorsOf({ JWT_JWKS: JSON.stringify({ keys: [] }) })).toHaveLength(1);
    const errors = errorsOf({
      JWT_JWKS: JSON.stringify({
        keys: [
          { ...rsa, alg: "RS256" },
          { kty: "oct", k: "c2VjcmV0" },
          await exportJWK(privateKey),
          { ...rsa, alg: "PS256" },
          { kty: "EC", crv: "P-384", x: "x", y: "y" },
          { kty: "OKP", crv: "Ed25519", x: "x" },
        ],
      }),
    });
    expect(errors).toEqual([
      "JWT_JWKS key 1: is a symmetric (oct) key; put an HS256 secret in JWT_SECRET instead",
      'JWT_JWKS key 2: holds a private key ("d"); list only public keys',
      'JWT_JWKS key 3: alg "PS256" is not RS256',
      'JWT_JWKS key 4: curve "P-384" is not P-256 (ES256)',
      'JWT_JWKS key 5: kty "OKP" is not RSA or EC',
    ]);
  });

  it("refuses issuer or audience without a JWT key", () => {
    expect(errorsOf({ JWT_ISSUER: "https://issuer.example", JWT_AUDIENCE: "mqtt" })).toEqual([
      "JWT_ISSUER is set but no JWT key is: set JWT_SECRET, JWT_JWKS or JWT_JWKS_URL",
      "JWT_AUDIENCE is set but no JWT key is: set JWT_SECRET, JWT_JWKS or JWT_JWKS_URL",
    ]);
  });
});
