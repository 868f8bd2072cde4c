/**
 * The one timer a shell keeps for its edge connection (the Worker pipe, the gateway's bridge):
 * armed at the machine's `nextDeadline()` after every event. It is moved only to an earlier
 * time; a later or no deadline leaves it as it is, and when it fires early the machine finds
 * nothing due and the next sync arms it at the real deadline. So a client that splits each
 * packet over frames (a stall deadline that comes and goes) costs no timer churn per frame.
 * Plain setTimeout, the same in workerd and Node.
 */
export class DeadlineTimer {
  private at: number | null = null;
  private handle: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly fire: () => void) {}

  sync(at: number | null, now: number): void {
    if (at === this.at || (this.at !== null && (at === null || at > this.at))) return;
    this.cancel();
    this.at = at;
    if (at === null) return;
    this.handle = setTimeout(
      () => {
        // Fired: the next sync arms again even for the same time (a timer may fire a little early).
        this.at = null;
        this.handle = undefined;
        this.fire();
      },
      Math.max(0, at - now),
    );
  }

  cancel(): void {
    if (this.handle !== undefined) clearTimeout(this.handle);
    this.handle = undefined;
    this.at = null;
  }
}
