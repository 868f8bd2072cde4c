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

const LEVELS = { debug: 0, info: 1, warn: 2, error: 3 } as const;
export type LogLevel = keyof typeof LEVELS;
let threshold: number = LEVELS.info;

/** LOG_LEVEL: the least severe line printed (debug, info, warn, error; default info). */
export function setLogLevel(level: string | undefined): void {
  threshold = level !== undefined && level in LEVELS ? LEVELS[level as LogLevel] : LEVELS.info;
}

export const writerFor = (level: LogLevel): Write => {
  if (LEVELS[level] < threshold) return () => {};
  return level === "warn" ? console.warn : level === "error" ? console.error : console.log;
};

/** One line at `level`, with its time, if LOG_LEVEL lets it through. */
export function logLine(level: LogLevel, line: string): void {
  writerFor(level)(stamp(line));
}

/** A log line with its time first (workerd's own output has none). */
export const stamp = (line: string): string => `${new Date().toISOString()} ${line}`;

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
    this.observer?.count(counter);
    return (this.counts[counter] = (this.counts[counter] ?? 0) + 1);
  }

  /** `observer` hears every count and every line actually logged (the stats reporter). */
  observer: { count(counter: string): void; logged(level: "info" | "warn", counter: string, line: string): void } | undefined;

  log(level: "info" | "warn", message: string, counter?: string): void {
    const write = writerFor(level);
    if (!counter) {
      write(stamp(`${this.who}: ${message}`));
      return;
    }
    const observed = (line: string) => {
      write(stamp(line));
      this.observer?.logged(level, counter, line);
    };
    this.limiter.logCounted(observed, `${this.who}: ${message}`, counter, this.count(counter));
  }
}
