/** The benchmark's outputs: Markdown tables with ratios, goals and cost, and an SVG chart. */
import { perMessage, PRICE, type CostRow } from "./cost.js";
import type { Connections, Latency as LatencyResult, Throughput } from "./workloads.js";

/** A latency run, with the full accounting of the run behind it. */
export type Latency = LatencyResult & { run: Throughput };

export type ThroughputRow = Throughput & {
  /** This broker: increases of its counters during the run (drops and the like). */
  counters?: Record<string, number>;
};

export interface Results {
  date: string;
  mode: "quick" | "full";
  runtime: "wrangler" | "miniflare";
  settings: Record<string, number>;
  machine: { cpus: string; cores: number; memoryGiB: number; node: string };
  targets: { name: string; broker: string; transport: string }[];
  skipped: string[];
  latency: Record<string, Record<string, Latency>>;
  throughput: Record<string, Record<string, ThroughputRow>>;
  connections: Record<string, Connections>;
  cost: CostRow[];
  /** Measurements that failed, by row and target (e.g. a reference broker that crashed). */
  failures: Record<string, Record<string, string>>;
  seconds: number;
}

const fmt = (n: number | undefined, digits = 0) => (n === undefined || !Number.isFinite(n) ? "–" : Math.abs(n) >= 1000 ? Math.round(n).toLocaleString("en-US") : n.toFixed(digits));
/** A ratio only between two positive measurements. */
const ratio = (a: number | undefined, b: number | undefined) => (a !== undefined && b !== undefined && a > 0 && b > 0 && Number.isFinite(a) && Number.isFinite(b) ? a / b : undefined);
const fmtRatio = (r: number | undefined) => (r === undefined ? "–" : `${r.toFixed(2)}×`);

/** Targets of one transport: this broker, Aedes, mosquitto. */
function byTransport(r: Results) {
  const by = (broker: string, transport: string) => r.targets.find((t) => t.broker === broker && t.transport === transport)?.name;
  return (["ws", "tcp"] as const)
    .map((transport) => ({ transport, ours: by("ours", transport), aedes: by("aedes", transport), mosquitto: by("mosquitto", transport) }))
    .filter((p) => p.ours || p.aedes || p.mosquitto);
}

const transportName = (t: string) => (t === "ws" ? "WebSocket" : "TCP");
const failed = (r: Results, row: string, target: string) => {
  const f = r.failures[row]?.[target];
  return f ? (f === "the broker crashed" ? "crashed" : "failed") : "–";
};

/** The issue's targets, for this broker on each path. */
function goals(r: Results, find: (workload: string) => string | undefined): string[] {
  const out: string[] = [];
  const paths = byTransport(r).filter((p) => p.ours);
  if (paths.length === 0) return out;
  out.push("## Goals (from the issue)", "");
  out.push(`| goal | ${paths.map((p) => p.ours!).join(" | ")} |`, `|---|${paths.map(() => "---").join("|")}|`);
  const mark = (ok: boolean | undefined, text: string) => (ok === undefined ? text : `${text} ${ok ? "✅" : "❌"}`);
  const lat = (name: string | undefined, p: (typeof paths)[number]) => {
    const l = name ? r.latency[name]?.[p.ours!] : undefined;
    return l ? mark(l.p99 <= 10, `p99 ${fmt(l.p99, 1)} ms`) : "–";
  };
  const tp = (name: string | undefined, p: (typeof paths)[number], zeroLoss = false) => {
    const row = name ? r.throughput[name] : undefined;
    const ours = row?.[p.ours!];
    const x = ratio(ours?.delivered, p.aedes ? row?.[p.aedes]?.delivered : undefined);
    if (!ours) return "–";
    const lossText = zeroLoss ? `, lost ${ours.verdict.lost}` : "";
    return mark(x === undefined ? undefined : x >= 0.25 && (!zeroLoss || ours.verdict.lost === 0), `${fmtRatio(x)} Aedes${lossText}`);
  };
  out.push(`| QoS 1, 500 msg/s, p99 ≤ 10 ms | ${paths.map((p) => lat(find("lat1"), p)).join(" | ")} |`);
  out.push(`| QoS 0, 500 msg/s, p99 ≤ 10 ms | ${paths.map((p) => lat(find("lat0"), p)).join(" | ")} |`);
  out.push(`| pairs QoS 1 ≥ 0.25× Aedes | ${paths.map((p) => tp(find("pairs"), p)).join(" | ")} |`);
  out.push(`| fan-in QoS 1 ≥ 0.25× Aedes, 0 lost | ${paths.map((p) => tp(find("fanIn"), p, true)).join(" | ")} |`);
  out.push(`| fan-out QoS 1 ≥ 0.25× Aedes | ${paths.map((p) => tp(find("fanOut"), p)).join(" | ")} |`);
  out.push(
    `| ≥ 300 connects/s | ${paths
      .map((p) => {
        const c = r.connections[p.ours!];
        return c ? mark(c.perSecond >= 300, `${fmt(c.perSecond)}/s`) : "–";
      })
      .join(" | ")} |`,
  );
  out.push(
    `| unpaced QoS 0 fan-in delivers ≥ ½ of paced | ${paths
      .map((p) => {
        const paced = r.throughput[find("paced") ?? ""]?.[p.ours!];
        const unpaced = r.throughput[find("unpaced") ?? ""]?.[p.ours!];
        const x = ratio(unpaced?.delivered, paced?.delivered);
        return x === undefined ? "–" : mark(x >= 0.5, `${fmtRatio(x)}`);
      })
      .join(" | ")} |`,
  );
  out.push("");
  return out;
}

