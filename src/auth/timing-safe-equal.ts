/**
 * Byte comparison whose time does not depend on where the inputs differ, so response times leak
 * nothing about a stored hash. (Workers has crypto.subtle.timingSafeEqual, Node's WebCrypto does
 * not; this runs in both.)
 */

export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  // Lengths are public here (always 64-byte hashes), so an early exit on them leaks nothing.
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a[i]! ^ b[i]!;
  return difference === 0;
}
