/** The reference brokers (Aedes, mosquitto), each started as its own process tree and stopped by PID. */
import { spawn, type ChildProcess } from "node:child_process";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface Target {
  name: string;
  /** "ours" or a reference broker. */
  broker: "ours" | "aedes" | "mosquitto";
  transport: "ws" | "tcp";
  url: string;
  /** Root PIDs whose process trees are the broker (for memory). */
  pids: number[];
  /** A PID whose network namespace the clients must join (mosquitto). */
  netnsPid?: number;
  /** This broker only: where its stats are read (http://host:port) and the bearer token. */
  stats?: { url: string; token: string };
  stop(): Promise<void>;
}

export interface TargetSpec {
  name: string;
  start(dist: string): Promise<Target>;
}

/** A broker that crashed or was stopped: is any of its root processes still there? */
export function targetAlive(target: Target): boolean {
  return target.pids.every((pid) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  });
}

/**
 * `n` distinct free loopback ports: all are held open until every one is chosen, so two calls
 * cannot hand out the same port (another program may still take one before the broker binds it;
 * `startTarget` retries then).
 */
export async function freePorts(n: number): Promise<number[]> {
  const servers = Array.from({ length: n }, () => createServer());
  await Promise.all(servers.map((server) => new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()))));
  const ports = servers.map((server) => (server.address() as { port: number }).port);
  await Promise.all(servers.map((server) => new Promise((r) => server.close(r))));
  return ports;
}

/** Starts a target, retrying twice (a port taken in between, a slow start); undefined if it never came up. */
export async function startTarget(spec: TargetSpec, dist: string): Promise<Target | { error: string }> {
  let error = "";
  for (let attempt = 1; attempt <= 3; attempt++) {
    try {
      return await spec.start(dist);
    } catch (e) {
      error = String(e).split("\n")[0]!;
      console.log(`bench: ${spec.name} did not start (attempt ${attempt}): ${error}`);
    }
  }
  return { error };
}

export function waitReady(child: ChildProcess, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    child.once("message", () => resolve());
    child.once("exit", (code) => reject(new Error(`${what} exited (${code}) before it was ready`)));
  });
}

export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
  await exited;
  clearTimeout(timer);
}

export async function waitForPort(port: number, netnsPid?: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      const args = netnsPid ? ["-t", String(netnsPid), "-n", "bash", "-c", `echo > /dev/tcp/127.0.0.1/${port}`] : ["-c", `echo > /dev/tcp/127.0.0.1/${port}`];
      execFileSync(netnsPid ? "nsenter" : "bash", args, { stdio: "ignore" });
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`nothing listens on ${port}`);
}

function aedes(transport: "ws" | "tcp"): TargetSpec {
  return {
    name: `aedes (${transport})`,
    async start(dist) {
      const [tcpPort, wsPort] = await freePorts(2);
      const child = spawn(process.execPath, [join(dist, "bench-aedes.mjs"), String(tcpPort), String(wsPort)], { stdio: ["ignore", "ignore", "inherit", "ipc"] });
      await waitReady(child, "aedes");
      const url = transport === "ws" ? `ws://127.0.0.1:${wsPort}` : `mqtt://127.0.0.1:${tcpPort}`;
      return { name: this.name, broker: "aedes", transport, url, pids: [child.pid!], stop: () => stopChild(child) };
    },
  };
}

export const AEDES_WS = aedes("ws");
export const AEDES_TCP = aedes("tcp");

/** Where mosquitto is, or why it cannot run here. */
export function mosquittoAvailable(): string | null {
  try {
    execFileSync("/usr/sbin/mosquitto", ["-h"], { stdio: "ignore" });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return "mosquitto is not installed (apt-get install mosquitto)";
  }
  try {
    execFileSync("unshare", ["-n", "true"], { stdio: "ignore" });
  } catch {
    return "unshare -n is not permitted here (mosquitto's WebSocket listener ignores the bind address, so it only runs in its own network namespace)";
  }
  return null;
}

function mosquitto(transport: "ws" | "tcp"): TargetSpec {
  return {
    name: `mosquitto (${transport})`,
    async start() {
      const dir = mkdtempSync(join(tmpdir(), "bench-mosquitto-"));
      const conf = join(dir, "mosquitto.conf");
      // In-memory like Aedes; websockets listens on every interface of its own namespace only.
      writeFileSync(
        conf,
        ["listener 1883 127.0.0.1", "protocol mqtt", "listener 8080", "protocol websockets", "allow_anonymous true", "persistence false", "max_queued_messages 10000", "log_type error", ""].join("\n"),
      );
      const child = spawn("unshare", ["-n", "bash", "-c", `ip link set lo up && exec /usr/sbin/mosquitto -c ${conf}`], { stdio: ["ignore", "ignore", "inherit"] });
      await new Promise((r) => setTimeout(r, 300));
      const pid = Number(
        execFileSync("pgrep", ["-f", `mosquitto -c ${conf}`])
          .toString()
          .trim()
          .split("\n")[0],
      );
      await waitForPort(transport === "ws" ? 8080 : 1883, pid);
      const url = transport === "ws" ? "ws://127.0.0.1:8080" : "mqtt://127.0.0.1:1883";
      return {
        name: this.name,
        broker: "mosquitto",
        transport,
        url,
        pids: [pid],
        netnsPid: pid,
        stop: async () => {
          process.kill(pid, "SIGTERM");
          await new Promise((r) => setTimeout(r, 200));
          await stopChild(child);
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  };
}

export const MOSQUITTO_WS = mosquitto("ws");
export const MOSQUITTO_TCP = mosquitto("tcp");
