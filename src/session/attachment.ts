/**
 * What each WebSocket of a session object carries across hibernation (at most 16 KiB): its id,
 * how it was routed, its live MQTT connection state, and the bytes of a partial packet.
 */
import type { ConnectionState } from "../protocol/session/state.js";
import type { ConnectRoute } from "../protocol/session/session.js";

export interface Attachment {
  connId: string;
  route: ConnectRoute;
  /** Set once this socket's CONNECT was accepted and while it is the session's connection. */
  conn?: ConnectionState;
  /** Unparsed tail of a packet split across frames, when small enough to keep here. */
  partial?: Uint8Array;
  /** True when a larger partial packet was written to storage instead. */
  partialInStorage?: boolean;
}

/** Partial packets up to this size ride in the attachment; larger ones go to storage. */
export const ATTACHMENT_PARTIAL_LIMIT = 8 * 1024;

export function readAttachment(ws: WebSocket): Attachment {
  return ws.deserializeAttachment() as Attachment;
}
