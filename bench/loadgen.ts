/**
 * A load-generator process, driven by the benchmark over IPC: it connects its share of the
 * clients, publishes (at a fixed rate, or as fast as the in-flight window and the socket allow),
 * and records what its subscribers receive. Every payload carries its send time, its publisher's
 * number and a sequence number, so deliveries, duplicates, reordering and loss are counted exactly
 * against what each publisher had acknowledged (QoS 1) or written (QoS 0).
 */
import mqtt, { type MqttClient } from "mqtt";

export interface ClientPlan {
  clientId: string;
  /** Filter to subscribe to, and the numbers of the publishers whose messages it must get. */
  subscribe?: string;
  from?: number[];
  /** Topic to publish to, and this publisher's number (unique in the run). */
  publish?: string;
  pub?: number;
}

export interface LoadJob {
  url: string;
  qos: 0 | 1;
  payloadSize: number;
  durationMs: number;
  /** Outstanding publishes per publisher (QoS 1: unacknowledged; QoS 0: writes not yet taken by the socket). */
  window: number;
  /** Messages per second per publisher; 0 = as fast as the window allows. */
  rate: number;
  /**
   * Paced by delivery: at most this many messages per publisher published but not yet received
   * (the subscriber must be in the same process). A window that stalls for a second is released,
   * so shed messages do not stop the publisher.
   */
  endToEnd?: number;
  /** How long, after the window, publishers wait for outstanding acknowledgements. */
  ackWaitMs: number;
  clients: ClientPlan[];
}

/** One publisher's record: per sequence number, 1 if acknowledged (QoS 1) or written (QoS 0). */
export interface PublisherRecord {
  pub: number;
  sent: number;
  acked: Uint8Array;
  errors: number;
}

export interface Verdict {
  /** Distinct messages received (per subscriber, so fan-out counts each copy). */
  unique: number;
  duplicates: number;
  outOfOrder: number;
  /** Acknowledged (QoS 1) / written (QoS 0) to the publisher, but never received. */
  lost: number;
  /** Received although the publisher never saw the acknowledgement (in flight at the end). */
  unackedDelivered: number;
  lostExamples: string[];
}

export type ToLoadgen =
  | { type: "setup"; job: LoadJob }
  | { type: "go" }
  | { type: "progress" }
  | { type: "collect" }
  | { type: "verify"; acked: Record<number, Uint8Array> }
  | { type: "connect-burst"; url: string; count: number; concurrency: number; prefix: string }
  | { type: "close" };

export type FromLoadgen =
  | { type: "ready" }
  | { type: "published"; publishers: PublisherRecord[]; startedAt: number }
  | { type: "progress"; unique: number; at: number }
  | { type: "result"; received: number; firstAt: number; lastAt: number; latencies: number[] }
  | { type: "verdict"; verdict: Verdict }
  | { type: "connected"; ms: number; failed: number; times: number[] }
  | { type: "error"; message: string };

const now = () => performance.timeOrigin + performance.now();
const clients: MqttClient[] = [];
let job: LoadJob;
let received = 0;
let unique = 0;
let firstAt = 0;
let lastAt = 0;
/** Set by "collect": the drain is over, later arrivals are not counted. */
let frozen = false;
const latencies: number[] = [];
const MAX_SAMPLES = 200_000;
const reply = (m: FromLoadgen) => process.send!(m);

/** Per publisher: distinct messages received here, and who to wake when one arrives. */
const receivedFrom = new Map<number, number>();
const wake = new Map<number, () => void>();

/** Per subscriber and publisher: how often each sequence number arrived (saturating at 255). */
const counts = new Map<string, Map<number, { seen: Uint8Array; last: number; outOfOrder: number }>>();

function connectOne(url: string, clientId: string): Promise<MqttClient> {
  return mqtt.connectAsync(url, { clientId, clean: true, reconnectPeriod: 0, connectTimeout: 30_000, keepalive: 60, protocolVersion: 4 });
}

