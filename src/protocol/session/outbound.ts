/**
 * QoS 1/2 messages on their way to the client: the offline queue and the in-flight window in one
 * ordered list (MQTT §4.3, §4.4, §4.6). Every state change is written before the packet that
 * depends on it is sent.
 */
import type { Action } from "../actions.js";
import type { Message } from "../message.js";
import type { OutgoingPublish } from "./publish-out.js";
import type { ConnectionState, OutboundEntry } from "./state.js";
import type { SessionStore } from "./store.js";
import { ack } from "./wire.js";

export interface OutboundLimits {
  maxQueuedMessages: number;
  maxInflight: number;
}

/** Why a message was not sent to the client. */
export type DropReason = "expired" | "too-large";

/** Sends one PUBLISH, or says why it must not be sent. */
export type PublishSender = (conn: ConnectionState, out: OutgoingPublish) => Action[] | DropReason;
export type DropHandler = (entry: OutboundEntry, why: DropReason) => Action[];

export class Outbound {
  /** By sequence number; Map keeps insertion (= sequence) order. */
  private readonly entries = new Map<number, OutboundEntry>();
  private readonly byPacketId = new Map<number, OutboundEntry>();
  /** Entries waiting for a window slot, in order (from `head`); keeps `pump` O(sent). */
  private queued: OutboundEntry[] = [];
  private head = 0;
  /** Entries enqueued but not yet written: `pump` writes each once, in its final state. */
  private readonly unwritten = new Set<OutboundEntry>();
  private inflight = 0;
  private nextSeq = 1;
  private nextPacketId = 1;

  constructor(
    private readonly store: SessionStore,
    private readonly limits: OutboundLimits,
  ) {
    for (const entry of store.listOutbound()) this.track(entry);
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * Adds a message for the client; false when the queue is full. It is written by the `pump`
   * that must follow in the same step (once, as sent or as queued), so the usual case costs one
   * write, before anything is sent or acknowledged.
   */
  enqueue(entry: Omit<OutboundEntry, "seq" | "state">): boolean {
    if (this.entries.size >= this.limits.maxQueuedMessages) return false;
    const stored: OutboundEntry = { ...entry, seq: this.nextSeq, state: "queued" };
    this.track(stored);
    this.unwritten.add(stored);
    return true;
  }

  /**
   * Sends queued messages while the window has room: at most the client's Receive Maximum
   * [MQTT-3.3.4-9], in order [MQTT-4.6.0-6] (3.1.1), [MQTT-4.6.0-5] (5.0). Expired or oversized messages are dropped here.
   */
  pump(conn: ConnectionState | null, send: PublishSender, dropped: DropHandler): Action[] {
    const actions: Action[] = [];
    const window = conn ? Math.min(this.limits.maxInflight, conn.receiveMaximum) : 0;
    while (conn && this.inflight < window && this.head < this.queued.length) {
      const entry = this.queued[this.head++]!;
      if (entry.state !== "queued" || !this.entries.has(entry.seq)) continue;
      const packetId = this.allocatePacketId();
      const sent = send(conn, publishOf(entry, packetId, false));
      if (!Array.isArray(sent)) {
        this.remove(entry);
        actions.push(...dropped(entry, sent));
        continue;
      }
      entry.packetId = packetId;
      entry.state = "sent";
      this.byPacketId.set(packetId, entry);
      this.inflight++;
      this.write(entry);
      actions.push(...sent);
    }
    // What could not be sent now is stored as queued.
    for (const entry of this.unwritten) this.write(entry);
    if (this.head > 1024 && this.head * 2 > this.queued.length) {
      this.queued = this.queued.slice(this.head);
      this.head = 0;
    }
    return actions;
  }

  private write(entry: OutboundEntry): void {
    this.unwritten.delete(entry);
    this.store.putOutbound(entry);
  }

  /**
   * On a resumed session, unacknowledged PUBLISH packets go again with DUP set and PUBRELs
   * again, in their original order [MQTT-4.4.0-1], [MQTT-3.3.1-1]; then the queue drains.
   */
  resume(conn: ConnectionState, send: PublishSender, dropped: DropHandler): Action[] {
    const actions: Action[] = [];
    for (const entry of [...this.entries.values()]) {
      if (entry.state === "sent") {
        const sent = send(conn, publishOf(entry, entry.packetId!, true));
        if (Array.isArray(sent)) actions.push(...sent);
        else {
          this.remove(entry);
          actions.push(...dropped(entry, sent));
        }
      } else if (entry.state === "released") {
        actions.push({ type: "send", connId: conn.connId, version: conn.version, packet: ack("pubrel", entry.packetId!, conn.version) });
      }
    }
    return actions.concat(this.pump(conn, send, dropped));
  }

  /** PUBACK (QoS 1) or PUBCOMP (QoS 2): the message is done [MQTT-4.3.2-1], [MQTT-4.3.3-1]. */
  complete(packetId: number, expectQoS: 1 | 2): boolean {
    const entry = this.byPacketId.get(packetId);
    if (!entry || entry.qos !== expectQoS) return false;
    if (expectQoS === 2 && entry.state !== "released") return false;
    this.remove(entry);
    return true;
  }

  /** PUBREC: store the release; the caller sends PUBREL [MQTT-4.3.3-1]. A PUBREC with a failure code ends the message. */
  received(packetId: number, failed: boolean): "release" | "done" | "unknown" {
    const entry = this.byPacketId.get(packetId);
    if (!entry || entry.qos !== 2) return "unknown";
    if (failed) {
      this.remove(entry);
      return "done";
    }
    if (entry.state === "sent") {
      entry.state = "released";
      this.store.putOutbound(entry);
    }
    return "release";
  }

  /** Entries of shared subscriptions not yet completed, for handing to another member. */
  sharedEntries(): OutboundEntry[] {
    return [...this.entries.values()].filter((e) => e.share !== undefined && e.state !== "released");
  }

  messages(): Message[] {
    return [...this.entries.values()].map((e) => e.message);
  }

  private remove(entry: OutboundEntry): void {
    this.entries.delete(entry.seq);
    if (this.unwritten.delete(entry)) return; // never written: nothing to delete
    if (entry.packetId !== undefined && this.byPacketId.get(entry.packetId) === entry) {
      this.byPacketId.delete(entry.packetId);
      this.inflight--;
    }
    this.store.deleteOutbound(entry.seq);
  }

  private track(entry: OutboundEntry): void {
    this.entries.set(entry.seq, entry);
    this.nextSeq = Math.max(this.nextSeq, entry.seq + 1);
    if (entry.state === "queued") this.queued.push(entry);
    if (entry.state !== "queued" && entry.packetId !== undefined) {
      this.byPacketId.set(entry.packetId, entry);
      this.inflight++;
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
