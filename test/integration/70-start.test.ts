/**
 * `npm start` as a service (scripts/start.mjs): it stops everything it started on SIGTERM — the
 * gateway first, so a device's will reaches a WebSocket subscriber before wrangler stops — frees
 * its ports and exits 0; it exits 1 naming the port when one is taken, and when a child fails.
 * Each case runs the real thing (wrangler dev, workerd, the gateway) on free ports with a
 * temporary state folder, and kills whatever is left by PID at the end.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer, connect as tcpConnect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import { afterEach, describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..", "..");

/** Ports nothing listens on now (the OS's pick for listeners closed at once). */
async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<ReturnType<typeof createServer>>((done) => {
          const s = createServer();
          s.listen(0, "127.0.0.1", () => done(s));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((done) => s.close(done))));
  return ports;
}

const listening = (port: number) =>
  new Promise<boolean>((done) => {
    const socket = tcpConnect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      done(true);
    });
    socket.once("error", () => done(false));
  });

/** A live process (a zombie holds no port and is not running). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, "utf8"));
  } catch {
    return false;
  }
}

/** The PID and all its descendants, from /proc. */
function tree(pid: number): number[] {
  const out: number[] = [];
  const walk = (p: number) => {
    try {
      for (const task of readdirSync(`/proc/${p}/task`)) {
        const children = readFileSync(`/proc/${p}/task/${task}/children`, "utf8").trim();
        for (const child of children ? children.split(/\s+/).map(Number) : []) walk(child);
      }
      out.push(p);
    } catch {
      // gone
    }
  };
  walk(pid);
  return out;
}

interface Started {
  child: ChildProcess;
  output: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Every PID seen in its tree, for the clean-up. */
  seen: Set<number>;
}

const running: Started[] = [];
const stateDirs: string[] = [];

function start(env: Record<string, string>): Started {
  const stateDir = mkdtempSync(join(tmpdir(), "start-test-state-"));
  stateDirs.push(stateDir);
  const base: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(base)) if (key.startsWith("GATEWAY_") || ["HOST", "PORT", "INSPECTOR_PORT"].includes(key)) delete base[key];
  // As under `npm start`: it also stops if this test process goes away.
  const child = spawn(process.execPath, [join(root, "scripts", "start.mjs")], {
    cwd: root,
    env: { ...base, STATE_DIR: stateDir, npm_lifecycle_event: "start", ...env },
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let text = "";
  child.stdout!.on("data", (chunk) => (text += chunk));
  child.stderr!.on("data", (chunk) => (text += chunk));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => child.on("exit", (code, signal) => done({ code, signal })));
  const started: Started = { child, output: () => text, exit, seen: new Set([child.pid!]) };
  running.push(started);
  return started;
}

