/**
 * Which web pages may open an MQTT WebSocket to this broker. A browser always sends `Origin` on a
 * WebSocket upgrade and lets any page connect anywhere, so without this check any site a user
 * visits could use the broker with that user's cookies or network position (cross-site WebSocket
 * hijacking). Native clients send no Origin and pass.
 *
 * `ALLOWED_ORIGINS`: a comma-separated list of exact origins (`https://app.example.com`,
 * `http://localhost:5173`), or `*` for any. Unset: only the broker's own origin (its page at `/`).
 */

/** Longer than any real origin (scheme, host of at most 253 bytes, port). */
const MAX_ORIGIN_LENGTH = 300;

export type OriginVerdict = { ok: true } | { ok: false; reason: string };

export function parseAllowedOrigins(raw: string | undefined): { any: boolean; origins: Set<string> } | { error: string } {
  if (raw === undefined || raw.trim() === "") return { any: false, origins: new Set() };
  const entries = raw
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  if (entries.includes("*")) return entries.length === 1 ? { any: true, origins: new Set() } : { error: "ALLOWED_ORIGINS: `*` cannot be combined with other entries" };
  const origins = new Set<string>();
  for (const entry of entries) {
    const normal = normalOrigin(entry);
    if (normal === null || normal !== entry.toLowerCase().replace(/\/$/, "")) {
      return { error: `ALLOWED_ORIGINS: ${JSON.stringify(entry)} is not an origin (scheme://host[:port], no path)` };
    }
    origins.add(normal);
  }
  return { any: false, origins };
}

/** Checks an upgrade's Origin header against the allowed origins and the broker's own URL. */
export function checkOrigin(header: string | null, allowed: { any: boolean; origins: Set<string> }, requestUrl: string): OriginVerdict {
  if (header === null) return { ok: true };
  if (header.length > MAX_ORIGIN_LENGTH) return { ok: false, reason: "the Origin header is too long" };
  const origin = normalOrigin(header);
  if (origin === null) return { ok: false, reason: "the Origin header is not an origin" };
  if (allowed.any || allowed.origins.has(origin) || origin === normalOrigin(requestUrl)) return { ok: true };
  return { ok: false, reason: `origin ${origin} is not in ALLOWED_ORIGINS` };
}

/** scheme://host[:port] in lower case with default ports left out, or null if it is not one. */
function normalOrigin(text: string): string | null {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return null;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return null;
  if (url.username !== "" || url.password !== "") return null;
  return url.origin.toLowerCase();
}
