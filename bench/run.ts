/**
 * npm run bench [-- --quick] [-- --only=edge,aedes,mosquitto] [-- --runtime=miniflare] [-- --publish]:
 * starts each broker (this one as `npm start` serves it, unless --runtime=miniflare), runs the
 * workloads with separate load-generator processes, stops everything it started by PID and writes
 * .bench-results/<date>.{json,md,svg} (bench/results/ with --publish). Loopback only, bounded in time.
 */
import { cpus, totalmem } from "node:os";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { measureAround, type Measured } from "./cost.js";
import { edgeTargets, type Runtime } from "./edge.js";
import { markdown, svg, type Results, type ThroughputRow } from "./report.js";
import { AEDES_TCP, AEDES_WS, MOSQUITTO_TCP, MOSQUITTO_WS, mosquittoAvailable, startTarget, targetAlive, type Target, type TargetSpec } from "./targets.js";
import { connections, latency, plan, runId, runLoad, settle, type Around, type Pattern, type Throughput } from "./workloads.js";

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const publish = args.includes("--publish");
const only = args
  .find((a) => a.startsWith("--only="))
  ?.slice(7)
  .split(",");
/** --workloads=a,b: only the workloads whose names contain one of these (for working on the harness). */
const workloads = args
  .find((a) => a.startsWith("--workloads="))
  ?.slice(12)
  .split(",");
const wanted = (name: string) => !workloads || workloads.some((w) => name.includes(w));
const runtime: Runtime = args.includes("--runtime=miniflare") ? "miniflare" : "wrangler";
const root = process.env.BENCH_ROOT ?? process.cwd();
const dist = join(root, "dist");

// Full: 5 s windows as users measured. Quick: 1 s windows, a check rather than figures to quote.
// The drain is the longest wait for deliveries after publishing stops; it ends early once
// everything arrived (or, at QoS 0, nothing arrived for a second; see runLoad).
const S = quick ? { windowMs: 1000, ackWaitMs: 2000, drainMs: 5000, settleMs: 2000, costMs: 2000 } : { windowMs: 5000, ackWaitMs: 3000, drainMs: 10_000, settleMs: 5000, costMs: 5000 };
const times = (durationMs: number) => ({ durationMs, ackWaitMs: S.ackWaitMs, drainMs: S.drainMs });
/** The users' measurement: 500 msg/s for latency, 10 pairs, 20 → 1, 1 → 20, 200 connections, 64 B. */
const W = { latencyRate: 500, pairs: 10, fanIn: 20, fanOut: 20, connections: 200, connectConcurrency: 25, payload: 64, qos1Window: 20, unpacedWindow: 1, pacedEndToEnd: 10, costRate: 20 };

const WORKLOADS = {
  pairs: `pairs ${W.pairs}× QoS 1`,
  fanIn: `fan-in ${W.fanIn}→1 QoS 1`,
  fanOut: `fan-out 1→${W.fanOut} QoS 1`,
  paced: `fan-in ${W.fanIn}→1 QoS 0 paced`,
  unpaced: `fan-in ${W.fanIn}→1 QoS 0 unpaced`,
  lat1: `${W.latencyRate} msg/s QoS 1`,
  lat0: `${W.latencyRate} msg/s QoS 0`,
  unloaded: `${W.costRate} msg/s QoS 1 (unloaded)`,
};

