/**
 * Counters of an object's notable events (drops at a limit, failures) with their log lines:
 * every event is counted, and a counted event is logged at most every 5 s, saying how many it
 * stands for, so a flood of drops cannot flood the log.
 */

export const LOG_EVERY_MS = 5000;

export class RateLimitedLog {
  private readonly counts: Record<string, number> = {};
  private readonly lastLogged = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly who: string,
    private readonly now: () => number = Date.now,
  ) {}

  snapshot(): Record<string, number> {
    return { ...this.counts };
  }

  count(counter: string): number {
    return (this.counts[counter] = (this.counts[counter] ?? 0) + 1);
  }

  log(level: "info" | "warn", message: string, counter?: string): void {
    const write = level === "warn" ? console.warn : console.log;
    if (!counter) return write(`${this.who}: ${message}`);
    const total = this.count(counter);
    const now = this.now();
    const last = this.lastLogged.get(counter);
    if (last && now - last.at < LOG_EVERY_MS) {
      last.suppressed++;
      return;
    }
    const more = last?.suppressed ? ` (and ${last.suppressed} more like it; ${counter}=${total})` : "";
    this.lastLogged.set(counter, { at: now, suppressed: 0 });
    write(`${this.who}: ${message}${more}`);
  }
}
