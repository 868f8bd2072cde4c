/**
 * The gateway: TCP and TLS listeners whose clients are bridged to the broker Worker. Startup
 * errors say what to change; at most --max-connections clients are open at once (more are refused,
 * counted and logged); shutdown stops accepting and closes every client, so their wills fire.
 */
import { createServer, type Server, type Socket } from "node:net";
import { createServer as createTlsServer } from "node:tls";
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

/** Checks that the Worker answers, retrying for `waitForWorkerMs` (it may still be starting). */
async function waitForWorker(options: GatewayOptions): Promise<void> {
  const httpUrl = options.workerUrl.replace(/^ws/, "http");
  const deadline = Date.now() + options.waitForWorkerMs;
  for (;;) {
    try {
      await fetch(httpUrl, { signal: AbortSignal.timeout(2000) });
      return; // any HTTP answer (426 for /mqtt) means the Worker is there
    } catch (error) {
      if (Date.now() >= deadline) {
        const cause = (error as { cause?: { code?: string; message?: string } }).cause;
        const why = cause?.code ?? cause?.message ?? (error as Error).message;
        throw new GatewayStartError(`the Worker at ${options.workerUrl} is unreachable: ${why} (check --worker-url / GATEWAY_WORKER_URL, or raise --wait-for-worker)`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
