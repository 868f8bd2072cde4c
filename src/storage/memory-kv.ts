/**
 * An in-memory stand-in with the semantics of a Durable Object's synchronous KV storage
 * (`ctx.storage.kv`): values are copied on write and read, and `list` is ordered by key.
 * Unit tests run the stores on it; the Durable Objects run them on the real thing.
 */

export interface SyncKvListOptions {
  prefix?: string;
  /** First key to include. */
  start?: string;
  /** First key after this one. */
  startAfter?: string;
  /** Keys before this one. */
  end?: string;
  reverse?: boolean;
  limit?: number;
}

export interface SyncKv {
  get<T = unknown>(key: string): T | undefined;
  put<T>(key: string, value: T): void;
  delete(key: string): boolean;
  list<T = unknown>(options?: SyncKvListOptions): Iterable<[string, T]>;
}

export class MemoryKv implements SyncKv {
  private readonly map = new Map<string, unknown>();

  get<T>(key: string): T | undefined {
    const value = this.map.get(key);
    return value === undefined ? undefined : (structuredClone(value) as T);
  }

  put<T>(key: string, value: T): void {
    this.map.set(key, structuredClone(value));
  }

  delete(key: string): boolean {
    return this.map.delete(key);
  }

  *list<T>(options: SyncKvListOptions = {}): Iterable<[string, T]> {
    const { prefix = "", start, startAfter, end, reverse, limit } = options;
    const keys = [...this.map.keys()]
      .filter((k) => k.startsWith(prefix) && (start === undefined || k >= start) && (startAfter === undefined || k > startAfter) && (end === undefined || k < end))
      .sort();
    if (reverse) keys.reverse();
    for (const key of keys.slice(0, limit ?? keys.length)) yield [key, structuredClone(this.map.get(key)) as T];
  }
}
