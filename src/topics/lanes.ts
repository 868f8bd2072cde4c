/**
 * A topic shard's delivery lanes, one per recipient: messages go out in publish order, in
 * batches bounded in count and bytes, with one call in flight per recipient. Memory is bounded in
 * bytes: a lane that falls behind stops holding durable messages in memory and reads them back
 * from the message log when it catches up, and QoS 0 messages beyond the bound are dropped (the
 * caller counts them). A failed call is retried with backoff and a smaller batch, so no batch is
 * retried identically for ever (review finding F2); a recipient that took messages but never
 * released them (its object restarted) gets them again from its release point.
 */
import type { Delivery, Message } from "../protocol/message.js";
import { messageBytes } from "../protocol/message.js";
import type { LogItem } from "./message-log.js";
import { type Recipient, type RecipientKey, recipientKey } from "./recipient.js";

/** At most this many messages and bytes in one call (Workers RPC refuses more than 32 MiB). */
export const MAX_BATCH = 256;
export const MAX_BATCH_BYTES = 4 * 1024 * 1024;
/** Memory one lane, and all lanes of a shard together, may hold for messages not yet sent. */
export const LANE_BYTES = 4 * 1024 * 1024;
export const SHARD_LANE_BYTES = 32 * 1024 * 1024;
/** A recipient that took messages and released none of them for this long gets them again. */
export const REDELIVER_AFTER_MS = 30_000;
const MAX_BACKOFF_MS = 30_000;

export interface LaneItem {
  /** Set for durable messages: their place in the message log. */
  seq?: number;
  message: Message;
  bytes: number;
}

/** What a recipient answered: it no longer exists, and how far it released durable messages. */
export interface SendResult {
  gone: boolean;
  /** With `gone`: when the call went out; subscriptions made since then are not the gone session's (F21). */
  sentAt?: number;
  released?: number;
}

export interface LaneHooks {
  send(to: Recipient, batch: Delivery[]): Promise<SendResult>;
  /** Durable messages of the recipient after `after`, read back from the log. */
  read(key: RecipientKey, after: number, maxBytes: number, maxCount: number): LogItem[];
  released(key: RecipientKey, upTo: number): void;
  gone(to: Recipient, sentAt: number | undefined): void;
  failed(to: Recipient, error: unknown, attempt: number): void;
  now(): number;
  sleep(ms: number): Promise<void>;
}

class Lane {
  readonly key: RecipientKey;
  queue: LaneItem[] = [];
  head = 0;
  bytes = 0;
  /** Durable messages exist beyond what the queue holds: read them from the log. */
  catchUp = false;
  /** Highest durable sequence handed over, and the highest released. */
  sentUpTo = 0;
  releasedUpTo = 0;
  progressAt: number;
  busy = false;
  /** Bumped when the lane rewinds, so a call in flight cannot move `sentUpTo` back up. */
  epoch = 0;
  maxBatch = MAX_BATCH;

  constructor(
    readonly to: Recipient,
    now: number,
  ) {
    this.key = recipientKey(to);
    this.progressAt = now;
  }

  get waiting(): number {
    return this.queue.length - this.head;
  }
}

export class Lanes {
  private readonly lanes = new Map<RecipientKey, Lane>();
  private bytes = 0;

  constructor(private readonly hooks: LaneHooks) {}

  get size(): number {
    return this.lanes.size;
  }

  /** Bytes of messages held in memory by all lanes. */
  get memoryBytes(): number {
    return this.bytes;
  }

  /**
   * Queues a message for a recipient. A durable one is never lost (the log has it); false when a
   * QoS 0 one was dropped because the recipient is too far behind. `bytes`: its messageBytes, when
   * the caller pushes it to many recipients.
   */
  push(to: Recipient, seq: number | undefined, message: Message, bytes = messageBytes(message)): boolean {
    const lane = this.lane(to);
    const full = lane.catchUp || lane.bytes + bytes > LANE_BYTES || this.bytes + bytes > SHARD_LANE_BYTES;
    if (full) {
      if (seq === undefined) return false;
      lane.catchUp = true;
    } else {
      lane.queue.push({ ...(seq !== undefined ? { seq } : {}), message, bytes });
      lane.bytes += bytes;
      this.bytes += bytes;
    }
    this.kick(lane);
    return true;
  }

  /** After a restart: the recipient has durable messages in the log; send them again. */
  resume(to: Recipient): void {
    const lane = this.lane(to);
    lane.catchUp = true;
    this.kick(lane);
  }

  /** The recipient released durable messages up to `upTo` (a later call than the delivery). */
  release(key: RecipientKey, upTo: number): void {
    const lane = this.lanes.get(key);
    if (lane) this.released(lane, upTo);
    else this.hooks.released(key, upTo);
  }

  /** Lanes whose recipient took messages but released none for too long get them again. */
  redeliverStalled(): void {
    const now = this.hooks.now();
    for (const lane of this.lanes.values()) {
      if (lane.sentUpTo > lane.releasedUpTo && now - lane.progressAt >= REDELIVER_AFTER_MS) this.rewind(lane);
    }
  }

