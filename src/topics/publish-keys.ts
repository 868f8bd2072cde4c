/**
 * QoS 2 publishes this shard already stored, by publisher and stamp (`Message.origin`,
 * `Message.stamp`), so a publish routed again after an uncertain outcome (the reply was lost,
 * the call failed after the shard had stored it) is not stored and delivered twice (review F14):
 * the publisher's session routes the same stored message again, with the same stamp.
 *
 * One row per publisher, its last `KEYS_PER_PUBLISHER` stamps: a session has at most its Receive
 * Maximum of QoS 2 messages unreleased, far fewer. A retransmission can come as late as the
 * publisher's session lives, so rows stay for `keepMs` (MAX_SESSION_EXPIRY) after their last use;
 * each new key also looks at a few other rows, in key order, and deletes those past it.
 */
import type { Message } from "../protocol/message.js";
import type { SyncKv } from "../storage/sync-kv.js";

const PREFIX = "pk:";
export const KEYS_PER_PUBLISHER = 256;
/** Rows looked at for pruning per new key: enough to outpace new publishers. */
const PRUNE_PER_KEY = 4;

interface PublisherKeys {
  stamps: number[];
  /** When a key was last added. */
  at: number;
}

export class PublishKeys {
  /** Where pruning goes on from (memory: after a restart it starts again at the first row). */
  private cursor = "";

  constructor(
    private readonly kv: SyncKv,
    private readonly keepMs: number,
  ) {}

  /** True when this QoS 2 publish was stored before; otherwise it is remembered now. */
  repeated(message: Message, now: number): boolean {
    if (message.qos !== 2 || message.origin === undefined || message.stamp === undefined) return false;
    const key = PREFIX + message.origin;
    const row = this.kv.get<PublisherKeys>(key) ?? { stamps: [], at: now };
    if (row.stamps.includes(message.stamp)) return true;
    row.stamps.push(message.stamp);
    if (row.stamps.length > KEYS_PER_PUBLISHER) row.stamps.splice(0, row.stamps.length - KEYS_PER_PUBLISHER);
    row.at = now;
    this.kv.put(key, row);
    this.prune(now);
    return false;
  }

  private prune(now: number): void {
    let looked = 0;
    for (const [key, row] of this.kv.list<PublisherKeys>({ prefix: PREFIX, startAfter: this.cursor, limit: PRUNE_PER_KEY })) {
      looked++;
      this.cursor = key;
      if (now - row.at > this.keepMs) this.kv.delete(key);
    }
    if (looked < PRUNE_PER_KEY) this.cursor = ""; // the end: start again
  }
}
