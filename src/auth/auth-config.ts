/**
 * Authentication settings from the Worker's environment, checked all at once: the result lists
 * every bad setting by name, so one deploy fixes them all. Workers have no file system, so
 * PASSWORD_FILE and ACL_FILE hold the files' text (e.g. as secrets), not paths.
 *
 * ALLOW_ANONYMOUS  "true" | "false" (default false, as in mosquitto 2)
 * PASSWORD_FILE    mosquitto password file text ($7$ / $6$ lines; `npm run passwd` writes them)
 * ACL_FILE         mosquitto acl_file text
 * JWT_SECRET       HS256 secret, at least 32 bytes
 * JWT_JWKS         JWKS JSON with RS256 / ES256 public keys
 * JWT_JWKS_URL     https:// URL of a JWKS (not together with JWT_JWKS)
 * JWT_ISSUER       required `iss`, optional
 * JWT_AUDIENCE     required `aud`, optional; several separated by commas
 */

import type { JSONWebKeySet } from "jose";
import { parseAclFile } from "./acl-file.js";
import { AuthFileError } from "./auth-file-error.js";
import type { AuthSettings } from "./authenticator.js";
import { createJwtVerifier, type JwtSettings } from "./jwt.js";
import { parsePasswordFile } from "./password-file.js";

export type AuthVars = Readonly<Record<string, string | undefined>>;

export type AuthSettingsResult = { ok: true; settings: AuthSettings } | { ok: false; errors: string[] };

/** RFC 7518 §3.2: an HS256 key must be at least as long as the hash, 256 bits. */
export const MIN_JWT_SECRET_BYTES = 32;

export function loadAuthSettings(vars: AuthVars): AuthSettingsResult {
  const errors: string[] = [];
  const value = (name: string): string | undefined => (vars[name] === "" ? undefined : vars[name]);

  const settings: AuthSettings = { allowAnonymous: flag(value("ALLOW_ANONYMOUS"), "ALLOW_ANONYMOUS", errors) };
  const passwordText = value("PASSWORD_FILE");
  if (passwordText !== undefined) {
    const parsed = fileOrErrors(() => parsePasswordFile(passwordText, "PASSWORD_FILE"), errors);
    if (parsed) settings.passwordFile = parsed;
  }
  const aclText = value("ACL_FILE");
  if (aclText !== undefined) {
    const parsed = fileOrErrors(() => parseAclFile(aclText, "ACL_FILE"), errors);
    if (parsed) settings.acl = parsed;
  }
  const jwt = jwtSettings(value, errors);
  if (errors.length > 0) return { ok: false, errors };
  if (jwt) settings.jwt = createJwtVerifier(jwt);
  return { ok: true, settings };
}

function flag(raw: string | undefined, name: string, errors: string[]): boolean {
  if (raw === undefined || raw === "false") return false;
  if (raw === "true") return true;
  errors.push(`${name} must be "true" or "false", got ${JSON.stringify(raw)}`);
  return false;
}

function fileOrErrors<T>(parse: () => T, errors: string[]): T | undefined {
  try {
    return parse();
  } catch (error) {
    if (!(error instanceof AuthFileError)) throw error;
    errors.push(error.message);
    return undefined;
  }
}

function jwtSettings(value: (name: string) => string | undefined, errors: string[]): JwtSettings | undefined {
  const settings: JwtSettings = {};
  const secret = value("JWT_SECRET");
  if (secret !== undefined) {
    if (new TextEncoder().encode(secret).length < MIN_JWT_SECRET_BYTES) {
      errors.push(`JWT_SECRET must be at least ${MIN_JWT_SECRET_BYTES} bytes (RFC 7518 §3.2 for HS256)`);
    } else settings.secret = secret;
  }
  const jwksText = value("JWT_JWKS");
  const jwksUrl = value("JWT_JWKS_URL");
  if (jwksText !== undefined && jwksUrl !== undefined) errors.push("set JWT_JWKS or JWT_JWKS_URL, not both");
  if (jwksText !== undefined) {
    const jwks = parseJwks(jwksText, errors);
    if (jwks) settings.jwks = jwks;
  }
  if (jwksUrl !== undefined) {
    if (isAcceptableJwksUrl(jwksUrl)) settings.jwksUrl = jwksUrl;
    else errors.push("JWT_JWKS_URL must be an https:// URL (http:// only for localhost)");
  }
  const issuer = value("JWT_ISSUER");
  const audience = value("JWT_AUDIENCE");
  const hasKey = secret !== undefined || jwksText !== undefined || jwksUrl !== undefined;
  for (const [name, given] of [
    ["JWT_ISSUER", issuer],
    ["JWT_AUDIENCE", audience],
  ] as const) {
    if (given !== undefined && !hasKey) {
      errors.push(`${name} is set but no JWT key is: set JWT_SECRET, JWT_JWKS or JWT_JWKS_URL`);
    }
  }
  if (issuer !== undefined) settings.issuer = issuer;
  if (audience !== undefined) {
    const audiences = audience
      .split(",")
      .map((a) => a.trim())
      .filter((a) => a !== "");
    settings.audience = audiences.length === 1 ? audiences[0]! : audiences;
  }
  return hasKey ? settings : undefined;
}

function parseJwks(text: string, errors: string[]): JSONWebKeySet | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    errors.push("JWT_JWKS is not valid JSON");
    return undefined;
  }
  const keys = (parsed as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || keys.length === 0) {
    errors.push('JWT_JWKS must be a JWKS: {"keys": [...]} with at least one key');
    return undefined;
  }
  const before = errors.length;
  keys.forEach((key: unknown, index) => {
    const problem = jwkProblem(key);
    if (problem) errors.push(`JWT_JWKS key ${index}: ${problem}`);
  });
  return errors.length === before ? (parsed as JSONWebKeySet) : undefined;
}

/** Why a JWKS entry cannot verify RS256 / ES256, if it cannot. */
function jwkProblem(key: unknown): string | undefined {
  if (typeof key !== "object" || key === null) return "not an object";
  const { kty, alg, crv } = key as Record<string, unknown>;
  if ("d" in key) return 'holds a private key ("d"); list only public keys';
  if (kty === "oct") return "is a symmetric (oct) key; put an HS256 secret in JWT_SECRET instead";
  if (kty !== "RSA" && kty !== "EC") return `kty ${JSON.stringify(kty)} is not RSA or EC`;
  if (kty === "EC" && crv !== "P-256") return `curve ${JSON.stringify(crv)} is not P-256 (ES256)`;
  const expected = kty === "RSA" ? "RS256" : "ES256";
  if (alg !== undefined && alg !== expected) return `alg ${JSON.stringify(alg)} is not ${expected}`;
  return undefined;
}

function isAcceptableJwksUrl(text: string): boolean {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return false;
  }
  if (url.protocol === "https:") return true;
  return url.protocol === "http:" && ["localhost", "127.0.0.1", "[::1]"].includes(url.hostname);
}
