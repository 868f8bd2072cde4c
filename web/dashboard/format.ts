/** Pure formatting for the console: counts, durations, bytes, rates, times. No DOM, no state. */

const countFormat = new Intl.NumberFormat("en", { maximumFractionDigits: 0 });
const rateFormat = new Intl.NumberFormat("en", { maximumFractionDigits: 1 });

/** 1234567 → "1,234,567". */
export function formatCount(n: number): string {
  return Number.isFinite(n) ? countFormat.format(n) : "—";
}

/** Messages per second: 0.25 → "0.3/s", 1234.5 → "1,234.5/s". */
export function formatRate(perSecond: number): string {
  return Number.isFinite(perSecond) ? `${rateFormat.format(perSecond)}/s` : "—";
}

/** Seconds → the two largest units: "45 s", "3 min 20 s", "5 h 2 min", "12 d 3 h". */
export function formatDuration(totalSeconds: number): string {
  if (!Number.isFinite(totalSeconds) || totalSeconds < 0) return "—";
  const s = Math.floor(totalSeconds);
  const units: [string, number][] = [
    ["d", Math.floor(s / 86_400)],
    ["h", Math.floor(s / 3_600) % 24],
    ["min", Math.floor(s / 60) % 60],
    ["s", s % 60],
  ];
  const first = units.findIndex(([, v]) => v > 0);
  if (first === -1) return "0 s";
  return units
    .slice(first, first + 2)
    .filter(([, v]) => v > 0)
    .map(([u, v]) => `${v} ${u}`)
    .join(" ");
}

/** Bytes in binary units: 512 → "512 B", 1536 → "1.5 KiB". */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return "—";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

/** How long ago an epoch-ms instant was, relative to `now`: "just now", "5 min ago", "in 3 s" (clock skew). */
export function formatAgo(epochMs: number, now: number): string {
  if (!Number.isFinite(epochMs)) return "—";
  const seconds = Math.round((now - epochMs) / 1000);
  if (Math.abs(seconds) < 2) return "just now";
  return seconds > 0 ? `${formatDuration(seconds)} ago` : `in ${formatDuration(-seconds)}`;
}

/** Local wall-clock time "14:03:07" (24 h). */
export function formatClock(epochMs: number): string {
  const d = new Date(epochMs);
  if (Number.isNaN(d.getTime())) return "—";
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, "0")).join(":");
}

/** An ISO 8601 timestamp for `<time datetime>` and tooltips; "" when invalid. */
export function isoTime(epochMs: number): string {
  const d = new Date(epochMs);
  return Number.isNaN(d.getTime()) ? "" : d.toISOString();
}

/** The protocol level as operators say it: 4 → "3.1.1", 5 → "5.0". */
export function protocolName(level: number | undefined): string {
  if (level === 4) return "3.1.1";
  if (level === 5) return "5.0";
  return "—";
}

/** A "nice" axis maximum ≥ v: 1, 2, 5 × 10^n (never below 1). */
export function niceCeiling(v: number): number {
  if (!Number.isFinite(v) || v <= 1) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}
