import { describe, expect, it } from "vitest";
import { checkOrigin, parseAllowedOrigins } from "./origin.js";

const SELF = "http://127.0.0.1:8787/mqtt";
const allowed = (raw?: string) => {
  const parsed = parseAllowedOrigins(raw);
  if ("error" in parsed) throw new Error(parsed.error);
  return parsed;
};

describe("ALLOWED_ORIGINS", () => {
  it("lets native clients (no Origin) and the broker's own page in by default, and no other page", () => {
    expect(checkOrigin(null, allowed(), SELF)).toEqual({ ok: true });
    expect(checkOrigin("http://127.0.0.1:8787", allowed(), SELF)).toEqual({ ok: true });
    expect(checkOrigin("https://evil.example", allowed(), SELF)).toEqual({ ok: false, reason: "origin https://evil.example is not in ALLOWED_ORIGINS" });
  });

  it("matches listed origins exactly: scheme, host and port", () => {
    const list = allowed("https://app.example.com, http://localhost:5173");
    expect(checkOrigin("https://app.example.com", list, SELF).ok).toBe(true);
    expect(checkOrigin("https://APP.example.com:443", list, SELF).ok).toBe(true);
    expect(checkOrigin("http://app.example.com", list, SELF).ok).toBe(false);
    expect(checkOrigin("https://app.example.com:8443", list, SELF).ok).toBe(false);
    expect(checkOrigin("https://app.example.com.evil.example", list, SELF).ok).toBe(false);
    expect(checkOrigin("http://localhost:5173", list, SELF).ok).toBe(true);
  });

  it("`*` lets any page in", () => {
    expect(checkOrigin("https://anything.example", allowed("*"), SELF).ok).toBe(true);
  });

  it("refuses oversized and malformed Origin headers", () => {
    expect(checkOrigin(`https://${"a".repeat(400)}.example`, allowed("*"), SELF)).toEqual({ ok: false, reason: "the Origin header is too long" });
    for (const bad of ["null", "not a url", "file:///etc/passwd", "https://user:pw@app.example.com"]) {
      expect(checkOrigin(bad, allowed("*"), SELF)).toEqual({ ok: false, reason: "the Origin header is not an origin" });
    }
  });

  it("names a bad entry", () => {
    expect(parseAllowedOrigins("https://app.example.com/path")).toEqual({ error: 'ALLOWED_ORIGINS: "https://app.example.com/path" is not an origin (scheme://host[:port], no path)' });
    expect(parseAllowedOrigins("*, https://a.example")).toEqual({ error: "ALLOWED_ORIGINS: `*` cannot be combined with other entries" });
  });
});
