/**
 * Counters of an object's notable events (drops at a limit, failures) with their log lines:
 * every event is counted, and a counted event is logged at most every 5 s, saying how many it
 * stands for, so a flood of drops cannot flood the log. `RateLimitedLog` keeps its counts in
 * memory; the session's `Counters` keep theirs in storage and share the rate limit (`logCounted`).
 */

export const LOG_EVERY_MS = 5000;

type Write = (line: string) => void;

/** One log line per counter per LOG_EVERY_MS; the next says how many were left out. */
export class LogLimiter {
  private readonly lastLogged = new Map<string, { at: number; suppressed: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  logCounted(write: Write, line: string, counter: string, total: number): void {
    const now = this.now();
    const last = this.lastLogged.get(counter);
    if (last && now - last.at < LOG_EVERY_MS) {
      last.suppressed++;
      return;
    }
    const more = last?.suppressed ? ` (and ${last.suppressed} more like it; ${counter}=${total})` : "";
    this.lastLogged.set(counter, { at: now, suppressed: 0 });
    write(`${line}${more}`);
  }
}

export const writerFor = (level: "info" | "warn"): Write => (level === "warn" ? console.warn : console.log);

export class RateLimitedLog {
  private readonly counts: Record<string, number> = {};
  private readonly limiter: LogLimiter;

  constructor(
    private readonly who: string,
    now: () => number = Date.now,
  ) {
    this.limiter = new LogLimiter(now);
  }

  snapshot(): Record<string, number> {
    return { ...this.counts };
  }

  count(counter: string): number {
    return (this.counts[counter] = (this.counts[counter] ?? 0) + 1);
  }

  log(level: "info" | "warn", message: string, counter?: string): void {
    const write = writerFor(level);
    if (!counter) return write(`${this.who}: ${message}`);
    this.limiter.logCounted(write, `${this.who}: ${message}`, counter, this.count(counter));
  }
}
