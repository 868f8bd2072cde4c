/** The workloads: fan-in, fan-out, pairs, fixed-rate latency, connection setup and idle memory. */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { ClientPlan, FromLoadgen, LoadJob, ToLoadgen } from "./loadgen.js";
import type { Target } from "./targets.js";

export const LOADGEN_PROCESSES = 2;

export interface Throughput {
  /** Messages delivered to subscribers per second. */
  delivered: number;
  /** Messages the generators published per second (their reach). */
  published: number;
  /** Expected deliveries that never arrived after the drain time. */
  lost: number;
  expected: number;
  p50?: number;
  p99?: number;
}

export interface Latency {
  p50: number;
  p90: number;
  p99: number;
  max: number;
  samples: number;
  lost: number;
}

class Loadgen {
  private readonly inbox: FromLoadgen[] = [];
  private waiters: (() => void)[] = [];
  constructor(readonly child: ChildProcess) {
    child.on("message", (m: FromLoadgen) => {
      this.inbox.push(m);
      this.waiters.splice(0).forEach((w) => w());
    });
  }
  static start(dist: string, target: Target): Loadgen {
    const file = join(dist, "bench-loadgen.mjs");
    const stdio = ["ignore", "ignore", "inherit", "ipc"] as const;
    // For mosquitto the clients must live in its network namespace.
    const child = target.netnsPid
      ? spawn("nsenter", ["-t", String(target.netnsPid), "-n", process.execPath, file], { stdio: [...stdio] })
      : spawn(process.execPath, [file], { stdio: [...stdio] });
    return new Loadgen(child);
  }
  send(m: ToLoadgen): void {
    this.child.send(m);
  }
  async next<T extends FromLoadgen["type"]>(type: T, timeoutMs = 120_000): Promise<Extract<FromLoadgen, { type: T }>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const error = this.inbox.find((m) => m.type === "error");
      if (error && error.type === "error") throw new Error(`load generator: ${error.message}`);
      const i = this.inbox.findIndex((m) => m.type === type);
      if (i !== -1) return this.inbox.splice(i, 1)[0] as Extract<FromLoadgen, { type: T }>;
      if (Date.now() > deadline) throw new Error(`load generator: no ${type} within ${timeoutMs} ms`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 100);
      });
    }
  }
  async close(): Promise<void> {
    const exited = new Promise((r) => this.child.once("exit", r));
    this.send({ type: "close" });
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
  }
}

export type Pattern = "fan-in" | "fan-out" | "pairs";

/** Clients of a pattern; `fanout` says how many subscribers get each message. */
function plan(pattern: Pattern, run: string): { clients: ClientPlan[]; perMessage: number } {
  const topic = `bench/${run}`;
  switch (pattern) {
    case "fan-in":
      return {
        clients: [{ clientId: `${run}-sub`, subscribe: topic }, ...Array.from({ length: 50 }, (_, i) => ({ clientId: `${run}-pub${i}`, publish: topic }))],
        perMessage: 1,
      };
    case "fan-out":
      return {
        clients: [...Array.from({ length: 50 }, (_, i) => ({ clientId: `${run}-sub${i}`, subscribe: topic })), { clientId: `${run}-pub`, publish: topic }],
        perMessage: 50,
      };
    case "pairs":
      return {
        clients: Array.from({ length: 25 }, (_, i) => [
          { clientId: `${run}-sub${i}`, subscribe: `${topic}/${i}` },
          { clientId: `${run}-pub${i}`, publish: `${topic}/${i}` },
        ]).flat(),
        perMessage: 1,
      };
  }
}

/** Subscribers are spread first, then publishers, over the generator processes. */
function spread(clients: ClientPlan[], n: number): ClientPlan[][] {
  const parts: ClientPlan[][] = Array.from({ length: n }, () => []);
  [...clients.filter((c) => c.subscribe), ...clients.filter((c) => !c.subscribe)].forEach((c, i) => parts[i % n]!.push(c));
  return parts;
}

