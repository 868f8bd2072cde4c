/**
 * Connection attempts per client address, limited with Cloudflare's Rate Limiting binding
 * (`CONNECT_RATE_LIMITER` in wrangler.toml; miniflare emulates it locally): a client that
 * reconnects in a tight loop, or a flood of new connections from one address, is refused at the
 * edge with 429 before it costs a Durable Object anything. Loopback and unknown addresses are not
 * limited: locally every client is 127.0.0.1 (tests, benchmarks, the gateway's own host).
 */

/** The Workers Rate Limiting binding (https://developers.cloudflare.com/workers/runtime-apis/bindings/rate-limit/). */
export interface RateLimiter {
  limit(options: { key: string }): Promise<{ success: boolean }>;
}

/** The host part of an address as the broker records it (`1.2.3.4:5678`, `[::1]:5678`, `1.2.3.4`). */
export function hostOf(address: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(address);
  if (bracketed) return bracketed[1]!;
  const v4 = /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/.exec(address);
  return v4 ? v4[1]! : address;
}

export function isExempt(host: string): boolean {
  return host === "unknown" || host === "::1" || host.startsWith("127.") || host === "::ffff:127.0.0.1";
}

/** True if this attempt may go on; false when the address is over its limit. */
export async function allowConnect(limiter: RateLimiter | undefined, address: string): Promise<boolean> {
  const host = hostOf(address);
  if (!limiter || isExempt(host)) return true;
  return (await limiter.limit({ key: host })).success;
}
