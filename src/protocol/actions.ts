/**
 * What the session core asks its shell to do: plain data, no callbacks. The core never performs
 * I/O; the shell runs these in order, awaiting `subscribe` and `unsubscribe` before the
 * ones that follow. A `route` with a `routeId` (and a `reshare`) is not awaited: when its shard has stored the
 * message (or could not), the shell tells the core with the event `Session.routed` (or
 * `Session.routeFailed`), which answers with what follows (PUBACK, PUBREC…). Timers are not
 * actions: after each event the shell arms its alarm at `Session.nextDeadline()`.
 */
import type { Packet } from "mqtt-packet";
import type { ProtocolVersion } from "./codec/codec.js";
import type { Message, QoS } from "./message.js";

export interface SendAction {
  type: "send";
  connId: string;
  version: ProtocolVersion;
  packet: Packet;
  /** The packet already encoded (when the core had to measure it). */
  bytes?: Uint8Array;
}

export interface CloseAction {
  type: "close";
  connId: string;
  /** Why, for the log and the WebSocket close frame. */
  reason: string;
  /** True when the broker ends the connection because the client broke the protocol. */
  error: boolean;
}

/**
 * Publish to the topic shards. With a `routeId`, the core waits to hear that the shard stored it
 * (`Session.routed`) or could not (`Session.routeFailed`); without one, nothing follows it.
 */
export interface RouteAction {
  type: "route";
  message: Message;
  routeId?: number;
}

/**
 * Register filters with their topic shards. The shell answers with `Session.subscribed(subscribeId,
 * retained)`, the first page of retained messages matching each filter in the order of
 * `subscriptions`, or `Session.shardCallFailed(subscribeId)`.
 */
export interface SubscribeAction {
  type: "subscribe";
  clientId: string;
  /** `retained`: whether this filter wants the retained messages now (Retain Handling, not shared). */
  subscriptions: { filter: string; qos: QoS; retained: boolean }[];
  subscribeId: number;
}

/**
 * Remove filters from their topic shards. With an `unsubscribeId`, the shell answers with
 * `Session.unsubscribed(unsubscribeId)` (or `Session.shardCallFailed(unsubscribeId)`).
 */
export interface UnsubscribeAction {
  type: "unsubscribe";
  clientId: string;
  filters: string[];
  unsubscribeId?: number;
}

/**
 * Hand a shared-subscription message back to its shard for another member (the session ended).
 * Kept by the session until done (see PendingWills): the shell answers with
 * `Session.routed(routeId)` or `Session.routeFailed(routeId, …)`, as for a route.
 */
export interface ReshareAction {
  type: "reshare";
  share: string;
  message: Message;
  routeId: number;
}

/** Tell a topic shard it may let go of its durable copies for this client up to `upTo`. */
export interface ReleaseAction {
  type: "release";
  shard: string;
  clientId: string;
  upTo: number;
}

/** Tell a topic shard that this client is connected again (see MutedShards). */
export interface OnlineAction {
  type: "online";
  shard: string;
  clientId: string;
}

export interface LogAction {
  type: "log";
  level: "info" | "warn";
  message: string;
  /** A stats counter to increment with the log line. */
  counter?: string;
}

export type Action = SendAction | CloseAction | RouteAction | SubscribeAction | UnsubscribeAction | ReshareAction | ReleaseAction | OnlineAction | LogAction;