async function drive(dist: string, target: Target, clients: ClientPlan[], perMessage: number, base: Omit<LoadJob, "clients" | "url">, drainMs: number) {
  const gens = spread(clients, LOADGEN_PROCESSES).map((part) => ({ gen: Loadgen.start(dist, target), part }));
  try {
    for (const { gen, part } of gens) gen.send({ type: "setup", job: { ...base, url: target.url, clients: part } });
    for (const { gen } of gens) await gen.next("ready");
    for (const { gen } of gens) gen.send({ type: "go" });
    const published = await Promise.all(gens.map(({ gen }) => gen.next("published")));
    const total = published.reduce((n, p) => n + p.published, 0);
    const expected = total * perMessage;
    const drainUntil = Date.now() + drainMs;
    for (;;) {
      for (const { gen } of gens) gen.send({ type: "progress" });
      const progress = await Promise.all(gens.map(({ gen }) => gen.next("progress")));
      if (progress.reduce((n, p) => n + p.received, 0) >= expected || Date.now() > drainUntil) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    for (const { gen } of gens) gen.send({ type: "collect" });
    const results = await Promise.all(gens.map(({ gen }) => gen.next("result")));
    const received = results.reduce((n, r) => n + r.received, 0);
    const startedAt = Math.min(...published.map((p) => p.startedAt));
    const stoppedAt = Math.max(...published.map((p) => p.stoppedAt));
    const lastAt = Math.max(...results.map((r) => r.lastAt));
    const latencies = results.flatMap((r) => r.latencies).sort((a, b) => a - b);
    return { total, expected, received, startedAt, stoppedAt, lastAt, latencies };
  } finally {
    await Promise.all(gens.map(({ gen }) => gen.close()));
  }
}

const pct = (sorted: number[], p: number) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!);

let runCounter = 0;
const runId = () => `r${process.pid}x${++runCounter}`;

/**
 * QoS 0 has no acknowledgement. Over WebSocket a publisher keeps 50 writes outstanding and a write
 * completes when the WebSocket library has sent it, which follows the broker's reading. Over TCP a
 * write "completes" as soon as the kernel takes it, so an unpaced publisher floods any broker
 * (Aedes fell over at 358 000 msg/s in a trial): there QoS 0 publishers are capped at a rate above
 * what any broker here delivers (100 000 msg/s offered in all for fan-in and pairs, 20 000
 * publishes/s for fan-out). QoS 1 publishers are paced by their 20-message in-flight window.
 */
const QOS0_OFFERED: Record<Pattern, number> = { "fan-in": 100_000 / 50, "fan-out": 20_000, pairs: 100_000 / 25 };

export async function throughput(dist: string, target: Target, pattern: Pattern, qos: 0 | 1, payloadSize: number, durationMs: number, drainMs: number): Promise<Throughput> {
  const { clients, perMessage } = plan(pattern, runId());
  const pacing = qos === 1 ? { window: 20, rate: 0 } : target.transport === "ws" ? { window: 50, rate: 0 } : { window: 1000, rate: QOS0_OFFERED[pattern] };
  const r = await drive(dist, target, clients, perMessage, { qos, payloadSize, durationMs, ...pacing }, drainMs);
  const elapsed = Math.max(r.lastAt, r.stoppedAt) - r.startedAt;
  return {
    delivered: r.received / (elapsed / 1000),
    published: r.total / ((r.stoppedAt - r.startedAt) / 1000),
    lost: Math.max(0, r.expected - r.received),
    expected: r.expected,
    p50: pct(r.latencies, 50),
    p99: pct(r.latencies, 99),
  };
}

/** One publisher at a fixed rate to one subscriber. */
export async function latency(dist: string, target: Target, qos: 0 | 1, payloadSize: number, rate: number, durationMs: number): Promise<Latency> {
  const run = runId();
  const clients: ClientPlan[] = [{ clientId: `${run}-sub`, subscribe: `bench/${run}` }, { clientId: `${run}-pub`, publish: `bench/${run}` }];
  const r = await drive(dist, target, clients, 1, { qos, payloadSize, durationMs, window: 1000, rate }, 3000);
  const l = r.latencies;
  return { p50: pct(l, 50), p90: pct(l, 90), p99: pct(l, 99), max: l[l.length - 1] ?? NaN, samples: l.length, lost: Math.max(0, r.expected - r.received) };
}

