/**
 * Recent takeovers of one client id, to detect a storm: two browser tabs (or two devices) with
 * the same id, each reconnecting when the other takes the session, would otherwise flap for ever
 * and fire wills on every swap. Memory only; at most `limit` timestamps are kept.
 */
const WINDOW_MS = 60_000;

export class Takeovers {
  private times: number[] = [];

  /** A takeover is wanted now: true (and counted) if fewer than `limit` happened in the last minute. */
  allow(now: number, limit: number): boolean {
    this.times = this.times.filter((t) => now - t < WINDOW_MS);
    if (this.times.length >= limit) return false;
    this.times.push(now);
    return true;
  }
}
