/**
 * QoS 1/2 messages on their way to the client: the offline queue and the in-flight window in one
 * ordered list (MQTT §4.3, §4.4, §4.6). Every state change of a stored entry is written before
 * the packet that depends on it is sent.
 *
 * Memory is bounded in bytes: the queue lives in storage and only a page of it (plus the
 * in-flight window) is in memory; the rest is counted and read back a page at a time. A QoS 1
 * message for a live client that keeps up is held in memory only ("transient"): its topic
 * shard keeps the durable copy until the client's PUBACK, so the usual case costs no write here.
 * A transient entry that waits too long, or whose connection ends, is spilled to storage.
 */
import type { Action } from "../actions.js";
import { messageBytes, type Message } from "../message.js";
import type { OutgoingPublish } from "./publish-out.js";
import type { ConnectionState, OutboundEntry } from "./state.js";
import type { SessionStore } from "./store.js";
import { ack } from "./wire.js";

export interface OutboundLimits {
  maxQueuedMessages: number;
  maxQueuedBytes: number;
  maxInflight: number;
}

/** Queued entries kept in memory at most (count and bytes); the rest wait in storage. */
export const PAGE_COUNT = 256;
export const PAGE_BYTES = 1024 * 1024;
/** Bytes of messages in flight to the client at most (they stay in memory until acknowledged). */
export const INFLIGHT_BYTES = 8 * 1024 * 1024;
/** Transient entries held at most; beyond them QoS 1 messages are stored like the rest. */
export const TRANSIENT_COUNT = 10_000;
export const TRANSIENT_BYTES = 4 * 1024 * 1024;

/** Why a message was not sent to the client. */
export type DropReason = "expired" | "too-large" | "not-authorized";

/** Sends one PUBLISH, or says why it must not be sent. */
export type PublishSender = (conn: ConnectionState, out: OutgoingPublish) => Action[] | DropReason;
export type DropHandler = (entry: OutboundEntry, why: DropReason) => Action[];
/** An entry that came from a topic shard is finished with (acknowledged, dropped or stored). */
export type Finished = (entry: OutboundEntry) => void;

export type NewEntry = Omit<OutboundEntry, "seq" | "state" | "bytes" | "transient">;

export class Outbound {
  /** Sent or released entries by packet id: the in-flight window. */
  private readonly byPacketId = new Map<number, OutboundEntry>();
  /** Queued entries in memory, in sequence order (from `head`). */
  private queue: OutboundEntry[] = [];
  private head = 0;
  /** Stored queued entries not in memory; all come after `loadedUpTo`. */
  private stored = 0;
  private loadedUpTo = 0;
  /** Queued entries in memory that are stored (not transient), and their bytes. */
  private pageCount = 0;
  private pageBytes = 0;
  /** Entries enqueued but not yet written: `pump` writes each once, in its final state. */
  private readonly unwritten = new Set<OutboundEntry>();
  /** Transient entries by sequence number: insertion order is sequence order, and so age order. */
  private readonly transients = new Map<number, OutboundEntry>();
  private transientBytes = 0;
  private count = 0;
  private bytes = 0;
  private inflight = 0;
  private inflightBytes = 0;
  private nextSeq = 1;
  private nextPacketId = 1;
  /** Whether the queue's size is in storage, and whether it changed since. */
  private sizeStored = false;
  private sizeDirty = false;

