/**
 * The Worker side of a stock client's connection: a thin shell around the edge connection
 * (src/edge/connection.ts). A client id is only known once CONNECT has been read, so the Worker
 * accepts the socket itself; the machine reads the CONNECT, this shell opens the session object's
 * socket for that id and then does what the machine says — forward packets, answer PINGREQ, close.
 * An idle client that only pings never wakes its session object.
 */
import type { BrokerConfig } from "../config.js";
import { EdgeConnection, type EdgeAction } from "../edge/connection.js";
import { DeadlineTimer } from "../edge/deadline-timer.js";
import { joinPackets } from "../edge/join.js";
import type { Env } from "../env.js";
import type { ConnectRoute } from "../protocol/session/session.js";
import { assignClientId } from "./client-id.js";
import { routeHeaders } from "../contracts/index.js";
import { closeReason } from "../edge/close-reason.js";

/** Codes a peer may not send in a close frame (RFC 6455 §7.4.1). */
const RESERVED_CLOSE_CODES = new Set([1005, 1006, 1015]);

/** A half-received packet with no new byte for this long closes the connection. */
const STALL_TIMEOUT_MS = 30_000;

/**
 * Pipes `client` (the Worker's end of the pair, not yet accepted) to its session object. `edgeInFront`: our gateway already answers PINGREQ and
 * enforces the keepalive for this connection (its header said so), so the pipe only relays.
 * `clientIdHint`: the upgrade named an id too long to go straight to its session (`?clientId=`).
 */
export function pipeToSession(client: WebSocket, env: Env, config: BrokerConfig, subprotocol: string, address: string, edgeInFront: boolean, clientIdHint?: string): void {
  // Sockets created inside workerd deliver Blobs unless told otherwise.
  client.binaryType = "arraybuffer";
  const edge = new EdgeConnection(
    {
      maxPacketSize: config.maxPacketSize,
      // The Worker has no backpressure to apply: what arrives before the session opens is bounded here.
      maxHeldBytes: 2 * config.maxPacketSize,
      connectTimeoutMs: config.connectTimeoutMs,
      stallTimeoutMs: STALL_TIMEOUT_MS,
      enforceKeepalive: !edgeInFront,
      // A Worker cannot stop reading a WebSocket: no flow control to apply here.
      flowWindowBytes: null,
      maxClientIdBytes: config.maxClientIdBytes,
      ...(clientIdHint !== undefined ? { clientIdHint } : {}),
    },
    Date.now(),
  );
  let upstream: WebSocket | null = null;

  const run = (actions: EdgeAction[]) => {
    for (const action of actions) {
      switch (action.type) {
        case "open":
          open(action.clientId).catch((error) => {
            console.error(`worker: could not reach the session: ${String(error)}`);
            run(edge.close(1011, "session unavailable"));
          });
          break;
        case "toUpstream":
          sendUpstreamSoon(action.bytes);
          break;
        case "toClient":
          send(client, action.bytes);
          break;
        case "close":
          flushUpstream();
          closeBoth(action.code, action.reason);
          break;
      }
    }
    timer.sync(edge.nextDeadline(), Date.now());
  };
  const timer = new DeadlineTimer(() => run(edge.timer(Date.now())));

  const send = (ws: WebSocket | null, bytes: Uint8Array) => {
    try {
      ws?.send(bytes);
    } catch {
      // The socket closed under us; its close event closes the other side.
    }
  };

  /**
   * Packets for the session wait for the end of this turn and go as one frame: a client that
   * sends each packet over several frames (mqtt.js does) or many small packets would otherwise
   * cost its session object one event per packet. (Several packets per frame: [MQTT-6.0.0-2].)
   */
  let pendingUp: Uint8Array[] = [];
  const sendUpstreamSoon = (bytes: Uint8Array) => {
    if (pendingUp.length === 0) setTimeout(flushUpstream, 0);
    pendingUp.push(bytes);
  };
  const flushUpstream = () => {
    if (pendingUp.length === 0) return;
    const parts = pendingUp;
    pendingUp = [];
    send(upstream, joinPackets(parts));
  };

  const closeBoth = (code: number, reason: string) => {
    timer.cancel();
    const safe = RESERVED_CLOSE_CODES.has(code) ? 1000 : code;
    for (const ws of [client, upstream]) {
      try {
        ws?.close(safe, closeReason(reason));
      } catch {
        // Already closing.
      }
    }
  };

  const open = async (clientId: string | null) => {
    // Whoever answers PINGREQ in front of the session (this pipe or the gateway) times the keepalive.
    const route: ConnectRoute = { ...routeFor(clientId), address, edgeKeepalive: true };
    const id = route.clientId === "" ? env.SESSIONS.newUniqueId() : env.SESSIONS.idFromName(route.clientId);
    const response = await env.SESSIONS.get(id).fetch("https://session.internal/connect", {
      headers: routeHeaders(route, subprotocol),
    });
    const ws = response.webSocket;
    if (!ws) throw new Error(`session refused the connection: ${response.status}`);
    ws.binaryType = "arraybuffer";
    ws.accept();
    if (edge.closed) {
      ws.close(1000, "client left");
      return;
    }
    upstream = ws;
    ws.addEventListener("message", (event) => {
      // The session object sends binary frames only.
      if (typeof event.data === "string") run(edge.close(1011, "the session sent a text frame"));
      else run(edge.fromUpstream(new Uint8Array(event.data as ArrayBuffer), Date.now()));
    });
    ws.addEventListener("close", (event) => run(edge.close(event.code, event.reason || "session closed")));
    ws.addEventListener("error", () => run(edge.close(1011, "session error")));
    run(edge.upstreamOpened());
  };

  client.addEventListener("message", (event) => {
    // [MQTT-6.0.0-1]: binary frames only; the machine closes on a text frame.
    if (typeof event.data === "string") run(edge.clientText());
    else run(edge.fromClient(new Uint8Array(event.data as ArrayBuffer), Date.now()));
  });
  client.addEventListener("close", (event) => run(edge.close(event.code, event.reason || "client closed")));
  client.addEventListener("error", () => run(edge.close(1011, "client error")));
  run([]); // arms the CONNECT deadline
  // Accepted a turn later, once the runtime pumps the 101's end to the network: accepted before,
  // a client's close frame fails that pump and workerd reports it as an uncaught "Network
  // connection lost." for every client that leaves without DISCONNECT (a closed tab). Nothing is
  // sent before the CONNECT, and events wait for accept().
  setTimeout(() => {
    try {
      client.accept();
    } catch (error) {
      run(edge.close(1011, `the client's socket could not be accepted: ${String(error)}`));
    }
  }, 0);
}

/**
 * Routes by the CONNECT's client id. An empty id gets an assigned one; a CONNECT that does not
 * decode goes to a fresh object with no id, whose session core answers it with the right CONNACK.
 */
function routeFor(clientId: string | null): ConnectRoute {
  if (clientId === null) return { clientId: "", assigned: false };
  return clientId === "" ? { clientId: assignClientId(), assigned: true } : { clientId, assigned: false };
}
