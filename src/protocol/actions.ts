/**
 * What the session core asks its shell to do. The core never performs I/O; the shell runs these
 * in order, awaiting `route`, `subscribe` and `unsubscribe` before the ones that follow, then runs
 * the actions their `after` returns. Timers are not actions: after each event the shell arms its
 * alarm at `Session.nextDeadline()`.
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

/** Publish to the topic shards; `after` runs once the shard has stored it, `failed` if it could not. */
export interface RouteAction {
  type: "route";
  message: Message;
  after?: () => Action[];
  failed?: () => void;
}

export interface SubscribeAction {
  type: "subscribe";
  clientId: string;
  /** `retained`: whether this filter wants the retained messages now (Retain Handling, not shared). */
  subscriptions: { filter: string; qos: QoS; retained: boolean }[];
  /** Receives the retained messages matching each filter, in the order of `subscriptions`. */
  after: (retained: Message[][]) => Action[];
}

export interface UnsubscribeAction {
  type: "unsubscribe";
  clientId: string;
  filters: string[];
  after?: () => Action[];
}

/** Hand a shared-subscription message back to its shard for another member (the session ended). */
export interface ReshareAction {
  type: "reshare";
  share: string;
  message: Message;
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