  constructor(
    private readonly store: SessionStore,
    private readonly limits: OutboundLimits,
  ) {
    // Read in pages: the in-flight entries and the first page stay, the rest is only counted.
    // In-flight entries come first (messages are sent in order); when the queue's size was
    // written (the session is offline), reading stops after the first page of queued ones.
    const size = store.readQueueSize();
    this.sizeStored = size !== undefined;
    let after: number | undefined;
    for (;;) {
      const page = store.listOutbound({ ...(after !== undefined ? { after } : {}), limit: PAGE_COUNT });
      if (page.length === 0) break;
      for (const entry of page) this.track(entry);
      after = page[page.length - 1]!.seq;
      if (size && (this.stored > 0 || this.pageCount >= PAGE_COUNT || this.pageBytes >= PAGE_BYTES)) break;
    }
    if (size) {
      // What was not read is counted from the stored size.
      const unread = size.count - this.count;
      if (unread < 0) throw new Error(`queue size ${size.count} in storage is below the ${this.count} entries read`);
      this.stored += unread;
      this.count = size.count;
      this.bytes = size.bytes;
      // New entries go after every stored one, read or not.
      this.nextSeq = Math.max(this.nextSeq, (store.lastOutboundSeq() ?? 0) + 1);
    }
  }

  /**
   * Writes the queue's size while the session is offline (see SessionStore.readQueueSize), and
   * forgets it once a connection is live again.
   */
  saveSize(online: boolean): void {
    if (online) {
      if (this.sizeStored) this.store.writeQueueSize(undefined);
      this.sizeStored = false;
      this.sizeDirty = false;
    } else if (this.sizeDirty || !this.sizeStored) {
      this.store.writeQueueSize({ count: this.count, bytes: this.bytes });
      this.sizeStored = true;
      this.sizeDirty = false;
    }
  }

  /** Entries not yet completed (queued, in flight, held in memory). */
  get size(): number {
    return this.count;
  }

  get queuedBytes(): number {
    return this.bytes;
  }

  /**
   * Adds a message for the client; false when the queue is full (by count or bytes). With
   * `mayHold` it is held in memory ("held") when it fits the transient bounds and no stored
   * entry waits before it; otherwise it is stored ("stored"): written by the `pump` that must
   * follow in the same step (once, as sent or as queued), so the usual case costs one write,
   * before anything is sent or acknowledged.
   */
  enqueue(fields: NewEntry, now: number, mayHold: boolean): "held" | "stored" | false {
    const bytes = messageBytes(fields.message);
    if (this.count >= this.limits.maxQueuedMessages || this.bytes + bytes > this.limits.maxQueuedBytes) return false;
    const transient = mayHold && this.stored === 0 && this.transients.size < TRANSIENT_COUNT && this.transientBytes + bytes <= TRANSIENT_BYTES;
    const entry: OutboundEntry = { ...fields, seq: this.nextSeq++, state: "queued", bytes, ...(transient ? { transient: { since: now } } : {}) };
    this.count++;
    this.bytes += bytes;
    this.sizeDirty = true;
    if (transient) {
      this.transients.set(entry.seq, entry);
      this.transientBytes += bytes;
      this.push(entry);
    } else if (this.stored > 0 || this.pageCount >= PAGE_COUNT || this.pageBytes + bytes > PAGE_BYTES) {
      // Beyond the page in memory: straight to storage, read back when its turn comes.
      this.store.putOutbound(entry);
      this.stored++;
    } else {
      this.unwritten.add(entry);
      this.push(entry);
    }
    return transient ? "held" : "stored";
  }

  /**
   * Sends queued messages while the window has room: at most the client's Receive Maximum
   * [MQTT-3.3.4-9], in order [MQTT-4.6.0-6] (3.1.1), [MQTT-4.6.0-5] (5.0). Expired or oversized messages are dropped here.
   */
  pump(conn: ConnectionState | null, send: PublishSender, dropped: DropHandler, finished: Finished): Action[] {
    const actions: Action[] = [];
    const window = conn ? Math.min(this.limits.maxInflight, conn.receiveMaximum) : 0;
    // The window is bounded in bytes too (at least one message): in-flight payloads stay in memory.
    while (conn && this.inflight < window && (this.inflight === 0 || this.inflightBytes < INFLIGHT_BYTES)) {
      if (this.head >= this.queue.length && !this.loadPage()) break;
      const entry = this.queue[this.head++]!;
      this.leavePage(entry);
      const packetId = this.allocatePacketId();
      const sent = send(conn, publishOf(entry, packetId, false));
      if (!Array.isArray(sent)) {
        this.remove(entry);
        finished(entry);
        actions.push(...dropped(entry, sent));
        continue;
      }
      entry.packetId = packetId;
      entry.state = "sent";
      this.byPacketId.set(packetId, entry);
      this.inflight++;
      this.inflightBytes += entry.bytes;
      if (!entry.transient) this.write(entry);
      actions.push(...sent);
    }
    // What could not be sent now is stored as queued.
    for (const entry of this.unwritten) this.write(entry);
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    return actions;
  }

