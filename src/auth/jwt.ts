/**
 * Verifies JWTs given as an MQTT password (or as MQTT 5 re-authentication data) with `jose`, which
 * is built on WebCrypto and runs in Workers. A bad token is an answer, never an exception.
 *
 * - Algorithms: HS256 only with JWT_SECRET; RS256 and ES256 only with a JWKS (inline JWT_JWKS, or
 *   JWT_JWKS_URL fetched and cached). The token's `alg` picks the key source, so a public key is
 *   never used as an HMAC secret, and `none` or any other algorithm is refused.
 * - Time: `exp` and `nbf` are checked with a 5 s tolerance, because the token issuer's clock and
 *   the Worker's may differ by a little and a just-minted token must not fail on that. A token
 *   without `exp` does not expire.
 * - Who: `JWT_ISSUER` / `JWT_AUDIENCE` are checked when set. The token names its user in the
 *   `username` claim if it has one, otherwise in `sub`; an MQTT username, when the client sent one,
 *   must equal that name exactly.
 * - Rights: an `acl` claim (EMQX's shapes, see jwt-acl-claim.ts) becomes `rights`.
 */

import { createLocalJWKSet, createRemoteJWKSet, decodeProtectedHeader, errors, jwtVerify, type JSONWebKeySet, type JWTPayload, type JWTVerifyOptions } from "jose";
import type { Authorizer } from "./authorizer.js";
import { parseAclClaim } from "./jwt-acl-claim.js";

export interface JwtSettings {
  /** Shared secret for HS256 (JWT_SECRET). */
  secret?: string;
  /** Public keys for RS256/ES256 (JWT_JWKS). */
  jwks?: JSONWebKeySet;
  /** Where to fetch the public keys for RS256/ES256 (JWT_JWKS_URL); not together with `jwks`. */
  jwksUrl?: string;
  issuer?: string;
  audience?: string | string[];
}

export const CLOCK_TOLERANCE_SECONDS = 5;
/** A JWKS endpoint that does not answer within this fails the CONNECT as "server unavailable". */
export const JWKS_FETCH_TIMEOUT_MS = 5_000;
/** Fetched keys are kept this long; an unknown `kid` refetches at most every 30 s (jose's cooldown). */
export const JWKS_CACHE_MS = 10 * 60_000;

const hmacAlgorithms = ["HS256"];
const publicKeyAlgorithms = ["RS256", "ES256"];

export type JwtFailure =
  | "malformed"
  | "algorithm-not-allowed"
  | "bad-signature"
  | "unknown-key"
  /** The JWKS could not be fetched: not the client's fault. */
  | "key-unavailable"
  | "expired"
  | "not-yet-valid"
  | "claims-rejected"
  | "username-mismatch"
  | "bad-acl-claim";

export type JwtResult =
  | {
      ok: true;
      /** `sub`, or the `username` claim when there is no `sub`. */
      subject: string;
      /** Who the client is: the `username` claim if present, else `sub`. */
      username: string;
      /** `exp` in milliseconds since the epoch. */
      expiresAt?: number | undefined;
      /** From the `acl` claim; absent when the token has none. */
      rights?: Authorizer | undefined;
    }
  | { ok: false; reason: JwtFailure; detail: string };

export interface JwtVerifier {
  /** `now` (ms since the epoch) is for tests; it defaults to the current time. */
  verify(token: string, username?: string, now?: number): Promise<JwtResult>;
}

/** Three base64url parts separated by dots (an unsigned token has an empty third part). */
export function looksLikeJwt(text: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(text);
}

/**
 * Keep one verifier per isolate rather than one per connection: it holds the fetched JWKS.
 * Throws if no key is configured, or both `jwks` and `jwksUrl` are.
 */
