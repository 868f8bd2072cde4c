/**
 * A session object's counters (messages dropped at a limit, errors, wills published) and its
 * log lines. Every event is counted; a counted event is logged at most every 5 s, saying how
 * many it stands for, so a flood of drops cannot flood the log. Counters are kept in memory and
 * written once per event (`save`), not once per count.
 */
import { LogLimiter, stamp, writerFor } from "../objects/rate-limited-log.js";
import type { SyncKv } from "../storage/sync-kv.js";

const KEY = "stats";

export class Counters {
  private values: Record<string, number> | undefined;
  private dirty = false;
  private readonly limiter = new LogLimiter();

  /** `observer` hears every count and every line actually logged (the stats reporter). */
  constructor(
    private readonly kv: SyncKv,
    private readonly observer?: { count(counter: string): void; logged(level: "info" | "warn", counter: string, line: string): void },
  ) {}

  snapshot(): Record<string, number> {
    return { ...this.load() };
  }

  count(counter: string): number {
    const values = this.load();
    values[counter] = (values[counter] ?? 0) + 1;
    this.dirty = true;
    this.observer?.count(counter);
    return values[counter];
  }

  log(level: "info" | "warn", message: string, counter?: string): void {
    const write = writerFor(level);
    if (!counter) {
      write(stamp(`session: ${message}`));
      return;
    }
    const observed = (line: string) => {
      write(stamp(line));
      this.observer?.logged(level, counter, line);
    };
    this.limiter.logCounted(observed, `session: ${message}`, counter, this.count(counter));
  }

  /** The session ended (its storage was cleared): counting starts again from nothing. */
  forget(): void {
    this.values = {};
    this.dirty = false;
  }

  save(): void {
    if (!this.dirty || !this.values) return;
    this.kv.put(KEY, this.values);
    this.dirty = false;
  }

  private load(): Record<string, number> {
    return (this.values ??= this.kv.get<Record<string, number>>(KEY) ?? {});
  }
}
