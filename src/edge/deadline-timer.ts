/**
 * The one timer a shell keeps for its edge connection (the Worker pipe, the gateway's bridge):
 * armed at the machine's `nextDeadline()` after every event, and moved only when that changes,
 * so ordinary packets cost no timer churn. Plain setTimeout, the same in workerd and Node.
 */
export class DeadlineTimer {
  private at: number | null = null;
  private handle: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly fire: () => void) {}

  sync(at: number | null, now: number): void {
    if (at === this.at) return;
    this.cancel();
    this.at = at;
    if (at === null) return;
    this.handle = setTimeout(() => {
      // Fired: the next sync arms again even for the same time (a timer may fire a little early).
      this.at = null;
      this.handle = undefined;
      this.fire();
    }, Math.max(0, at - now));
  }

  cancel(): void {
    if (this.handle !== undefined) clearTimeout(this.handle);
    this.handle = undefined;
    this.at = null;
  }
}