  /**
   * On a resumed session, unacknowledged PUBLISH packets go again with DUP set and PUBRELs
   * again, in their original order [MQTT-4.4.0-1], [MQTT-3.3.1-1]; then the queue drains.
   */
  resume(conn: ConnectionState, send: PublishSender, dropped: DropHandler, finished: Finished): Action[] {
    const actions: Action[] = [];
    for (const entry of [...this.byPacketId.values()].sort((a, b) => a.seq - b.seq)) {
      if (entry.state === "sent") {
        const sent = send(conn, publishOf(entry, entry.packetId!, true));
        if (Array.isArray(sent)) actions.push(...sent);
        else {
          this.remove(entry);
          finished(entry);
          actions.push(...dropped(entry, sent));
        }
      } else if (entry.state === "released") {
        actions.push({ type: "send", connId: conn.connId, version: conn.version, packet: ack("pubrel", entry.packetId!, conn.version) });
      }
    }
    return actions.concat(this.pump(conn, send, dropped, finished));
  }

  /** The message in flight under `packetId` (sent, or released by a PUBREL), if any. */
  inFlight(packetId: number): Readonly<OutboundEntry> | undefined {
    return this.byPacketId.get(packetId);
  }

  /** PUBACK (QoS 1) or PUBCOMP (QoS 2): the message is done [MQTT-4.3.2-1], [MQTT-4.3.3-1]. */
  complete(packetId: number, expectQoS: 1 | 2): OutboundEntry | undefined {
    const entry = this.byPacketId.get(packetId);
    if (!entry || entry.qos !== expectQoS) return undefined;
    if (expectQoS === 2 && entry.state !== "released") return undefined;
    this.remove(entry);
    return entry;
  }

  /** PUBREC: store the release; the caller sends PUBREL [MQTT-4.3.3-1]. A PUBREC with a failure code ends the message. */
  received(packetId: number, failed: boolean): { result: "release" | "done" | "unknown"; entry?: OutboundEntry } {
    const entry = this.byPacketId.get(packetId);
    if (entry?.qos !== 2) return { result: "unknown" };
    if (failed) {
      this.remove(entry);
      return { result: "done", entry };
    }
    if (entry.state === "sent") {
      entry.state = "released";
      this.store.putOutbound(entry);
    }
    return { result: "release", entry };
  }

  /** When the oldest transient entry was taken (it is the first one: they are taken in order). */
  oldestTransient(): number | undefined {
    for (const entry of this.transients.values()) return entry.transient!.since;
    return undefined;
  }

  /**
   * Writes transient entries taken at or before `takenBy` (all of them when undefined): they
   * become ordinary stored entries, and their shards may let go of them. Returns them.
   */
  spill(takenBy?: number): OutboundEntry[] {
    const out: OutboundEntry[] = [];
    for (const entry of this.transients.values()) {
      if (takenBy !== undefined && entry.transient!.since > takenBy) break;
      delete entry.transient;
      this.transients.delete(entry.seq);
      this.transientBytes -= entry.bytes;
      if (entry.state === "queued") {
        this.pageCount++;
        this.pageBytes += entry.bytes;
      }
      this.store.putOutbound(entry);
      out.push(entry);
    }
    return out;
  }

  /** Forgets the entries held in memory (the session ends: their shards may let go of them). */
  dropTransient(): OutboundEntry[] {
    const held = [...this.transients.values()];
    for (const entry of held) this.remove(entry);
    return held;
  }