export function markdown(r: Results): string {
  const out: string[] = [];
  const s = r.settings;
  const find = (key: string) => {
    const names: Record<string, (n: string) => boolean> = {
      lat1: (n) => n.endsWith("msg/s QoS 1") && !n.includes("unloaded"),
      lat0: (n) => n.endsWith("msg/s QoS 0"),
      pairs: (n) => n.startsWith("pairs"),
      fanIn: (n) => n.startsWith("fan-in") && n.endsWith("QoS 1"),
      fanOut: (n) => n.startsWith("fan-out"),
      paced: (n) => n.endsWith("QoS 0 paced"),
      unpaced: (n) => n.endsWith("QoS 0 unpaced"),
    };
    return [...Object.keys(r.latency), ...Object.keys(r.throughput)].find(names[key]!);
  };
  out.push(`# Benchmark ${r.date} (${r.mode})`, "");
  out.push(`Machine: ${r.machine.cpus}, ${r.machine.cores} cores, ${r.machine.memoryGiB} GiB, Node ${r.machine.node}. Loopback only; ${r.seconds.toFixed(0)} s in all.`);
  out.push(
    r.runtime === "wrangler"
      ? "This broker runs as `npm start` serves it (wrangler dev and the TCP gateway, default configuration, a fresh state directory), Durable Object state in SQLite on disk; Aedes and mosquitto keep state in memory."
      : "This broker runs as the deploy bundle in Miniflare (`--runtime=miniflare`, default configuration), Durable Object state in SQLite on disk; Aedes and mosquitto keep state in memory.",
  );
  out.push(
    `mqtt.js, MQTT 3.1.1, ${s.payload} B payloads, ${(s.windowMs! / 1000).toFixed(0)} s windows. After a window, publishers wait up to ${(s.ackWaitMs! / 1000).toFixed(0)} s for outstanding PUBACKs, then deliveries are awaited up to ${(s.drainMs! / 1000).toFixed(0)} s (less once all arrived, or at QoS 0 when nothing arrived for 1 s). "Lost" = acknowledged to the publisher (QoS 1) or written to its socket (QoS 0) but not delivered by the end of that drain.`,
  );
  for (const sk of r.skipped) out.push(`Skipped: ${sk}`);
  for (const [row, byTarget] of Object.entries(r.failures)) {
    for (const [target, why] of Object.entries(byTarget)) out.push(`Failed: ${target}, ${row}: ${why}`);
  }
  out.push("");
  out.push(...goals(r, find));

  for (const p of byTransport(r)) {
    const cols = [p.ours, p.aedes, p.mosquitto].filter((x): x is string => !!x);
    const vs = (a: number | undefined, b: string | undefined, get: (n: string) => number | undefined) => fmtRatio(ratio(a, b ? get(b) : undefined));
    out.push(`## Latency over ${transportName(p.transport)}, one publisher → one subscriber at a fixed rate (ms, publish → deliver: p50 / p99 / max)`, "");
    out.push(`| run | ${cols.join(" | ")} | p99 vs Aedes | p99 vs mosquitto |`, `|---|${cols.map(() => "---:").join("|")}|---:|---:|`);
    for (const [run, row] of Object.entries(r.latency)) {
      if (!cols.some((c) => row[c] || r.failures[run]?.[c])) continue;
      const cell = (name: string) => {
        const l = row[name];
        return l ? `${fmt(l.p50, 2)} / ${fmt(l.p99, 2)} / ${fmt(l.max, 1)}${l.lost ? ` (lost ${l.lost})` : ""}` : failed(r, run, name);
      };
      const ours = p.ours ? row[p.ours]?.p99 : undefined;
      out.push(`| ${run} | ${cols.map(cell).join(" | ")} | ${vs(ours, p.aedes, (n) => row[n]?.p99)} | ${vs(ours, p.mosquitto, (n) => row[n]?.p99)} |`);
    }
    out.push("");
    out.push(`## Throughput over ${transportName(p.transport)} (distinct messages delivered per second; in brackets, lost)`, "");
    out.push(`| workload | ${cols.join(" | ")} | vs Aedes | vs mosquitto |`, `|---|${cols.map(() => "---:").join("|")}|---:|---:|`);
    for (const [workload, row] of Object.entries(r.throughput)) {
      const cell = (name: string) => {
        const t = row[name];
        return t ? `${fmt(t.delivered)}${t.verdict.lost > 0 ? ` (${fmt(t.verdict.lost)})` : ""}` : failed(r, workload, name);
      };
      const ours = p.ours ? row[p.ours]?.delivered : undefined;
      out.push(`| ${workload} | ${cols.map(cell).join(" | ")} | ${vs(ours, p.aedes, (n) => row[n]?.delivered)} | ${vs(ours, p.mosquitto, (n) => row[n]?.delivered)} |`);
    }
    out.push("");
    out.push(`## Connections over ${transportName(p.transport)} (${s.connections} clients, ${s.connectConcurrency} at a time per generator)`, "");
    out.push(`| measure | ${cols.join(" | ")} | vs Aedes | vs mosquitto |`, `|---|${cols.map(() => "---:").join("|")}|---:|---:|`);
    const c = (name: string) => r.connections[name];
    const line = (label: string, get: (x: Connections) => number, digits = 0) => {
      const ours = p.ours ? (c(p.ours) ? get(c(p.ours)!) : undefined) : undefined;
      const g = (n: string) => (c(n) ? get(c(n)!) : undefined);
      out.push(`| ${label} | ${cols.map((n) => fmt(g(n), digits)).join(" | ")} | ${vs(ours, p.aedes, g)} | ${vs(ours, p.mosquitto, g)} |`);
    };
    line("CONNECT→CONNACK per second", (x) => x.perSecond);
    line("time to CONNACK p50 (ms)", (x) => x.p50, 1);
    line("time to CONNACK p99 (ms)", (x) => x.p99, 1);
    line("KiB per idle connection", (x) => x.bytesPerConnection / 1024, 1);
    out.push("");
  }

  out.push("## Delivery accounting (every run)", "");
  out.push(
    "Sent = publish calls; acked = PUBACK received (QoS 1) or written to the socket (QoS 0); lost = acked but never delivered; unacked delivered = delivered although its PUBACK had not come back when publishing stopped.",
    "",
  );
  out.push(
    "| workload | target | sent/s | acked | delivered | lost | duplicates | out of order | unacked delivered | p50 / p99 ms | broker counters |",
    "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
  );
  const runs: [string, Record<string, ThroughputRow>][] = [
    ...Object.entries(r.latency).map(([name, row]): [string, Record<string, ThroughputRow>] => [
      name,
      Object.fromEntries(Object.entries(row).map(([t, l]) => [t, { ...l.run, ...(l.counters ? { counters: l.counters } : {}) }])),
    ]),
    ...Object.entries(r.throughput),
  ];
  for (const [workload, row] of runs) {
    for (const [target, t] of Object.entries(row)) {
      const v = t.verdict;
      const counters = Object.entries(t.counters ?? {})
        .map(([k, n]) => `${k} +${n}`)
        .join(", ");
      out.push(
        `| ${workload} | ${target} | ${fmt(t.published)} | ${fmt(t.acked)} | ${fmt(v.unique)} | ${fmt(v.lost)} | ${fmt(v.duplicates)} | ${fmt(v.outOfOrder)} | ${fmt(v.unackedDelivered)} | ${fmt(t.p50, 1)} / ${fmt(t.p99, 1)} | ${counters || "–"} |`,
      );
    }
  }
  out.push("");

  const paced = find("paced");
  const unpaced = find("unpaced");
  if (paced && unpaced) {
    out.push("## QoS 0 flood: unpaced fan-in against paced", "");
    out.push(
      `Paced: each publisher keeps at most ${s.pacedEndToEnd} messages published but not yet delivered (what the broker delivers without being overrun; one generator process holds all clients). Unpaced: each publisher writes as fast as its socket takes the writes (the next publish waits only while the socket pushes back). Not delivered = written to the socket but never received (QoS 0 may be shed).`,
      "",
    );
    out.push("| target | paced: delivered /s | unpaced: published → delivered /s | unpaced / paced | not delivered (unpaced) | shed, by the broker's counters |", "|---|---:|---:|---:|---:|---|");
    for (const t of r.targets) {
      const a = r.throughput[paced]?.[t.name];
      const b = r.throughput[unpaced]?.[t.name];
      if (!a && !b) continue;
      const shed = Object.entries(b?.counters ?? {})
        .map(([k, n]) => `${k} +${n}`)
        .join(", ");
      out.push(
        `| ${t.name} | ${a ? fmt(a.delivered) : failed(r, paced, t.name)} | ${b ? `${fmt(b.published)} → ${fmt(b.delivered)}` : failed(r, unpaced, t.name)} | ${fmtRatio(ratio(b?.delivered, a?.delivered))} | ${b ? fmt(b.verdict.lost) : "–"} | ${t.broker === "ours" ? shed || "none counted" : "(no counters)"} |`,
      );
    }
    out.push("");
  }

  if (r.cost.length > 0) {
    out.push("## Cost per QoS 1 message delivered (publish → one online subscriber → PUBACK)", "");
    out.push(
      "Summed over the run's session objects, its topic shard and the wildcard shard, from the broker's `cost` counters, divided by the distinct messages delivered. Billable requests = requests + incoming WebSocket messages / 20. " +
        `$ per million messages = rows written × $${PRICE.rowWrittenPerM.toFixed(2)} + rows read × $${PRICE.rowReadPerM} + billable requests × $${PRICE.requestPerM} ([Durable Objects pricing](https://developers.cloudflare.com/durable-objects/platform/pricing/), Workers Paid, past the included amounts). ` +
        `Duration is a bound, not a measurement: every object that worked in the run billed at 128 MB for the whole run ($${PRICE.gbSecondPerM}/M GB-s); objects that hibernate between messages pay less. Not included: the Worker in front of stock WebSocket clients (one Worker request per connection, CPU per relayed frame), stored GB-months, the $5/month minimum.`,
      "",
    );
    out.push(
      "| run | path | messages | rows written / msg | rows read / msg | DO requests / msg | WS messages in / msg | billable requests / msg | $ / M messages | duration bound $ / M |",
      "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    );
    for (const row of r.cost) {
      const m = perMessage(row);
      if (!m) {
        out.push(`| ${row.run} | ${row.target} | ${fmt(row.messages)} | n/a | n/a | n/a | n/a | n/a | n/a | n/a |`);
        continue;
      }
      out.push(
        `| ${row.run} | ${row.target} | ${fmt(row.messages)} | ${m.rowsWritten.toFixed(2)} | ${m.rowsRead.toFixed(2)} | ${m.requests.toFixed(2)} | ${m.wsMessagesIn.toFixed(2)} | ${m.billableRequests.toFixed(2)} | $${m.usd.toFixed(2)} | ≤ $${m.durationBoundUsd.toFixed(2)} |`,
      );
    }
    out.push(
      "",
      `AWS IoT Core, for comparison: $${PRICE.awsMessagePerM.toFixed(2)} per million metered messages (messaging only; each up to 5 KB). A QoS 1 message from one publisher to one subscriber over MQTT 3.1.1 is metered three times (the inbound PUBLISH, the outbound PUBLISH, the subscriber's PUBACK; the broker's PUBACK is free): $${(3 * PRICE.awsMessagePerM).toFixed(2)} per million delivered; QoS 0 twice: $${(2 * PRICE.awsMessagePerM).toFixed(2)}. Connection minutes ($0.08 per million) are extra. ([pricing](https://aws.amazon.com/iot-core/pricing/), [metering](https://aws.amazon.com/iot-core/pricing/additional-details/))`,
      "",
    );
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
  const left = 190;
  const width = 860;
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
