/**
 * Starts the bundled broker in the real local Workers runtime (workerd via Miniflare) on
 * 127.0.0.1 with a free port; optionally with Durable Object state on disk for restart tests.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import { Miniflare } from "miniflare";
import { descendants } from "../../bench/process-tree.js";

export interface BrokerOptions {
  /** Keep Durable Object state in this folder (kept across restart()). */
  persistDir?: string;
  vars?: Record<string, string>;
  /** CONNECT_RATE_LIMITER's limit per 10 s (the Rate Limiting binding, as wrangler.toml declares it); absent: no binding. */
  connectRateLimit?: number;
  /**
   * Receives workerd's output line by line instead of printing it, with workerd's verbose logging
   * on, which is what reports uncaught exceptions; for finding crashes.
   */
  onOutput?: (line: string, stream: "stdout" | "stderr") => void;
}

export interface Broker {
  url: string;
  /** ws://127.0.0.1:port/mqtt */
  mqttUrl: string;
  /** Stops workerd and starts it again on the same state folder and port. */
  restart(): Promise<void>;
  /** SIGKILLs workerd (no shutdown of any kind), then starts it again on the same state and port. */
  kill(): Promise<void>;
  stop(): Promise<void>;
  stats(kind: "sessions" | "shards", name: string): Promise<Record<string, unknown>>;
}

export const STATS_TOKEN = "test-stats-token";
export const GATEWAY_SECRET = "test-gateway-secret";
export const ADMIN_TOKEN = "test-admin-token";
// Anonymous clients are let in unless a test configures authentication (the deployed default is false).
const DEFAULT_VARS = { MAX_PACKET_SIZE: "1048576", MAX_QUEUED_MESSAGES: "1000", MAX_INFLIGHT: "20", STATS_TOKEN, GATEWAY_SECRET, ADMIN_TOKEN, ALLOW_ANONYMOUS: "true" };

export async function startBroker(options: BrokerOptions = {}): Promise<Broker> {
  const ownDir = options.persistDir === undefined;
  const persistDir = options.persistDir ?? mkdtempSync(join(tmpdir(), "mqtt-broker-"));
  let port = 0;
  const make = () =>
    new Miniflare({
      modules: true,
      scriptPath: "dist/index.js",
      compatibilityDate: "2026-04-26",
      compatibilityFlags: ["nodejs_compat"],
      durableObjects: {
        SESSIONS: { className: "SessionDO", useSQLite: true },
        SHARDS: { className: "TopicShardDO", useSQLite: true },
        STATS: { className: "StatsDO", useSQLite: true },
      },
      durableObjectsPersist: persistDir,
      // The web pages, as wrangler.toml [assets] serves them (built by the global setup).
      assets: { directory: "public", routerConfig: { has_user_worker: true } },
      bindings: { ...DEFAULT_VARS, ...options.vars },
      ...(options.connectRateLimit !== undefined ? { ratelimits: { CONNECT_RATE_LIMITER: { simple: { limit: options.connectRateLimit, period: 10 } } } } : {}),
      host: "127.0.0.1",
      port,
      // workerd prints uncaught exceptions only when verbose ("uncaught exception; source = Uncaught …").
      ...(options.onOutput ? { verbose: true, handleRuntimeStdio: (stdout: Readable, stderr: Readable) => readLines(stdout, stderr, options.onOutput!) } : {}),
    });
  let mf = make();
  const url = (await mf.ready).toString().replace(/\/$/, "");
  port = Number(new URL(url).port);
  const broker: Broker = {
    url,
    mqttUrl: `${url.replace(/^http/, "ws")}/mqtt`,
    async restart() {
      await mf.dispose();
      mf = make();
      await mf.ready;
    },
    async kill() {
      // This process's workerd children: the runtime, killed as a crash would.
      for (const pid of descendants([process.pid])) {
        if (pid !== process.pid && readFileSync(`/proc/${pid}/comm`, "utf8").trim() === "workerd") process.kill(pid, "SIGKILL");
      }
      await mf.dispose().catch(() => undefined);
      mf = make();
      await mf.ready;
    },
    async stop() {
      await mf.dispose();
      if (ownDir) rmSync(persistDir, { recursive: true, force: true });
    },
    async stats(kind, name) {
      const res = await fetch(`${url}/stats/${kind}/${encodeURIComponent(name)}`, { headers: { Authorization: `Bearer ${STATS_TOKEN}` } });
      return (await res.json()) as Record<string, unknown>;
    },
  };
  return broker;
}

function readLines(stdout: Readable, stderr: Readable, onLine: NonNullable<BrokerOptions["onOutput"]>): void {
  createInterface({ input: stdout, crlfDelay: Infinity }).on("line", (line) => onLine(line, "stdout"));
  createInterface({ input: stderr, crlfDelay: Infinity }).on("line", (line) => onLine(line, "stderr"));
}
