/**
 * Stubs of other Durable Objects, kept for reuse (making one per call showed in profiles) and
 * bounded in number. A stub that threw is dropped at once: after an infrastructure error every
 * later call on the same stub fails too, and Cloudflare says to make a new one (review finding
 * F3: one reset of a peer cut it off for good).
 */

/** Stubs kept; the least recently used goes first. */
export const MAX_STUBS = 1024;

export class StubCache<S> {
  private readonly stubs = new Map<string, S>();

  constructor(private readonly make: (name: string) => S) {}

  get size(): number {
    return this.stubs.size;
  }

  async call<T>(name: string, fn: (stub: S) => Promise<T>): Promise<T> {
    const stub = this.get(name);
    try {
      return await fn(stub);
    } catch (error) {
      if (this.stubs.get(name) === stub) this.stubs.delete(name);
      throw error;
    }
  }

  private get(name: string): S {
    let stub = this.stubs.get(name);
    if (stub) {
      // Most recently used last.
      this.stubs.delete(name);
    } else {
      stub = this.make(name);
      if (this.stubs.size >= MAX_STUBS) this.stubs.delete(this.stubs.keys().next().value!);
    }
    this.stubs.set(name, stub);
    return stub;
  }
}
