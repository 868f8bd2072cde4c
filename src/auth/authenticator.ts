/**
 * Decides a CONNECT: which identity a client gets and what it may do, from the configured
 * methods (anonymous access, a mosquitto password file, JWTs) and the ACL file.
 *
 * - No username and no password: let in when ALLOW_ANONYMOUS is true, else not authorized.
 * - A password that looks like a JWT (three base64url parts) is verified as a JWT when a JWT
 *   method is configured; if that fails, or it does not look like one, the password file is tried
 *   (a password such as "my.pass.word" also looks like a JWT).
 * - Credentials that no configured method accepts: bad credentials; a username without a password
 *   while a method is configured: not authorized (as mosquitto answers).
 * - With ALLOW_ANONYMOUS and no method configured, credentials are not checked and the username
 *   is kept, as mosquitto does without a password_file: ACL `user` sections then apply to
 *   whoever claims that name.
 * - Nothing configured and ALLOW_ANONYMOUS false: everyone is refused, with a log line that says
 *   which settings to set.
 * - Rights: the ACL file's and the JWT acl claim's; when both exist, both must allow.
 */

import type { Acl } from "./acl-file.js";
import { allRightsOf, type Authorizer, type Identity, type TopicRights } from "./authorizer.js";
import { looksLikeJwt, type JwtVerifier } from "./jwt.js";
import type { PasswordFile } from "./password-file.js";
import { verifyPassword } from "./password-verify.js";
import type { AuthRefusal } from "./reason-codes.js";

export interface AuthSettings {
  allowAnonymous: boolean;
  passwordFile?: PasswordFile;
  jwt?: JwtVerifier;
  acl?: Acl;
}

export interface ConnectCredentials {
  clientId: string;
  username?: string;
  /** MQTT passwords are binary data. */
  password?: Uint8Array;
}

export type AuthMethod = "anonymous" | "password-file" | "jwt";

export type AuthResult =
  | {
      ok: true;
      identity: Identity;
      /** Bound to `identity`; keep it for the connection's publish, subscribe and delivery checks. */
      rights: TopicRights;
      method: AuthMethod;
      /** When a JWT's `exp` ends the session's right to stay connected (ms since the epoch). */
      expiresAt?: number;
    }
  | {
      ok: false;
      /** Map with connackCodeFor() / reauthDisconnectCodeFor(). */
      reason: AuthRefusal;
      /** For the broker's log; never contains a password or token. */
      log: string;
    };

export const NOTHING_CONFIGURED_LOG =
  "no authentication is configured, so every client is refused: set ALLOW_ANONYMOUS=true to let clients in " +
  "without credentials, or PASSWORD_FILE (a mosquitto password file; `npm run passwd` writes its lines) and/or " +
  "JWT_SECRET, JWT_JWKS or JWT_JWKS_URL to accept JWTs as passwords";

/** `now` (ms since the epoch) is for tests of JWT expiry. */
export async function authenticate(settings: AuthSettings, credentials: ConnectCredentials, now?: number): Promise<AuthResult> {
  const { clientId, username, password } = credentials;
  const who = describeClient(clientId, username);
  const hasMethod = settings.passwordFile !== undefined || settings.jwt !== undefined;
  if (!hasMethod && !settings.allowAnonymous) {
    return refuse("not-authorized", `${who} refused: ${NOTHING_CONFIGURED_LOG}`);
  }

  if (username === undefined && password === undefined) {
    if (settings.allowAnonymous) return accept(settings, { clientId }, "anonymous");
    return refuse("not-authorized", `${who} refused: no credentials and ALLOW_ANONYMOUS is false`);
  }
  if (!hasMethod) return accept(settings, identityOf(clientId, username), "anonymous");
  if (password === undefined) return refuse("not-authorized", `${who} refused: a username without a password`);

  let jwtProblem: string | undefined;
  let keysUnavailable = false;
  const token = utf8OrUndefined(password);
  if (settings.jwt && token !== undefined && looksLikeJwt(token)) {
    const result = await settings.jwt.verify(token, username, now);
    if (result.ok) {
      return accept(settings, { clientId, username: result.username }, "jwt", result.rights, result.expiresAt);
    }
    jwtProblem = `JWT ${result.reason} (${result.detail})`;
    keysUnavailable = result.reason === "key-unavailable";
  }
  if (settings.passwordFile && username !== undefined) {
    if (await verifyPassword(settings.passwordFile, username, password)) {
      return accept(settings, { clientId, username }, "password-file");
    }
  }
  const tried = [jwtProblem, settings.passwordFile ? passwordFileProblem(username) : undefined].filter(Boolean);
  const why = tried.length > 0 ? tried.join("; ") : "the password is not a JWT and there is no password file";
  return refuse(keysUnavailable ? "server-unavailable" : "bad-credentials", `${who} refused: ${why}`);
}

/**
 * MQTT 5 re-authentication (AUTH with a fresh token): the token must be a valid JWT for the same
 * user; the connection's rights and expiry become the new token's.
 */
export async function reauthenticate(settings: AuthSettings, identity: Identity, authenticationData: Uint8Array | string, now?: number): Promise<AuthResult> {
  const who = describeClient(identity.clientId, identity.username);
  if (!settings.jwt) {
    const needed = "re-authentication needs a JWT method (JWT_SECRET, JWT_JWKS or JWT_JWKS_URL)";
    return refuse("not-authorized", `${who}: ${needed}`);
  }
  if (identity.username === undefined) {
    return refuse("not-authorized", `${who}: a client without a username cannot re-authenticate into one`);
  }
  const token = typeof authenticationData === "string" ? authenticationData : utf8OrUndefined(authenticationData);
  if (token === undefined || !looksLikeJwt(token)) {
    return refuse("bad-credentials", `${who}: re-authentication data is not a JWT`);
  }
  const result = await settings.jwt.verify(token, identity.username, now);
  if (!result.ok) {
    const refusal = result.reason === "key-unavailable" ? "server-unavailable" : "bad-credentials";
    return refuse(refusal, `${who}: re-authentication failed: JWT ${result.reason} (${result.detail})`);
  }
  return accept(settings, identity, "jwt", result.rights, result.expiresAt);
}

function accept(settings: AuthSettings, identity: Identity, method: AuthMethod, tokenRights?: Authorizer, expiresAt?: number): AuthResult {
  const sources = [settings.acl, tokenRights].filter((source): source is Authorizer => source !== undefined);
  const rights = allRightsOf(sources.map((source) => source.forClient(identity)));
  const accepted = { ok: true as const, identity, rights, method };
  return expiresAt === undefined ? accepted : { ...accepted, expiresAt };
}

function refuse(reason: AuthRefusal, log: string): AuthResult {
  return { ok: false, reason, log };
}

function identityOf(clientId: string, username: string | undefined): Identity {
  return username === undefined ? { clientId } : { clientId, username };
}

function passwordFileProblem(username: string | undefined): string {
  if (username === undefined) return "no username to look up in the password file";
  return "password file: wrong username or password";
}

function describeClient(clientId: string, username: string | undefined): string {
  return `client ${JSON.stringify(clientId)}${username === undefined ? "" : ` (username ${JSON.stringify(username)})`}`;
}

function utf8OrUndefined(bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return undefined;
  }
}
