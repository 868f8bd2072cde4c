/**
 * The message log: a ring buffer with a cap in messages and in bytes. When either is exceeded
 * the oldest messages are dropped (and counted); a message is never cut. Pure.
 */
export interface MessageProps {
  payloadFormat?: number;
  messageExpiry?: number;
  contentType?: string;
  responseTopic?: string;
  correlationData?: Uint8Array;
  userProperties?: [string, string][];
  subscriptionIds?: number[];
}

export interface LoggedMessage {
  /** Position in the log's history: consecutive, never reused. */
  seq: number;
  /** ms since the epoch */
  time: number;
  dir: "in" | "out";
  topic: string;
  payload: Uint8Array;
  qos: 0 | 1 | 2;
  retain: boolean;
  dup: boolean;
  props?: MessageProps;
}

export type NewMessage = Omit<LoggedMessage, "seq">;

export interface LogLimits {
  maxMessages: number;
  maxBytes: number;
}

export const DEFAULT_LIMITS: LogLimits = { maxMessages: 100_000, maxBytes: 64 * 1024 * 1024 };

/** What a message costs in memory, roughly: payload, topic (UTF-16), properties and the object itself. */
export function messageBytes(m: NewMessage): number {
  let props = 0;
  if (m.props) {
    const p = m.props;
    props = 64 + 2 * ((p.contentType?.length ?? 0) + (p.responseTopic?.length ?? 0)) + (p.correlationData?.length ?? 0);
    for (const [k, v] of p.userProperties ?? []) props += 32 + 2 * (k.length + v.length);
  }
  return 96 + m.payload.byteLength + 2 * m.topic.length + props;
}

export class MessageLog {
  private ring: (LoggedMessage | undefined)[];
  private sizes: Float64Array;
  private head = 0;
  private count = 0;
  private limits: LogLimits;
  /** seq of the oldest message kept (== nextSeq when empty). */
  firstSeq = 0;
  nextSeq = 0;
  bytes = 0;
  droppedMessages = 0;
  droppedBytes = 0;

  constructor(limits: LogLimits = DEFAULT_LIMITS) {
    this.limits = checkLimits(limits);
    this.ring = new Array(this.limits.maxMessages);
    this.sizes = new Float64Array(this.limits.maxMessages);
  }

  get size(): number {
    return this.count;
  }

  getLimits(): LogLimits {
    return { ...this.limits };
  }

  push(message: NewMessage): LoggedMessage {
    const size = messageBytes(message);
    const m: LoggedMessage = { ...message, seq: this.nextSeq++ };
    // A message larger than the byte cap on its own is kept alone (the newest is always shown).
    while (this.count > 0 && (this.count >= this.limits.maxMessages || this.bytes + size > this.limits.maxBytes)) this.dropOldest();
    const slot = (this.head + this.count) % this.ring.length;
    this.ring[slot] = m;
    this.sizes[slot] = size;
    this.count++;
    this.bytes += size;
    if (this.count === 1) this.firstSeq = m.seq;
    return m;
  }

  get(seq: number): LoggedMessage | undefined {
    if (seq < this.firstSeq || seq >= this.nextSeq || this.count === 0) return undefined;
    return this.ring[(this.head + (seq - this.firstSeq)) % this.ring.length];
  }

  /** Oldest first. */
  *messages(fromSeq = this.firstSeq): IterableIterator<LoggedMessage> {
    for (let seq = Math.max(fromSeq, this.firstSeq); seq < this.nextSeq; seq++) {
      const m = this.get(seq);
      if (m) yield m;
    }
  }

  setLimits(limits: LogLimits): void {
    const next = checkLimits(limits);
    const kept = [...this.messages()];
    const sizes = kept.map((m) => this.sizes[(this.head + (m.seq - this.firstSeq)) % this.ring.length]!);
    this.limits = next;
    this.ring = new Array(next.maxMessages);
    this.sizes = new Float64Array(next.maxMessages);
    this.head = 0;
    this.count = 0;
    let bytes = 0;
    let start = 0;
    // Keep the newest that fit.
    let total = sizes.reduce((a, b) => a + b, 0);
    while (start < kept.length && (kept.length - start > next.maxMessages || (total > next.maxBytes && kept.length - start > 1))) {
      total -= sizes[start]!;
      this.droppedMessages++;
      this.droppedBytes += sizes[start]!;
      start++;
    }
    for (let i = start; i < kept.length; i++) {
      this.ring[this.count] = kept[i];
      this.sizes[this.count] = sizes[i]!;
      bytes += sizes[i]!;
      this.count++;
    }
    this.bytes = bytes;
    this.firstSeq = this.count > 0 ? kept[start]!.seq : this.nextSeq;
  }

