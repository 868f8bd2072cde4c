/**
 * A load-generator process, driven by the benchmark over IPC: it connects its share of the
 * clients, publishes (as fast as a window allows, or at a fixed rate), and counts what its
 * subscribers receive, with publish→deliver latency from the timestamp in each payload.
 */
import mqtt, { type MqttClient } from "mqtt";

export interface ClientPlan {
  clientId: string;
  subscribe?: string;
  publish?: string;
}

export interface LoadJob {
  url: string;
  qos: 0 | 1;
  payloadSize: number;
  durationMs: number;
  /** Outstanding publishes per publisher (throughput mode). */
  window: number;
  /** Messages per second per publisher (latency mode); 0 = as fast as the window allows. */
  rate: number;
  clients: ClientPlan[];
}

export type ToLoadgen =
  | { type: "setup"; job: LoadJob }
  | { type: "go" }
  | { type: "progress" }
  | { type: "collect" }
  | { type: "connect-burst"; url: string; count: number; concurrency: number; prefix: string }
  | { type: "round-trips"; url: string; count: number; clientId: string; hint: boolean }
  | { type: "close" };

export type FromLoadgen =
  | { type: "ready" }
  | { type: "published"; published: number; startedAt: number; stoppedAt: number }
  | { type: "progress"; received: number }
  | { type: "result"; received: number; firstAt: number; lastAt: number; latencies: number[] }
  | { type: "connected"; ms: number; failed: number }
  | { type: "round-trips"; times: number[] }
  | { type: "error"; message: string };

const now = () => performance.timeOrigin + performance.now();
const clients: MqttClient[] = [];
let job: LoadJob;
let received = 0;
let firstAt = 0;
let lastAt = 0;
const latencies: number[] = [];
const MAX_SAMPLES = 200_000;
const reply = (m: FromLoadgen) => process.send!(m);

function connectOne(url: string, clientId: string): Promise<MqttClient> {
  return mqtt.connectAsync(url, { clientId, clean: true, reconnectPeriod: 0, connectTimeout: 30_000, keepalive: 60, protocolVersion: 4 });
}

async function setup(j: LoadJob): Promise<void> {
  job = j;
  // All clients connect at once (a WebSocket connect can take ~100 ms); each keeps its index in
  // `clients` so publishers line up with their plans. Subscriptions are in place before "ready".
  const connected = await Promise.all(j.clients.map((plan) => connectOne(j.url, plan.clientId)));
  clients.push(...connected);
  await Promise.all(
    j.clients.map(async (plan, i) => {
      if (!plan.subscribe) return;
      const client = connected[i]!;
      client.on("message", (_topic, payload) => {
        const t = now();
        received++;
        if (firstAt === 0) firstAt = t;
        lastAt = t;
        if (latencies.length < MAX_SAMPLES) latencies.push(t - payload.readDoubleLE(0));
      });
      await client.subscribeAsync(plan.subscribe, { qos: j.qos });
    }),
  );
  reply({ type: "ready" });
}

async function go(): Promise<void> {
  const startedAt = now();
  const stopAt = startedAt + job.durationMs;
  let published = 0;
  const publishers = job.clients.map((p, i) => ({ plan: p, client: clients[i]! })).filter((x) => x.plan.publish);
  await Promise.all(
    publishers.map(({ plan, client }) => new Promise<void>((resolve) => {
      let inflight = 0;
      let seq = 0;
      const payload = () => {
        const b = Buffer.alloc(Math.max(job.payloadSize, 16));
        b.writeDoubleLE(now(), 0);
        b.writeUInt32LE(seq++, 8);
        return b;
      };
      const send = (done?: () => void) => {
        inflight++;
        published++;
        client.publish(plan.publish!, payload(), { qos: job.qos }, () => {
          inflight--;
          done?.();
        });
      };
      if (job.rate > 0) {
        // Fixed rate: catch up to the schedule every millisecond-ish tick.
        const begin = now();
        const tick = setInterval(() => {
          const t = now();
          if (t >= stopAt) {
            clearInterval(tick);
            resolve();
            return;
          }
          const due = Math.floor(((t - begin) / 1000) * job.rate);
          while (seq < due && inflight < job.window) send();
        }, 1);
        return;
      }
      const pump = () => {
        if (now() >= stopAt) {
          if (inflight === 0) resolve();
          return;
        }
        while (inflight < job.window) send(() => setImmediate(pump));
      };
      pump();
      // Publishing stops at the deadline; outstanding writes get half a second to complete (over
      // mosquitto's WebSocket listener the last write callbacks may never come).
      setTimeout(resolve, job.durationMs + 500);
    })),
  );
  reply({ type: "published", published, startedAt, stoppedAt: now() });
}

async function connectBurst(url: string, count: number, concurrency: number, prefix: string): Promise<void> {
  const start = now();
  let next = 0;
  let failed = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      try {
        clients.push(await connectOne(url, `${prefix}-${i}`));
      } catch {
        failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  reply({ type: "connected", ms: now() - start, failed });
}

/** One client publishes to itself and waits for each message before sending the next. */
async function roundTrips(url: string, count: number, clientId: string, hint: boolean): Promise<void> {
  // With the hint the WebSocket goes straight to the session object, as the gateway's does.
  const client = await connectOne(hint ? `${url}?clientId=${encodeURIComponent(clientId)}` : url, clientId);
  clients.push(client);
  const topic = `rtt/${clientId}`;
  await client.subscribeAsync(topic, { qos: 0 });
  const times: number[] = [];
  for (let i = 0; i < count + 20; i++) {
    const arrived = new Promise<void>((resolve) => client.once("message", () => resolve()));
    const t = now();
    client.publish(topic, Buffer.alloc(64), { qos: 0 });
    await arrived;
    if (i >= 20) times.push(now() - t); // the first 20 warm up
  }
  reply({ type: "round-trips", times });
}

process.on("message", (m: ToLoadgen) => {
  const run = async () => {
    switch (m.type) {
      case "setup":
        return setup(m.job);
      case "go":
        return go();
      case "progress":
        return reply({ type: "progress", received });
      case "collect":
        return reply({ type: "result", received, firstAt, lastAt, latencies });
      case "connect-burst":
        return connectBurst(m.url, m.count, m.concurrency, m.prefix);
      case "round-trips":
        return roundTrips(m.url, m.count, m.clientId, m.hint);
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