function record(clientId: string, pub: number, seq: number): void {
  const bySub = counts.get(clientId)!;
  let r = bySub.get(pub);
  if (!r) bySub.set(pub, (r = { seen: new Uint8Array(1024), last: -1, outOfOrder: 0 }));
  if (seq >= r.seen.length) {
    const grown = new Uint8Array(Math.max(seq + 1, r.seen.length * 2));
    grown.set(r.seen);
    r.seen = grown;
  }
  if (r.seen[seq] === 0) {
    unique++;
    receivedFrom.set(pub, (receivedFrom.get(pub) ?? 0) + 1);
    wake.get(pub)?.();
    if (seq < r.last) r.outOfOrder++;
    r.last = Math.max(r.last, seq);
  }
  if (r.seen[seq]! < 255) r.seen[seq]!++;
}

async function setup(j: LoadJob): Promise<void> {
  job = j;
  // All clients connect at once; each keeps its index in `clients` so publishers line up with
  // their plans. Subscriptions are in place before "ready".
  const connected = await Promise.all(j.clients.map((plan) => connectOne(j.url, plan.clientId)));
  clients.push(...connected);
  await Promise.all(
    j.clients.map(async (plan, i) => {
      if (!plan.subscribe) return;
      counts.set(plan.clientId, new Map());
      const client = connected[i]!;
      client.on("message", (_topic, payload) => {
        if (frozen) return;
        const t = now();
        received++;
        if (firstAt === 0) firstAt = t;
        lastAt = t;
        if (latencies.length < MAX_SAMPLES) latencies.push(t - payload.readDoubleLE(0));
        record(plan.clientId, payload.readUInt16LE(12), payload.readUInt32LE(8));
      });
      await client.subscribeAsync(plan.subscribe, { qos: j.qos });
    }),
  );
  reply({ type: "ready" });
}

/** One publisher: fixed rate (catching up every millisecond) or as fast as its window allows. */
function runPublisher(plan: ClientPlan, client: MqttClient, startedAt: number): Promise<PublisherRecord> {
  const stopAt = startedAt + job.durationMs;
  const rec: PublisherRecord = { pub: plan.pub!, sent: 0, acked: new Uint8Array(0), errors: 0 };
  let acked = new Uint8Array(4096);
  let inflight = 0;
  // Paced by delivery: the window of messages not yet received, released if it stalls for 1 s.
  let released = 0;
  let movedAt = now();
  const e2eOpen = () => {
    if (!job.endToEnd) return true;
    const outstanding = rec.sent - (receivedFrom.get(plan.pub!) ?? 0) - released;
    if (outstanding < job.endToEnd) return true;
    if (now() - movedAt > 1000) {
      released += outstanding;
      movedAt = now();
      return true;
    }
    return false;
  };
  return new Promise((resolve) => {
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      clearInterval(tick);
      rec.acked = acked.slice(0, rec.sent);
      resolve(rec);
    };
    const send = () => {
      const seq = rec.sent++;
      if (seq >= acked.length) {
        const grown = new Uint8Array(acked.length * 2);
        grown.set(acked);
        acked = grown;
      }
      const b = Buffer.alloc(Math.max(job.payloadSize, 16));
      b.writeDoubleLE(now(), 0);
      b.writeUInt32LE(seq, 8);
      b.writeUInt16LE(plan.pub!, 12);
      inflight++;
      // QoS 1: called on PUBACK. QoS 0: called once the socket took the write (at once, or on
      // 'drain' when it pushes back), so the window follows TCP/WebSocket backpressure.
      client.publish(plan.publish!, b, { qos: job.qos }, (error) => {
        inflight--;
        if (error) rec.errors++;
        else acked[seq] = 1;
        if (job.rate === 0) schedule();
      });
    };
    let scheduled = false;
    const schedule = () => {
      if (scheduled || finished) return;
      scheduled = true;
      setImmediate(() => {
        scheduled = false;
        pump();
      });
    };
    const pump = () => {
      const t = now();
      if (t >= stopAt) {
        if (inflight === 0) finish();
        return;
      }
      if (job.rate > 0) {
        const due = Math.floor(((t - startedAt) / 1000) * job.rate);
        while (rec.sent < due && inflight < job.window) send();
        return;
      }
      // Bounded bursts, so acknowledgements and timers get their turn.
      let burst = 0;
      for (; burst < 64 && inflight < job.window && e2eOpen(); burst++) send();
      if (burst > 0) movedAt = now();
      if (inflight < job.window && e2eOpen()) schedule();
    };
    if (job.endToEnd) wake.set(plan.pub!, () => schedule());
    const tick = setInterval(() => {
      if (job.rate > 0 || now() >= stopAt || (job.endToEnd && e2eOpen())) pump();
    }, 1);
    pump();
    // After the window, outstanding acknowledgements get `ackWaitMs`; later ones do not count.
    setTimeout(finish, job.durationMs + job.ackWaitMs);
  });
}

