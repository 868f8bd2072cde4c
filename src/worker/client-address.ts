/**
 * The address of the client behind a connection, for logs and limits. Our TCP gateway reports
 * the device's address in a header; the Worker believes it only when the gateway also presents
 * the shared GATEWAY_SECRET, so a browser cannot claim another address.
 */
import { GATEWAY_ADDRESS_HEADER, GATEWAY_SECRET_HEADER } from "./gateway-headers.js";

export function clientAddress(headers: Headers, secret: string | undefined): string {
  const claimed = headers.get(GATEWAY_ADDRESS_HEADER);
  const presented = headers.get(GATEWAY_SECRET_HEADER);
  if (claimed && secret && presented !== null && sameSecret(presented, secret)) return claimed;
  return headers.get("cf-connecting-ip") ?? "unknown";
}

/** Compares in time independent of where the strings differ. */
function sameSecret(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}
