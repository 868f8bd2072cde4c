/**
 * Durable session state behind a synchronous interface: SQLite-backed Durable Objects offer
 * synchronous storage, so the core can write as it decides and the runtime's output gate holds
 * every acknowledgement until the write is durable.
 */
import type { Message } from "../message.js";
import type { IncomingQoS2, OutboundEntry, SessionRecord } from "./state.js";

export interface SessionStore {
  readSession(): SessionRecord | undefined;
  writeSession(record: SessionRecord): void;
  readWill(): Message | undefined;
  writeWill(will: Message | undefined): void;
  /** Outbound entries in sequence order. */
  listOutbound(): OutboundEntry[];
  putOutbound(entry: OutboundEntry): void;
  deleteOutbound(seq: number): void;
  getIncoming(packetId: number): IncomingQoS2 | undefined;
  putIncoming(entry: IncomingQoS2): void;
  deleteIncoming(packetId: number): void;
  /** Forget the whole session (CleanSession=1 or end of session). */
  clear(): void;
}
