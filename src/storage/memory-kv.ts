/**
 * An in-memory stand-in with the semantics of a Durable Object's synchronous KV storage
 * (`ctx.storage.kv`): values are copied on write and read, and `list` is ordered by key as SQLite
 * orders it. Unit tests run the stores on it; the Durable Objects run them on the real thing. Both
 * pass the same contract (kv-contract.ts).
 */

import type { SyncKv, SyncKvListOptions } from "./sync-kv.js";

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
      .filter(
        (k) => k.startsWith(prefix) && (start === undefined || byteOrder(k, start) >= 0) && (startAfter === undefined || byteOrder(k, startAfter) > 0) && (end === undefined || byteOrder(k, end) < 0),
      )
      .sort(byteOrder);
    if (reverse) keys.reverse();
    for (const key of keys.slice(0, limit ?? keys.length)) yield [key, structuredClone(this.map.get(key)) as T];
  }
}

/**
 * SQLite orders keys by their UTF-8 bytes, which is code point order; JavaScript's `<` compares
 * UTF-16 code units, which puts U+10000 and above before U+E000–U+FFFF.
 */
function byteOrder(a: string, b: string): number {
  const x = a[Symbol.iterator]();
  const y = b[Symbol.iterator]();
  for (;;) {
    const p = x.next();
    const q = y.next();
    if (p.done || q.done) return p.done && q.done ? 0 : p.done ? -1 : 1;
    const d = p.value.codePointAt(0)! - q.value.codePointAt(0)!;
    if (d !== 0) return d;
  }
}