async function main(): Promise<void> {
  const started = Date.now();
  const date = new Date().toISOString().replace(/\..*/, "").replace(/:/g, "-");
  const outDir = join(root, publish ? join("bench", "results") : ".bench-results");
  const skipped: string[] = [];
  const specs: TargetSpec[] = [...edgeTargets(root, runtime, join(root, ".bench-results", "logs"), date), AEDES_WS, AEDES_TCP];
  const noMosquitto = mosquittoAvailable();
  if (noMosquitto) skipped.push(`mosquitto: ${noMosquitto}`);
  else specs.push(MOSQUITTO_WS, MOSQUITTO_TCP);
  const chosen = specs.filter((s) => !only || only.some((o) => s.name.startsWith(o)));

  const results: Results = {
    date,
    mode: quick ? "quick" : "full",
    runtime,
    settings: { windowMs: S.windowMs, ackWaitMs: S.ackWaitMs, drainMs: S.drainMs, ...W },
    machine: { cpus: cpus()[0]?.model ?? "unknown", cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
    targets: [],
    skipped,
    latency: {},
    throughput: {},
    connections: {},
    cost: [],
    failures: {},
    seconds: 0,
  };

  for (const spec of chosen) {
    console.log(`bench: ${spec.name}`);
    const first = await startTarget(spec, dist);
    if ("error" in first) {
      skipped.push(`${spec.name}: did not start (${first.error})`);
      continue;
    }
    let target: Target = first;
    /** Set when a broker that failed could not be started again: the rest of its workloads are skipped. */
    let down: string | undefined;
    results.targets.push({ name: target.name, broker: target.broker, transport: target.transport });
    /** Runs one measurement; a failure (a broker that crashed under load) is recorded, not fatal. */
    const measure = async <T>(label: string, fn: () => Promise<T>): Promise<T | undefined> => {
      if (!wanted(label)) return undefined;
      if (down) {
        (results.failures[label] ??= {})[target.name] = `not run: the broker did not restart (${down})`;
        return undefined;
      }
      try {
        const settled = await settle(target, S.settleMs);
        const t0 = Date.now();
        const result = await fn();
        if (process.env.BENCH_TIMING) console.log(`    (${label}: settled ${settled} ms, ran ${Date.now() - t0} ms)`);
        return result;
      } catch (error) {
        const what = targetAlive(target) ? String(error).split("\n")[0]! : "the broker crashed";
        (results.failures[label] ??= {})[target.name] = what;
        console.log(`  ${label}: FAILED (${what})`);
        await target.stop().catch(() => undefined);
        const fresh = await startTarget(spec, dist); // a fresh broker for the rest
        if ("error" in fresh) down = fresh.error;
        else target = fresh;
        return undefined;
      }
    };
    /** Stats around a run, for this broker only (the references have no stats). */
    const around = (pattern: Pattern, n: number, run: string, sink: (m: Measured) => void): Around | undefined => {
      if (!target.stats) return undefined;
      const t = target;
      const { clients, topics } = plan(pattern, run, n);
      // Every topic of a run shares its first level (the run id), so one topic shard; plus the wildcard shard.
      const objects = { sessions: clients.map((c) => c.clientId), shards: [`t/${topics[0]!.split("/")[0]}`, "#"] };
      return async () => {
        const done = await measureAround(t, objects);
        return async () => sink(await done());
      };
    };
    const keep = (name: string, t: Throughput, extra: Partial<ThroughputRow> = {}) => {
      const { latencies: _, ...row } = t as Throughput & { latencies?: number[] };
      (results.throughput[name] ??= {})[target.name] = { ...row, ...extra };
      const v = t.verdict;
      console.log(
        `  ${name}: ${Math.round(t.delivered)} msg/s delivered (${t.sent} sent, ${t.acked} acked/written, lost ${v.lost}, duplicates ${v.duplicates}, out of order ${v.outOfOrder}); p50 ${t.p50.toFixed(1)} p99 ${t.p99.toFixed(1)} ms`,
      );
    };
    const costRow = (name: string, t: Throughput, m: Measured | undefined) => {
      if (!target.stats || !m) return;
      results.cost.push({ run: name, target: target.name, messages: t.verdict.unique, seconds: t.seconds, ...(m.cost ? { totals: m.cost } : {}), activeObjects: m.activeObjects });
      console.log(
        `  cost, ${name}: ${m.cost ? `${(m.cost.rowsWritten / Math.max(1, t.verdict.unique)).toFixed(2)} rows written, ${(m.cost.requests / Math.max(1, t.verdict.unique)).toFixed(2)} requests, ${(m.cost.wsMessagesIn / Math.max(1, t.verdict.unique)).toFixed(2)} WebSocket messages in per message` : "n/a (the broker reports no cost counters)"}`,
      );
    };
    try {
      if (target.stats) {
        let m: Measured | undefined;
        const run = runId();
        const l = await measure(WORKLOADS.unloaded, () =>
          latency(
            dist,
            target,
            1,
            W.costRate,
            times(S.costMs),
            around("one", 1, run, (x) => (m = x)),
            run,
          ),
        );
        if (l) {
          (results.latency[WORKLOADS.unloaded] ??= {})[target.name] = l;
          console.log(`  ${WORKLOADS.unloaded}: p50 ${l.p50.toFixed(2)} p99 ${l.p99.toFixed(2)} max ${l.max.toFixed(1)} ms (${l.samples} samples, lost ${l.lost})`);
          costRow(WORKLOADS.unloaded, l.run, m);
        }
      }
      for (const [name, qos] of [
        [WORKLOADS.lat1, 1],
        [WORKLOADS.lat0, 0],
      ] as const) {
        let m: Measured | undefined;
        const run = runId();
        const l = await measure(name, () =>
          latency(
            dist,
            target,
            qos,
            W.latencyRate,
            times(S.windowMs),
            around("one", 1, run, (x) => (m = x)),
            run,
          ),
        );
        if (!l) continue;
        (results.latency[name] ??= {})[target.name] = { ...l, ...(m && Object.keys(m.counters).length ? { counters: m.counters } : {}) };
        console.log(`  ${name}: p50 ${l.p50.toFixed(2)} p99 ${l.p99.toFixed(2)} max ${l.max.toFixed(1)} ms (${l.samples} samples, lost ${l.lost}, duplicates ${l.duplicates})`);
      }
      const loads: [string, Pattern, number, boolean][] = [
        [WORKLOADS.pairs, "pairs", W.pairs, true],
        [WORKLOADS.fanIn, "fan-in", W.fanIn, true],
        [WORKLOADS.fanOut, "fan-out", W.fanOut, false],
      ];
      for (const [name, pattern, n, withCost] of loads) {
        let m: Measured | undefined;
        const run = runId();
        const t = await measure(name, () =>
          runLoad(dist, target, { pattern, n, qos: 1, payloadSize: W.payload, ...times(S.windowMs), window: W.qos1Window, rate: 0, run, ...optional(around(pattern, n, run, (x) => (m = x))) }),
        );
        if (!t) continue;
        keep(name, t, m && Object.keys(m.counters).length ? { counters: m.counters } : {});
        if (withCost) costRow(name, t, m);
      }
      const c = await measure("connections", () => connections(dist, target, W.connections, W.connectConcurrency));
      if (c) {
        results.connections[target.name] = c;
        console.log(
          `  connections: ${Math.round(c.perSecond)}/s, CONNACK p50 ${c.p50.toFixed(1)} ms, p99 ${c.p99.toFixed(1)} ms, ${(c.bytesPerConnection / 1024).toFixed(1)} KiB each, failed ${c.failed}`,
        );
      }
      // QoS 0 flood: first paced by delivery (each publisher keeps at most 10 messages published
      // but not yet delivered: what the broker delivers without being overrun), then unpaced
      // (as fast as the sockets take the writes). Does delivery hold up, and what was shed?
      for (const [name, endToEnd] of [
        [WORKLOADS.paced, W.pacedEndToEnd],
        [WORKLOADS.unpaced, 0],
      ] as const) {
        let m: Measured | undefined;
        const run = runId();
        const t = await measure(name, () =>
          runLoad(dist, target, {
            pattern: "fan-in",
            n: W.fanIn,
            qos: 0,
            payloadSize: W.payload,
            ...times(S.windowMs),
            window: W.unpacedWindow,
            rate: 0,
            endToEnd,
            run,
            ...optional(around("fan-in", W.fanIn, run, (x) => (m = x))),
          }),
        );
        if (t) keep(name, t, m && Object.keys(m.counters).length ? { counters: m.counters } : {});
      }
    } finally {
      if (!down) await target.stop();
    }
  }

  results.seconds = (Date.now() - started) / 1000;
  mkdirSync(outDir, { recursive: true });
  const base = join(outDir, `${results.date}${quick ? "-quick" : ""}`);
  writeFileSync(`${base}.json`, `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(`${base}.md`, `${markdown(results)}\n`);
  writeFileSync(`${base}.svg`, `${svg(results)}\n`);
  console.log(`\n${markdown(results)}\nbench: wrote ${base}.{json,md,svg} in ${results.seconds.toFixed(0)} s`);
}

const optional = <T>(around: T | undefined): { around?: T } => (around ? { around } : {});

main().catch((error) => {
  console.error(`bench: ${error instanceof Error ? error.stack : String(error)}`);
  process.exit(1);
});
