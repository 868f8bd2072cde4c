/**
 * A token bucket: so many units (bytes, messages) per second, at most two seconds' worth saved
 * up. It bounds what a connection may be sent of QoS 0 messages (Workers expose no
 * `bufferedAmount` on a WebSocket, workerd issue #988, so the broker cannot see a client that
 * stops reading; without a budget, QoS 0 messages for it pile up in the runtime's send buffer:
 * review finding F7), and what a connection may publish (messages and bytes per second).
 */
export class RateBudget {
  private tokens: number;
  private at: number;

  constructor(
    private readonly perSecond: number,
    now: number,
  ) {
    this.tokens = this.capacity;
    this.at = now;
  }

  get capacity(): number {
    return 2 * this.perSecond;
  }

  /** Spends `units` if the budget has them now; false (nothing spent) if not. */
  take(units: number, now: number): boolean {
    this.refill(now);
    if (units > this.tokens) return false;
    this.tokens -= units;
    return true;
  }

  /** Spends `units` that must be spent anyway (retained messages for a new subscription): it may go into debt. */
  charge(units: number, now: number): void {
    this.refill(now);
    this.tokens -= units;
  }

  /** Milliseconds until the budget is out of debt (0 if it is not in debt). */
  debtMs(now: number): number {
    this.refill(now);
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens * 1000) / this.perSecond);
  }

  private refill(now: number): void {
    if (now <= this.at) return;
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.at) * this.perSecond) / 1000);
    this.at = now;
  }
}
