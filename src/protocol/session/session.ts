/**
 * The session core: one client's MQTT session as a state machine with no I/O. The shell feeds it
 * decoded packets, deliveries from topic shards, connection loss and timer expiry; it answers
 * with actions. One dispatcher owns the connection-state guard; each packet type has a handler.
 */
import type { Packet } from "mqtt-packet";
import type { Action } from "../actions.js";
import type { DecodeResult } from "../codec/codec.js";
import { ProtocolError, Reason, type ReasonCode } from "../errors.js";
import type { Delivery, Message } from "../message.js";
import { handleConnect, type ConnectRoute } from "./handlers/connect.js";
import { handleDisconnect } from "./handlers/disconnect.js";
import { handlePublish, handlePubrel } from "./handlers/publish.js";
import { handlePuback, handlePubcomp, handlePubrec } from "./handlers/acks.js";
import { handleSubscribe } from "./handlers/subscribe.js";
import { handleUnsubscribe } from "./handlers/unsubscribe.js";
import { deliver } from "./deliver.js";
import { Outbound } from "./outbound.js";
import type { ConnectionState, SessionRecord } from "./state.js";
import type { SessionStore } from "./store.js";
import { serverDisconnect } from "./wire.js";

export interface SessionConfig {
  maxQueuedMessages: number;
  maxInflight: number;
}

export type { ConnectRoute };

export class Session {
  /** Undefined when no session exists (never connected, or a clean session that ended). */
  record: SessionRecord | undefined;
  /** The live connection, if any. */
  current: ConnectionState | null = null;
  outbound: Outbound;

  constructor(
    readonly store: SessionStore,
    readonly config: SessionConfig,
  ) {
    this.record = store.readSession();
    this.outbound = new Outbound(store, config);
  }

  /** Re-attaches the live connection after the object woke from hibernation. */
  restore(conn: ConnectionState): void {
    this.current = conn;
  }

  /** One packet (or decode failure) from connection `connId`. */
  receive(connId: string, route: ConnectRoute, input: DecodeResult, now: number): Action[] {
    const conn = this.current?.connId === connId ? this.current : null;
    try {
      if (!input.ok) {
        if (input.error === "unacceptable-protocol") return handleConnect.unacceptable(connId, input.detail);
        throw new ProtocolError(Reason.MalformedPacket, `malformed packet: ${input.detail}`);
      }
      const packet = input.packet;
      if (packet.cmd === "connect") {
        // A second CONNECT on the same connection is a protocol violation [MQTT-3.1.0-2].
        if (conn) throw new ProtocolError(Reason.ProtocolError, "second CONNECT on one connection");
        return handleConnect(this, connId, route, packet, now);
      }
      // Anything before CONNECT closes the connection [MQTT-3.1.0-1].
      if (!conn) return [close(connId, `${packet.cmd} before CONNECT`, true)];
      conn.lastSeen = now;
      return this.dispatch(conn, packet, now);
    } catch (e) {
      if (e instanceof ProtocolError) return this.fail(connId, e.reason, e.message, now);
      throw e;
    }
  }

  private dispatch(conn: ConnectionState, packet: Packet, now: number): Action[] {
    switch (packet.cmd) {
      case "publish":
        return handlePublish(this, conn, packet);
      case "pubrel":
        return handlePubrel(this, conn, packet);
      case "puback":
        return handlePuback(this, conn, packet);
      case "pubrec":
        return handlePubrec(this, conn, packet);
      case "pubcomp":
        return handlePubcomp(this, conn, packet);
      case "subscribe":
        return handleSubscribe(this, conn, packet);
      case "unsubscribe":
        return handleUnsubscribe(this, conn, packet);
      case "pingreq":
        return [send(conn, { cmd: "pingresp" })]; // [MQTT-3.12.4-1]
      case "disconnect":
        return handleDisconnect(this, conn, packet, now);
      default:
        // Server-to-client packets (CONNACK, SUBACK, PINGRESP…) are not valid from a client.
        throw new ProtocolError(Reason.ProtocolError, `unexpected ${packet.cmd} from client`);
    }
  }