async function waitFor<T>(what: string, check: () => T | undefined | false, timeoutMs: number, started?: Started): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${started ? `; output:\n${started.output().slice(-3000)}` : ""}`);
    if (started) for (const pid of tree(started.child.pid!)) started.seen.add(pid);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Its exit (or undefined after `timeoutMs`), noting every process of its tree meanwhile. */
async function exitOf(started: Started, timeoutMs: number) {
  let exited = false;
  void started.exit.then(() => (exited = true));
  await waitFor("exit", () => exited, timeoutMs, started).catch(() => undefined);
  return exited ? await started.exit : undefined;
}

afterEach(async () => {
  // Whatever is left, by PID (and its process group), then the state folders.
  for (const started of running.splice(0)) {
    for (const pid of tree(started.child.pid!)) started.seen.add(pid);
    for (const pid of started.seen) {
      for (const target of [pid, -pid]) {
        try {
          process.kill(target, "SIGKILL");
        } catch {
          // gone
        }
      }
    }
  }
  for (const dir of stateDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("npm start (scripts/start.mjs)", () => {
  it("stops every child on SIGTERM, the gateway first: a device's will reaches a WebSocket subscriber; ports freed, exit 0", async () => {
    const [port, gatewayPort, inspectorPort] = (await freePorts(3)) as [number, number, number];
    const started = start({ PORT: String(port), GATEWAY_PORT: String(gatewayPort), INSPECTOR_PORT: String(inspectorPort) });
    await waitFor("start: ready", () => started.output().includes("start: ready"), 45_000, started);

    const subscriber = await mqtt.connectAsync(`ws://127.0.0.1:${port}/mqtt`, { clientId: "start-test-watcher", reconnectPeriod: 0 });
    const wills: { payload: string; at: number }[] = [];
    subscriber.on("message", (_topic, payload) => wills.push({ payload: payload.toString(), at: Date.now() }));
    subscriber.on("error", () => {});
    await subscriber.subscribeAsync("start-test/wills/#", { qos: 1 });
    const device = await mqtt.connectAsync(`mqtt://127.0.0.1:${gatewayPort}`, {
      clientId: "start-test-device",
      reconnectPeriod: 0,
      will: { topic: "start-test/wills/device", payload: Buffer.from("device gone"), qos: 1, retain: false },
    });
    device.on("error", () => {});
    const pids = tree(started.child.pid!);
    for (const pid of pids) started.seen.add(pid);
    // wrangler, its workerd processes and the gateway, at least.
    expect(pids.length).toBeGreaterThanOrEqual(5);
    const beforeStop = started.output();

    process.kill(started.child.pid!, "SIGTERM");
    const exit = await exitOf(started, 20_000);
    const exitedAt = Date.now();
    subscriber.end(true);
    device.end(true);

    expect(exit, `start.mjs did not exit; output:\n${started.output().slice(-3000)}`).toEqual({ code: 0, signal: null });
    expect(pids.filter(alive)).toEqual([]);
    const open: number[] = [];
    for (const p of [port, gatewayPort, inspectorPort]) if (await listening(p)) open.push(p);
    expect(open).toEqual([]);
    // The will was published through the Worker while it still ran.
    expect(wills.map((w) => w.payload)).toEqual(["device gone"]);
    expect(wills[0]!.at).toBeLessThan(exitedAt);
    const out = started.output();
    expect(out.indexOf("gateway: SIGTERM: closing 1 client(s)")).toBeGreaterThan(-1);
    expect(out.indexOf("gateway: SIGTERM: closing 1 client(s)")).toBeLessThan(out.indexOf("start: stopped"));
    // No false alarms on a normal start: the gateway's check is a real upgrade (no 426), and
    // closing it is no uncaught error.
    expect(beforeStop).not.toMatch(/ 426 |Uncaught|ERROR/);
  }, 60_000);

  it("names a port that is already taken and exits 1 before starting anything", async () => {
    const [port, gatewayPort] = (await freePorts(2)) as [number, number];
    const blocker = createServer();
    await new Promise<void>((done) => blocker.listen(gatewayPort, "127.0.0.1", done));
    try {
      const started = start({ PORT: String(port), GATEWAY_PORT: String(gatewayPort) });
      const exit = await exitOf(started, 15_000);
      expect(exit).toEqual({ code: 1, signal: null });
      expect(started.output()).toContain(`port ${gatewayPort} on 127.0.0.1 is already in use, so the TCP gateway cannot listen there`);
      expect(started.output()).toContain("GATEWAY_PORT");
      expect(await listening(port)).toBe(false);
    } finally {
      await new Promise((done) => blocker.close(done));
    }
  }, 20_000);

  it("exits 1 when a child fails, and stops the other", async () => {
    const [port, gatewayPort] = (await freePorts(2)) as [number, number];
    const started = start({ PORT: String(port), GATEWAY_PORT: String(gatewayPort), GATEWAY_MAX_CONNECTIONS: "0" });
    const exit = await exitOf(started, 20_000);
    expect(exit).toEqual({ code: 1, signal: null });
    expect(started.output()).toContain("start: gateway exited (exit 2)");
    // Nothing it started (wrangler and workerd included, seen while it ran) is left.
    expect([...started.seen].filter(alive)).toEqual([]);
    expect(await listening(port)).toBe(false);
  }, 25_000);
});
