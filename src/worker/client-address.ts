/**
 * The address of the client behind a connection, for logs and limits. Our TCP gateway reports
 * the device's address in a header, with the shared GATEWAY_SECRET. A request that presents
 * gateway headers with a missing or wrong secret is refused, never silently treated as a direct
 * client: a misconfigured gateway must be noticed, and a browser cannot claim another address.
 */
import { GATEWAY_ADDRESS_HEADER, GATEWAY_SECRET_HEADER } from "../contracts/index.js";

export type ClientAddress = { ok: true; address: string; viaGateway: boolean } | { ok: false; reason: string };

export function clientAddress(headers: Headers, secret: string | undefined): ClientAddress {
  const claimed = headers.get(GATEWAY_ADDRESS_HEADER);
  const presented = headers.get(GATEWAY_SECRET_HEADER);
  const direct = headers.get("cf-connecting-ip") ?? "unknown";
  if (claimed === null && presented === null) return { ok: true, address: direct, viaGateway: false };
  if (!secret) return { ok: false, reason: "gateway headers sent, but this broker has no GATEWAY_SECRET" };
  if (presented === null || !sameSecret(presented, secret)) return { ok: false, reason: "wrong gateway secret" };
  return { ok: true, address: claimed ?? direct, viaGateway: true };
}

/** Whether an Authorization header is `Bearer <token>`, compared as `sameSecret` does. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  return header?.startsWith("Bearer ") === true && sameSecret(header.slice(7), token);
}

/** Compares in time independent of where the strings differ. */
export function sameSecret(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}
