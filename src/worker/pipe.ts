/**
 * The Worker side of a stock client's connection. A client id is only known once the CONNECT
 * packet has been read, so the Worker accepts the socket itself, reads until CONNECT is whole,
 * opens the session object's socket for that id, and from then on pipes bytes both ways.
 */
import type { BrokerConfig } from "../config.js";
import type { Env } from "../env.js";
import { connectClientId } from "../protocol/codec/codec.js";
import { Framer } from "../protocol/codec/framer.js";
import type { ConnectRoute } from "../protocol/session/session.js";
import { assignClientId } from "./client-id.js";
import { routeHeaders } from "./internal-headers.js";

/** Codes a peer may not send in a close frame (RFC 6455 §7.4.1). */
const RESERVED_CLOSE_CODES = new Set([1005, 1006, 1015]);

export function pipeToSession(client: WebSocket, env: Env, config: BrokerConfig, subprotocol: string, address: string): void {
  // Sockets created inside workerd deliver Blobs unless told otherwise.
  client.binaryType = "arraybuffer";
  const framer = new Framer(config.maxPacketSize);
  let upstream: WebSocket | null = null;
  let connecting = false;
  let closed = false;
  /** Bytes received after the CONNECT, while the session socket is being opened. */
  const waiting: Uint8Array[] = [];
  let waitingBytes = 0;
  // A connection that never completes a CONNECT is closed (§3.1: the server SHOULD).
  const connectTimer = setTimeout(() => {
    if (!upstream) closeBoth(1002, "no CONNECT in time");
  }, config.connectTimeoutMs);

  const closeBoth = (code: number, reason: string) => {
    if (closed) return;
    closed = true;
    clearTimeout(connectTimer);
    const safe = RESERVED_CLOSE_CODES.has(code) ? 1000 : code;
    for (const ws of [client, upstream]) {
      try {
        ws?.close(safe, reason.slice(0, 120));
      } catch {
        // Already closing.
      }
    }
  };

  const open = async (connect: Uint8Array) => {
    connecting = true;
    const route = { ...routeFor(connect), address };
    const id = route.clientId === "" ? env.SESSIONS.newUniqueId() : env.SESSIONS.idFromName(route.clientId);
    const response = await env.SESSIONS.get(id).fetch("https://session.internal/connect", {
      headers: routeHeaders(route, subprotocol),
    });
    const ws = response.webSocket;
    if (!ws) throw new Error(`session refused the connection: ${response.status}`);
    ws.binaryType = "arraybuffer";
    ws.accept();
    if (closed) {
      ws.close(1000, "client left");
      return;
    }
    upstream = ws;
    clearTimeout(connectTimer);
    ws.addEventListener("message", (event) => {
      if (!closed) client.send(event.data);
    });
    ws.addEventListener("close", (event) => closeBoth(event.code, event.reason));
    ws.addEventListener("error", () => closeBoth(1011, "session error"));
    ws.send(connect);
    for (const bytes of waiting.splice(0)) ws.send(bytes);
  };

  client.addEventListener("message", (event) => {
    if (closed) return;
    if (typeof event.data === "string") {
      // [MQTT-6.0.0-1]: the session object sees it too once piping; before that, close here.
      if (upstream) upstream.send(event.data);
      else closeBoth(1003, "MQTT requires binary frames");
      return;
    }
    const bytes = new Uint8Array(event.data as ArrayBuffer);
    if (upstream) {
      upstream.send(bytes);
      return;
    }
    if (connecting) {
      waiting.push(bytes);
      waitingBytes += bytes.length;
      if (waitingBytes > config.maxPacketSize) closeBoth(1008, "too much data before the session opened");
      return;
    }
    const result = framer.push(bytes);
    const [first] = result.packets;
    if (!first) {
      if (result.error) closeBoth(1002, `invalid first packet: ${result.error}`);
      return;
    }
    // The first packet must be CONNECT [MQTT-3.1.0-1].
    if (first[0]! >> 4 !== 1) {
      closeBoth(1002, "first packet was not CONNECT");
      return;
    }
    // Whatever followed the CONNECT goes on unparsed; the session object frames it.
    const rest = concatRest(result.packets.slice(1), framer.partial);
    if (rest) waiting.push(rest);
    open(first).catch((error) => {
      console.error(`worker: could not reach the session: ${String(error)}`);
      closeBoth(1011, "session unavailable");
    });
  });
  client.addEventListener("close", (event) => closeBoth(event.code, event.reason || "client closed"));
  client.addEventListener("error", () => closeBoth(1011, "client error"));
}

/**
 * Routes by the CONNECT's client id. An empty id gets an assigned one; a CONNECT that does not
 * decode goes to a fresh object with no id, whose session core answers it with the right CONNACK.
 */
function routeFor(connect: Uint8Array): ConnectRoute {
  const clientId = connectClientId(connect);
  if (clientId === null) return { clientId: "", assigned: false };
  return clientId === "" ? { clientId: assignClientId(), assigned: true } : { clientId, assigned: false };
}

function concatRest(packets: Uint8Array[], partial: Uint8Array | null): Uint8Array | null {
  const parts = partial ? [...packets, partial] : packets;
  const size = parts.reduce((n, p) => n + p.length, 0);
  if (size === 0) return null;
  const out = new Uint8Array(size);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}