  /** Messages from topic shard `shard`; `gone` tells the shard this client has no session. */
  deliver(shard: string, deliveries: Delivery[]): { actions: Action[]; gone: boolean } {
    return deliver(this, shard, deliveries);
  }

  /** The network connection closed without DISCONNECT: the will goes out [MQTT-3.1.2-8]. */
  connectionLost(connId: string): Action[] {
    if (this.current?.connId !== connId) return [];
    return this.endConnection(true, "connection lost");
  }

  /** The keepalive deadline passed: check whether the client was silent too long. */
  timer(now: number): Action[] {
    const conn = this.current;
    if (!conn || conn.keepalive === 0) return [];
    const deadline = keepaliveDeadline(conn);
    if (now < deadline) return [{ type: "keepalive", at: deadline }];
    // 1.5 times the keepalive without a packet ends the connection [MQTT-3.1.2-24].
    return this.fail(conn.connId, Reason.KeepAliveTimeout, "keepalive expired", now);
  }

  /** Ends a connection because of `reason`; the will is published [MQTT-3.1.2-8]. */
  fail(connId: string, reason: ReasonCode, why: string, _now: number): Action[] {
    const conn = this.current?.connId === connId ? this.current : null;
    const actions: Action[] = [];
    if (conn) {
      const disconnect = serverDisconnect(conn.version, reason);
      if (disconnect) actions.push(send(conn, disconnect));
    }
    actions.push(close(connId, why, reason !== Reason.SessionTakenOver));
    if (conn) actions.push(...this.endConnection(true, why));
    return actions;
  }

  /**
   * The live connection is over: publish the will if asked, and end a clean session, whose
   * state must not outlive the connection [MQTT-3.1.2-6].
   */
  endConnection(publishWill: boolean, why: string): Action[] {
    const actions: Action[] = [{ type: "keepalive", at: null }];
    this.current = null;
    const will = this.store.readWill();
    if (will) {
      this.store.writeWill(undefined);
      // A will is published once, and never after DISCONNECT [MQTT-3.1.2-10].
      if (publishWill) {
        actions.push({ type: "log", level: "info", message: `publishing will on ${will.topic} (${why})`, counter: "wills_published" });
        actions.push({ type: "route", message: will });
      }
    }
    if (this.record && !this.record.persistent) actions.push(...this.discard());
    return actions;
  }

  /** Forgets the session: its subscriptions leave the shards and its state is deleted. */
  discard(): Action[] {
    const clientId = this.record?.clientId ?? "";
    const filters = Object.keys(this.record?.subscriptions ?? {});
    this.store.clear();
    this.record = undefined;
    this.outbound = new Outbound(this.store, this.config);
    return filters.length > 0 ? [{ type: "unsubscribe", clientId, filters }] : [];
  }

  saveRecord(): void {
    if (this.record) this.store.writeSession(this.record);
  }

  /** Queues or sends one message to the client at `qos`; says so when the queue is full. */
  enqueue(message: Message, qos: 0 | 1 | 2, retain: boolean): Action[] {
    const conn = this.current;
    if (qos === 0) {
      if (!conn) return []; // QoS 0 is not queued for an offline client (MQTT §3.1.2.4 allows it; we do not).
      return [send(conn, { cmd: "publish", topic: message.topic, payload: asBuffer(message.payload), qos: 0, retain, dup: false })];
    }
    if (!this.outbound.enqueue(message.topic, message.payload, qos, retain)) {
      return [{
        type: "log",
        level: "warn",
        message: `queue full (${this.config.maxQueuedMessages}) for ${this.record?.clientId}: dropped QoS ${qos} message on ${message.topic}`,
        counter: "dropped_queue_full",
      }];
    }
    return [];
  }
}

export function keepaliveDeadline(conn: ConnectionState): number {
  return conn.lastSeen + conn.keepalive * 1500;
}

export function send(conn: ConnectionState, packet: Packet): Action {
  return { type: "send", connId: conn.connId, version: conn.version, packet };
}

export function close(connId: string, reason: string, error: boolean): Action {
  return { type: "close", connId, reason, error };
}

export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
