/**
 * How many bytes of QoS 0 messages a connection may be sent: a token bucket refilled at a fixed
 * rate, holding at most two seconds' worth. Workers expose no `bufferedAmount` on a WebSocket
 * (workerd issue #988), so the broker cannot see a client that stops reading; without a budget,
 * QoS 0 messages for it pile up in the runtime's send buffer until the object is reset (review
 * finding F7). QoS 1/2 need none: the in-flight window waits for the client's acknowledgements.
 */
export class ByteBudget {
  private tokens: number;
  private at: number;

  constructor(
    private readonly bytesPerSecond: number,
    now: number,
  ) {
    this.tokens = this.capacity;
    this.at = now;
  }

  get capacity(): number {
    return 2 * this.bytesPerSecond;
  }

  /** Spends `bytes` if the budget has them now; false (nothing spent) if not. */
  take(bytes: number, now: number): boolean {
    this.refill(now);
    if (bytes > this.tokens) return false;
    this.tokens -= bytes;
    return true;
  }

  /** Spends `bytes` that must be sent anyway (retained messages for a new subscription): it may go into debt. */
  charge(bytes: number, now: number): void {
    this.refill(now);
    this.tokens -= bytes;
  }

  /** Milliseconds until the budget is out of debt (0 if it is not in debt). */
  debtMs(now: number): number {
    this.refill(now);
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens * 1000) / this.bytesPerSecond);
  }

  private refill(now: number): void {
    if (now <= this.at) return;
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.at) * this.bytesPerSecond) / 1000);
    this.at = now;
  }
}
