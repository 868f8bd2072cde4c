/**
 * The workloads, each driven through separate load-generator processes: fixed-rate latency,
 * pairs / fan-in / fan-out throughput with exact loss accounting, paced and unpaced QoS 0 fan-in,
 * and connection setup. Cost and shedding are read from the broker's stats around a run (see
 * cost.ts) through the `around` hook, between the clients' setup and the first publish.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import type { ClientPlan, FromLoadgen, LoadJob, ToLoadgen, Verdict } from "./loadgen.js";
import { treeCpu, treeRss } from "./process-tree.js";
import type { Target } from "./targets.js";

export const LOADGEN_PROCESSES = 2;

export interface Throughput {
  /** Distinct messages delivered to subscribers per second, from the first publish to the last delivery. */
  delivered: number;
  /** Messages the generators published per second of the window (their reach). */
  published: number;
  /** Publishes acknowledged (QoS 1) or written to the socket (QoS 0). */
  acked: number;
  sent: number;
  /** Deliveries expected: acknowledged publishes times the subscribers each one has. */
  expected: number;
  verdict: Verdict;
  p50: number;
  p99: number;
  /** Seconds from the first publish to the last delivery (or the end of the window). */
  seconds: number;
}

export interface Latency {
  /** This broker: increases of its counters during the run (drops and the like). */
  counters?: Record<string, number>;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  samples: number;
  lost: number;
  duplicates: number;
}

export interface Connections {
  perSecond: number;
  p50: number;
  p99: number;
  failed: number;
  bytesPerConnection: number;
}

class Loadgen {
  private readonly inbox: FromLoadgen[] = [];
  private waiters: (() => void)[] = [];
  constructor(readonly child: ChildProcess) {
    child.on("message", (m: FromLoadgen) => {
      this.inbox.push(m);
      for (const w of this.waiters.splice(0)) w();
    });
  }
  static start(dist: string, target: Target): Loadgen {
    const file = join(dist, "bench-loadgen.mjs");
    // Structured clone over IPC, so acknowledgement maps travel as typed arrays.
    const options = { stdio: ["ignore", "ignore", "inherit", "ipc"] as ("ignore" | "inherit" | "ipc")[], serialization: "advanced" as const };
    // For mosquitto the clients must live in its network namespace.
    const child = target.netnsPid ? spawn("nsenter", ["-t", String(target.netnsPid), "-n", process.execPath, file], options) : spawn(process.execPath, [file], options);
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
      if (this.child.exitCode !== null) throw new Error(`load generator exited (${this.child.exitCode})`);
      if (Date.now() > deadline) throw new Error(`load generator: no ${type} within ${timeoutMs} ms`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 100);
      });
    }
  }
  async close(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((r) => this.child.once("exit", r));
    try {
      this.send({ type: "close" });
    } catch {
      // the channel is already gone
    }
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
  }
}

export type Pattern = "fan-in" | "fan-out" | "pairs" | "one";

let runCounter = 0;
/** A fresh run id; its topics' first level is the id itself, so each run has its own topic shard. */
export const runId = () => `b${process.pid}x${++runCounter}`;

/** Clients of a pattern; `perMessage` is how many subscribers get each message. */
export function plan(pattern: Pattern, run: string, n: number): { clients: ClientPlan[]; perMessage: number; topics: string[] } {
  const topic = `${run}/t`;
  const range = (k: number) => Array.from({ length: k }, (_, i) => i);
  switch (pattern) {
    case "one":
      return {
        clients: [
          { clientId: `${run}-sub`, subscribe: topic, from: [0] },
          { clientId: `${run}-pub`, publish: topic, pub: 0 },
        ],
        perMessage: 1,
        topics: [topic],
      };
    case "fan-in":
      return {
        clients: [{ clientId: `${run}-sub`, subscribe: topic, from: range(n) }, ...range(n).map((i) => ({ clientId: `${run}-pub${i}`, publish: topic, pub: i }))],
        perMessage: 1,
        topics: [topic],
      };
    case "fan-out":
      return {
        clients: [...range(n).map((i) => ({ clientId: `${run}-sub${i}`, subscribe: topic, from: [0] })), { clientId: `${run}-pub`, publish: topic, pub: 0 }],
        perMessage: n,
        topics: [topic],
      };
    case "pairs":
      return {
        clients: range(n).flatMap((i) => [
          { clientId: `${run}-sub${i}`, subscribe: `${topic}/${i}`, from: [i] },
          { clientId: `${run}-pub${i}`, publish: `${topic}/${i}`, pub: i },
        ]),
        perMessage: 1,
        topics: range(n).map((i) => `${topic}/${i}`),
      };
  }
}

