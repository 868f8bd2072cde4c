/**
 * Checks an MQTT password against a parsed mosquitto password file with WebCrypto. An unknown
 * user costs the same hashing as a known one, so timing does not reveal which usernames exist.
 */

import { HASH_BYTES, type PasswordFile, type PasswordHash } from "./password-file.js";
import { timingSafeEqual } from "./timing-safe-equal.js";

/** `password` is bytes: MQTT passwords are binary data, not text. */
export async function verifyPassword(file: PasswordFile, username: string, password: Uint8Array): Promise<boolean> {
  const entry = file.users.get(username);
  const stored = entry ?? file.dummy;
  const computed = await hashPassword(stored, password);
  const matches = timingSafeEqual(computed, stored.hash);
  return matches && entry !== undefined;
}

/** The hash `stored` would have for this password. */
export async function hashPassword(stored: PasswordHash, password: Uint8Array): Promise<Uint8Array> {
  if (stored.kind === "sha512") {
    // mosquitto 1.x: SHA-512 over the password followed by the salt.
    const input = new Uint8Array(password.length + stored.salt.length);
    input.set(password, 0);
    input.set(stored.salt, password.length);
    return new Uint8Array(await crypto.subtle.digest("SHA-512", input));
  }
  const key = await crypto.subtle.importKey("raw", password, "PBKDF2", false, ["deriveBits"]);
  const bits = await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-512", salt: stored.salt, iterations: stored.iterations }, key, HASH_BYTES * 8);
  return new Uint8Array(bits);
}
