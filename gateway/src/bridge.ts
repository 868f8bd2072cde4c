/**
 * One TCP (or TLS) client carried to the broker Worker over one WebSocket: a thin shell around
 * the edge connection (src/edge/connection.ts), the same machine the Worker pipe runs. The machine
 * cuts the TCP stream into whole packets, reads the CONNECT's client id (so the WebSocket goes
 * straight to its session, `?clientId=`), answers PINGREQ and enforces the keepalive; this shell
 * moves the bytes, applies backpressure both ways and closes. Bad input closes this client only.
 */
import type { Socket } from "node:net";
import WebSocket from "ws";
import { EdgeConnection, type EdgeAction } from "../../src/edge/connection.js";
import { DeadlineTimer } from "../../src/edge/deadline-timer.js";
import { EDGE_KEEPALIVE_HEADER, GATEWAY_ADDRESS_HEADER, GATEWAY_SECRET_HEADER } from "../../src/contracts/index.js";
import type { GatewayOptions } from "./options.js";
import { CLIENT_ID_BYTES_LIMIT } from "../../src/config.js";
import { closeReason } from "../../src/edge/close-reason.js";

/**
 * Bytes a client may have on their way to its session before the session has taken them (see
 * `EdgeOptions.flowWindowBytes`): a device that writes faster is slowed down by TCP.
 */
export const FLOW_WINDOW_BYTES = 64 * 1024;
export interface BridgeEvents {
  log(line: string): void;
  closed(bridge: Bridge, reason: string): void;
  /** Bytes held for the client, reported as they grow (for stats). */
  buffered(bytes: number): void;
}

export class Bridge {
  readonly address: string;
  private readonly edge: EdgeConnection;
  private readonly timer: DeadlineTimer;
  private ws: WebSocket | null = null;
  /** Set by the close action: nothing more goes to either side. */
  private finished = false;

