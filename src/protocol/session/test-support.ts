/**
 * Helpers shared by the unit tests of the session core (the *.test.ts files next to this one):
 * a Session on in-memory storage, packet builders, action filters, and CONNECT/SUBSCRIBE steps.
 * The helpers that depend on the protocol version come from `forVersion(4)` (MQTT 3.1.1) or
 * `forVersion(5)` (MQTT 5.0). Not a test file itself: vitest only runs *.test.ts.
 */
import { ALLOWED } from "./auth-verdict.js";
import type { IConnectPacket, IPublishPacket, ISubscription, Packet } from "mqtt-packet";
import { expect } from "vitest";
import { loadConfig } from "../../config.js";
import { KvSessionStore } from "../../storage/kv-session-store.js";
import { MemoryKv } from "../../storage/memory-kv.js";
import type { Action, SubscribeAction } from "../actions.js";
import type { DecodeResult } from "../codec/codec.js";
import type { Delivery, Message, QoS } from "../message.js";
import { Session, type SessionConfig } from "./session.js";

// ---- the session and its input ----

export const ok = (packet: Packet): DecodeResult => ({ ok: true, packet });
export const route = (clientId: string, assigned = false) => ({ clientId, assigned });

export function newSession(config: Partial<SessionConfig> = {}, kv = new MemoryKv()) {
  // Defaults from loadConfig, so settings added later need no change here.
  // No Server Keep Alive unless a test asks: most tests connect with keepalive 0 and no timers.
  const session = new Session(new KvSessionStore(kv), { ...loadConfig({}), maxQueuedMessages: 100, maxInflight: 10, maxKeepalive: 0, ...config });
  return { session, kv };
}

/** Session.deliver at time 0 (no message in these tests expires). */
export const deliverNow = (s: Session, shard: string, deliveries: Delivery[]) => s.deliver(shard, deliveries, 0);

/**
 * Completes every route, subscribe and unsubscribe as the shell does once the shards succeeded
 * (`Session.routed`, `subscribed`, `unsubscribed`), in the order issued; returns every action.
 */
export function settle(session: Session, actions: Action[], retained?: (a: SubscribeAction) => Message[][], now = 0): Action[] {
  const out: Action[] = [];
  for (const a of actions) {
    out.push(a);
    if ((a.type === "route" || a.type === "reshare") && a.routeId !== undefined) out.push(...settle(session, session.routed(a.routeId, now), retained, now));
    else if (a.type === "subscribe") out.push(...settle(session, session.subscribed(a.subscribeId, retained ? retained(a) : a.subscriptions.map(() => [])), retained, now));
    else if (a.type === "unsubscribe" && a.unsubscribeId !== undefined) out.push(...settle(session, session.unsubscribed(a.unsubscribeId), retained, now));
  }
  return out;
}

/** The ids of the routes the core waits for, in order. */
export const routeIds = (actions: Action[]): number[] => only(actions, "route").flatMap((a) => (a.routeId === undefined ? [] : [a.routeId]));

// ---- reading the actions ----

export type Of<T extends Action["type"]> = Extract<Action, { type: T }>;
export const only = <T extends Action["type"]>(actions: Action[], type: T): Of<T>[] => actions.filter((a): a is Of<T> => a.type === type);
export const sent = (actions: Action[], connId?: string): Packet[] =>
  only(actions, "send")
    .filter((a) => connId === undefined || a.connId === connId)
    .map((a) => a.packet);
export type PacketOf<C extends Packet["cmd"]> = Extract<Packet, { cmd: C }>;
export const packets = <C extends Packet["cmd"]>(actions: Action[], cmd: C): PacketOf<C>[] => sent(actions).filter((p): p is PacketOf<C> => p.cmd === cmd);
export type Publish = PacketOf<"publish">;
export const publishes = (actions: Action[]): Publish[] => packets(actions, "publish");
export const text = (payload: string | Uint8Array) => (typeof payload === "string" ? payload : Buffer.from(payload).toString());

