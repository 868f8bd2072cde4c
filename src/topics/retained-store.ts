/** Retained messages of a topic shard, one row per topic (MQTT §3.3.1.3). */
import { isExpired, messageBytes, type Message } from "../protocol/message.js";
import { literalPrefix, topicMatches } from "../protocol/topic/match.js";
import { hasWildcard } from "../protocol/topic/validate.js";
import type { SyncKv } from "../storage/sync-kv.js";

const RET = "ret:";
/** How many topics hold a retained message here (kept with each change; counted once if absent). */
const COUNT = "retcount";

/**
 * Retained messages go back to a subscriber a page at a time, each within this many bytes, so a
 * `#` subscription over any amount of retained data never nears the 32 MiB RPC limit (F6).
 */
export const RETAINED_PAGE_BYTES = 4 * 1024 * 1024;

/** One page of retained messages; `next` continues after it (absent on the last page). */
export interface RetainedPage {
  messages: Message[];
  next?: string;
}

export class RetainedStore {
  private count: number | undefined;

  /** `maxTopics`: retained messages this store keeps at most (MAX_RETAINED_PER_SHARD); new topics beyond it are refused. */
  constructor(
    private readonly kv: SyncKv,
    private readonly maxTopics = Number.POSITIVE_INFINITY,
  ) {}

  /**
   * A retained PUBLISH replaces the topic's message [MQTT-3.3.1-5]; an empty payload deletes it
   * [MQTT-3.3.1-10], [MQTT-3.3.1-11]. False when a new topic would exceed `maxTopics`: then
   * nothing is stored (the caller counts and logs it).
   */
  apply(message: Message): boolean {
    const key = RET + message.topic;
    const existed = this.kv.get(key) !== undefined;
    if (message.payload.byteLength === 0) {
      if (existed) {
        this.kv.delete(key);
        this.setCount(this.size - 1);
      }
      return true;
    }
    if (!existed && this.size >= this.maxTopics) return false;
    this.kv.put(key, message);
    if (!existed) this.setCount(this.size + 1);
    return true;
  }

  /** Topics holding a retained message here. */
  get size(): number {
    if (this.count === undefined) {
      this.count = this.kv.get<number>(COUNT);
      if (this.count === undefined) {
        // Stores from before the count existed: counted once.
        let n = 0;
        for (const _ of this.kv.list({ prefix: RET })) n++;
        this.count = n;
      }
    }
    return this.count;
  }

  private setCount(n: number): void {
    this.count = n;
    this.kv.put(COUNT, n);
  }

  /**
   * Retained messages whose topic matches the filter, in topic order, one page of at most
   * `maxBytes` (at least one message) after the topic `after`; expired ones are deleted.
   */
  matching(filter: string, now: number, after?: string, maxBytes = RETAINED_PAGE_BYTES): RetainedPage {
    if (!hasWildcard(filter)) {
      const one = after === undefined ? this.kv.get<Message>(RET + filter) : undefined;
      return { messages: one && this.alive(one, now) ? [one] : [] };
    }
    // Only topics starting with the filter's literal levels can match; scan just those.
    const messages: Message[] = [];
    let bytes = 0;
    const options = { prefix: RET + literalPrefix(filter), ...(after !== undefined ? { startAfter: RET + after } : {}) };
    for (const [k, message] of this.kv.list<Message>(options)) {
      const topic = k.slice(RET.length);
      if (!topicMatches(filter, topic) || !this.alive(message, now)) continue;
      const size = messageBytes(message);
      if (messages.length > 0 && bytes + size > maxBytes) return { messages, next: messages[messages.length - 1]!.topic };
      messages.push(message);
      bytes += size;
    }
    return { messages };
  }

  /** A retained message past its Message Expiry Interval is no longer kept (MQTT 5 §3.3.2.3.3). */
  private alive(message: Message, now: number): boolean {
    if (!isExpired(message, now)) return true;
    this.kv.delete(RET + message.topic);
    this.setCount(this.size - 1);
    return false;
  }
}