  constructor(
    private readonly socket: Socket,
    private readonly options: GatewayOptions,
    private readonly events: BridgeEvents,
  ) {
    this.address = `${socket.remoteAddress}:${socket.remotePort}`;
    this.edge = new EdgeConnection(
      {
        maxPacketSize: options.maxPacketSize,
        // Reading pauses past --max-buffer (below); twice that closes, as towards the client.
        maxHeldBytes: 2 * options.maxBuffer,
        connectTimeoutMs: options.connectTimeoutMs,
        stallTimeoutMs: options.stallTimeoutMs,
        enforceKeepalive: true,
        flowWindowBytes: FLOW_WINDOW_BYTES,
        // The Worker's MAX_CLIENT_ID_LENGTH is not known here: ids beyond its highest value never
        // go out in a URL; the session object refuses those between the two with the same CONNACK.
        maxClientIdBytes: CLIENT_ID_BYTES_LIMIT,
      },
      Date.now(),
    );
    this.timer = new DeadlineTimer(() => this.run(this.edge.timer(Date.now())));
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => {
      this.run(this.edge.fromClient(chunk, Date.now()));
      if (this.edge.heldBytes > this.options.maxBuffer || this.edge.paused) socket.pause();
    });
    socket.on("drain", () => this.ws?.resume());
    socket.on("end", () => this.close("client closed the connection"));
    socket.on("close", () => this.close("client connection closed"));
    socket.on("error", (error) => this.close(`client connection error: ${error.message}`));
    this.run([]); // arms the CONNECT deadline
  }

  /** Ends both sides at once, so the broker sees the connection go (and publishes the will). */
  close(reason: string, code = 1000): void {
    this.run(this.edge.close(code, reason));
  }

  /** Resolves when the WebSocket to the Worker has closed (for graceful shutdown). */
  wsClosed(): Promise<void> {
    const ws = this.ws;
    if (!ws || ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => ws.once("close", () => resolve()));
  }

  private run(actions: EdgeAction[]): void {
    for (const action of actions) {
      if (this.finished) break; // a write that failed closed the connection mid-way
      switch (action.type) {
        case "open":
          this.open(action.clientId);
          break;
        case "toUpstream":
          this.toWorker(action.bytes);
          break;
        case "toClient":
          this.toClient(action.bytes);
          break;
        case "close":
          this.finish(action.reason, action.code);
          break;
      }
    }
    this.timer.sync(this.edge.nextDeadline(), Date.now());
  }

  private finish(reason: string, code: number): void {
    this.finished = true;
    this.timer.cancel();
    // Let what went to the client last (a CONNACK refusal, a DISCONNECT) reach it, briefly.
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 1000).unref();
    const ws = this.ws;
    if (ws) {
      if (ws.readyState === WebSocket.OPEN) ws.close(code, closeReason(reason));
      else if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
    }
    this.events.closed(this, reason);
  }

  private open(clientId: string | null): void {
    // With the client id known, the Worker can route straight to the session object; an empty
    // one goes through the Worker pipe, which assigns an id and leaves the keepalive to us.
    const url = clientId ? `${this.options.workerUrl}?clientId=${encodeURIComponent(clientId)}` : this.options.workerUrl;
    const headers: Record<string, string> = { [EDGE_KEEPALIVE_HEADER]: "1" };
    // The device's address goes only with the secret: the Worker refuses one without (401).
    if (this.options.secret) Object.assign(headers, { [GATEWAY_ADDRESS_HEADER]: this.address, [GATEWAY_SECRET_HEADER]: this.options.secret });
    // Frames from the broker are not bounded by the client's packet limit: an outgoing PUBLISH can
    // be larger (an alias expanded, subscription identifiers added). Memory is bounded by --max-buffer.
    const ws = new WebSocket(url, ["mqtt"], { headers, perMessageDeflate: false, maxPayload: 32 * 1024 * 1024, handshakeTimeout: 10_000 });
    this.ws = ws;
    ws.binaryType = "nodebuffer";
    ws.on("open", () => {
      if (this.edge.closed) return;
      this.run(this.edge.upstreamOpened());
      // Resume reading only if flushing the early packets did not back the WebSocket up.
      if (ws.bufferedAmount <= this.options.maxBuffer) this.socket.resume();
    });
    ws.on("message", (data: Buffer) => {
      this.run(this.edge.fromUpstream(data, Date.now()));
      // The session answered the flow-control probe: read the client again.
      if (this.socket.isPaused() && !this.edge.paused && ws.bufferedAmount < this.options.maxBuffer / 2 && !this.edge.closed) this.socket.resume();
    });
    ws.on("close", (code, reason) => this.close(`broker closed the connection (${code}${reason.length ? ` ${reason.toString()}` : ""})`));
    ws.on("unexpected-response", (_req, res) => this.close(`the Worker refused the WebSocket: HTTP ${res.statusCode}`));
    ws.on("error", (error) => this.close(`Worker connection failed: ${error.message}`));
  }

  /** Client → Worker: the whole packets of one read in one frame; stop reading TCP while the WebSocket is backed up. */
  private toWorker(bytes: Uint8Array): void {
    const ws = this.ws!;
    ws.send(bytes, { binary: true }, () => {
      if (this.socket.isPaused() && ws.bufferedAmount < this.options.maxBuffer / 2 && !this.edge.closed && !this.edge.paused) this.socket.resume();
    });
    if (ws.bufferedAmount > this.options.maxBuffer) this.socket.pause();
  }

  /** → client: stop reading the WebSocket while TCP is backed up; a cap ends a stuck client. */
  private toClient(bytes: Uint8Array): void {
    const flushed = this.socket.write(bytes);
    const held = this.socket.writableLength;
    this.events.buffered(held);
    if (held > 2 * this.options.maxBuffer) {
      this.events.log(`gateway: ${this.address}: closing a client that does not read: ${held} bytes held (cap ${2 * this.options.maxBuffer})`);
      this.close("client too slow", 1008);
      return;
    }
    if (!flushed && held > this.options.maxBuffer) this.ws?.pause();
  }
}
