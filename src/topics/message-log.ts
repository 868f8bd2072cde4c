/**
 * The durable record of a topic shard's QoS 1/2 messages until every recipient has released
 * them. One storage row (a segment) holds a whole accepted batch, so one commit covers many
 * messages; a release costs no write at all: which recipients still need which message is kept
 * in memory (metadata only, no payloads), and rows are deleted and cursors written together in
 * `flush`, debounced by the shard. After a restart the index is rebuilt from the segments, read
 * in pages, and the cursors: a recipient gets again what it had released after the last flush
 * (QoS 1 may be duplicated after a crash; sessions skip what they stored).
 */
import { messageBytes, type Message } from "../protocol/message.js";
import type { SyncKv } from "../storage/sync-kv.js";
import type { RecipientKey } from "./recipient.js";

/** A segment row stays well below the 2 MB a Durable Object value may take. */
export const SEGMENT_BYTES = 1_500_000;
/** Segments kept in memory after writing or reading them, so fan-out does not read them again. */
const CACHE_BYTES = 8 * 1024 * 1024;
const READ_PAGE = 64;

const SEG = "seg:";
const CUR = "cur:";
const SEQ = "seq";
const pad = (seq: number) => seq.toString().padStart(16, "0");

export interface LogItem {
  seq: number;
  message: Message;
  to: RecipientKey[];
}

interface IndexItem {
  seq: number;
  bytes: number;
  /** Recipients that have not released it yet. */
  open: Set<RecipientKey>;
}

interface Segment {
  key: string;
  first: number;
  last: number;
  items: IndexItem[];
  /** (item, recipient) pairs still open. */
  open: number;
}

export class MessageLog {
  private segments: Segment[] = [];
  private nextSeq: number;
  private readonly cursors = new Map<RecipientKey, number>();
  /** Open items per recipient, so a recipient with none needs no scan. */
  private readonly openCount = new Map<RecipientKey, number>();
  private readonly changed = new Set<RecipientKey>();
  private readonly gone = new Set<RecipientKey>();
  private readonly cache = new Map<string, { items: LogItem[]; bytes: number }>();
  private cacheBytes = 0;
  private bytes = 0;
  private messages = 0;
  private closedSegments = 0;

  constructor(private readonly kv: SyncKv) {
    for (const [k, cursor] of kv.list<number>({ prefix: CUR })) this.cursors.set(k.slice(CUR.length), cursor);
    let next = kv.get<number>(SEQ) ?? 1;
    let after: string | undefined;
    for (;;) {
      const page = [...kv.list<{ items: LogItem[] }>({ prefix: SEG, limit: READ_PAGE, ...(after ? { startAfter: after } : {}) })];
      if (page.length === 0) break;
      for (const [key, row] of page) {
        this.index(key, row.items, (item, r) => item.seq > (this.cursors.get(r) ?? 0));
        next = Math.max(next, row.items[row.items.length - 1]!.seq + 1);
      }
      after = page[page.length - 1]![0];
    }
    this.nextSeq = next;
  }

  /** Messages still open for at least one recipient, their bytes, and segments awaiting deletion. */
  get stats(): { messages: number; bytes: number; segments: number } {
    return { messages: this.messages, bytes: this.bytes, segments: this.segments.length };
  }

  /** Recipients with open messages (after a restart: whom to deliver to again). */
  recipients(): RecipientKey[] {
    return [...this.openCount.keys()];
  }

  /** Whether the recipient has open messages after `seq`. */
  hasOpen(key: RecipientKey): boolean {
    return (this.openCount.get(key) ?? 0) > 0;
  }

  /**
   * Stores messages for their recipients, in order, in as few rows as fit; returns them with
   * their sequence numbers. Durable once the caller's event ends (the output gate holds replies).
   */
  append(entries: { message: Message; to: RecipientKey[] }[]): LogItem[] {
    const out: LogItem[] = [];
    let chunk: LogItem[] = [];
    let sizes: number[] = [];
    let chunkBytes = 0;
    const write = () => {
      if (chunk.length === 0) return;
      const key = SEG + pad(chunk[0]!.seq);
      this.kv.put(key, { items: chunk });
      this.index(key, chunk, () => true, sizes);
      this.remember(key, chunk, chunkBytes);
      chunk = [];
      sizes = [];
      chunkBytes = 0;
    };
    for (const { message, to } of entries) {
      const bytes = messageBytes(message);
      if (chunk.length > 0 && chunkBytes + bytes > SEGMENT_BYTES) write();
      const item: LogItem = { seq: this.nextSeq++, message, to };
      chunk.push(item);
      sizes.push(bytes);
      chunkBytes += bytes;
      out.push(item);
    }
    write();
    return out;
  }

  /** Open messages of a recipient after `after`, in order, within the byte and count limits (at least one). */
  read(key: RecipientKey, after: number, maxBytes: number, maxCount: number): LogItem[] {
    const out: LogItem[] = [];
    if (!this.hasOpen(key)) return out;
    let bytes = 0;
    for (let i = this.segmentAfter(after); i < this.segments.length; i++) {
      const segment = this.segments[i]!;
      let rows: LogItem[] | undefined;
      for (let n = 0; n < segment.items.length; n++) {
        const item = segment.items[n]!;
        if (item.seq <= after || !item.open.has(key)) continue;
        if (out.length > 0 && (bytes + item.bytes > maxBytes || out.length >= maxCount)) return out;
        rows ??= this.load(segment);
        out.push(rows[n]!);
        bytes += item.bytes;
      }
    }
    return out;
  }