/** Subscribers are spread first, then publishers, over the generator processes. */
function spread(clients: ClientPlan[], n: number): ClientPlan[][] {
  const parts: ClientPlan[][] = Array.from({ length: n }, () => []);
  [...clients.filter((c) => c.subscribe), ...clients.filter((c) => !c.subscribe)].forEach((c, i) => {
    parts[i % n]!.push(c);
  });
  return parts.filter((p) => p.length > 0);
}

export const pct = (sorted: number[], p: number) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!);

/** Called with the clients connected and subscribed; its `after` runs once the drain is over. */
export type Around = () => Promise<() => Promise<void>>;

export interface RunSpec {
  pattern: Pattern;
  n: number;
  qos: 0 | 1;
  payloadSize: number;
  durationMs: number;
  /** How long publishers wait for outstanding acknowledgements after the window. */
  ackWaitMs: number;
  /** The longest drain: deliveries later than this after publishing stopped count as lost. */
  drainMs: number;
  window: number;
  /** Messages per second per publisher, 0 = unpaced. */
  rate: number;
  /** Paced by delivery (see LoadJob.endToEnd); all clients then share one generator process. */
  endToEnd?: number;
  run?: string;
  around?: Around;
}

/** One run: set up, publish for the window, drain, then count against what was acknowledged. */
export async function runLoad(dist: string, target: Target, spec: RunSpec): Promise<Throughput & { latencies: number[] }> {
  const run = spec.run ?? runId();
  const { clients, perMessage } = plan(spec.pattern, run, spec.n);
  const gens = spread(clients, spec.endToEnd ? 1 : Math.min(LOADGEN_PROCESSES, clients.length)).map((part) => ({ gen: Loadgen.start(dist, target), part }));
  try {
    const base: Omit<LoadJob, "clients"> = {
      url: target.url,
      qos: spec.qos,
      payloadSize: spec.payloadSize,
      durationMs: spec.durationMs,
      window: spec.window,
      rate: spec.rate,
      ackWaitMs: spec.ackWaitMs,
      ...(spec.endToEnd ? { endToEnd: spec.endToEnd } : {}),
    };
    for (const { gen, part } of gens) gen.send({ type: "setup", job: { ...base, clients: part } });
    for (const { gen } of gens) await gen.next("ready", 60_000);
    const after = spec.around ? await spec.around() : undefined;
    for (const { gen } of gens) gen.send({ type: "go" });
    const t0 = Date.now();
    const timing = (what: string) => process.env.BENCH_TIMING && console.log(`      ${what} at ${Date.now() - t0} ms`);
    const published = await Promise.all(gens.map(({ gen }) => gen.next("published", spec.durationMs + spec.ackWaitMs + 30_000)));
    timing("published");
    const records = published.flatMap((p) => p.publishers);
    const acked: Record<number, Uint8Array> = Object.fromEntries(records.map((r) => [r.pub, r.acked]));
    const sent = records.reduce((n, r) => n + r.sent, 0);
    const ackedCount = records.reduce((n, r) => n + r.acked.reduce((a, b) => a + b, 0), 0);
    // Drain: until every publish made has arrived or the drain time is over; at QoS 0, where shed
    // messages never come, also once nothing arrived for a second. QoS 1 waits the whole drain
    // for a missing message: a swamped broker may pause for seconds and then deliver.
    const drainUntil = Date.now() + spec.drainMs;
    const idleMs = spec.qos === 0 ? 1000 : Infinity;
    let last = -1;
    let lastChange = Date.now();
    for (;;) {
      for (const { gen } of gens) gen.send({ type: "progress" });
      const progress = await Promise.all(gens.map(({ gen }) => gen.next("progress")));
      const got = progress.reduce((n, p) => n + p.unique, 0);
      if (got !== last) [last, lastChange] = [got, Date.now()];
      if (got >= sent * perMessage || Date.now() > drainUntil || Date.now() - lastChange > idleMs) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    // Counting stops here: what arrives later (while the stats are read, say) is not delivered.
    for (const { gen } of gens) gen.send({ type: "collect" });
    const results = await Promise.all(gens.map(({ gen }) => gen.next("result")));
    timing("drained");
    if (after) await after();
    for (const { gen } of gens) gen.send({ type: "verify", acked });
    const verdicts = (await Promise.all(gens.map(({ gen }) => gen.next("verdict")))).map((v) => v.verdict);
    timing("verified");
    const verdict: Verdict = {
      unique: verdicts.reduce((n, v) => n + v.unique, 0),
      duplicates: verdicts.reduce((n, v) => n + v.duplicates, 0),
      outOfOrder: verdicts.reduce((n, v) => n + v.outOfOrder, 0),
      lost: verdicts.reduce((n, v) => n + v.lost, 0),
      unackedDelivered: verdicts.reduce((n, v) => n + v.unackedDelivered, 0),
      lostExamples: verdicts.flatMap((v) => v.lostExamples).slice(0, 5),
    };
    const startedAt = Math.min(...published.map((p) => p.startedAt));
    const lastAt = Math.max(0, ...results.map((r) => r.lastAt));
    const seconds = (Math.max(lastAt, startedAt + spec.durationMs) - startedAt) / 1000;
    const latencies = results.flatMap((r) => r.latencies).sort((a, b) => a - b);
    return {
      delivered: verdict.unique / seconds,
      published: sent / (spec.durationMs / 1000),
      acked: ackedCount,
      sent,
      expected: ackedCount * perMessage,
      verdict,
      p50: pct(latencies, 50),
      p99: pct(latencies, 99),
      seconds,
      latencies,
    };
  } finally {
    await Promise.all(gens.map(({ gen }) => gen.close()));
  }
}

/** One publisher at a fixed rate to one subscriber: publish → deliver latency. */
export async function latency(
  dist: string,
  target: Target,
  qos: 0 | 1,
  rate: number,
  times: { durationMs: number; ackWaitMs: number; drainMs: number },
  around?: Around,
  run?: string,
): Promise<Latency & { run: Throughput }> {
  const r = await runLoad(dist, target, { pattern: "one", n: 1, qos, payloadSize: 64, ...times, window: 10_000, rate, ...(around ? { around } : {}), ...(run ? { run } : {}) });
  const l = r.latencies;
  const { latencies: _, ...rest } = r;
  return { p50: pct(l, 50), p90: pct(l, 90), p99: pct(l, 99), max: l[l.length - 1] ?? NaN, samples: l.length, lost: r.verdict.lost, duplicates: r.verdict.duplicates, run: rest };
}

/** `count` clients connecting, `concurrency` at a time per generator: CONNECT→CONNACK rate and times, memory per idle connection. */
export async function connections(dist: string, target: Target, count: number, concurrency: number): Promise<Connections> {
  const before = treeRss(target.pids);
  const gens = Array.from({ length: LOADGEN_PROCESSES }, () => Loadgen.start(dist, target));
  try {
    const share = Math.ceil(count / gens.length);
    const run = runId();
    for (const [i, g] of gens.entries()) g.send({ type: "connect-burst", url: target.url, count: share, concurrency, prefix: `${run}-${i}` });
    const done = await Promise.all(gens.map((g) => g.next("connected")));
    await new Promise((r) => setTimeout(r, 1000)); // let the broker settle with the idle connections
    const after = treeRss(target.pids);
    const ms = Math.max(...done.map((d) => d.ms));
    const failed = done.reduce((n, d) => n + d.failed, 0);
    const times = done.flatMap((d) => d.times).sort((a, b) => a - b);
    const ok = share * gens.length - failed;
    return { perSecond: ok / (ms / 1000), p50: pct(times, 50), p99: pct(times, 99), failed, bytesPerConnection: (after - before) / ok };
  } finally {
    await Promise.all(gens.map((g) => g.close()));
  }
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
