/**
 * npm run bench [-- --quick] [-- --only=edge,aedes,mosquitto]: starts each broker, runs the
 * workloads with separate load-generator processes, stops everything it started by PID and writes
 * bench/results/<date>.{json,md,svg}. Loopback only, bounded in time.
 */
import { cpus, totalmem } from "node:os";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { markdown, svg, type Results } from "./report.js";
import { AEDES_TCP, AEDES_WS, MOSQUITTO_TCP, MOSQUITTO_WS, mosquittoAvailable, OURS_GATEWAY, OURS_WS, type TargetSpec } from "./targets.js";
import { connections, latency, roundTrips, settle, throughput, type Pattern } from "./workloads.js";

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const only = args.find((a) => a.startsWith("--only="))?.slice(7).split(",");
const root = process.env.BENCH_ROOT ?? process.cwd();
const dist = join(root, "dist");

// --quick: WebSocket only (the product's own transport), 64 B, short runs: under a minute.
const settings = quick
  ? { durationMs: 300, drainMs: 500, sizes: [64], latencyRuns: [[1, 64]] as [0 | 1, number][], latencyMs: 800, connections: 100, roundTrips: 50, transports: ["ws"], settleMs: 2000 }
  : { durationMs: 800, drainMs: 1000, sizes: [64, 4096], latencyRuns: [[0, 64], [1, 64], [1, 4096]] as [0 | 1, number][], latencyMs: 1200, connections: 500, roundTrips: 300, transports: ["ws", "tcp"], settleMs: 8000 };
const patterns: Pattern[] = ["fan-in", "fan-out", "pairs"];

async function main(): Promise<void> {
  const started = Date.now();
  const skipped: string[] = [];
  const specs: TargetSpec[] = [OURS_WS, OURS_GATEWAY, AEDES_WS, AEDES_TCP];
  const noMosquitto = mosquittoAvailable();
  if (noMosquitto) skipped.push(`mosquitto: ${noMosquitto}`);
  else specs.push(MOSQUITTO_WS, MOSQUITTO_TCP);
  const chosen = specs.filter((s) => (!only || only.some((o) => s.name.startsWith(o))) && settings.transports.some((t) => s.name.endsWith(`(${t})`)));

  const results: Results = {
    date: new Date().toISOString().replace(/\..*/, "").replace(/:/g, "-"),
    mode: quick ? "quick" : "full",
    machine: { cpus: cpus()[0]?.model ?? "unknown", cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
    targets: [],
    skipped,
    throughput: {},
    latency: {},
    connections: {},
    roundTrips: {},
    failures: {},
    seconds: 0,
  };

  for (const spec of chosen) {
    console.log(`bench: ${spec.name}`);
    let target = await spec.start(dist);
    results.targets.push({ name: target.name, broker: target.broker, transport: target.transport });
    /** Runs one measurement; a failure (a broker that crashed under load) is recorded, not fatal. */
    const measure = async <T>(label: string, fn: () => Promise<T>): Promise<T | undefined> => {
      try {
        const settled = await settle(target, settings.settleMs);
        const t0 = Date.now();
        const result = await fn();
        if (process.env.BENCH_TIMING) console.log(`    (${label}: settled ${settled} ms, ran ${Date.now() - t0} ms)`);
        return result;
      } catch (error) {
        const alive = target.pids.every((pid) => {
          try {
            process.kill(pid, 0);
            return true;
          } catch {
            return false;
          }
        });
        const what = alive ? String(error).split("\n")[0]! : "the broker crashed";
        (results.failures[label] ??= {})[target.name] = what;
        console.log(`  ${label}: FAILED (${what})`);
        await target.stop().catch(() => undefined);
        target = await spec.start(dist); // a fresh broker for the rest
        return undefined;
      }
    };
    try {
      for (const size of settings.sizes) {
        for (const qos of [0, 1] as const) {
          for (const pattern of patterns) {
            const name = `${pattern} QoS ${qos} ${size} B`;
            const t = await measure(name, () => throughput(dist, target, pattern, qos, size, settings.durationMs, settings.drainMs));
            if (!t) continue;
            (results.throughput[name] ??= {})[target.name] = t;
            console.log(`  ${name}: ${Math.round(t.delivered)} msg/s delivered, ${Math.round(t.published)} published/s, not delivered ${t.lost}`);
          }
        }
      }
      for (const [qos, size] of settings.latencyRuns) {
        const name = `1 000 msg/s QoS ${qos} ${size} B`;
        const l = await measure(name, () => latency(dist, target, qos, size, 1000, settings.latencyMs));
        if (!l) continue;
        (results.latency[name] ??= {})[target.name] = l;
        console.log(`  ${name}: p50 ${l.p50.toFixed(2)} p99 ${l.p99.toFixed(2)} max ${l.max.toFixed(1)} ms (${l.samples} samples, lost ${l.lost})`);
      }
      const rtt = await measure("round trips", () => roundTrips(dist, target, settings.roundTrips));
      if (rtt) {
        results.roundTrips[target.name] = rtt;
        console.log(`  round trips: p50 ${rtt.p50.toFixed(2)} p99 ${rtt.p99.toFixed(2)} ms (${rtt.samples})`);
      }
      if (target.broker === "ours" && target.transport === "ws" && !quick) {
        const direct = await measure("round trips ?clientId=", () => roundTrips(dist, target, settings.roundTrips, true));
        if (direct) {
          results.roundTrips[`${target.name} ?clientId=`] = direct;
          console.log(`  round trips with ?clientId=: p50 ${direct.p50.toFixed(2)} p99 ${direct.p99.toFixed(2)} ms (${direct.samples})`);
        }
      }
      const c = await measure("connections", () => connections(dist, target, settings.connections));
      if (c) {
        results.connections[target.name] = c;
        console.log(`  connections: ${Math.round(c.perSecond)}/s, ${(c.bytesPerConnection / 1024).toFixed(1)} KiB each, failed ${c.failed}`);
      }
    } finally {
      await target.stop();
    }
  }

  results.seconds = (Date.now() - started) / 1000;
  const dir = join(root, "bench", "results");
  mkdirSync(dir, { recursive: true });
  const base = join(dir, `${results.date}${quick ? "-quick" : ""}`);
  writeFileSync(`${base}.json`, JSON.stringify(results, null, 2) + "\n");
  writeFileSync(`${base}.md`, markdown(results) + "\n");
  writeFileSync(`${base}.svg`, svg(results) + "\n");
  console.log(`\n${markdown(results)}\nbench: wrote ${base}.{json,md,svg} in ${results.seconds.toFixed(0)} s`);
}

main().catch((error) => {
  console.error(`bench: ${error instanceof Error ? error.stack : String(error)}`);
  process.exit(1);
});
