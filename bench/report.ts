/** The benchmark's outputs: a Markdown table with ratios and an SVG chart a person can read. */
import type { Latency, Throughput } from "./workloads.js";

export interface Results {
  date: string;
  mode: "quick" | "full";
  machine: { cpus: string; cores: number; memoryGiB: number; node: string };
  targets: { name: string; broker: string; transport: string }[];
  skipped: string[];
  throughput: Record<string, Record<string, Throughput>>;
  latency: Record<string, Record<string, Latency>>;
  connections: Record<string, { perSecond: number; failed: number; bytesPerConnection: number }>;
  /** Unloaded round trips of one client to itself (QoS 0), ms. */
  roundTrips: Record<string, { p50: number; p99: number; samples: number }>;
  /** Measurements that failed, by row and target (e.g. a reference broker that crashed). */
  failures: Record<string, Record<string, string>>;
  seconds: number;
}

const fmt = (n: number | undefined, digits = 0) =>
  n === undefined || !Number.isFinite(n) ? "–" : n >= 1000 ? Math.round(n).toLocaleString("en-US") : n.toFixed(digits);
/** A ratio only between two positive measurements (memory deltas can come out at or below zero). */
const ratio = (a: number | undefined, b: number | undefined) =>
  a !== undefined && b !== undefined && a > 0 && b > 0 && Number.isFinite(a) && Number.isFinite(b) ? `${(a / b).toFixed(2)}×` : "–";

/** Ours compared with the references of the same transport. */
function pairs(r: Results) {
  const by = (broker: string, transport: string) => r.targets.find((t) => t.broker === broker && t.transport === transport)?.name;
  return (["ws", "tcp"] as const)
    .map((transport) => ({ transport, ours: by("ours", transport), aedes: by("aedes", transport), mosquitto: by("mosquitto", transport) }))
    .filter((p) => p.ours);
}

export function markdown(r: Results): string {
  const out: string[] = [];
  out.push(`# Benchmark ${r.date} (${r.mode})`, "");
  out.push(`Machine: ${r.machine.cpus}, ${r.machine.cores} cores, ${r.machine.memoryGiB} GiB, Node ${r.machine.node}. Loopback only; ${r.seconds.toFixed(0)} s in all.`);
  out.push("This broker runs in workerd (Miniflare) with Durable Object state in SQLite on disk; Aedes and mosquitto keep state in memory.");
  for (const s of r.skipped) out.push(`Skipped: ${s}`);
  for (const [row, byTarget] of Object.entries(r.failures)) {
    for (const [target, why] of Object.entries(byTarget)) out.push(`Failed: ${target}, ${row}: ${why}`);
  }
  out.push("");
  for (const p of pairs(r)) {
    const cols = [p.ours, p.aedes, p.mosquitto].filter((x): x is string => !!x);
    out.push(`## Throughput over ${p.transport === "ws" ? "WebSocket" : "TCP"} (messages delivered per second; in brackets, messages not delivered within the drain time)`, "");
    out.push(`| workload | ${cols.join(" | ")} | vs Aedes | vs mosquitto | generators reached (published/s) |`);
    out.push(`|---|${cols.map(() => "---:").join("|")}|---:|---:|---:|`);
    for (const [workload, row] of Object.entries(r.throughput)) {
      const cell = (name: string) => {
        const t = row[name];
        const failure = r.failures[workload]?.[name];
        if (!t) return failure ? (failure === "the broker crashed" ? "crashed" : "failed") : "–";
        return `${fmt(t.delivered)}${t.lost > 0 ? ` (${fmt(t.lost)})` : ""}`;
      };
      const reach = Math.max(...cols.map((c) => row[c]?.published ?? 0));
      out.push(`| ${workload} | ${cols.map(cell).join(" | ")} | ${ratio(row[p.ours!]?.delivered, p.aedes ? row[p.aedes]?.delivered : undefined)} | ${ratio(row[p.ours!]?.delivered, p.mosquitto ? row[p.mosquitto]?.delivered : undefined)} | ${fmt(reach)} |`);
    }
    out.push("");
    out.push(`## Latency over ${p.transport === "ws" ? "WebSocket" : "TCP"} at a fixed rate (ms, publish → deliver: p50 / p90 / p99 / max)`, "");
    out.push(`| run | ${cols.join(" | ")} | p99 vs Aedes | p99 vs mosquitto |`);
    out.push(`|---|${cols.map(() => "---:").join("|")}|---:|---:|`);
    for (const [run, row] of Object.entries(r.latency)) {
      const cell = (name: string) => {
        const l = row[name];
        return l ? `${fmt(l.p50, 2)} / ${fmt(l.p90, 2)} / ${fmt(l.p99, 2)} / ${fmt(l.max, 1)}${l.lost ? ` (lost ${l.lost})` : ""}` : "–";
      };
      out.push(`| ${run} | ${cols.map(cell).join(" | ")} | ${ratio(row[p.ours!]?.p99, p.aedes ? row[p.aedes]?.p99 : undefined)} | ${ratio(row[p.ours!]?.p99, p.mosquitto ? row[p.mosquitto]?.p99 : undefined)} |`);
    }
    out.push("");
    out.push(`## Connections over ${p.transport === "ws" ? "WebSocket" : "TCP"}`, "");
    out.push(`| measure | ${cols.join(" | ")} | vs Aedes | vs mosquitto |`);
    out.push(`|---|${cols.map(() => "---:").join("|")}|---:|---:|`);
    const c = (name: string) => r.connections[name];
    out.push(`| CONNECT→CONNACK per second | ${cols.map((n) => fmt(c(n)?.perSecond)).join(" | ")} | ${ratio(c(p.ours!)?.perSecond, p.aedes ? c(p.aedes)?.perSecond : undefined)} | ${ratio(c(p.ours!)?.perSecond, p.mosquitto ? c(p.mosquitto)?.perSecond : undefined)} |`);
    const kib = (n: string) => {
      const v = (c(n)?.bytesPerConnection ?? NaN) / 1024;
      return Number.isFinite(v) && v < 0.1 ? "< 0.1" : fmt(v, 1);
    };
    out.push(`| KiB per idle connection | ${cols.map(kib).join(" | ")} | ${ratio(c(p.ours!)?.bytesPerConnection, p.aedes ? c(p.aedes)?.bytesPerConnection : undefined)} | ${ratio(c(p.ours!)?.bytesPerConnection, p.mosquitto ? c(p.mosquitto)?.bytesPerConnection : undefined)} |`);
    const rt = (name: string) => r.roundTrips[name];
    out.push(`| unloaded round trip p50 / p99 (ms) | ${cols.map((n) => (rt(n) ? `${fmt(rt(n)!.p50, 2)} / ${fmt(rt(n)!.p99, 2)}` : "–")).join(" | ")} | ${ratio(rt(p.ours!)?.p50, p.aedes ? rt(p.aedes)?.p50 : undefined)} | ${ratio(rt(p.ours!)?.p50, p.mosquitto ? rt(p.mosquitto)?.p50 : undefined)} |`);
    out.push("");
  }
  const direct = r.targets.find((t) => t.broker === "ours" && t.transport === "ws")?.name;
  const viaGateway = r.targets.find((t) => t.broker === "ours" && t.transport === "tcp")?.name;
  if (direct && viaGateway && r.roundTrips[direct] && r.roundTrips[viaGateway]) {
    const a = r.roundTrips[direct]!;
    const b = r.roundTrips[viaGateway]!;
    out.push("## The TCP gateway's added latency (same run, unloaded round trips, QoS 0, 64 B)", "");
    out.push("| path | p50 ms | p99 ms |", "|---|---:|---:|");
    const h = r.roundTrips[`${direct} ?clientId=`];
    out.push(`| WebSocket, stock client (through the Worker pipe) | ${fmt(a.p50, 2)} | ${fmt(a.p99, 2)} |`);
    if (h) out.push(`| WebSocket with ?clientId= (straight to the session object) | ${fmt(h.p50, 2)} | ${fmt(h.p99, 2)} |`);
    out.push(`| TCP through the gateway (straight to the session object) | ${fmt(b.p50, 2)} | ${fmt(b.p99, 2)} |`);
    if (h) out.push(`| the gateway's own addition (gateway − ?clientId=) | ${fmt(b.p50 - h.p50, 2)} | ${fmt(b.p99 - h.p99, 2)} |`);
    out.push("");
  }
  return out.join("\n");
}

