/**
 * Reads a mosquitto password file, so users made with `mosquitto_passwd` (or `npm run passwd`)
 * log in here unchanged. Lines are `user:hash`, where the hash is one of
 *
 * - `$7$<iterations>$<base64 salt>$<base64 hash>`: PBKDF2-HMAC-SHA512, 64-byte hash. mosquitto
 *   2.0 writes 101 iterations and a 12-byte salt; 2.1 writes 1000 iterations and a 64-byte salt
 *   (libcommon/password_common.c: PW_DEFAULT_ITERATIONS, salt_len = HASH_LEN);
 * - `$6$<base64 salt>$<base64 hash>`: SHA-512(password || salt), written by mosquitto 1.x.
 *
 * `$argon2id$` (mosquitto 2.1 `-H argon2id`) is refused with a clear message: WebCrypto has no
 * Argon2. Blank lines and `#` comments are skipped; every other malformed line is an error.
 */

import { AuthFileError } from "./auth-file-error.js";
import { decodeBase64 } from "./base64.js";

/**
 * Highest PBKDF2 iteration count accepted. mosquitto writes 101 (2.0) or 1000 (2.1); OWASP's
 * 2023 advice is 210,000. Far more would let one CONNECT burn seconds of a Worker's CPU time.
 */
export const MAX_PBKDF2_ITERATIONS = 1_000_000;

/** SHA-512 output: the only hash length mosquitto writes or accepts. */
export const HASH_BYTES = 64;

export type PasswordHash = { kind: "pbkdf2-sha512"; iterations: number; salt: Uint8Array; hash: Uint8Array } | { kind: "sha512"; salt: Uint8Array; hash: Uint8Array };

export interface PasswordFile {
  readonly users: ReadonlyMap<string, PasswordHash>;
  /** Checked for unknown users so that they cost what a real user costs (no user enumeration). */
  readonly dummy: PasswordHash;
}

/** Throws AuthFileError listing every bad line by number. */
export function parsePasswordFile(text: string, setting = "PASSWORD_FILE"): PasswordFile {
  const users = new Map<string, PasswordHash>();
  const firstLine = new Map<string, number>();
  const problems: string[] = [];
  text.split("\n").forEach((raw, index) => {
    const lineNumber = index + 1;
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const colon = line.indexOf(":");
    if (colon < 0) {
      problems.push(`line ${lineNumber}: expected "username:hash"`);
      return;
    }
    const username = line.slice(0, colon).trim();
    if (username === "") {
      problems.push(`line ${lineNumber}: empty username`);
      return;
    }
    const earlier = firstLine.get(username);
    if (earlier !== undefined) {
      // mosquitto 2.1 refuses duplicates too: which one wins would otherwise be a guess.
      problems.push(`line ${lineNumber}: user ${JSON.stringify(username)} already defined on line ${earlier}`);
      return;
    }
    const parsed = parseHash(line.slice(colon + 1).trim());
    if (typeof parsed === "string") {
      problems.push(`line ${lineNumber}: ${parsed}`);
      return;
    }
    users.set(username, parsed);
    firstLine.set(username, lineNumber);
  });
  if (problems.length > 0) throw new AuthFileError(setting, problems);
  return { users, dummy: dummyLike([...users.values()]) };
}

/** The hash, or why it cannot be used (never quoting it). */
function parseHash(text: string): PasswordHash | string {
  if (text.startsWith("$argon2id$")) {
    return "argon2id hashes cannot be checked here (WebCrypto has no Argon2); " + "re-create this user with `mosquitto_passwd -H sha512-pbkdf2` or `npm run passwd`";
  }
  const fields = text.split("$");
  if (text.startsWith("$7$")) {
    if (fields.length !== 5) return "malformed $7$ hash (expected $7$iterations$salt$hash)";
    const [, , iterationsText, saltText, hashText] = fields as [string, string, string, string, string];
    if (!/^[0-9]+$/.test(iterationsText)) return "malformed $7$ hash (iteration count is not a number)";
    const iterations = Number(iterationsText);
    if (iterations < 1 || iterations > MAX_PBKDF2_ITERATIONS) {
      return `iteration count ${iterations} is outside 1..${MAX_PBKDF2_ITERATIONS}`;
    }
    const saltAndHash = decodeSaltAndHash(saltText, hashText);
    return typeof saltAndHash === "string" ? saltAndHash : { kind: "pbkdf2-sha512", iterations, ...saltAndHash };
  }
  if (text.startsWith("$6$")) {
    if (fields.length !== 4) return "malformed $6$ hash (expected $6$salt$hash)";
    const [, , saltText, hashText] = fields as [string, string, string, string];
    const saltAndHash = decodeSaltAndHash(saltText, hashText);
    return typeof saltAndHash === "string" ? saltAndHash : { kind: "sha512", ...saltAndHash };
  }
  return "unknown hash format (expected $7$ or $6$ from mosquitto_passwd; plain-text passwords are not accepted)";
}

function decodeSaltAndHash(saltText: string, hashText: string): { salt: Uint8Array; hash: Uint8Array } | string {
  const salt = decodeBase64(saltText);
  // Any salt length is accepted: mosquitto 2.0 writes 12 bytes, 2.1 writes 64.
  if (salt === undefined || salt.length === 0) return "salt is not valid base64";
  const hash = decodeBase64(hashText);
  if (hash === undefined || hash.length !== HASH_BYTES) return `hash is not ${HASH_BYTES} bytes of base64`;
  return { salt, hash };
}

/** A hash of the kind (and iteration count) most users have, that no password matches. */
function dummyLike(hashes: readonly PasswordHash[]): PasswordHash {
  const counts = new Map<string, { count: number; sample: PasswordHash }>();
  for (const hash of hashes) {
    const cost = hash.kind === "sha512" ? "sha512" : `pbkdf2-${hash.iterations}`;
    const seen = counts.get(cost);
    if (seen) seen.count++;
    else counts.set(cost, { count: 1, sample: hash });
  }
  let typical: PasswordHash | undefined;
  let most = 0;
  for (const { count, sample } of counts.values()) {
    if (count > most) [most, typical] = [count, sample];
  }
  const salt = new Uint8Array(typical?.salt.length ?? 12);
  const hash = new Uint8Array(HASH_BYTES);
  if (typical?.kind === "sha512") return { kind: "sha512", salt, hash };
  return { kind: "pbkdf2-sha512", iterations: typical?.iterations ?? 1000, salt, hash };
}