  /** Empties the log (what was cleared is not counted as dropped). */
  clear(): void {
    this.ring.fill(undefined);
    this.head = 0;
    this.count = 0;
    this.bytes = 0;
    this.firstSeq = this.nextSeq;
  }

  private dropOldest(): void {
    const size = this.sizes[this.head]!;
    this.ring[this.head] = undefined;
    this.head = (this.head + 1) % this.ring.length;
    this.count--;
    this.bytes -= size;
    this.droppedMessages++;
    this.droppedBytes += size;
    this.firstSeq++;
  }
}

function checkLimits(limits: LogLimits): LogLimits {
  const maxMessages = Math.floor(limits.maxMessages);
  const maxBytes = Math.floor(limits.maxBytes);
  if (!(maxMessages >= 1 && maxMessages <= 10_000_000)) throw new RangeError("the message cap must be between 1 and 10,000,000");
  if (!(maxBytes >= 1024)) throw new RangeError("the byte cap must be at least 1 KiB");
  return { maxMessages, maxBytes };
}

/**
 * The messages of a log that pass a filter, newest first, kept up to date incrementally: each
 * sync() looks only at what arrived since, and forgets what the log dropped.
 */
export class MessageView {
  private seqs: number[] = [];
  private start = 0;
  private syncedTo: number;

  constructor(
    private readonly log: MessageLog,
    private predicate?: (m: LoggedMessage) => boolean,
  ) {
    this.syncedTo = log.firstSeq;
    this.sync();
  }

  get filtered(): boolean {
    return this.predicate !== undefined;
  }

  setPredicate(predicate: ((m: LoggedMessage) => boolean) | undefined): void {
    this.predicate = predicate;
    this.seqs = [];
    this.start = 0;
    this.syncedTo = this.log.firstSeq;
    this.sync();
  }

  /** Takes in what arrived since the last sync; returns how many of them pass the filter. */
  sync(): number {
    const log = this.log;
    const from = Math.max(this.syncedTo, log.firstSeq);
    this.syncedTo = log.nextSeq;
    if (!this.predicate) return log.nextSeq - from;
    while (this.start < this.seqs.length && this.seqs[this.start]! < log.firstSeq) this.start++;
    if (this.start > 4096 && this.start * 2 > this.seqs.length) {
      this.seqs = this.seqs.slice(this.start);
      this.start = 0;
    }
    let added = 0;
    for (let seq = from; seq < log.nextSeq; seq++) {
      const m = log.get(seq);
      if (m && this.predicate(m)) {
        this.seqs.push(seq);
        added++;
      }
    }
    return added;
  }

  get length(): number {
    if (!this.predicate) return this.log.size;
    let start = this.start;
    while (start < this.seqs.length && this.seqs[start]! < this.log.firstSeq) start++;
    return this.seqs.length - start;
  }

  /** The i-th message, newest first (i = 0 is the newest). */
  at(i: number): LoggedMessage | undefined {
    if (!this.predicate) return this.log.get(this.log.nextSeq - 1 - i);
    const seq = this.seqs[this.seqs.length - 1 - i];
    return seq === undefined ? undefined : this.log.get(seq);
  }

  /** Index (newest first) of a message in the view, or -1. */
  indexOf(seq: number): number {
    if (!this.predicate) return seq >= this.log.firstSeq && seq < this.log.nextSeq ? this.log.nextSeq - 1 - seq : -1;
    let lo = this.start;
    let hi = this.seqs.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const v = this.seqs[mid]!;
      if (v === seq) return this.seqs.length - 1 - mid;
      if (v < seq) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** Oldest first, for export. */
  *messages(): IterableIterator<LoggedMessage> {
    for (let i = this.length - 1; i >= 0; i--) {
      const m = this.at(i);
      if (m) yield m;
    }
  }
}