  /** Whether any lane has messages taken but not released (the shard must stay awake to check). */
  get unreleased(): boolean {
    for (const lane of this.lanes.values()) if (lane.sentUpTo > lane.releasedUpTo || lane.catchUp || lane.waiting > 0) return true;
    return false;
  }

  private rewind(lane: Lane): void {
    lane.epoch++;
    lane.sentUpTo = lane.releasedUpTo;
    lane.progressAt = this.hooks.now();
    // Durable messages come back from the log in order; QoS 0 ones still queued stay.
    const kept = lane.queue.slice(lane.head).filter((item) => item.seq === undefined);
    this.setQueue(lane, kept);
    lane.catchUp = true;
    this.kick(lane);
  }

  private released(lane: Lane, upTo: number): void {
    if (upTo <= lane.releasedUpTo) return;
    lane.releasedUpTo = upTo;
    lane.progressAt = this.hooks.now();
    this.hooks.released(lane.key, upTo);
    this.prune(lane);
  }

  private lane(to: Recipient): Lane {
    const key = recipientKey(to);
    let lane = this.lanes.get(key);
    if (!lane) this.lanes.set(key, (lane = new Lane(to, this.hooks.now())));
    return lane;
  }

  private kick(lane: Lane): void {
    if (!lane.busy) void this.drain(lane);
  }

  private async drain(lane: Lane): Promise<void> {
    lane.busy = true;
    let attempt = 0;
    try {
      for (;;) {
        let batch = this.peek(lane);
        const fromQueue = batch.length > 0;
        if (!fromQueue && lane.catchUp) {
          batch = this.hooks.read(lane.key, lane.sentUpTo, MAX_BATCH_BYTES, lane.maxBatch).map(({ seq, message }) => ({ seq, message, bytes: 0 }));
          if (batch.length === 0) lane.catchUp = false;
        }
        if (batch.length === 0) break;
        const epoch = lane.epoch;
        let result: SendResult;
        try {
          result = await this.hooks.send(
            lane.to,
            batch.map(({ seq, message }) => (seq !== undefined ? { seq, message } : { message })),
          );
        } catch (error) {
          attempt++;
          this.hooks.failed(lane.to, error, attempt);
          // A smaller batch next time: one that is too large for the call never gets through.
          lane.maxBatch = Math.max(1, Math.floor(batch.length / 2));
          await this.hooks.sleep(Math.min(MAX_BACKOFF_MS, 100 * 2 ** Math.min(attempt, 9)));
          continue;
        }
        attempt = 0;
        lane.maxBatch = Math.min(MAX_BATCH, lane.maxBatch * 2);
        if (fromQueue) {
          if (epoch === lane.epoch) this.consume(lane, batch.length);
          // Rewound meanwhile: what this call delivered must not go again.
          else
            this.setQueue(
              lane,
              lane.queue.slice(lane.head).filter((item) => !batch.includes(item)),
            );
        }
        if (result.gone) {
          this.drop(lane);
          this.hooks.gone(lane.to, result.sentAt);
          return;
        }
        if (epoch === lane.epoch) {
          // The stall clock starts when the recipient first holds something unreleased.
          if (lane.sentUpTo === lane.releasedUpTo) lane.progressAt = this.hooks.now();
          for (const item of batch) if (item.seq !== undefined && item.seq > lane.sentUpTo) lane.sentUpTo = item.seq;
        }
        if (result.released !== undefined) this.released(lane, result.released);
      }
    } finally {
      lane.busy = false;
    }
    this.prune(lane);
  }

  /** The next batch from the queue, within the lane's count and the byte limit (at least one). */
  private peek(lane: Lane): LaneItem[] {
    const out: LaneItem[] = [];
    let bytes = 0;
    for (let i = lane.head; i < lane.queue.length && out.length < lane.maxBatch; i++) {
      const item = lane.queue[i]!;
      if (out.length > 0 && bytes + item.bytes > MAX_BATCH_BYTES) break;
      out.push(item);
      bytes += item.bytes;
    }
    return out;
  }

  private consume(lane: Lane, count: number): void {
    for (let i = 0; i < count; i++) {
      const item = lane.queue[lane.head++]!;
      lane.bytes -= item.bytes;
      this.bytes -= item.bytes;
    }
    if (lane.head > 1024 && lane.head * 2 > lane.queue.length) this.setQueue(lane, lane.queue.slice(lane.head));
    else if (lane.head === lane.queue.length) this.setQueue(lane, []);
  }

  private setQueue(lane: Lane, items: LaneItem[]): void {
    this.bytes -= lane.bytes;
    lane.queue = items;
    lane.head = 0;
    lane.bytes = items.reduce((n, item) => n + item.bytes, 0);
    this.bytes += lane.bytes;
  }

  private drop(lane: Lane): void {
    this.setQueue(lane, []);
    this.lanes.delete(lane.key);
  }

  /** A lane with nothing queued, in flight or unreleased is forgotten (the map stays bounded). */
  private prune(lane: Lane): void {
    if (lane.busy || lane.waiting > 0 || lane.catchUp || lane.sentUpTo > lane.releasedUpTo) return;
    if (this.lanes.get(lane.key) === lane) this.lanes.delete(lane.key);
  }
}
