/**
 * An in-memory stand-in with the semantics of a Durable Object's synchronous KV storage
 * (`ctx.storage.kv`): values are copied on write and read, and `list` is ordered by key.
 * Unit tests run the stores on it; the Durable Objects run them on the real thing.
 */

export interface SyncKv {
  get<T = unknown>(key: string): T | undefined;
  put<T>(key: string, value: T): void;
  delete(key: string): boolean;
  list<T = unknown>(options?: { prefix?: string }): Iterable<[string, T]>;
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

  *list<T>(options: { prefix?: string } = {}): Iterable<[string, T]> {
    const prefix = options.prefix ?? "";
    const keys = [...this.map.keys()].filter((k) => k.startsWith(prefix)).sort();
    for (const key of keys) yield [key, structuredClone(this.map.get(key)) as T];
  }
}
