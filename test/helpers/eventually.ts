/**
 * Tests wait for events, not for time: `eventually` polls `check` until it passes. `check` may
 * assert (throw) or answer a boolean; anything but `false` ends the wait and is returned. At the
 * timeout the last failure is thrown, so the test reports what was still wrong. (`quiet` in
 * clients.ts is the other tool: a fixed window, only to prove that something does NOT happen.)
 */
export interface EventuallyOptions {
  /** How long to keep trying, in ms. */
  timeout?: number;
  /** Pause between tries, in ms. */
  interval?: number;
}

export async function eventually<T>(check: () => T | Promise<T>, { timeout = 5000, interval = 50 }: EventuallyOptions = {}): Promise<Exclude<T, false>> {
  const deadline = Date.now() + timeout;
  for (;;) {
    let failure: unknown;
    try {
      const result = await check();
      if (result !== false) return result as Exclude<T, false>;
      failure = new Error(`eventually: still false after ${timeout} ms: ${String(check).slice(0, 300)}`);
    } catch (error) {
      failure = error;
    }
    if (Date.now() >= deadline) throw failure;
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}
