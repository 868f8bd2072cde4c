/**
 * This broker as a benchmark target. By default exactly as `npm start` serves it (scripts/start.mjs:
 * wrangler dev and the TCP gateway), on free loopback ports, with a fresh state directory and the
 * default configuration, since that is what users measure. `--runtime=miniflare` keeps the older
 * target: the deploy bundle in Miniflare, with the gateway started beside it.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stopGroup } from "./process-tree.js";
import { freePorts, stopChild, waitForPort, waitReady, type Target, type TargetSpec } from "./targets.js";

export type Runtime = "wrangler" | "miniflare";

/** The local stats token: STATS_TOKEN from .dev.vars, as wrangler dev reads it. */
function statsToken(root: string): string {
  const file = join(root, ".dev.vars");
  const line = existsSync(file) ? /^STATS_TOKEN=(.*)$/m.exec(readFileSync(file, "utf8"))?.[1] : undefined;
  return line?.trim().replace(/^"(.*)"$/, "$1") || "local-stats";
}

/** Waits until the Worker answers HTTP (any status wrangler's proxy does not use while starting). */
async function waitForWorker(url: string, token: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error("npm start exited before it was ready");
    try {
      const res = await fetch(url, { headers: { Authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.status !== 502 && res.status !== 503) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the Worker did not answer within ${timeoutMs / 1000} s`);
}

const tail = (file: string) => (existsSync(file) ? readFileSync(file, "utf8").split("\n").slice(-15).join("\n") : "");

/**
 * `node scripts/start.mjs` in its own process group (wrangler spawns workerd children), output to
 * `logFile`; resolves once the Worker answers and the gateway accepts connections.
 */
async function startAsNpmStart(root: string, logFile: string, token: string): Promise<{ port: number; gatewayPort: number; stop(): Promise<void>; pid: number }> {
  const [port, gatewayPort] = (await freePorts(2)) as [number, number];
  const stateDir = mkdtempSync(join(tmpdir(), "bench-state-"));
  const log = openSync(logFile, "a");
  // Only the listeners and the state directory differ from a plain `npm start`; gateway settings
  // that a developer's shell may carry (another Worker URL, a secret) are not passed on.
  const env: NodeJS.ProcessEnv = { ...process.env, HOST: "127.0.0.1", PORT: String(port), GATEWAY_PORT: String(gatewayPort), STATE_DIR: stateDir };
  for (const key of Object.keys(env)) if (key.startsWith("GATEWAY_") && key !== "GATEWAY_PORT") delete env[key];
  const child = spawn(process.execPath, [join(root, "scripts", "start.mjs")], { cwd: root, env, detached: true, stdio: ["ignore", log, log] });
  closeSync(log);
  const stop = async () => {
    const left = await stopGroup(child, [port, gatewayPort]);
    rmSync(stateDir, { recursive: true, force: true });
    if (left.pids.length || left.ports.length) console.warn(`bench: after stopping npm start, still running: pids ${left.pids.join(", ") || "none"}; listening: ${left.ports.join(", ") || "none"}`);
  };
  try {
    await waitForWorker(`http://127.0.0.1:${port}/stats/sessions/bench-ready`, token, child, 90_000);
    await waitForPort(gatewayPort);
  } catch (error) {
    await stop();
    throw new Error(`${String(error)}; last lines of ${logFile}:\n${tail(logFile)}`);
  }
  return { port, gatewayPort, pid: child.pid!, stop };
}

/** The deploy bundle in Miniflare (dist/bench-ours.mjs), plus the gateway when asked. */
async function startMiniflare(dist: string, withGateway: boolean): Promise<{ port: number; gatewayPort?: number; pids: number[]; stop(): Promise<void> }> {
  const [port, gatewayPort] = (await freePorts(2)) as [number, number];
  const stateDir = mkdtempSync(join(tmpdir(), "bench-state-"));
  const child = spawn(process.execPath, [join(dist, "bench-ours.mjs"), String(port), join(dist, "index.js"), stateDir], { detached: true, stdio: ["ignore", "ignore", "inherit", "ipc"] });
  // Its own process group, so Miniflare's workerd child goes with it.
  const stopBroker = async () => {
    await stopGroup(child, [port]);
    rmSync(stateDir, { recursive: true, force: true });
  };
  try {
    await waitReady(child, "the broker (Miniflare)");
  } catch (error) {
    await stopBroker();
    throw error;
  }
  if (!withGateway) return { port, pids: [child.pid!], stop: stopBroker };
  const gateway = spawn(process.execPath, [join(dist, "gateway.mjs"), "--port", String(gatewayPort), "--worker-url", `ws://127.0.0.1:${port}/mqtt`, "--wait-for-worker", "10"], {
    stdio: ["ignore", "ignore", "inherit"],
  });
  await waitForPort(gatewayPort);
  return {
    port,
    gatewayPort,
    pids: [child.pid!, gateway.pid!],
    stop: async () => {
      await stopChild(gateway);
      await stopBroker();
    },
  };
}

/**
 * The two paths users measure: a stock WebSocket client on /mqtt without ?clientId (through the
 * Worker's CONNECT-reading pipe), and MQTT over TCP through the gateway. Each target gets its own
 * broker, so a crash in one path does not carry into the other.
 */
export function edgeTargets(root: string, runtime: Runtime, logDir: string, stamp: string): TargetSpec[] {
  const token = statsToken(root);
  const spec = (transport: "ws" | "tcp"): TargetSpec => ({
    name: transport === "ws" ? "edge (ws)" : "edge via gateway (tcp)",
    async start(dist) {
      const name = this.name;
      if (runtime === "miniflare") {
        const b = await startMiniflare(dist, transport === "tcp");
        const url = transport === "ws" ? `ws://127.0.0.1:${b.port}/mqtt` : `mqtt://127.0.0.1:${b.gatewayPort}`;
        return { name, broker: "ours", transport, url, pids: b.pids, stats: { url: `http://127.0.0.1:${b.port}`, token }, stop: b.stop } satisfies Target;
      }
      mkdirSync(logDir, { recursive: true });
      const logFile = join(logDir, `${stamp}-edge-${transport}.log`);
      const b = await startAsNpmStart(root, logFile, token);
      const url = transport === "ws" ? `ws://127.0.0.1:${b.port}/mqtt` : `mqtt://127.0.0.1:${b.gatewayPort}`;
      return { name, broker: "ours", transport, url, pids: [b.pid], stats: { url: `http://127.0.0.1:${b.port}`, token }, stop: b.stop } satisfies Target;
    },
  });
  return [spec("ws"), spec("tcp")];
}
