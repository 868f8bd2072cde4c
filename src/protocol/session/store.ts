/**
 * Durable session state behind a synchronous interface: SQLite-backed Durable Objects offer
 * synchronous storage, so the core can write as it decides and the runtime's output gate holds
 * every acknowledgement until the write is durable.
 */
import type { Message } from "../message.js";
import type { IncomingQoS2, OutboundEntry, SessionRecord, ShardMark, TopicAliases, Will } from "./state.js";

export interface SessionStore {
  readSession(): SessionRecord | undefined;
  writeSession(record: SessionRecord): void;
  readWill(): Will | undefined;
  writeWill(will: Will | undefined): void;
  /** Outbound entries in sequence order, after `after` (a sequence number), at most `limit`. */
  listOutbound(page?: { after?: number; limit?: number }): OutboundEntry[];
  /** The highest sequence number of a stored outbound entry. */
  lastOutboundSeq(): number | undefined;
  putOutbound(entry: OutboundEntry): void;
  deleteOutbound(seq: number): void;
  getIncoming(packetId: number): IncomingQoS2 | undefined;
  putIncoming(entry: IncomingQoS2): void;
  deleteIncoming(packetId: number): void;
  countIncoming(): number;
  /** What the session took from each topic shard (see ShardMark). */
  /**
   * How many stored outbound entries there are and their bytes, written while the session is
   * offline, so a restart need not read the whole queue to know; absent while online.
   */
  readQueueSize(): { count: number; bytes: number } | undefined;
  writeQueueSize(size: { count: number; bytes: number } | undefined): void;
  readMarks(): Record<string, ShardMark>;
  writeMark(shard: string, mark: ShardMark): void;
  /**
   * Wills (and shared messages handed back) not yet stored by their topic shard (see
   * PendingWills), one row each, in id order; these rows outlive `clear`.
   */
  listPendingWills(): PendingWill[];
  putPendingWill(will: PendingWill): void;
  deletePendingWill(id: number): void;
  /** Topic shards told that the client is offline, to be told when it is back (F28). */
  readMuted(): string[];
  writeMuted(shards: string[]): void;
  /** Recent shared-subscription deliveries taken, by shard (see SharedTaken). */
  readSharedTaken(): Record<string, number[]>;
  writeSharedTaken(taken: Record<string, number[]>): void;
  readAliases(): TopicAliases | undefined;
  writeAliases(aliases: TopicAliases | undefined): void;
  /** Forget the whole session (clean start, or the session ended). */
  clear(): void;
}

/**
 * A will on its way to its topic shard; `hold` while a taken-over connection may still say
 * DISCONNECT. With `share`: a shared-subscription message handed back to its group (F10).
 */
export interface PendingWill {
  id: number;
  message: Message;
  share?: string;
  hold?: { connId: string; until: number };
}