// ---- packets and messages ----

/** A subscription with MQTT 5 options (nl, rap, rh). */
export const sub = (topic: string, qos: QoS, options: Omit<ISubscription, "topic" | "qos"> = {}): ISubscription => ({ topic, qos, ...options });

/** A SUBSCRIBE of `[filter, qos]` pairs or full subscriptions, with an optional Subscription Identifier (MQTT 5). */
export function subscribePacket(subs: ([string, number] | ISubscription)[], messageId = 1, subscriptionIdentifier?: number): Packet {
  const subscriptions = subs.map((s): ISubscription => (Array.isArray(s) ? { topic: s[0], qos: s[1] as QoS } : s));
  return { cmd: "subscribe", messageId, subscriptions, ...(subscriptionIdentifier !== undefined ? { properties: { subscriptionIdentifier } } : {}) };
}

/** A PUBLISH from the client; `properties` only on MQTT 5 connections. */
export function publishPacket(topic: string, payload: string, qos: QoS, messageId?: number, extra: { retain?: boolean; dup?: boolean; properties?: IPublishPacket["properties"] } = {}): Packet {
  return {
    cmd: "publish",
    topic,
    payload: Buffer.from(payload),
    qos,
    retain: extra.retain ?? false,
    dup: extra.dup ?? false,
    ...(messageId !== undefined ? { messageId } : {}),
    ...(extra.properties ? { properties: extra.properties } : {}),
  };
}

/** A message as the topic shards hand it to the session; from "publisher", not retained unless `extra` says so. */
export const message = (topic: string, payload: string, qos: QoS, extra: Partial<Message> = {}): Message => ({
  topic,
  payload: new TextEncoder().encode(payload),
  qos,
  retain: false,
  origin: "publisher",
  ...extra,
});

// ---- per protocol version ----

/** The helpers that differ between MQTT 3.1.1 (`4`) and MQTT 5.0 (`5`). */
export function forVersion(version: 4 | 5) {
  /** A CONNECT; Clean Session/Start 1, keepalive off (and on MQTT 5 no Session Expiry Interval) unless `opts` says otherwise. */
  function connectPacket(clientId: string, opts: Partial<IConnectPacket> = {}): IConnectPacket {
    return { cmd: "connect", protocolId: "MQTT", protocolVersion: version, clientId, clean: true, keepalive: 0, ...opts };
  }

  /** CONNECT `clientId` on `connId` and check it was accepted. */
  function connect(session: Session, connId: string, clientId: string, opts: Partial<IConnectPacket> = {}, now = 0): Action[] {
    const actions = session.receive(connId, route(clientId), ok(connectPacket(clientId, opts)), now, ALLOWED);
    const accepted = version === 5 ? { cmd: "connack", reasonCode: 0 } : { cmd: "connack", returnCode: 0 };
    expect(sent(actions, connId)).toContainEqual(expect.objectContaining(accepted));
    return actions;
  }

  /** A new session of "c1" connected on "k1". */
  function connected(config: Partial<SessionConfig> = {}, opts: Partial<IConnectPacket> = {}) {
    const { session, kv } = newSession(config);
    connect(session, "k1", "c1", opts);
    return { session, kv };
  }

  /** A connected session of client "c1" on "conn1" subscribed to `subs`. */
  function subscribed(subs: [string, QoS][], opts: { clean?: boolean; config?: Partial<SessionConfig>; kv?: MemoryKv } = {}) {
    const { session, kv } = newSession(opts.config, opts.kv);
    connect(session, "conn1", "c1", { clean: opts.clean ?? true });
    settle(session, session.receive("conn1", route("c1"), ok(subscribePacket(subs)), 0));
    return { session, kv };
  }

  return { connectPacket, connect, connected, subscribed };
}

/** The stored rows of the wills (and handed-back shared messages) on their way (see PendingWills). */
export const pendingWillRows = (kv: MemoryKv): unknown[] => [...kv.list({ prefix: "pw:" })].map(([, v]) => v);