/** Sequential publish→deliver round trips of one client to itself (QoS 0, 64 B): p50 / p99 ms. */
export async function roundTrips(dist: string, target: Target, count: number, hint = false): Promise<{ p50: number; p99: number; samples: number }> {
  const gen = Loadgen.start(dist, target);
  try {
    gen.send({ type: "round-trips", url: target.url, count, clientId: `${runId()}-rtt`, hint });
    const { times } = await gen.next("round-trips");
    const sorted = [...times].sort((a, b) => a - b);
    return { p50: pct(sorted, 50), p99: pct(sorted, 99), samples: sorted.length };
  } finally {
    await gen.close();
  }
}

/** CONNECT→CONNACK rate for `count` clients, and the broker's memory per idle connection. */
export async function connections(dist: string, target: Target, count: number): Promise<{ perSecond: number; failed: number; bytesPerConnection: number }> {
  const before = treeRss(target.pids);
  const gens = Array.from({ length: LOADGEN_PROCESSES }, () => Loadgen.start(dist, target));
  try {
    const share = Math.ceil(count / gens.length);
    const run = runId();
    gens.forEach((g, i) => g.send({ type: "connect-burst", url: target.url, count: share, concurrency: 25, prefix: `${run}-${i}` }));
    const done = await Promise.all(gens.map((g) => g.next("connected")));
    await new Promise((r) => setTimeout(r, 1000)); // let the broker settle with the idle connections
    const after = treeRss(target.pids);
    const ms = Math.max(...done.map((d) => d.ms));
    const failed = done.reduce((n, d) => n + d.failed, 0);
    return { perSecond: (share * gens.length - failed) / (ms / 1000), failed, bytesPerConnection: (after - before) / (share * gens.length - failed) };
  } finally {
    await Promise.all(gens.map((g) => g.close()));
  }
}

/** CPU seconds used by processes and all their descendants, from /proc. */
function treeCpu(pids: number[]): number {
  let total = 0;
  for (const pid of descendants(pids)) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
      total += (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks
    } catch {
      // gone
    }
  }
  return total;
}

function descendants(pids: number[]): number[] {
  const out: number[] = [];
  const walk = (pid: number) => {
    if (out.includes(pid)) return;
    out.push(pid);
    try {
      for (const task of readdirSync(`/proc/${pid}/task`)) {
        const children = readFileSync(`/proc/${pid}/task/${task}/children`, "utf8").trim();
        for (const child of children ? children.split(/\s+/).map(Number) : []) walk(child);
      }
    } catch {
      // gone
    }
  };
  pids.forEach(walk);
  return out;
}

/**
 * Waits until the broker is idle (under 5% of a core for 300 ms, at most `maxMs`), so work left
 * over from one workload does not slow the next. Returns how long it waited.
 */
export async function settle(target: Target, maxMs = 10_000): Promise<number> {
  const start = Date.now();
  let last = treeCpu(target.pids);
  while (Date.now() - start < maxMs) {
    await new Promise((r) => setTimeout(r, 300));
    const now = treeCpu(target.pids);
    if (now - last < 0.015) break;
    last = now;
  }
  return Date.now() - start;
}

/** Resident memory of processes and all their descendants, from /proc. */
export function treeRss(pids: number[]): number {
  const seen = new Set<number>();
  const walk = (pid: number): number => {
    if (seen.has(pid)) return 0;
    seen.add(pid);
    let total = 0;
    try {
      const status = readFileSync(`/proc/${pid}/status`, "utf8");
      total += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
      for (const task of readdirSync(`/proc/${pid}/task`)) {
        const children = readFileSync(`/proc/${pid}/task/${task}/children`, "utf8").trim();
        for (const child of children ? children.split(/\s+/).map(Number) : []) total += walk(child);
      }
    } catch {
      // The process is gone.
    }
    return total;
  };
  return pids.reduce((n, pid) => n + walk(pid), 0);
}
