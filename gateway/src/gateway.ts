/**
 * The gateway: TCP and TLS listeners whose clients are bridged to the broker Worker. Startup
 * errors say what to change; at most --max-connections clients are open at once (more are refused,
 * counted and logged); shutdown stops accepting and closes every client, so their wills fire.
 */
import { createServer, type Server, type Socket } from "node:net";
import { createServer as createTlsServer } from "node:tls";
import WebSocket from "ws";
import { GATEWAY_SECRET_HEADER } from "../../src/contracts/index.js";
import { Bridge } from "./bridge.js";
import type { GatewayOptions } from "./options.js";

export interface GatewayStats {
  open: number;
  total: number;
  /** Clients turned away because --max-connections were open. */
  refused: number;
  /** Largest number of bytes held for one client towards TCP. */
  maxBuffered: number;
}

/** A flood of refusals is logged at most this often, with how many it stands for. */
const REFUSAL_LOG_EVERY_MS = 5000;

export interface Gateway {
  /** Bound ports (useful with port 0). */
  port: number;
  tlsPort: number | null;
  stats(): GatewayStats;
  stop(): Promise<void>;
}

export class GatewayStartError extends Error {}

export async function startGateway(options: GatewayOptions, log: (line: string) => void = console.log): Promise<Gateway> {
  await waitForWorker(options);
  const bridges = new Set<Bridge>();
  const stats: GatewayStats = { open: 0, total: 0, refused: 0, maxBuffered: 0 };
  let refusalLoggedAt = -Infinity;
  let refusalsUnlogged = 0;
  const refuse = (socket: Socket) => {
    stats.refused++;
    refusalsUnlogged++;
    socket.destroy();
    const now = Date.now();
    if (now - refusalLoggedAt < REFUSAL_LOG_EVERY_MS) return;
    log(`gateway: refused ${refusalsUnlogged} connection(s): ${bridges.size} open, the limit is --max-connections ${options.maxConnections} (refused in all: ${stats.refused})`);
    refusalLoggedAt = now;
    refusalsUnlogged = 0;
  };
  const accept = (socket: Socket) => {
    if (bridges.size >= options.maxConnections) return refuse(socket);
    stats.total++;
    const bridge = new Bridge(socket, options, {
      log,
      buffered: (bytes) => (stats.maxBuffered = Math.max(stats.maxBuffered, bytes)),
      closed: (b, reason) => {
        if (!bridges.delete(b)) return;
        stats.open = bridges.size;
        log(`gateway: ${b.address} disconnected: ${reason} (open: ${bridges.size})`);
      },
    });
    bridges.add(bridge);
    stats.open = bridges.size;
    log(`gateway: ${bridge.address} connected (open: ${bridges.size})`);
  };

  const servers: Server[] = [];
  const tcp = createServer({ pauseOnConnect: false }, accept);
  const port = await listen(tcp, options.host, options.port, "--port / GATEWAY_PORT");
  servers.push(tcp);
  let tlsPort: number | null = null;
  if (options.tls) {
    const tls = createTlsServer({ cert: options.tls.cert, key: options.tls.key }, accept);
    tls.on("tlsClientError", (error) => log(`gateway: TLS handshake failed: ${error.message}`));
    tlsPort = await listen(tls, options.host, options.tlsPort, "--tls-port / GATEWAY_TLS_PORT").catch((error) => {
      tcp.close();
      throw error;
    });
    servers.push(tls);
  }
  log(`gateway: mqtt://${options.host}:${port}${tlsPort !== null ? ` and mqtts://${options.host}:${tlsPort}` : ""} → ${options.workerUrl}`);

  return {
    port,
    tlsPort,
    stats: () => ({ ...stats }),
    async stop() {
      for (const server of servers) server.close();
      const closing = [...bridges].map((b) => b.wsClosed());
      for (const bridge of [...bridges]) bridge.close("gateway shutting down", 1001);
      // Give the Worker a moment to see each close (so wills fire), but never hang.
      await Promise.race([Promise.all(closing), new Promise((r) => setTimeout(r, 3000))]);
    },
  };
}

function listen(server: Server, host: string, port: number, setting: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) => {
      const why = error.code === "EADDRINUSE" ? "the address is already in use" : error.message;
      reject(new GatewayStartError(`cannot listen on ${host}:${port}: ${why} (change ${setting})`));
    });
    server.listen(port, host, () => {
      const address = server.address();
      resolve(typeof address === "object" && address ? address.port : port);
    });
  });
}

