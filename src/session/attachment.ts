/**
 * What each WebSocket of a session object carries across hibernation (at most 16 KiB): its id,
 * how it was routed, its live MQTT connection state, and the bytes of a partial packet.
 * Reading and writing an attachment is a structured clone, so they are cached in memory and
 * written only when something hibernation needs has changed.
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
  /** True when a larger partial packet was kept in memory only. */
  partialInStorage?: boolean;
  /** Until CONNECT: the time by which it must have arrived (epoch ms). */
  connectBy?: number;
}

/** Partial packets up to this size ride in the attachment; larger ones stay in memory. */
export const ATTACHMENT_PARTIAL_LIMIT = 8 * 1024;

interface Cached {
  value: Attachment;
  /** A copy of what was last written to the socket. */
  saved: Attachment;
}

export class Attachments {
  private readonly cache = new WeakMap<WebSocket, Cached>();
  /** Sockets whose attachment changed in memory only, to be written by `flush`. */
  private readonly deferred = new Set<WebSocket>();

  get(ws: WebSocket): Attachment {
    let cached = this.cache.get(ws);
    if (!cached) {
      const value = ws.deserializeAttachment() as Attachment;
      cached = { value, saved: snapshot(value) };
      this.cache.set(ws, cached);
    }
    return cached.value;
  }

  /** A new socket's first attachment. */
  init(ws: WebSocket, value: Attachment): void {
    ws.serializeAttachment(value);
    this.cache.set(ws, { value, saved: snapshot(value) });
  }

  /**
   * Keeps `next` in memory; writes it to the socket only when hibernation would miss the change.
   * With `defer`, even then it is only marked, for `flush`: a client that splits each packet over
   * several frames (mqtt.js does) would otherwise cost a write per frame. The shell flushes on a
   * timer, and a pending timer keeps the object from hibernating until it has.
   */
  update(ws: WebSocket, next: Attachment, defer = false): void {
    const cached = this.cache.get(ws);
    if (cached && (defer || !mustWrite(cached.saved, next))) {
      cached.value = next;
      if (defer) this.deferred.add(ws);
      return;
    }
    this.write(ws, next);
  }

  get pending(): boolean {
    return this.deferred.size > 0;
  }

  /** Writes deferred changes that hibernation would miss. */
  flush(): void {
    for (const ws of this.deferred) {
      const cached = this.cache.get(ws);
      if (cached && mustWrite(cached.saved, cached.value)) this.write(ws, cached.value);
    }
    this.deferred.clear();
  }

  private write(ws: WebSocket, next: Attachment): void {
    this.deferred.delete(ws);
    try {
      ws.serializeAttachment(next);
    } catch {
      // The socket is closed: nothing to keep for it.
    }
    this.cache.set(ws, { value: next, saved: snapshot(next) });
  }
}

function snapshot(a: Attachment): Attachment {
  return { ...a, ...(a.conn ? { conn: { ...a.conn } } : {}) };
}

/**
 * Last-seen time changes with every packet; after hibernation it only feeds the keepalive check,
 * so it is written when it moved by a quarter of the keepalive (at most 1 s): a woken object may
 * then see the client as at most that much staler than it was.
 */
function mustWrite(saved: Attachment, next: Attachment): boolean {
  if (saved.partial !== next.partial && (saved.partial || next.partial)) return true;
  if (saved.partialInStorage !== next.partialInStorage) return true;
  const a = saved.conn;
  const b = next.conn;
  if (!a || !b) return a !== b;
  for (const key of Object.keys(b) as (keyof ConnectionState)[]) {
    if (key !== "lastSeen" && a[key] !== b[key]) return true;
  }
  return b.lastSeen - a.lastSeen > Math.min(1000, b.keepalive * 250);
}
