/**
 * The session store on a Durable Object's synchronous KV. One key per outbound message and per
 * pending QoS 2 receipt, so an acknowledgement rewrites a few hundred bytes, never the session.
 */
import type { IncomingQoS2, OutboundEntry, SessionRecord, ShardMark, TopicAliases, Will } from "../protocol/session/state.js";
import type { PendingWill, SessionStore } from "../protocol/session/store.js";
import type { SyncKv } from "./sync-kv.js";

const SESSION = "session";
const WILL = "will";
const ALIASES = "aliases";
const OUT = "out:";
const IN = "in2:";
const MARK = "mark:";
const QUEUE_SIZE = "outq";
const MUTED = "muted";
const SHARED_TAKEN = "shared-taken";
/** One row per will (or shared message handed back) on its way to its shard; these outlive `clear`. */
const PENDING_WILL = "pw:";
const LEGACY_PENDING_WILLS = "wills";
/** Written by the shell's Counters (src/session/counters.ts). */
const COUNTERS = "stats";

// Fixed-width numbers keep `list` in numeric order.
const pendingWillKey = (id: number) => PENDING_WILL + id.toString().padStart(16, "0");
const outKey = (seq: number) => OUT + seq.toString().padStart(16, "0");
const inKey = (packetId: number) => IN + packetId.toString().padStart(5, "0");

export class KvSessionStore implements SessionStore {
  constructor(private readonly kv: SyncKv) {}

  readSession(): SessionRecord | undefined {
    return this.kv.get<SessionRecord>(SESSION);
  }

  writeSession(record: SessionRecord): void {
    this.kv.put(SESSION, record);
  }

  readWill(): Will | undefined {
    return this.kv.get<Will>(WILL);
  }

  writeWill(will: Will | undefined): void {
    if (will) this.kv.put(WILL, will);
    else this.kv.delete(WILL);
  }

  listOutbound(page: { after?: number; limit?: number } = {}): OutboundEntry[] {
    const options = { prefix: OUT, ...(page.after !== undefined ? { startAfter: outKey(page.after) } : {}), ...(page.limit !== undefined ? { limit: page.limit } : {}) };
    return [...this.kv.list<OutboundEntry>(options)].map(([, entry]) => entry);
  }

  lastOutboundSeq(): number | undefined {
    for (const [, entry] of this.kv.list<OutboundEntry>({ prefix: OUT, reverse: true, limit: 1 })) return entry.seq;
    return undefined;
  }

  putOutbound(entry: OutboundEntry): void {
    this.kv.put(outKey(entry.seq), entry);
  }

  deleteOutbound(seq: number): void {
    this.kv.delete(outKey(seq));
  }

  getIncoming(packetId: number): IncomingQoS2 | undefined {
    return this.kv.get<IncomingQoS2>(inKey(packetId));
  }

  putIncoming(entry: IncomingQoS2): void {
    this.kv.put(inKey(entry.packetId), entry);
  }

  deleteIncoming(packetId: number): void {
    this.kv.delete(inKey(packetId));
  }

  countIncoming(): number {
    let n = 0;
    for (const _ of this.kv.list({ prefix: IN })) n++;
    return n;
  }

  readQueueSize(): { count: number; bytes: number } | undefined {
    return this.kv.get(QUEUE_SIZE);
  }

  writeQueueSize(size: { count: number; bytes: number } | undefined): void {
    if (size) this.kv.put(QUEUE_SIZE, size);
    else this.kv.delete(QUEUE_SIZE);
  }

  readMarks(): Record<string, ShardMark> {
    return Object.fromEntries([...this.kv.list<ShardMark>({ prefix: MARK })].map(([k, mark]) => [k.slice(MARK.length), mark]));
  }

  writeMark(shard: string, mark: ShardMark): void {
    this.kv.put(MARK + shard, mark);
  }

  listPendingWills(): PendingWill[] {
    // Rows of an older version kept them all in one row: moved to one row each.
    const legacy = this.kv.get<PendingWill[]>(LEGACY_PENDING_WILLS);
    if (legacy) {
      for (const w of legacy) this.putPendingWill(w);
      this.kv.delete(LEGACY_PENDING_WILLS);
    }
    return [...this.kv.list<PendingWill>({ prefix: PENDING_WILL })].map(([, w]) => w);
  }

  putPendingWill(will: PendingWill): void {
    this.kv.put(pendingWillKey(will.id), will);
  }

  deletePendingWill(id: number): void {
    this.kv.delete(pendingWillKey(id));
  }

  readSharedTaken(): Record<string, number[]> {
    return this.kv.get<Record<string, number[]>>(SHARED_TAKEN) ?? {};
  }

  writeSharedTaken(taken: Record<string, number[]>): void {
    if (Object.keys(taken).length > 0) this.kv.put(SHARED_TAKEN, taken);
    else this.kv.delete(SHARED_TAKEN);
  }

  readMuted(): string[] {
    return this.kv.get<string[]>(MUTED) ?? [];
  }

  writeMuted(shards: string[]): void {
    if (shards.length > 0) this.kv.put(MUTED, shards);
    else this.kv.delete(MUTED);
  }

  readAliases(): TopicAliases | undefined {
    return this.kv.get<TopicAliases>(ALIASES);
  }

  writeAliases(aliases: TopicAliases | undefined): void {
    if (aliases) this.kv.put(ALIASES, aliases);
    else this.kv.delete(ALIASES);
  }

  clear(): void {
    for (const prefix of [OUT, IN, MARK]) {
      for (const [key] of [...this.kv.list({ prefix })]) this.kv.delete(key);
    }
    this.kv.delete(SESSION);
    this.kv.delete(WILL);
    this.kv.delete(ALIASES);
    this.kv.delete(QUEUE_SIZE);
    this.kv.delete(MUTED);
    this.kv.delete(SHARED_TAKEN);
    // The shell's counters row goes with the session (review F22): nothing of an ended session stays.
    this.kv.delete(COUNTERS);
  }
}