const COLORS = ["#d9480f", "#f08c00", "#1971c2", "#4dabf7", "#2f9e44", "#8ce99a"];

/** Horizontal bars of delivered messages per second (log scale), one group per workload. */
export function svg(r: Results): string {
  const names = r.targets.map((t) => t.name);
  const workloads = Object.keys(r.throughput);
  const barH = 9;
  const groupH = names.length * barH + 10;
  const left = 150;
  const width = 820;
  const top = 40;
  const height = top + workloads.length * groupH + 30 + names.length * 14;
  const max = Math.max(10, ...workloads.flatMap((w) => names.map((n) => r.throughput[w]![n]?.delivered ?? 0)));
  const decades = Math.ceil(Math.log10(max));
  const x = (v: number) => left + (Math.log10(Math.max(v, 1)) / decades) * (width - left - 50);
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`);
  parts.push(`<rect width="100%" height="100%" fill="white"/>`);
  parts.push(`<text x="10" y="20" font-size="14" font-weight="bold">Messages delivered per second (log scale) — ${r.date} ${r.mode}</text>`);
  for (let d = 0; d <= decades; d++) {
    const xv = x(10 ** d);
    parts.push(`<line x1="${xv}" y1="${top - 5}" x2="${xv}" y2="${top + workloads.length * groupH}" stroke="#ddd"/>`);
    parts.push(`<text x="${xv}" y="${top - 8}" text-anchor="middle" fill="#666">${(10 ** d).toLocaleString("en-US")}</text>`);
  }
  workloads.forEach((w, i) => {
    const y0 = top + i * groupH;
    parts.push(`<text x="${left - 6}" y="${y0 + groupH / 2}" text-anchor="end">${w}</text>`);
    names.forEach((n, j) => {
      const v = r.throughput[w]![n]?.delivered;
      if (v === undefined) return;
      parts.push(`<rect x="${left}" y="${y0 + j * barH}" width="${Math.max(1, x(v) - left)}" height="${barH - 1}" fill="${COLORS[j % COLORS.length]}"><title>${n}: ${fmt(v)} msg/s</title></rect>`);
    });
  });
  const legendY = top + workloads.length * groupH + 20;
  names.forEach((n, j) => {
    parts.push(`<rect x="${left}" y="${legendY + j * 14 - 9}" width="10" height="10" fill="${COLORS[j % COLORS.length]}"/>`);
    parts.push(`<text x="${left + 16}" y="${legendY + j * 14}">${n}</text>`);
  });
  parts.push("</svg>");
  return parts.join("\n");
}