export function createJwtVerifier(settings: JwtSettings): JwtVerifier {
  if (settings.jwks && settings.jwksUrl) throw new Error("JWT: give either an inline JWKS or a JWKS URL, not both");
  const secret = settings.secret === undefined ? undefined : new TextEncoder().encode(settings.secret);
  const keySet = settings.jwks
    ? createLocalJWKSet(settings.jwks)
    : settings.jwksUrl
      ? createRemoteJWKSet(new URL(settings.jwksUrl), {
          timeoutDuration: JWKS_FETCH_TIMEOUT_MS,
          cacheMaxAge: JWKS_CACHE_MS,
        })
      : undefined;
  if (!secret && !keySet) throw new Error("JWT: no key configured (a secret, a JWKS or a JWKS URL)");

  return {
    async verify(token, username, now) {
      let alg: string | undefined;
      try {
        alg = decodeProtectedHeader(token).alg;
      } catch {
        return { ok: false, reason: "malformed", detail: "not a JWS compact token" };
      }
      // jose's options take no explicit undefined: unset ones are left out.
      const options: JWTVerifyOptions = {
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        ...(settings.issuer === undefined ? {} : { issuer: settings.issuer }),
        ...(settings.audience === undefined ? {} : { audience: settings.audience }),
        ...(now === undefined ? {} : { currentDate: new Date(now) }),
      };
      let payload: JWTPayload;
      try {
        if (secret && alg !== undefined && hmacAlgorithms.includes(alg)) {
          payload = (await jwtVerify(token, secret, { ...options, algorithms: hmacAlgorithms })).payload;
        } else if (keySet && alg !== undefined && publicKeyAlgorithms.includes(alg)) {
          payload = (await jwtVerify(token, keySet, { ...options, algorithms: publicKeyAlgorithms })).payload;
        } else {
          const accepted = [...(secret ? hmacAlgorithms : []), ...(keySet ? publicKeyAlgorithms : [])];
          const detail = `alg ${String(alg)} is not one of ${accepted.join(", ")}`;
          return { ok: false, reason: "algorithm-not-allowed", detail };
        }
      } catch (error) {
        return { ok: false, ...failureOf(error) };
      }
      return checkClaims(payload, username);
    },
  };
}

function checkClaims(payload: JWTPayload, username: string | undefined): JwtResult {
  const claimed = payload.username;
  if (claimed !== undefined && typeof claimed !== "string") {
    return { ok: false, reason: "claims-rejected", detail: "the username claim is not a string" };
  }
  const name = claimed ?? payload.sub;
  if (name === undefined) {
    return { ok: false, reason: "claims-rejected", detail: "the token has neither a sub nor a username claim" };
  }
  if (username !== undefined && username !== name) {
    const claim = claimed === undefined ? "sub" : "username";
    const detail = `the MQTT username differs from the token's ${claim} claim`;
    return { ok: false, reason: "username-mismatch", detail };
  }
  let rights: Authorizer | undefined;
  if (payload.acl !== undefined) {
    const parsed = parseAclClaim(payload.acl);
    if (typeof parsed === "string") return { ok: false, reason: "bad-acl-claim", detail: parsed };
    rights = parsed;
  }
  return {
    ok: true,
    subject: payload.sub ?? name,
    username: name,
    expiresAt: payload.exp === undefined ? undefined : payload.exp * 1000,
    rights,
  };
}

function failureOf(error: unknown): { reason: JwtFailure; detail: string } {
  const detail = error instanceof Error ? error.message : String(error);
  if (error instanceof errors.JWTExpired) return { reason: "expired", detail };
  if (error instanceof errors.JWTClaimValidationFailed) {
    const early = error.claim === "nbf" || error.claim === "iat";
    return { reason: early ? "not-yet-valid" : "claims-rejected", detail };
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return { reason: "bad-signature", detail };
  if (error instanceof errors.JOSEAlgNotAllowed) return { reason: "algorithm-not-allowed", detail };
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) {
    return { reason: "unknown-key", detail };
  }
  const malformed = [errors.JWSInvalid, errors.JWTInvalid, errors.JOSENotSupported];
  if (malformed.some((kind) => error instanceof kind)) return { reason: "malformed", detail };
  // A JWKS fetch that timed out, failed, answered non-200 or not JSON: the keys could not be had.
  return { reason: "key-unavailable", detail };
}
