/**
 * The storage interface the stores and cores are written against: a Durable Object's synchronous
 * KV (`ctx.storage.kv`, SQLite-backed) has this shape, and MemoryKv stands in for it in unit
 * tests. Both pass one contract (kv-contract.ts), so the stand-in cannot drift from the real thing.
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