/**
 * Checks that the Worker accepts the gateway: a real WebSocket upgrade on the configured URL with
 * subprotocol mqtt and the gateway's secret, closed at once (no CONNECT, so no session). Retries
 * for `waitForWorkerMs` while nothing listens or wrangler's proxy says the Worker is not up yet
 * (502, 503); any other refusal (a wrong path's 404, a misconfigured broker's 500, a wrong
 * secret's 401) stops the gateway with what the Worker said.
 */
async function waitForWorker(options: GatewayOptions): Promise<void> {
  const deadline = Date.now() + options.waitForWorkerMs;
  for (;;) {
    const result = await probeWorker(options);
    if (result.ok) return;
    if (!result.retry || Date.now() >= deadline) {
      const hint = result.retry ? "check --worker-url / GATEWAY_WORKER_URL, or raise --wait-for-worker" : result.hint;
      throw new GatewayStartError(`the Worker at ${options.workerUrl} ${result.why} (${hint})`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

type ProbeResult = { ok: true } | { ok: false; retry: true; why: string } | { ok: false; retry: false; why: string; hint: string };

/** Statuses wrangler's dev proxy answers while the Worker (re)starts. */
const NOT_READY = new Set([502, 503]);

export function probeWorker(options: Pick<GatewayOptions, "workerUrl" | "secret">, timeoutMs = 10_000): Promise<ProbeResult> {
  return new Promise((resolve) => {
    // The secret alone (no device address): a wrong one is refused now, not for every device.
    const headers: Record<string, string> = options.secret ? { [GATEWAY_SECRET_HEADER]: options.secret } : {};
    const ws = new WebSocket(options.workerUrl, ["mqtt"], { headers, perMessageDeflate: false, handshakeTimeout: timeoutMs });
    let done = false;
    const finish = (result: ProbeResult) => {
      if (done) return;
      done = true;
      resolve(result);
    };
    ws.on("open", () => {
      ws.close(1000, "gateway startup check");
      finish({ ok: true });
    });
    ws.on("unexpected-response", (_req, res) => {
      const status = res.statusCode ?? 0;
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body = (body + chunk).slice(0, 2000)));
      const settle = () => {
        ws.terminate();
        const said = body.trim() ? `: ${body.trim().replace(/\s*\n\s*/g, " ")}` : "";
        if (NOT_READY.has(status)) return finish({ ok: false, retry: true, why: `is not ready (HTTP ${status}${said})` });
        const hint =
          status === 404
            ? "there is no MQTT endpoint at that path; the broker's is /mqtt: check --worker-url / GATEWAY_WORKER_URL"
            : status === 401
              ? "--secret / GATEWAY_SECRET must equal the Worker's GATEWAY_SECRET"
              : status === 500
                ? "fix the Worker's settings: `npm run check-config`"
                : "check --worker-url / GATEWAY_WORKER_URL";
        finish({ ok: false, retry: false, why: `refused the gateway's WebSocket with HTTP ${status}${said}`, hint });
      };
      res.on("end", settle);
      res.on("error", settle);
      res.on("close", settle);
    });
    ws.on("error", (error) => {
      const code = (error as NodeJS.ErrnoException).code;
      finish({ ok: false, retry: true, why: `is unreachable: ${code ?? error.message}` });
    });
  });
}