async function go(): Promise<void> {
  const startedAt = now();
  const publishers = job.clients.map((p, i) => ({ plan: p, client: clients[i]! })).filter((x) => x.plan.publish);
  const records = await Promise.all(publishers.map(({ plan, client }) => runPublisher(plan, client, startedAt)));
  reply({ type: "published", publishers: records, startedAt });
}

function verify(ackedBy: Record<number, Uint8Array>): Verdict {
  const v: Verdict = { unique: 0, duplicates: 0, outOfOrder: 0, lost: 0, unackedDelivered: 0, lostExamples: [] };
  for (const plan of job.clients) {
    if (!plan.subscribe) continue;
    const bySub = counts.get(plan.clientId)!;
    for (const pub of plan.from ?? []) {
      const acked = ackedBy[pub] ?? new Uint8Array(0);
      const r = bySub.get(pub);
      const seen = r?.seen ?? new Uint8Array(0);
      v.outOfOrder += r?.outOfOrder ?? 0;
      for (let seq = 0; seq < Math.max(seen.length, acked.length); seq++) {
        const c = seen[seq] ?? 0;
        if (c > 0) {
          v.unique++;
          v.duplicates += c - 1;
          if (!acked[seq]) v.unackedDelivered++;
        } else if (acked[seq]) {
          v.lost++;
          if (v.lostExamples.length < 5) v.lostExamples.push(`${plan.clientId} missed publisher ${pub} #${seq}`);
        }
      }
    }
  }
  return v;
}

async function connectBurst(url: string, count: number, concurrency: number, prefix: string): Promise<void> {
  const start = now();
  let next = 0;
  let failed = 0;
  const times: number[] = [];
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const t = now();
      try {
        clients.push(await connectOne(url, `${prefix}-${i}`));
        times.push(now() - t);
      } catch {
        failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  reply({ type: "connected", ms: now() - start, failed, times });
}

process.on("message", (m: ToLoadgen) => {
  const run = async () => {
    switch (m.type) {
      case "setup":
        return setup(m.job);
      case "go":
        return go();
      case "progress":
        return reply({ type: "progress", unique, at: lastAt });
      case "collect":
        frozen = true;
        return reply({ type: "result", received, firstAt, lastAt, latencies });
      case "verify":
        return reply({ type: "verdict", verdict: verify(m.acked) });
      case "connect-burst":
        return connectBurst(m.url, m.count, m.concurrency, m.prefix);
      case "close":
        // Measurements are done: close without waiting for each broker's close handshake
        // (mosquitto's WebSocket listener took 5 s to finish them).
        for (const c of clients) c.end(true);
        setTimeout(() => process.exit(0), 50);
        return;
    }
  };
  run().catch((error) => reply({ type: "error", message: String(error) }));
});
