/**
 * What a message costs on Cloudflare, from the broker's own counters. The stats of every object a
 * run touches (its sessions, its topic shard, the wildcard shard) are read before the first
 * publish and after the drain; `cost` in those stats counts storage rows, requests and incoming
 * WebSocket messages since the object instance started. When a broker does not report `cost`,
 * everything here says "n/a" and the benchmark carries on.
 *
 * Prices: Durable Objects, Workers Paid, https://developers.cloudflare.com/durable-objects/platform/pricing/
 * (requests $0.15/M with incoming WebSocket messages billed 20:1; duration $12.50/M GB-s at 128 MB;
 * SQLite rows written $1.00/M, rows read $0.001/M); AWS IoT Core messaging $1.00/M
 * (https://aws.amazon.com/iot-core/pricing/, metering: .../pricing/additional-details/).
 */
import type { Target } from "./targets.js";

export const PRICE = {
  requestPerM: 0.15,
  wsMessagesPerRequest: 20,
  gbSecondPerM: 12.5,
  objectGb: 0.128,
  rowWrittenPerM: 1.0,
  rowReadPerM: 0.001,
  awsMessagePerM: 1.0,
};

interface CostFields {
  instance: string;
  rowsWritten: number;
  rowsRead: number;
  requests: number;
  wsMessagesIn: number;
}

interface Snapshot {
  cost?: CostFields;
  counters: Record<string, number>;
}

/** The objects a run touches, named as the stats routes name them. */
export interface Objects {
  sessions: string[];
  shards: string[];
}

const COST_KEYS = ["rowsWritten", "rowsRead", "requests", "wsMessagesIn"] as const;
export type CostTotals = Record<(typeof COST_KEYS)[number], number>;

function isCost(c: unknown): c is CostFields {
  return typeof c === "object" && c !== null && typeof (c as CostFields).instance === "string" && COST_KEYS.every((k) => typeof (c as Record<string, unknown>)[k] === "number");
}

async function read(target: Target, path: string): Promise<Snapshot | undefined> {
  try {
    const res = await fetch(`${target.stats!.url}${path}`, { headers: { Authorization: `Bearer ${target.stats!.token}` }, signal: AbortSignal.timeout(10_000) });
    if (!res.ok) return undefined;
    const body = (await res.json()) as { cost?: unknown; counters?: Record<string, number> };
    return { ...(isCost(body.cost) ? { cost: body.cost } : {}), counters: body.counters ?? {} };
  } catch {
    return undefined;
  }
}

const paths = (o: Objects) => [
  ...o.sessions.map((id) => `/stats/sessions/${encodeURIComponent(id)}`),
  // Shard keys are `t/<first level>` (the slash stays: the route takes the rest of the path) or `#`.
  ...o.shards.map((key) => `/stats/shards/${key.split("/").map(encodeURIComponent).join("/")}`),
];

async function readAll(target: Target, o: Objects): Promise<(Snapshot | undefined)[]> {
  return Promise.all(paths(o).map((p) => read(target, p)));
}

/** Counters since `a`; a restarted object (another `instance`) counts from zero. */
function delta(a: CostFields, b: CostFields): CostTotals {
  const same = a.instance === b.instance;
  return Object.fromEntries(COST_KEYS.map((k) => [k, same ? b[k] - a[k] : b[k]])) as CostTotals;
}

const zero = (): CostTotals => ({ rowsWritten: 0, rowsRead: 0, requests: 0, wsMessagesIn: 0 });

export interface Measured {
  /** Sums over the objects, or undefined when some object does not report `cost`. */
  cost?: CostTotals;
  /** Objects that did any work in the run (for the duration bound). */
  activeObjects: number;
  /** Increases of the broker's counters (drops and the like), summed over the objects. */
  counters: Record<string, number>;
}

/**
 * Reads the objects' stats twice before the run (the difference is what one read of the stats
 * costs, subtracted once from the result) and returns a function that reads them after it.
 */
export async function measureAround(target: Target, objects: Objects): Promise<() => Promise<Measured>> {
  const calibrate = await readAll(target, objects);
  const before = await readAll(target, objects);
  return async () => {
    const after = await readAll(target, objects);
    const counters: Record<string, number> = {};
    after.forEach((s, i) => {
      for (const [k, v] of Object.entries(s?.counters ?? {})) {
        const d = v - (before[i]?.counters[k] ?? 0);
        if (d !== 0) counters[k] = (counters[k] ?? 0) + d;
      }
    });
    const complete = [calibrate, before, after].every((list) => list.every((s) => s?.cost));
    if (!complete) return { activeObjects: objects.sessions.length + objects.shards.length, counters };
    const total = zero();
    let activeObjects = 0;
    after.forEach((s, i) => {
      const run = delta(before[i]!.cost!, s!.cost!);
      const readCost = delta(calibrate[i]!.cost!, before[i]!.cost!);
      let active = false;
      for (const k of COST_KEYS) {
        const v = Math.max(0, run[k] - readCost[k]);
        total[k] += v;
        if (v > 0 && k !== "rowsRead") active = true;
      }
      if (active) activeObjects++;
    });
    return { cost: total, activeObjects, counters };
  };
}

export interface CostRow {
  run: string;
  target: string;
  /** Distinct QoS 1 messages delivered in the run. */
  messages: number;
  seconds: number;
  totals?: CostTotals;
  activeObjects: number;
}

/** Per message delivered, and dollars per million messages delivered. */
export function perMessage(row: CostRow) {
  if (!row.totals || row.messages === 0) return undefined;
  const t = row.totals;
  const m = row.messages;
  const billableRequests = (t.requests + t.wsMessagesIn / PRICE.wsMessagesPerRequest) / m;
  const rowsWritten = t.rowsWritten / m;
  const rowsRead = t.rowsRead / m;
  const usd = rowsWritten * PRICE.rowWrittenPerM + rowsRead * PRICE.rowReadPerM + billableRequests * PRICE.requestPerM;
  // Upper bound: every object that worked in the run was awake (billed) for the whole run.
  const gbSeconds = (row.activeObjects * PRICE.objectGb * row.seconds) / m;
  return { rowsWritten, rowsRead, requests: t.requests / m, wsMessagesIn: t.wsMessagesIn / m, billableRequests, usd, durationBoundUsd: gbSeconds * PRICE.gbSecondPerM };
}
