/**
 * One TCP (or TLS) client carried to the broker Worker over one WebSocket. The TCP stream is cut
 * into whole MQTT packets, one per binary frame; frames from the Worker are written back as they
 * come. The client's CONNECT gives the client id, so the WebSocket goes straight to its session
 * (`?clientId=`). Backpressure holds both ways, and bad input closes this client only.
 */
import type { Socket } from "node:net";
import WebSocket from "ws";
import { connectClientId } from "../../src/protocol/codec/codec.js";
import { Framer } from "../../src/protocol/codec/framer.js";
import type { GatewayOptions } from "./options.js";

export const ADDRESS_HEADER = "x-mqtt-client-address";
export const SECRET_HEADER = "x-mqtt-gateway-secret";

export interface BridgeEvents {
  log(line: string): void;
  closed(bridge: Bridge, reason: string): void;
  /** Bytes held for the client, reported as they grow (for stats). */
  buffered(bytes: number): void;
}

type State = "awaiting-connect" | "opening" | "open" | "closed";

export class Bridge {
  readonly address: string;
  private state: State = "awaiting-connect";
  private readonly framer: Framer;
  private ws: WebSocket | null = null;
  /** Packets read before the WebSocket opened. */
  private early: Uint8Array[] = [];
  private earlyBytes = 0;
  private connectTimer: NodeJS.Timeout;
  private stallTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly socket: Socket,
    private readonly options: GatewayOptions,
    private readonly events: BridgeEvents,
  ) {
    this.address = `${socket.remoteAddress}:${socket.remotePort}`;
    this.framer = new Framer(options.maxPacketSize);
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.fromClient(chunk));
    socket.on("drain", () => this.ws?.resume());
    socket.on("end", () => this.close("client closed the connection"));
    socket.on("close", () => this.close("client connection closed"));
    socket.on("error", (error) => this.close(`client connection error: ${error.message}`));
    this.connectTimer = setTimeout(() => this.close(`no CONNECT within ${options.connectTimeoutMs / 1000} s`), options.connectTimeoutMs);
  }

  /** Ends both sides at once, so the broker sees the connection go (and publishes the will). */
  close(reason: string, code = 1000): void {
    if (this.state === "closed") return;
    this.state = "closed";
    clearTimeout(this.connectTimer);
    if (this.stallTimer) clearTimeout(this.stallTimer);
    // Let what the broker sent last (a CONNACK refusal, a DISCONNECT) reach the client, briefly.
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 1000).unref();
    const ws = this.ws;
    if (ws) {
      if (ws.readyState === WebSocket.OPEN) ws.close(code, reason.slice(0, 120));
      else ws.terminate();
    }
    this.events.closed(this, reason);
  }

  /** Resolves when the WebSocket to the Worker has closed (for graceful shutdown). */
  wsClosed(): Promise<void> {
    const ws = this.ws;
    if (!ws || ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => ws.once("close", () => resolve()));
  }

  private fromClient(chunk: Buffer): void {
    if (this.state === "closed") return;
    const result = this.framer.push(chunk);
    for (const packet of result.packets) {
      if (this.state === "awaiting-connect") {
        // The first packet must be CONNECT [MQTT-3.1.0-1].
        if (packet[0]! >> 4 !== 1) return this.close("first packet was not CONNECT");
        clearTimeout(this.connectTimer);
        this.open(packet);
      } else if (this.state === "opening") {
        this.hold(packet);
      } else if (this.state === "open") {
        this.toWorker(packet);
      }
    }
    if (result.error) {
      const what = result.error === "too-large" ? `a packet of ${result.declaredSize} bytes (over ${this.options.maxPacketSize})` : "a malformed remaining length";
      return this.close(`bad input: ${what}`);
    }
    this.watchStall();
  }

  /** Half a packet must not hold a connection (and its memory) forever. */
  private watchStall(): void {
    if (this.framer.partial === null) {
      if (this.stallTimer) clearTimeout(this.stallTimer);
      this.stallTimer = null;
    } else if (!this.stallTimer) {
      this.stallTimer = setTimeout(() => this.close(`half a packet stalled for ${this.options.stallTimeoutMs / 1000} s`), this.options.stallTimeoutMs);
    }
  }

  private open(connect: Uint8Array): void {
    this.state = "opening";
    this.hold(connect);
    const clientId = connectClientId(connect);
    // With the client id known, the Worker can route straight to the session object.
    const url = clientId ? `${this.options.workerUrl}?clientId=${encodeURIComponent(clientId)}` : this.options.workerUrl;
    const headers: Record<string, string> = { [ADDRESS_HEADER]: this.address };
    if (this.options.secret) headers[SECRET_HEADER] = this.options.secret;
    // Frames from the broker are not bounded by the client's packet limit: an outgoing PUBLISH can
    // be larger (an alias expanded, subscription identifiers added). Memory is bounded by --max-buffer.
    const ws = new WebSocket(url, ["mqtt"], { headers, perMessageDeflate: false, maxPayload: 32 * 1024 * 1024, handshakeTimeout: 10_000 });
    this.ws = ws;
    ws.binaryType = "nodebuffer";
    ws.on("open", () => {
      if (this.state !== "opening") return;
      this.state = "open";
      for (const packet of this.early) this.toWorker(packet);
      this.early = [];
      this.earlyBytes = 0;
      // Resume reading only if flushing the early packets did not back the WebSocket up.
      if (ws.bufferedAmount <= this.options.maxBuffer) this.socket.resume();
    });
    ws.on("message", (data: Buffer) => this.toClient(data));
    ws.on("close", (code, reason) => this.close(`broker closed the connection (${code}${reason.length ? ` ${reason.toString()}` : ""})`));
    ws.on("unexpected-response", (_req, res) => this.close(`the Worker refused the WebSocket: HTTP ${res.statusCode}`));
    ws.on("error", (error) => this.close(`Worker connection failed: ${error.message}`));
  }

  private hold(packet: Uint8Array): void {
    this.early.push(packet);
    this.earlyBytes += packet.length;
    if (this.earlyBytes > this.options.maxBuffer) this.socket.pause();
  }

  /** Client → Worker: one packet per frame; stop reading TCP while the WebSocket is backed up. */
  private toWorker(packet: Uint8Array): void {
    const ws = this.ws!;
    ws.send(packet, { binary: true }, () => {
      if (this.socket.isPaused() && ws.bufferedAmount < this.options.maxBuffer / 2 && this.state === "open") this.socket.resume();
    });
    if (ws.bufferedAmount > this.options.maxBuffer) this.socket.pause();
  }

  /** Worker → client: stop reading the WebSocket while TCP is backed up; a cap ends a stuck client. */
  private toClient(data: Buffer): void {
    if (this.state === "closed") return;
    const flushed = this.socket.write(data);
    const held = this.socket.writableLength;
    this.events.buffered(held);
    if (held > 2 * this.options.maxBuffer) {
      this.events.log(`gateway: ${this.address}: closing a client that does not read: ${held} bytes held (cap ${2 * this.options.maxBuffer})`);
      return this.close("client too slow", 1008);
    }
    if (!flushed && held > this.options.maxBuffer) this.ws?.pause();
  }
}
