/** Retained messages of a topic shard, one row per topic (MQTT §3.3.1.3). */
import { isExpired, type Message } from "../protocol/message.js";
import { literalPrefix, topicMatches } from "../protocol/topic/match.js";
import { hasWildcard } from "../protocol/topic/validate.js";
import type { SyncKv } from "../storage/memory-kv.js";

const RET = "ret:";

export class RetainedStore {
  constructor(private readonly kv: SyncKv) {}

  /**
   * A retained PUBLISH replaces the topic's message [MQTT-3.3.1-5]; an empty payload deletes it
   * [MQTT-3.3.1-10], [MQTT-3.3.1-11].
   */
  apply(message: Message): void {
    if (message.payload.byteLength === 0) this.kv.delete(RET + message.topic);
    else this.kv.put(RET + message.topic, message);
  }

  /** Retained messages whose topic matches the filter, in topic order; expired ones are deleted. */
  matching(filter: string, now: number): Message[] {
    if (!hasWildcard(filter)) {
      const one = this.kv.get<Message>(RET + filter);
      return one && this.alive(one, now) ? [one] : [];
    }
    // Only topics starting with the filter's literal levels can match; scan just those.
    const out: Message[] = [];
    for (const [k, message] of this.kv.list<Message>({ prefix: RET + literalPrefix(filter) })) {
      if (topicMatches(filter, k.slice(RET.length)) && this.alive(message, now)) out.push(message);
    }
    return out;
  }

  /** A retained message past its Message Expiry Interval is no longer kept (MQTT 5 §3.3.2.3.3). */
  private alive(message: Message, now: number): boolean {
    if (!isExpired(message, now)) return true;
    this.kv.delete(RET + message.topic);
    return false;
  }
}