  /** The recipient no longer needs this message. */
  release(key: RecipientKey, seq: number): void {
    const i = this.segmentAfter(seq - 1);
    const segment = this.segments[i];
    if (!segment || segment.first > seq) return;
    const item = segment.items.find((it) => it.seq === seq);
    if (item) this.close(segment, item, key);
  }

  /** The recipient no longer needs anything up to `upTo`. */
  releaseUpTo(key: RecipientKey, upTo: number): void {
    if (!this.hasOpen(key)) return;
    const from = this.cursorHint(key);
    for (let i = this.segmentAfter(from); i < this.segments.length; i++) {
      const segment = this.segments[i]!;
      if (segment.first > upTo) break;
      for (const item of segment.items) {
        if (item.seq > upTo) break;
        this.close(segment, item, key);
      }
    }
  }

  /**
   * The recipient is gone: it needs nothing any more. Its cursor stays while a segment could
   * still name it, so a restart does not hand it its old messages again.
   */
  releaseAll(key: RecipientKey): void {
    this.releaseUpTo(key, Number.MAX_SAFE_INTEGER);
    this.changed.add(key);
    this.gone.add(key);
  }

  /** Whether `flush` has work: segments to delete or cursors to write. */
  get dirty(): boolean {
    return this.closedSegments > 0 || this.changed.size > 0 || this.gone.size > 0;
  }

  /**
   * Deletes fully released segments and writes the cursors that moved, in one commit. Until it
   * runs, a restart only redelivers what was already released.
   */
  flush(): void {
    if (this.closedSegments > 0) {
      this.segments = this.segments.filter((segment) => {
        if (segment.open > 0) return true;
        this.kv.delete(segment.key);
        this.forget(segment.key);
        return false;
      });
      this.closedSegments = 0;
      this.kv.put(SEQ, this.nextSeq);
    }
    for (const key of this.changed) this.kv.put(CUR + key, this.cursorOf(key));
    this.changed.clear();
    const oldest = this.segments[0]?.first ?? this.nextSeq;
    for (const key of this.gone) {
      if (this.hasOpen(key) || (this.cursors.get(key) ?? 0) >= oldest) continue;
      // Every segment left is newer than anything the gone recipient had: its cursor can go.
      this.gone.delete(key);
      if (this.cursors.delete(key)) this.kv.delete(CUR + key);
    }
  }

  /** Highest sequence below every open message of the recipient (it moves only forward). */
  private cursorOf(key: RecipientKey): number {
    const from = this.cursorHint(key);
    let cursor = this.nextSeq - 1;
    if (this.hasOpen(key)) {
      search: for (let i = this.segmentAfter(from); i < this.segments.length; i++) {
        for (const item of this.segments[i]!.items) {
          if (item.seq > from && item.open.has(key)) {
            cursor = item.seq - 1;
            break search;
          }
        }
      }
    }
    this.cursors.set(key, cursor);
    return cursor;
  }

  private cursorHint(key: RecipientKey): number {
    return this.cursors.get(key) ?? 0;
  }

  /** Indexes a segment's items; `sizes` are their messageBytes when the caller has them. */
  private index(key: string, items: LogItem[], isOpen: (item: LogItem, r: RecipientKey) => boolean, sizes?: number[]): void {
    const segment: Segment = { key, first: items[0]!.seq, last: items[items.length - 1]!.seq, items: [], open: 0 };
    for (const [n, item] of items.entries()) {
      const open = new Set(item.to.filter((r) => isOpen(item, r)));
      const bytes = sizes?.[n] ?? messageBytes(item.message);
      segment.items.push({ seq: item.seq, bytes, open });
      segment.open += open.size;
      for (const r of open) this.openCount.set(r, (this.openCount.get(r) ?? 0) + 1);
      if (open.size > 0) {
        this.messages++;
        this.bytes += bytes;
      }
    }
    this.segments.push(segment);
    if (segment.open === 0) this.closedSegments++;
  }

  private close(segment: Segment, item: IndexItem, key: RecipientKey): void {
    if (!item.open.delete(key)) return;
    this.changed.add(key);
    const left = (this.openCount.get(key) ?? 1) - 1;
    if (left > 0) this.openCount.set(key, left);
    else this.openCount.delete(key);
    if (item.open.size === 0) {
      this.messages--;
      this.bytes -= item.bytes;
    }
    if (--segment.open === 0) this.closedSegments++;
  }

  /** Index of the first segment whose last sequence is above `seq`. */
  private segmentAfter(seq: number): number {
    let lo = 0;
    let hi = this.segments.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.segments[mid]!.last <= seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private load(segment: Segment): LogItem[] {
    const cached = this.cache.get(segment.key);
    if (cached) return cached.items;
    const items = this.kv.get<{ items: LogItem[] }>(segment.key)?.items ?? [];
    this.remember(
      segment.key,
      items,
      segment.items.reduce((n, it) => n + it.bytes, 0),
    );
    return items;
  }

  /** Keeps a segment's messages in memory within CACHE_BYTES, dropping the oldest first. */
  private remember(key: string, items: LogItem[], bytes: number): void {
    if (bytes > CACHE_BYTES) return;
    this.cache.set(key, { items, bytes });
    this.cacheBytes += bytes;
    for (const [old, entry] of this.cache) {
      if (this.cacheBytes <= CACHE_BYTES) break;
      this.cache.delete(old);
      this.cacheBytes -= entry.bytes;
    }
  }

  private forget(key: string): void {
    const entry = this.cache.get(key);
    if (!entry) return;
    this.cache.delete(key);
    this.cacheBytes -= entry.bytes;
  }
}
