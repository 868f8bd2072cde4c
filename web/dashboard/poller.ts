/**
 * Runs a task every `intervalMs`, one at a time (the next waits for the previous to finish), paused
 * while the tab is hidden and run at once when it shows again.
 */
export class Poller {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running = false;
  private again = false;
  private started = false;
  private readonly onVisibility = (): void => {
    if (document.hidden) this.clear();
    else this.runNow();
    this.onPause(document.hidden);
  };

  constructor(
    private readonly task: () => Promise<void>,
    private readonly intervalMs: number,
    private readonly onPause: (paused: boolean) => void = () => {},
  ) {}

  start(): void {
    if (this.started) return;
    this.started = true;
    document.addEventListener("visibilitychange", this.onVisibility);
    if (!document.hidden) this.runNow();
  }

  stop(): void {
    this.started = false;
    this.clear();
    document.removeEventListener("visibilitychange", this.onVisibility);
  }

  /** Runs the task now (or right after the current run) and restarts the interval. */
  runNow(): void {
    this.clear();
    if (this.running) this.again = true;
    else void this.tick();
  }

  private async tick(): Promise<void> {
    if (!this.started || document.hidden) return;
    this.running = true;
    try {
      await this.task();
    } catch {
      // The task reports its own errors.
    } finally {
      this.running = false;
    }
    if (this.started && !document.hidden) {
      this.clear();
      this.timer = setTimeout(() => void this.tick(), this.again ? 0 : this.intervalMs);
      this.again = false;
    }
  }

  private clear(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
