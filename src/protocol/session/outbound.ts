/**
 * QoS 1/2 messages on their way to the client: the offline queue and the in-flight window in one
 * ordered list (MQTT §4.3, §4.4, §4.6). Every state change is written before the packet that
 * depends on it is sent.
 */
import type { Packet } from "mqtt-packet";
import type { Action } from "../actions.js";
import type { ConnectionState, OutboundEntry } from "./state.js";
import type { SessionStore } from "./store.js";
import { ack } from "./wire.js";

export interface OutboundLimits {
  maxQueuedMessages: number;
  maxInflight: number;
}

export class Outbound {
  /** By sequence number; Map keeps insertion (= sequence) order. */
  private readonly entries = new Map<number, OutboundEntry>();
  private readonly byPacketId = new Map<number, OutboundEntry>();
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

  /** Adds a message for the client; false (and nothing stored) when the queue is full. */
  enqueue(topic: string, payload: Uint8Array, qos: 1 | 2, retain: boolean): boolean {
    if (this.entries.size >= this.limits.maxQueuedMessages) return false;
    const entry: OutboundEntry = { seq: this.nextSeq, topic, payload, qos, retain, state: "queued" };
    this.store.putOutbound(entry);
    this.track(entry);
    return true;
  }

  /** Sends queued messages while the in-flight window has room [MQTT-4.4.0-1 order kept]. */
  pump(conn: ConnectionState | null): Action[] {
    if (!conn) return [];
    const actions: Action[] = [];
    for (const entry of this.entries.values()) {
      if (this.inflight >= this.limits.maxInflight) break;
      if (entry.state !== "queued") continue;
      entry.packetId = this.allocatePacketId();
      entry.state = "sent";
      this.byPacketId.set(entry.packetId, entry);
      this.inflight++;
      this.store.putOutbound(entry);
      actions.push(this.send(conn, publishPacket(entry, false)));
    }
    return actions;
  }

  /**
   * On a resumed session, unacknowledged PUBLISH packets go again with DUP set and PUBRELs
   * again, in their original order [MQTT-4.4.0-1], [MQTT-3.3.1-1]; then the queue drains.
   */
  resume(conn: ConnectionState): Action[] {
    const actions: Action[] = [];
    for (const entry of this.entries.values()) {
      if (entry.state === "sent") actions.push(this.send(conn, publishPacket(entry, true)));
      else if (entry.state === "released") actions.push(this.send(conn, ack("pubrel", entry.packetId!)));
    }
    return actions.concat(this.pump(conn));
  }

  /** PUBACK (QoS 1) or PUBCOMP (QoS 2): the message is done [MQTT-4.3.2-1], [MQTT-4.3.3-1]. */
  complete(packetId: number, expectQoS: 1 | 2, conn: ConnectionState): Action[] {
    const entry = this.byPacketId.get(packetId);
    if (!entry || entry.qos !== expectQoS) return [unknownAck(packetId)];
    if (expectQoS === 2 && entry.state !== "released") return [unknownAck(packetId)];
    this.byPacketId.delete(packetId);
    this.entries.delete(entry.seq);
    this.inflight--;
    this.store.deleteOutbound(entry.seq);
    return this.pump(conn);
  }

  /** PUBREC: store the release, then send PUBREL [MQTT-4.3.3-1]. */
  received(packetId: number, conn: ConnectionState): Action[] {
    const entry = this.byPacketId.get(packetId);
    if (!entry || entry.qos !== 2) return [unknownAck(packetId)];
    if (entry.state === "sent") {
      entry.state = "released";
      this.store.putOutbound(entry);
    }
    return [this.send(conn, ack("pubrel", packetId))];
  }

  private track(entry: OutboundEntry): void {
    this.entries.set(entry.seq, entry);
    this.nextSeq = Math.max(this.nextSeq, entry.seq + 1);
    if (entry.state !== "queued" && entry.packetId !== undefined) {
      this.byPacketId.set(entry.packetId, entry);
      this.inflight++;
    }
  }

  /** Non-zero ids not in use by another unacknowledged message [MQTT-2.3.1-2]. */
  private allocatePacketId(): number {
    for (;;) {
      const id = this.nextPacketId;
      this.nextPacketId = id === 65535 ? 1 : id + 1;
      if (!this.byPacketId.has(id)) return id;
    }
  }

  private send(conn: ConnectionState, packet: Packet): Action {
    return { type: "send", connId: conn.connId, version: conn.version, packet };
  }
}

function publishPacket(entry: OutboundEntry, dup: boolean): Packet {
  return {
    cmd: "publish",
    topic: entry.topic,
    payload: Buffer.from(entry.payload.buffer, entry.payload.byteOffset, entry.payload.byteLength),
    qos: entry.qos,
    retain: entry.retain,
    dup,
    messageId: entry.packetId!,
  };
}

function unknownAck(packetId: number): Action {
  return { type: "log", level: "warn", message: `acknowledgement for unknown packet id ${packetId}`, counter: "unknown_acks" };
}