  /**
   * Entries of shared subscriptions to give to another member when the session ends: queued
   * ones and QoS 1 ones in flight (MQTT 5 §4.8.2), never a QoS 2 message whose delivery
   * started [MQTT-4.8.2-5].
   */
  sharedEntries(): OutboundEntry[] {
    return this.all().filter((e) => e.share !== undefined && (e.state === "queued" || (e.state === "sent" && e.qos === 1)));
  }

  /** Every entry, in sequence order (reads the stored part: for tests and the end of a session). */
  all(): OutboundEntry[] {
    const inMemory = [...this.byPacketId.values(), ...this.queue.slice(this.head)].sort((a, b) => a.seq - b.seq);
    return inMemory.concat(this.stored > 0 ? this.store.listOutbound({ after: this.loadedUpTo }) : []);
  }

  messages(): Message[] {
    return this.all().map((e) => e.message);
  }

  private push(entry: OutboundEntry): void {
    this.queue.push(entry);
    this.loadedUpTo = Math.max(this.loadedUpTo, entry.seq);
    if (!entry.transient) {
      this.pageCount++;
      this.pageBytes += entry.bytes;
    }
  }

  /** Reads the next page of stored queued entries; false when there is none. */
  private loadPage(): boolean {
    if (this.stored === 0) return false;
    const page = this.store.listOutbound({ after: this.loadedUpTo, limit: PAGE_COUNT });
    if (page.length === 0) {
      this.stored = 0;
      return false;
    }
    this.queue = this.queue.slice(this.head);
    this.head = 0;
    for (const entry of page) {
      this.stored--;
      this.push(entry);
    }
    return true;
  }

  private leavePage(entry: OutboundEntry): void {
    if (entry.transient) return;
    this.pageCount--;
    this.pageBytes -= entry.bytes;
  }

  private write(entry: OutboundEntry): void {
    this.unwritten.delete(entry);
    this.store.putOutbound(entry);
  }

  private remove(entry: OutboundEntry): void {
    this.count--;
    this.bytes -= entry.bytes;
    this.sizeDirty = true;
    if (entry.packetId !== undefined && this.byPacketId.get(entry.packetId) === entry) {
      this.byPacketId.delete(entry.packetId);
      this.inflight--;
      this.inflightBytes -= entry.bytes;
    }
    if (entry.transient) {
      this.transients.delete(entry.seq);
      this.transientBytes -= entry.bytes;
      return; // never written
    }
    if (this.unwritten.delete(entry)) return; // never written
    this.store.deleteOutbound(entry.seq);
  }

  private track(entry: OutboundEntry): void {
    entry.bytes ??= messageBytes(entry.message);
    this.nextSeq = Math.max(this.nextSeq, entry.seq + 1);
    this.count++;
    this.bytes += entry.bytes;
    if (entry.state !== "queued" && entry.packetId !== undefined) {
      this.byPacketId.set(entry.packetId, entry);
      this.inflight++;
      this.inflightBytes += entry.bytes;
    } else if (this.stored === 0 && this.pageCount < PAGE_COUNT && this.pageBytes + entry.bytes <= PAGE_BYTES) {
      this.push(entry);
    } else {
      this.stored++;
    }
  }

  /** Non-zero ids not in use by another unacknowledged message [MQTT-2.3.1-4]. */
  private allocatePacketId(): number {
    for (;;) {
      const id = this.nextPacketId;
      this.nextPacketId = id === 65535 ? 1 : id + 1;
      if (!this.byPacketId.has(id)) return id;
    }
  }
}

function publishOf(entry: OutboundEntry, packetId: number, dup: boolean): OutgoingPublish {
  return {
    message: entry.message,
    qos: entry.qos,
    retain: entry.retain,
    dup,
    packetId,
    ...(entry.subscriptionIds ? { subscriptionIds: entry.subscriptionIds } : {}),
  };
}
