/**
 * A SyncKv that counts what it costs: Cloudflare bills SQLite-backed Durable Objects per row
 * written (a put or a delete) and per row read. The counts are kept in memory since the object
 * started and shown in its stats, so the benchmark can report rows per message delivered.
 */
import type { SyncKv, SyncKvListOptions } from "./sync-kv.js";

export interface CostCounters {
  /** Changes when the object restarts: counts from an earlier instance do not carry over. */
  instance: string;
  rowsWritten: number;
  rowsRead: number;
  /** RPC calls and HTTP requests the object received. */
  requests: number;
  /** WebSocket messages the object received (billed 20:1 as requests). */
  wsMessagesIn: number;
}

export function newCostCounters(): CostCounters {
  return { instance: crypto.randomUUID(), rowsWritten: 0, rowsRead: 0, requests: 0, wsMessagesIn: 0 };
}

export class CountingKv implements SyncKv {
  constructor(
    private readonly kv: SyncKv,
    readonly cost: CostCounters = newCostCounters(),
  ) {}

  get<T = unknown>(key: string): T | undefined {
    const value = this.kv.get<T>(key);
    if (value !== undefined) this.cost.rowsRead++;
    return value;
  }

  put<T>(key: string, value: T): void {
    this.cost.rowsWritten++;
    this.kv.put(key, value);
  }

  delete(key: string): boolean {
    this.cost.rowsWritten++;
    return this.kv.delete(key);
  }

  *list<T = unknown>(options?: SyncKvListOptions): Iterable<[string, T]> {
    for (const row of this.kv.list<T>(options)) {
      this.cost.rowsRead++;
      yield row;
    }
  }
}
