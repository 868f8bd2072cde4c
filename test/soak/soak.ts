/**
 * The soak: a broker (workerd via Miniflare, 127.0.0.1) and a TCP gateway of its own, and a few
 * hundred mqtt.js clients over WebSocket (the Worker pipe and `?clientId=` straight to the session
 * object) and through the gateway, MQTT 3.1.1 and 5.0, for minutes, while invariants are checked:
 *
 * - **Checked subscribers** hold persistent sessions (CleanSession=0 / Session Expiry) subscribed
 *   at QoS 2 to fixed data topics for the whole run. They are disrupted now and then: the socket
 *   destroyed and the same client reconnected, a graceful DISCONNECT and some seconds offline, an
 *   abrupt kill, or a second connection with the same id taking over. Every QoS 1/2 message whose
 *   publisher got its PUBACK / PUBCOMP must reach each of them (QoS 1 at least once, QoS 2 exactly
 *   once to the application), in order per publisher, topic and QoS. Their mqtt.js stores survive
 *   across connections, as an application's would: mqtt.js hands a QoS 2 message to the
 *   application at PUBREL, from its incoming store.
 * - **Publishers** (persistent sessions too) send numbered messages (publisher, sequence, QoS,
 *   topic in the payload) at QoS 0/1/2 at a bounded total rate, with a bounded number in flight
 *   each, and record which were acknowledged. Their sockets are destroyed now and then, so mqtt.js
 *   resends what was in flight (QoS 2: the same packet id), which must not duplicate anything.
 *   QoS 0 is never counted as lost: the broker may shed it.
 * - **Churn clients** connect with ids from a bounded pool, subscribe and unsubscribe, publish
 *   retained updates, reconnect with the same id, take over each other's ids, and end either
 *   gracefully (their will must not be published) or by a destroyed socket (their will must
 *   arrive at the will subscriber, itself a disrupted persistent session).
 * - **Retained messages**: updates of a bounded set of topics, one at a time per topic; probes
 *   subscribe now and then and must get nothing older than the last acknowledged update, and
 *   after the drain each topic must hold its last acknowledged update (or a later unacknowledged one).
 * - **Memory and storage**: workerd's RSS, the operator API's counts (sessions, subscriptions,
 *   retained) and the bytes of the Durable Object state on disk are sampled every few seconds;
 *   growth over the second half of the run beyond a tolerance is flagged.
 *
 * After publishing stops, the broker gets a drain period (30 s at most) before anything missing
 * counts as lost. Everything is bounded (clients, ids, topics, rate, in-flight messages, time) and
 * seeded; every process and client started here is stopped in `finally`.
 *
 * Used by scripts/soak.mjs (`npm run soak`) and test/integration/90-soak.test.ts.
 */
import { createWriteStream, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt, { type IClientOptions, type MqttClient } from "mqtt";
import type { IConnackPacket, IPublishPacket, Packet } from "mqtt-packet";
import { descendants } from "../../bench/process-tree.js";
import type { ClientList, Overview } from "../../src/admin/api-types.js";
import { ADMIN_TOKEN, type Broker, STATS_TOKEN, startBroker } from "../helpers/broker.js";
import { startTestGateway, type TestGateway } from "../helpers/gateway.js";
import { caseSeed, Prng } from "../fuzz/mutate.js";

export interface SoakOptions {
  /** Minutes of publishing and churn (the start, the drain and the checks come on top). */
  minutes: number;
  /** Clients at a time: publishers, checked subscribers, the will subscriber and churn clients. */
  clients: number;
  seed?: number;
  /** Publishes per second, all publishers together (default 200). */
  rate?: number;
  /** Longest wait for what is still missing once publishing stopped (default 30 s). */
  drainSeconds?: number;
  /** Seconds between samples of memory and storage (default 5). */
  sampleSeconds?: number;
  /** Growth of workerd's RSS over the second half tolerated, in MiB (default 64, or 15 % if more). */
  rssToleranceMiB?: number;
  /** Growth over the second half fails the run (the long run); otherwise it is only reported. */
  failOnGrowth?: boolean;
  log?: (line: string) => void;
}

type Transport = "ws" | "ws-direct" | "tcp";
type Version = 4 | 5;
type Qos = 0 | 1 | 2;

/** SOAK_DEBUG=1: trace the publishers' packets and print the history behind each violation. */
const TRACE = !!process.env.SOAK_DEBUG;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const MiB = 1024 * 1024;

// ---- counting ----

/** Per sequence number, how often it arrived (saturating at 255). */
class SeqCounts {
  private a = new Uint8Array(256);
  /** Counts one arrival; returns how many there were before. */
  inc(seq: number): number {
    if (seq >= this.a.length) {
      let n = this.a.length;
      while (n <= seq) n *= 2;
      const b = new Uint8Array(n);
      b.set(this.a);
      this.a = b;
    }
    const before = this.a[seq]!;
    if (before < 255) this.a[seq] = before + 1;
    return before;
  }
  get(seq: number): number {
    return seq < this.a.length ? this.a[seq]! : 0;
  }
}

const PENDING = 0;
const ACKED = 1;
const FAILED = 2;

interface PerQos {
  sent: number;
  acked: number;
  /** Copies delivered to checked subscribers, each counted once per subscriber. */
  delivered: number;
  /** Copies expected: acknowledged messages times the checked subscribers of their topic. */
  expected: number;
  /** Arrivals beyond the first, per subscriber (allowed at QoS 0/1; QoS 2: a violation). */
  duplicated: number;
  lost: number;
  /** Delivered although the publisher never saw its acknowledgement. */
  deliveredUnacked: number;
  /**
   * QoS 2 copies delivered twice because the publisher (mqtt.js 5.16) sent the message again
   * after its QoS 2 flow had completed: a new message by the protocol, not the broker's duplicate.
   */
  duplicatedByClient: number;
}

const perQos = (): PerQos => ({ sent: 0, acked: 0, delivered: 0, expected: 0, duplicated: 0, lost: 0, deliveredUnacked: 0, duplicatedByClient: 0 });

export interface Sample {
  /** Seconds since publishing started. */
  at: number;
  rss: number;
  /** Bytes of the Durable Objects' SQLite databases on disk (without their WAL and shared-memory files). */
  db: number;
  /** Bytes of their write-ahead logs: each grows to about 4 MiB once its object wrote that much, and stays. */
  wal: number;
  /** QoS 1/2 messages the broker holds: in the topic shards' logs and in the sessions' queues. */
  held: number | null;
  connected: number | null;
  sessions: number | null;
  subscriptions: number | null;
  retained: number | null;
}

export interface Trend {
  name: string;
  first: number;
  max: number;
  last: number;
  /** Mean of the last third of the second half minus the mean of its first third. */
  growth: number;
  tolerance: number;
  flagged: boolean;
}

export interface SoakReport {
  seed: number;
  seconds: number;
  /** The mix of transports and versions is that of the persistent clients; churn connections count theirs. */
  clients: { total: number; publishers: number; checked: number; churn: number; gateway: number; websocket: number; v5: number };
  rate: number;
  qos: Record<Qos, PerQos>;
  /** Publishes not made: every publisher offline (or resending after a reconnect) / at its in-flight cap / behind schedule. */
  skipped: { offline: number; inFlight: number; late: number };
  outOfOrder: number;
  misrouted: number;
  qosMismatch: number;
  examples: string[];
  wills: { registered: number; expected: number; received: number; lost: number; unexpected: number; takenOver: number; takenOverReceived: number; duplicated: number };
  churn: {
    connections: number;
    websocket: number;
    gateway: number;
    v5: number;
    abortedEnds: number;
    takeovers: number;
    takeoversRefused: number;
    reconnects: number;
    killed: number;
    graceful: number;
    subscribes: number;
    unsubscribes: number;
    connectFailures: number;
    unexpectedCloses: number;
  };
  durable: { bounces: number; offline: number; kills: number; takeovers: number; unexpectedCloses: number; sessionsLost: number; takeoverNotClosed: number };
  retained: { updates: number; acked: number; failed: number; probes: number; stale: number; finalTopics: number; finalWrong: number; finalWrongExamples: string[] };
  drainSeconds: number;
  /** Publish → acknowledgement, as the publishers saw it (reconnects included). */
  ackMs: Record<1 | 2, { p50: number; p99: number; max: number }>;
  samples: Sample[];
  trends: Trend[];
  dropped: Record<string, number>;
  /** workerd's output (the broker logs at warn and above): lines by kind, digits as N. */
  brokerLines: { total: number; kinds: Record<string, number> };
  /** Of those, signs of a failure: uncaught exceptions, failed input handling, failed stores. */
  brokerErrors: { count: number; lines: string[] };
  gatewayErrors: string[];
  problems: string[];
  failures: string[];
  ok: boolean;
}

// ---- the run's shared state ----

interface Filter {
  filter: string;
  topics: number[];
}

interface Ctx {
  /** Records what happened to a client id (the last events of each), for explaining a violation. */
  note: (id: string, what: string) => void;
  broker: Broker;
  gateway: TestGateway;
  /** Churn and disruptions stop. */
  stopping: boolean;
  /** Everything is being closed: no more recovery. */
  closing: boolean;
  report: SoakReport;
}

function problem(ctx: Ctx, text: string): void {
  if (ctx.report.problems.length < 40) ctx.report.problems.push(text);
}

function urlFor(ctx: Ctx, transport: Transport, id: string): string {
  if (transport === "tcp") return ctx.gateway.url;
  if (transport === "ws-direct") return `${ctx.broker.mqttUrl}?clientId=${encodeURIComponent(id)}`;
  return ctx.broker.mqttUrl;
}

/** A CONNACK that accepted the connection. */
const accepted = (p: IConnackPacket) => (p.reasonCode ?? p.returnCode ?? 0) === 0;

/**
 * Resolves with the CONNACK of `client`'s next connection; rejects on a refusal, a close or a
 * timeout. The packet, not mqtt.js's "connect" event: after a reconnect mqtt.js emits that only
 * once it has resent its whole outgoing store, one message per round trip.
 */
function whenConnected(client: MqttClient, ms = 10_000): Promise<IConnackPacket> {
  return new Promise((resolve, reject) => {
    const done = (f: () => void) => {
      clearTimeout(timer);
      client.off("packetreceive", onPacket);
      client.off("error", onError);
      client.off("close", onClose);
      f();
    };
    const onPacket = (p: Packet) => {
      if (p.cmd !== "connack") return;
      if (accepted(p)) done(() => resolve(p));
      else done(() => reject(Object.assign(new Error(`CONNACK refused (${p.reasonCode ?? p.returnCode})`), { code: p.reasonCode ?? p.returnCode })));
    };
    const onError = (e: Error) => done(() => reject(e));
    const onClose = () => done(() => reject(new Error("closed before CONNACK")));
    const timer = setTimeout(() => done(() => reject(new Error(`no CONNACK within ${ms} ms`))), ms);
    client.on("packetreceive", onPacket);
    client.on("error", onError);
    client.on("close", onClose);
  });
}

function whenClosed(client: MqttClient, ms: number): Promise<boolean> {
  if (client.stream?.destroyed && !client.connected) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      client.off("close", onClose);
      resolve(false);
    }, ms);
    const onClose = () => {
      clearTimeout(timer);
      resolve(true);
    };
    client.once("close", onClose);
  });
}

/** end(), forced when it takes longer than `ms`; whether it ended within `ms`. */
async function endClient(client: MqttClient, force: boolean, ms = 5000): Promise<boolean> {
  const ended = await Promise.race([
    client.endAsync(force).then(
      () => true,
      () => true,
    ),
    sleep(ms).then(() => false),
  ]);
  if (!ended) await Promise.race([client.endAsync(true).catch(() => undefined), sleep(1000)]);
  return ended;
}

/** Destroys the client's socket without DISCONNECT: the broker sees a lost connection. */
function killSocket(client: MqttClient): void {
  client.stream?.destroy();
}

// ---- persistent clients: publishers, checked subscribers, the will subscriber ----

class DurableClient {
  readonly incomingStore = new mqtt.Store({ clean: false });
  readonly outgoingStore = new mqtt.Store({ clean: false });
  client: MqttClient | undefined;
  /** CONNACKs received, over all instances. */
  connects = 0;
  private instances = 0;
  online = false;
  /** The current instance's close is ours (a disruption), not a failure. */
  private intentional = false;
  private recovering = false;
  /** Publishers: mqtt.js sent QoS 2 message `seq` again after its flow had completed. */
  onResentAfterCompletion?: (seq: number) => void;
  /** Subscriptions to make on the first connection (and again if the session was lost). */
  filters: { filter: string; qos: Qos }[] = [];

  constructor(
    readonly ctx: Ctx,
    readonly id: string,
    readonly version: Version,
    readonly transport: Transport,
    readonly props: Record<string, number>,
    readonly onMessage: (topic: string, payload: Buffer, packet: IPublishPacket) => void,
  ) {}

  private subscriptionMap(): Record<string, { qos: Qos }> {
    return Object.fromEntries(this.filters.map((f) => [f.filter, { qos: f.qos }]));
  }

  private options(): IClientOptions {
    return {
      clientId: this.id,
      protocolVersion: this.version,
      clean: false,
      reconnectPeriod: 0,
      connectTimeout: 10_000,
      keepalive: 30,
      resubscribe: false,
      incomingStore: this.incomingStore,
      outgoingStore: this.outgoingStore,
      ...(this.version === 5 ? { properties: { sessionExpiryInterval: 3600, ...this.props } } : {}),
    };
  }

  /** A new mqtt.js instance (same stores), as the current one; resolves at its CONNACK. */
  async open(): Promise<void> {
    const c = mqtt.connect(urlFor(this.ctx, this.transport, this.id), this.options());
    this.client = c;
    const no = ++this.instances;
    this.ctx.note(this.id, `instance ${no} connects (${this.transport}, v${this.version})`);
    c.on("close", () => this.ctx.note(this.id, `instance ${no}: closed`));
    if (this.id.startsWith("pub-")) {
      // mqtt.js 5.16 replays its outgoing store after a reconnect from a copy taken at CONNACK. If
      // the broker's PUBREC for a PUBLISH of the previous connection arrives meanwhile, the flow
      // completes (PUBREL, PUBCOMP), and the replay still sends that PUBLISH again later, with the
      // same packet id, now free: a new message to the broker. Noticed here, so the duplicate it
      // causes is counted apart.
      const seqOf = new Map<number, number>();
      const completed = new Set<number>();
      c.on("packetsend", (p) => {
        if (p.cmd !== "publish" || p.qos !== 2 || p.messageId === undefined) return;
        const seq = Number(p.payload.toString("latin1", 0, 32).split("|")[2]);
        if (completed.has(seq)) this.onResentAfterCompletion?.(seq);
        seqOf.set(p.messageId, seq);
      });
      c.on("packetreceive", (p) => {
        if (p.cmd !== "pubcomp" || p.messageId === undefined) return;
        const seq = seqOf.get(p.messageId);
        if (seq !== undefined) completed.add(seq);
        if (completed.size > 5000) completed.delete(completed.values().next().value!);
      });
    }
    if (TRACE && this.id.startsWith("pub-")) {
      const text = (p: { payload?: unknown }) => (Buffer.isBuffer(p.payload) || typeof p.payload === "string" ? p.payload.toString().slice(0, 16) : "");
      c.on("packetsend", (p) => {
        if (p.cmd === "publish" && p.qos > 0) this.ctx.note(this.id, `instance ${no}: PUBLISH q${p.qos} id ${p.messageId} ${text(p)}${p.dup ? " DUP" : ""}`);
        if (p.cmd === "pubrel") this.ctx.note(this.id, `instance ${no}: PUBREL id ${p.messageId}`);
      });
      c.on("packetreceive", (p) => {
        if (p.cmd === "pubrec" || p.cmd === "pubcomp" || p.cmd === "puback")
          this.ctx.note(this.id, `instance ${no}: ${p.cmd.toUpperCase()} id ${p.messageId}${"reasonCode" in p && p.reasonCode ? ` 0x${p.reasonCode.toString(16)}` : ""}`);
      });
    }
    c.on("error", () => undefined);
    // mqtt.js resolves a topic alias when a PUBLISH arrives, but stores the packet as received, so
    // a QoS 2 message it hands over at PUBREL has an empty topic. Resolve it before it is stored.
    const aliases = new Map<number, string>();
    c.on("packetreceive", (packet) => {
      if (packet.cmd !== "publish") return;
      const alias = packet.properties?.topicAlias;
      if (alias === undefined) return;
      const topic = packet.topic.toString();
      if (topic) aliases.set(alias, topic);
      else if (aliases.has(alias)) packet.topic = aliases.get(alias)!;
    });
    c.on("close", () => aliases.clear());
    c.on("message", (topic, payload, packet) => this.onMessage(topic, payload, packet));
    c.on("packetreceive", (connack) => {
      if (connack.cmd !== "connack" || !accepted(connack)) return;
      this.ctx.note(this.id, `instance ${no}: CONNACK, session present ${connack.sessionPresent}`);
      if (this.client !== c) return;
      this.connects++;
      this.online = true;
      if (this.connects > 1 && !connack.sessionPresent) {
        this.ctx.report.durable.sessionsLost++;
        problem(this.ctx, `${this.id}: session not present on reconnect (connection ${this.connects})`);
        if (this.filters.length > 0) void c.subscribeAsync(this.subscriptionMap()).catch(() => undefined);
      }
    });
    c.on("close", () => {
      if (this.client !== c) return;
      this.online = false;
      if (this.intentional || this.ctx.closing) return;
      this.ctx.report.durable.unexpectedCloses++;
      problem(this.ctx, `${this.id}: connection closed unexpectedly`);
      void this.recover();
    });
    await whenConnected(c);
    if (this.connects === 1 && this.filters.length > 0) {
      const granted = await c.subscribeAsync(this.subscriptionMap());
      for (const g of granted) if (g.qos > 2) throw new Error(`${this.id}: SUBACK refused ${g.topic} (0x${g.qos.toString(16)})`);
    }
  }

  /** Brings the client back after an unplanned close: the same instance, the same stores. */
  async recover(): Promise<void> {
    if (this.recovering) return;
    this.recovering = true;
    try {
      for (let attempt = 0; !this.online && !this.ctx.closing && attempt < 20; attempt++) {
        await sleep(500 + attempt * 250);
        const c = this.client;
        if (!c || this.online || this.ctx.closing || this.intentional) return;
        if (c.connected) continue;
        c.reconnect({ incomingStore: this.incomingStore, outgoingStore: this.outgoingStore });
        await whenConnected(c).catch(() => undefined);
      }
    } finally {
      this.recovering = false;
    }
  }

  /** Destroys the socket; the same mqtt.js instance reconnects after `downMs` and resends what was in flight. */
  async bounce(downMs: number): Promise<void> {
    const c = this.client;
    if (!c || !this.online) return;
    this.ctx.report.durable.bounces++;
    this.ctx.note(this.id, `bounce (socket destroyed), down ${downMs} ms`);
    this.intentional = true;
    killSocket(c);
    await whenClosed(c, 5000);
    await sleep(downMs);
    this.intentional = false;
    if (this.ctx.closing) return;
    c.reconnect({ incomingStore: this.incomingStore, outgoingStore: this.outgoingStore });
    await whenConnected(c).catch(() => void this.recover());
  }

  /** A graceful DISCONNECT (the session stays), `downMs` offline, then a new mqtt.js instance. */
  async offline(downMs: number): Promise<void> {
    const c = this.client;
    if (!c || !this.online) return;
    this.ctx.report.durable.offline++;
    this.ctx.note(this.id, `graceful end, offline ${downMs} ms`);
    this.intentional = true;
    await endClient(c, false);
    await sleep(downMs);
    this.intentional = false;
    if (this.ctx.closing) return;
    await this.open().catch(() => void this.recover());
  }

  /** The socket destroyed and the instance dropped; a new instance after `downMs`. */
  async kill(downMs: number): Promise<void> {
    const c = this.client;
    if (!c || !this.online) return;
    this.ctx.report.durable.kills++;
    this.ctx.note(this.id, `kill, down ${downMs} ms`);
    this.intentional = true;
    killSocket(c);
    await whenClosed(c, 5000);
    await endClient(c, true, 2000);
    await sleep(downMs);
    this.intentional = false;
    if (this.ctx.closing) return;
    await this.open().catch(() => void this.recover());
  }

  /** A second connection with the same id while the first is live: the broker must close the first. */
  async takeover(): Promise<void> {
    const old = this.client;
    if (!old || !this.online) return;
    this.ctx.report.durable.takeovers++;
    this.ctx.note(this.id, `takeover by a new instance`);
    const oldClosed = whenClosed(old, 10_000);
    await this.open().catch(() => void this.recover());
    void oldClosed.then(async (closed) => {
      if (!closed && !this.ctx.closing) {
        this.ctx.report.durable.takeoverNotClosed++;
        problem(this.ctx, `${this.id}: the broker did not close the connection taken over within 10 s`);
      }
      await endClient(old, true, 2000);
    });
  }

  async stop(): Promise<void> {
    const c = this.client;
    this.online = false;
    if (c) await endClient(c, false, 3000);
  }
}

// ---- the run ----

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const seed = (options.seed ?? Math.floor(Math.random() * 2 ** 31)) >>> 0;
  const log = options.log ?? (() => undefined);
  const runMs = Math.round(options.minutes * 60_000);
  const rate = options.rate ?? 200;
  const drainMs = (options.drainSeconds ?? 30) * 1000;
  const sampleMs = (options.sampleSeconds ?? 5) * 1000;

  // Roles.
  const total = Math.max(12, Math.round(options.clients));
  const nPub = Math.max(2, Math.round(total * 0.1));
  const nSub = Math.max(3, Math.round(total * 0.3));
  const nChurn = total - nPub - nSub - 1;
  // About one topic per checked subscriber, in groups of four under one first level (one shard each).
  const nTopics = Math.max(8, 4 * Math.ceil(nSub / 4));
  const nGroups = nTopics / 4;
  const topicName = (k: number) => `d${k % nGroups}/${k}`;
  const nRetained = 20;
  const retainedTopic = (k: number) => `ret/x/${k}`;
  const churnIds = Array.from({ length: Math.ceil(nChurn * 1.5) }, (_, i) => `ch-${i}`);
  const runSeconds = runMs / 1000;
  /** Milliseconds a churn connection lives (unless taken over). */
  const lifetime: [number, number] = runSeconds > 120 ? [4000, 20_000] : [1000, 6000];
  /** Seconds between disruptions of one persistent client. */
  const disruptEvery: [number, number] = [Math.max(4, Math.min(15, runSeconds / 6)), Math.max(8, Math.min(45, runSeconds / 3))];

  const report: SoakReport = {
    seed,
    seconds: 0,
    clients: { total, publishers: nPub, checked: nSub + 1, churn: nChurn, gateway: 0, websocket: 0, v5: 0 },
    rate,
    qos: { 0: perQos(), 1: perQos(), 2: perQos() },
    skipped: { offline: 0, inFlight: 0, late: 0 },
    outOfOrder: 0,
    misrouted: 0,
    qosMismatch: 0,
    examples: [],
    wills: { registered: 0, expected: 0, received: 0, lost: 0, unexpected: 0, takenOver: 0, takenOverReceived: 0, duplicated: 0 },
    churn: {
      connections: 0,
      websocket: 0,
      gateway: 0,
      v5: 0,
      abortedEnds: 0,
      takeovers: 0,
      takeoversRefused: 0,
      reconnects: 0,
      killed: 0,
      graceful: 0,
      subscribes: 0,
      unsubscribes: 0,
      connectFailures: 0,
      unexpectedCloses: 0,
    },
    durable: { bounces: 0, offline: 0, kills: 0, takeovers: 0, unexpectedCloses: 0, sessionsLost: 0, takeoverNotClosed: 0 },
    retained: { updates: 0, acked: 0, failed: 0, probes: 0, stale: 0, finalTopics: 0, finalWrong: 0, finalWrongExamples: [] },
    drainSeconds: 0,
    ackMs: { 1: { p50: 0, p99: 0, max: 0 }, 2: { p50: 0, p99: 0, max: 0 } },
    samples: [],
    trends: [],
    dropped: {},
    brokerLines: { total: 0, kinds: {} },
    brokerErrors: { count: 0, lines: [] },
    gatewayErrors: [],
    problems: [],
    failures: [],
    ok: false,
  };
  const exampleCounts = new Map<string, number>();
  /** At most 4 examples of each kind. */
  const example = (text: string) => {
    const kind = text.slice(0, text.indexOf(":"));
    const n = exampleCounts.get(kind) ?? 0;
    exampleCounts.set(kind, n + 1);
    if (n < 4 && report.examples.length < 24) report.examples.push(text);
  };
  const pickTransport = (r: Prng): Transport => {
    const x = r.next();
    return x < 0.45 ? "ws" : x < 0.6 ? "ws-direct" : "tcp";
  };
  const countClient = (transport: Transport, version: Version) => {
    if (transport === "tcp") report.clients.gateway++;
    else report.clients.websocket++;
    if (version === 5) report.clients.v5++;
  };

  // workerd's output: verbose, so uncaught exceptions show; the broker's own lines at warn and above.
  const brokerLog = process.env.SOAK_BROKER_LOG ? createWriteStream(process.env.SOAK_BROKER_LOG) : undefined;
  const onOutput = (line: string) => {
    brokerLog?.write(`${((Date.now() - runStart) / 1000).toFixed(3)} ${line}\n`);
    // workerd's verbose notes about peers that went away, and stack lines, are not the broker's.
    if (/disconnected: |^stack: |^\s+at |^\s*$/.test(line)) return;
    const text = line.replace(/^\S+Z /, "");
    const kind = text.replace(/\d+/g, "N").slice(0, 110);
    report.brokerLines.total++;
    if (report.brokerLines.kinds[kind] !== undefined || Object.keys(report.brokerLines.kinds).length < 50) report.brokerLines.kinds[kind] = (report.brokerLines.kinds[kind] ?? 0) + 1;
    if (/uncaught|exception|failed handling input|action failed|internal error|could not store/i.test(text)) {
      report.brokerErrors.count++;
      if (report.brokerErrors.lines.length < 10) report.brokerErrors.lines.push(text.slice(0, 300));
    }
  };
  const onProcessError = (e: unknown) => report.gatewayErrors.push(`uncaught in the soak process: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`.slice(0, 500));
  process.on("uncaughtException", onProcessError);
  process.on("unhandledRejection", onProcessError);

  const persistDir = mkdtempSync(join(tmpdir(), "mqtt-soak-"));
  let broker: Broker | undefined;
  let gateway: TestGateway | undefined;
  const durables: DurableClient[] = [];
  const churnClients = new Set<MqttClient>();
  const timers: NodeJS.Timeout[] = [];
  const started = Date.now();
  let runStart = Date.now();
  let ctxRef: Ctx | undefined;
  /** The last events of each client id (more for publishers), for explaining a violation. */
  const history = new Map<string, string[]>();
  const note = (id: string, what: string) => {
    const h = history.get(id) ?? history.set(id, []).get(id)!;
    h.push(`${((Date.now() - runStart) / 1000).toFixed(3)} ${what}`);
    if (h.length > (id.startsWith("pub-") ? 4000 : 300)) h.shift();
  };
  let ackTimesRef: Record<1 | 2, number[]> = { 1: [], 2: [] };

  try {
    broker = await startBroker({
      persistDir,
      vars: { MAX_QUEUED_MESSAGES: "20000", LOG_LEVEL: brokerLog ? "debug" : "warn", MAX_TAKEOVERS_PER_MINUTE: "10" },
      onOutput,
    });
    gateway = await startTestGateway(broker, { maxConnections: 2000 });
    // Its log lines (one per connection and disconnection, with the reason) get the run's clock.
    const gatewayLogs = gateway.logs;
    const push = gatewayLogs.push.bind(gatewayLogs);
    gatewayLogs.push = (...lines: string[]) => push(...lines.map((l) => `${((Date.now() - runStart) / 1000).toFixed(3)} ${l}`));
    const ctx: Ctx = { note, broker, gateway, stopping: false, closing: false, report };
    ctxRef = ctx;
    log(
      `broker ${broker.mqttUrl}, gateway ${gateway.url}, seed ${seed}: ${nPub} publishers, ${nSub} checked subscribers, 1 will subscriber, ${nChurn} churn clients, ${nTopics} data topics, ${rate} msg/s for ${runSeconds.toFixed(0)} s`,
    );

    // ---- checked subscribers ----
    interface Checked {
      d: DurableClient;
      filters: Filter[];
      /** Per publisher, arrivals per sequence number. */
      counts: SeqCounts[];
      /** Per publisher|topic|qos, the highest sequence delivered first so far. */
      last: Map<string, number>;
    }
    const checked: Checked[] = [];
    const dupEvents: { p: number; seq: number; at: number }[] = [];
    const topicSubs: number[][] = Array.from({ length: nTopics }, () => []);
    const pubs: { d: DurableClient; seq: number; topic: number[]; qos: number[]; state: number[]; pending: number; resentAfterCompletion: Set<number> }[] = [];
    /** Publish → PUBACK / PUBCOMP times in ms, per QoS. */
    const ackTimes: Record<1 | 2, number[]> = { 1: [], 2: [] };
    ackTimesRef = ackTimes;

    const onData = (sub: Checked, topic: string, payload: Buffer, packet: IPublishPacket) => {
      const text = payload.toString("latin1", 0, Math.min(payload.length, 48));
      if (!text.startsWith("m|")) return;
      const [, ps, ss, qs, ts] = text.split("|");
      const p = Number(ps);
      const seq = Number(ss);
      const q = Number(qs) as Qos;
      const t = Number(ts);
      const pub = pubs[p];
      if (!pub || topicName(t) !== topic || pub.topic[seq] !== t || pub.qos[seq] !== q || !sub.filters.some((f) => f.topics.includes(t))) {
        report.misrouted++;
        example(`misrouted: ${sub.d.id} got ${topic} ${text}`);
        return;
      }
      if (packet.qos !== q) report.qosMismatch++;
      const counts = (sub.counts[p] ??= new SeqCounts());
      const before = counts.inc(seq);
      const stats = report.qos[q];
      if (before === 0) {
        stats.delivered++;
        const key = `${p}|${t}|${q}`;
        const last = sub.last.get(key) ?? -1;
        if (seq < last) {
          report.outOfOrder++;
          example(`out of order: ${sub.d.id} got pub-${p} #${seq} (QoS ${q}, ${topic}) after #${last}`);
        } else sub.last.set(key, seq);
      } else {
        if (q === 2 && pub.resentAfterCompletion.has(seq)) {
          // mqtt.js sent this message again after its QoS 2 flow had completed (see DurableClient).
          report.qos[2].duplicatedByClient++;
          example(`QoS 2 duplicate caused by mqtt.js: ${sub.d.id} got pub-${p} #${seq} (${topic}) again; the publisher resent it after its PUBCOMP`);
          return;
        }
        stats.duplicated++;
        if (q === 2) {
          example(`QoS 2 duplicate: ${sub.d.id} got pub-${p} #${seq} (${topic}) ${before + 1} times${packet.dup ? " (DUP set)" : ""}`);
          if (TRACE && dupEvents.length < 5 && !dupEvents.some((d) => d.p === p && d.seq === seq)) dupEvents.push({ p, seq, at: (Date.now() - runStart) / 1000 });
        }
      }
    };

    const subRng = new Prng(caseSeed(seed, 1));
    for (let i = 0; i < nSub; i++) {
      const x = subRng.next();
      let filters: Filter[];
      if (x < 0.5) {
        const k = subRng.int(nTopics);
        filters = [{ filter: topicName(k), topics: [k] }];
      } else if (x < 0.7) {
        const k1 = subRng.int(nTopics);
        const k2 = (k1 + 1 + subRng.int(nTopics - 1)) % nTopics;
        filters = [
          { filter: topicName(k1), topics: [k1] },
          { filter: topicName(k2), topics: [k2] },
        ];
      } else if (x < 0.85) {
        const g = subRng.int(nGroups);
        filters = [{ filter: `d${g}/+`, topics: Array.from({ length: nTopics }, (_, k) => k).filter((k) => k % nGroups === g) }];
      } else {
        const k = subRng.int(nTopics);
        filters = [{ filter: `+/${k}`, topics: [k] }]; // the wildcard shard
      }
      const version: Version = subRng.chance(0.5) ? 5 : 4;
      const transport = pickTransport(subRng);
      countClient(transport, version);
      const props: Record<string, number> = version === 5 ? { ...(subRng.chance(0.5) ? { topicAliasMaximum: 8 } : {}), ...(subRng.chance(0.3) ? { receiveMaximum: 10 } : {}) } : {};
      const sub: Checked = { d: undefined as unknown as DurableClient, filters, counts: [], last: new Map() };
      sub.d = new DurableClient(ctx, `sub-${i}`, version, transport, props, (topic, payload, packet) => onData(sub, topic, payload, packet));
      sub.d.filters = filters.map((f) => ({ filter: f.filter, qos: 2 }));
      for (const f of filters) for (const t of f.topics) topicSubs[t]!.push(i);
      checked.push(sub);
      durables.push(sub.d);
    }

    // ---- the will subscriber ----
    interface WillState {
      state: "connecting" | "live" | "graceful" | "killed" | "takenover" | "lost" | "failed";
      received: number;
      /** How the connection was made, for the report. */
      how: string;
      /** When its connection ended, ms since the start of publishing. */
      endedAt?: number;
      receivedAt?: number;
    }
    const wills = new Map<string, WillState>();
    const willRng = new Prng(caseSeed(seed, 2));
    const willVersion: Version = willRng.chance(0.5) ? 5 : 4;
    const willTransport = pickTransport(willRng);
    countClient(willTransport, willVersion);
    const willSub = new DurableClient(ctx, "wills", willVersion, willTransport, {}, (topic, payload, packet) => {
      const text = payload.toString();
      if (!topic.startsWith("will/") || !text.startsWith("w|") || packet.retain) return;
      const w = wills.get(text.slice(2));
      if (!w) {
        problem(ctx, `a will nobody registered: ${text}`);
        return;
      }
      w.received++;
      note(topic.slice(5), `will ${text.slice(2)} received`);
      w.receivedAt ??= Date.now() - runStart;
      if (w.received > 1) report.wills.duplicated++;
    });
    willSub.filters = [{ filter: "will/#", qos: 1 }];
    durables.push(willSub);

    // ---- publishers ----
    const pubRng = new Prng(caseSeed(seed, 3));
    for (let i = 0; i < nPub; i++) {
      const version: Version = pubRng.chance(0.5) ? 5 : 4;
      const transport = pickTransport(pubRng);
      countClient(transport, version);
      const d = new DurableClient(ctx, `pub-${i}`, version, transport, {}, () => undefined);
      const pub = { d, seq: 0, topic: [] as number[], qos: [] as number[], state: [] as number[], pending: 0, resentAfterCompletion: new Set<number>() };
      d.onResentAfterCompletion = (seq) => {
        pub.resentAfterCompletion.add(seq);
        problem(ctx, `${d.id}: mqtt.js sent #${seq} again after its QoS 2 flow completed (PUBCOMP received)`);
      };
      pubs.push(pub);
      durables.push(d);
    }

    // Connect them all, a few at a time.
    for (let i = 0; i < durables.length; i += 16) await Promise.all(durables.slice(i, i + 16).map((d) => d.open()));
    log(`${durables.length} persistent clients connected and subscribed in ${((Date.now() - started) / 1000).toFixed(1)} s`);

    // ---- sampling memory and storage ----
    const shardKeys = [...Array.from({ length: nGroups }, (_, g) => `t/d${g}`), "t/ret", "t/will", "t/chat", "%23"];
    const sample = async () => {
      const disk = diskBytes(persistDir);
      const s: Sample = { at: (Date.now() - runStart) / 1000, rss: workerdRss(), db: disk.db, wal: disk.wal, held: null, connected: null, sessions: null, subscriptions: null, retained: null };
      const [ov, held] = await Promise.all([overview(broker!.url), heldMessages(broker!.url, shardKeys)]);
      s.held = held;
      if (ov) {
        s.connected = ov.clients.connected;
        s.sessions = ov.clients.sessions;
        s.subscriptions = ov.subscriptions;
        s.retained = ov.retained;
        report.dropped = ov.messages.dropped;
      }
      report.samples.push(s);
      return s;
    };

    // ---- publishing ----
    runStart = Date.now();
    const runEnd = runStart + runMs;
    const PAYLOAD_PAD = "x".repeat(8192);
    const qosRng = new Prng(caseSeed(seed, 4));
    const MAX_IN_FLIGHT = 40;
    let issued = 0;
    const publishOne = (): boolean => {
      // Connected (CONNACK), even while mqtt.js still resends what was in flight: it queues new ones behind.
      const online = pubs.filter((p) => p.d.online && p.d.client?.connected);
      const ready = online.filter((p) => p.pending < MAX_IN_FLIGHT);
      if (ready.length === 0) {
        if (online.length === 0) report.skipped.offline++;
        else report.skipped.inFlight++;
        return false;
      }
      const p = qosRng.pick(ready);
      const pi = pubs.indexOf(p);
      const x = qosRng.next();
      const qos: Qos = x < 0.3 ? 0 : x < 0.65 ? 1 : 2;
      const t = qosRng.int(nTopics);
      const seq = p.seq++;
      p.topic[seq] = t;
      p.qos[seq] = qos;
      p.state[seq] = PENDING;
      const pad = qosRng.chance(0.01) ? qosRng.range(2000, 8000) : qosRng.int(200);
      const payload = `m|${pi}|${seq}|${qos}|${t}|${PAYLOAD_PAD.slice(0, pad)}`;
      report.qos[qos].sent++;
      if (qos > 0) p.pending++;
      const sentAt = Date.now();
      p.d.client!.publish(topicName(t), payload, { qos }, (err) => {
        if (qos > 0) p.pending--;
        if (err) p.state[seq] = FAILED;
        else {
          p.state[seq] = ACKED;
          if (qos > 0) {
            report.qos[qos].acked++;
            ackTimes[qos as 1 | 2].push(Date.now() - sentAt);
          }
        }
      });
      return true;
    };
    const publishing = new Promise<void>((resolve) => {
      const tick = setInterval(() => {
        const now = Date.now();
        if (now >= runEnd || ctx.stopping) {
          clearInterval(tick);
          resolve();
          return;
        }
        const due = Math.floor(((now - runStart) / 1000) * rate) - issued;
        const n = Math.min(due, Math.ceil(rate / 10));
        for (let i = 0; i < n; i++) {
          issued++;
          publishOne();
        }
        if (due > n) {
          report.skipped.late += due - n; // behind by more than 100 ms: dropped from the schedule
          issued += due - n;
        }
      }, 20);
      timers.push(tick);
    });

    // ---- disruptions of the persistent clients ----
    const disruptions = durables.map(async (d, i) => {
      const r = new Prng(caseSeed(seed, 100 + i));
      const isPub = d.id.startsWith("pub-");
      while (!ctx.stopping) {
        const wait = r.range(disruptEvery[0] * 1000, disruptEvery[1] * 1000) * (isPub ? 1.5 : 1);
        const until = Date.now() + wait;
        while (!ctx.stopping && Date.now() < until) await sleep(Math.min(250, until - Date.now()));
        if (ctx.stopping) break;
        const x = r.next();
        if (isPub || x < 0.4) await d.bounce(r.range(100, 2000));
        else if (x < 0.75) await d.offline(r.range(1000, 6000));
        else if (x < 0.9) await d.takeover();
        else await d.kill(r.range(500, 4000));
      }
    });

    // ---- retained updates ----
    interface RetainedOp {
      k: number;
      v: number;
      del: boolean;
      qos: Qos;
      /** The churn client that published it. */
      by: string;
      issuedAt: number;
      settledAt?: number;
      state: "pending" | "acked" | "failed" | "qos0";
    }
    const describeOp = (op: RetainedOp) =>
      `#${op.v}${op.del ? " (deletion)" : ""} QoS ${op.qos} by ${op.by}, ${op.state} (issued at ${((op.issuedAt - runStart) / 1000).toFixed(2)} s${op.settledAt ? `, settled at ${((op.settledAt - runStart) / 1000).toFixed(2)} s` : ""})`;
    /**
     * What a subscription may find: the last acknowledged state (stored before its PUBACK, and any
     * later update was published after that), or any update whose fate the publisher never learnt
     * (its client died, or QoS 0), which may land late: updates from different clients are not
     * ordered with each other. An acknowledged update older than the last one is a violation.
     */
    const retainedAcceptable = (k: number, lastAcked: { v: number; del: boolean }, have: number): boolean => {
      const ops = retained[k]!.ops;
      if (have < 0) return lastAcked.del || ops.some((op) => op.del && op.state !== "acked");
      if (have === lastAcked.v && !lastAcked.del) return true;
      const op = ops.find((o) => o.v === have);
      return !!op && !op.del && op.state !== "acked";
    };
    const retained = Array.from({ length: nRetained }, () => ({ version: 0, busy: false, quarantine: 0, lastAcked: { v: 0, del: true, at: 0 }, ops: [] as RetainedOp[] }));
    const retainedUpdate = (client: MqttClient, by: string, r: Prng, pending: Set<RetainedOp>) => {
      const now = Date.now();
      const free = retained.map((s, k) => (!s.busy && s.quarantine < now ? k : -1)).filter((k) => k >= 0);
      if (free.length === 0) return;
      const k = r.pick(free);
      const s = retained[k]!;
      const qos = r.pick([0, 1, 1, 2] as const);
      const op: RetainedOp = { k, v: ++s.version, del: r.chance(0.1), qos, by, issuedAt: Date.now(), state: "pending" };
      s.ops.push(op);
      s.busy = true;
      pending.add(op);
      report.retained.updates++;
      const settle = (state: RetainedOp["state"]) => {
        if (op.state !== "pending") return;
        op.state = state;
        op.settledAt = Date.now();
        pending.delete(op);
        s.busy = false;
        if (state === "acked") {
          report.retained.acked++;
          if (op.v > s.lastAcked.v) s.lastAcked = { v: op.v, del: op.del, at: Date.now() };
        } else if (state === "failed") {
          report.retained.failed++;
          // It may still land: no update of this topic for a while, so it cannot overtake a later one.
          s.quarantine = Date.now() + 5000;
        }
      };
      client.publish(retainedTopic(k), op.del ? "" : `r|${k}|${op.v}|${PAYLOAD_PAD.slice(0, r.int(100))}`, { qos, retain: true }, (err) => settle(err ? "failed" : qos === 0 ? "qos0" : "acked"));
      if (qos === 0) s.quarantine = Date.now() + 1000;
    };
    /** What a subscription must find now: per topic, the last acknowledged state. */
    const retainedSnapshot = () => retained.map((s) => ({ ...s.lastAcked }));
    const parseRetained = (topic: string, payload: Buffer): { k: number; v: number } | null => {
      const m = /^ret\/x\/(\d+)$/.exec(topic);
      const p = /^r\|(\d+)\|(\d+)\|/.exec(payload.toString("latin1", 0, 40));
      if (!m || !p || p[1] !== m[1]) return null;
      return { k: Number(m[1]), v: Number(p[2]) };
    };
    /** Subscribes to every retained topic with a fresh client and returns what it got. */
    let probeNo = 0;
    const probeRetained = async (filter: string, waitMs: number): Promise<Map<number, number[]> | null> => {
      const id = `probe-${probeNo++}`;
      let client: MqttClient | undefined;
      try {
        client = await mqtt.connectAsync(broker!.mqttUrl, { clientId: id, clean: true, reconnectPeriod: 0, connectTimeout: 10_000, protocolVersion: 4 });
        const got = new Map<number, number[]>();
        client.on("message", (topic, payload, packet) => {
          if (!packet.retain) return;
          const r = parseRetained(topic, payload);
          if (r) got.set(r.k, [...(got.get(r.k) ?? []), r.v]);
          else problem(ctx, `probe: a retained message that is no update: ${topic} ${payload.toString("latin1", 0, 40)}`);
        });
        await client.subscribeAsync(filter, { qos: 1 });
        await sleep(waitMs);
        return got;
      } catch (e) {
        problem(ctx, `probe ${id}: ${e instanceof Error ? e.message : String(e)}`);
        return null;
      } finally {
        if (client) await endClient(client, false, 2000);
      }
    };
    const probes = (async () => {
      const r = new Prng(caseSeed(seed, 5));
      const every = Math.max(4000, Math.min(15_000, runMs / 8));
      while (!ctx.stopping) {
        const until = Date.now() + every;
        while (!ctx.stopping && Date.now() < until) await sleep(250);
        if (ctx.stopping) break;
        const snap = retainedSnapshot();
        const probeFilter = r.chance(0.5) ? "ret/x/+" : "+/x/+";
        const subscribedAt = Date.now();
        const got = await probeRetained(probeFilter, 1500);
        if (!got) continue;
        report.retained.probes++;
        snap.forEach((want, k) => {
          const versions = got.get(k) ?? [];
          const newest = versions.length ? Math.max(...versions) : -1;
          // Anything published since the snapshot may have landed before the SUBSCRIBE too.
          const since = retained[k]!.ops.filter((op) => op.v > want.v);
          const ok = retainedAcceptable(k, want, newest) || (newest < 0 ? since.some((op) => op.del) : since.some((op) => op.v === newest && !op.del));
          if (!ok) {
            report.retained.stale++;
            const held = retained[k]!.ops.find((op) => op.v === newest);
            example(
              `stale retained: ${probeFilter} gave ${held ? describeOp(held) : "nothing"} for ${retainedTopic(k)}, ${subscribedAt - want.at} ms after ${want.del ? "the deletion" : "the update"} #${want.v} was acknowledged`,
            );
          }
        });
      }
    })();

    // ---- churn ----
    interface ChurnConn {
      client: MqttClient;
      id: string;
      slot: number;
      token?: string;
      openedAt: number;
      online: boolean;
      closed: boolean;
      ending: boolean;
      takenOver: boolean;
      /** mqtt.js wrote a packet after its DISCONNECT (and so aborted the socket). */
      aborted: boolean;
      subs: string[];
      pending: Set<RetainedOp>;
    }
    const live = new Map<string, ChurnConn>();
    const cooldown = new Map<string, number>();
    const takeoverTimes = new Map<string, number[]>();
    let willNo = 0;
    /** A fifth of the ids have retained wills: a bounded set of retained topics, soon all in use. */
    const retainedWill = (id: string) => Number(id.slice(3)) % 5 === 0;
    const churnLoop = async (slot: number) => {
      const r = new Prng(caseSeed(seed, 1000 + slot));
      let lastId: string | undefined;
      const isFree = (id: string) => !live.has(id) && (cooldown.get(id) ?? 0) < Date.now();
      await sleep(r.int(2000));
      while (!ctx.stopping) {
        const now = Date.now();
        let id: string | undefined;
        let victim: ChurnConn | undefined;
        if (r.chance(0.2)) {
          const candidates = [...live.values()].filter(
            (c) => c.slot !== slot && c.online && !c.ending && !c.closed && !c.takenOver && now - c.openedAt > 1000 && (takeoverTimes.get(c.id) ?? []).filter((t) => t > now - 60_000).length < 6,
          );
          if (candidates.length > 0) {
            victim = r.pick(candidates);
            id = victim.id;
          }
        }
        if (!id && lastId && r.chance(0.4) && isFree(lastId)) {
          id = lastId;
          report.churn.reconnects++;
        }
        for (let tries = 0; !id && tries < 10; tries++) {
          const c = r.pick(churnIds);
          if (isFree(c)) id = c;
        }
        if (!id) {
          await sleep(200);
          continue;
        }
        const version: Version = r.chance(0.5) ? 5 : 4;
        const transport = pickTransport(r);
        const clean = r.chance(0.7);
        const hasWill = r.chance(0.6);
        const willDelay = version === 5 && r.chance(0.15) ? 1 : 0;
        const token = hasWill ? `${id}#${++willNo}` : undefined;
        const opts: IClientOptions = {
          clientId: id,
          protocolVersion: version,
          clean,
          reconnectPeriod: 0,
          connectTimeout: 10_000,
          keepalive: 30,
          resubscribe: false,
          ...(version === 5 ? { properties: { sessionExpiryInterval: clean ? 0 : 20 } } : {}),
          ...(token
            ? { will: { topic: `will/${id}`, payload: Buffer.from(`w|${token}`), qos: 1 as const, retain: retainedWill(id), ...(willDelay ? { properties: { willDelayInterval: willDelay } } : {}) } }
            : {}),
        };
        note(id, `slot ${slot} connects${token ? ` with will ${token}` : ""} (${transport}, v${version}, ${clean ? "clean" : "persistent"}${victim ? ", takeover" : ""})`);
        const client = mqtt.connect(urlFor(ctx, transport, id), opts);
        churnClients.add(client);
        client.on("error", () => undefined);
        const conn: ChurnConn = {
          client,
          id,
          slot,
          ...(token ? { token } : {}),
          openedAt: Date.now(),
          online: false,
          closed: false,
          ending: false,
          takenOver: false,
          aborted: false,
          subs: [],
          pending: new Set(),
        };
        if (victim) {
          victim.takenOver = true;
          (takeoverTimes.get(id) ?? takeoverTimes.set(id, []).get(id)!).push(now);
        }
        live.set(id, conn);
        if (token)
          wills.set(token, {
            state: "connecting",
            received: 0,
            how: `${transport}, v${version}, ${clean ? "clean" : "persistent"}${willDelay ? `, will delay ${willDelay} s` : ""}${victim ? ", taking over" : ""}`,
          });
        // mqtt.js (5.16) acknowledges QoS 1/2 messages that arrive after its DISCONNECT (which
        // [MQTT-3.14.4-2] forbids) and then aborts its socket (a write after end): the broker may
        // never read the DISCONNECT, and then rightly publishes the will. Such ends are not graceful.
        let disconnectSent = false;
        client.on("packetsend", (p) => {
          if (disconnectSent && p.cmd !== "disconnect" && !conn.aborted) {
            conn.aborted = true;
            note(id, `slot ${slot}: ${p.cmd} sent after DISCONNECT`);
          }
          if (p.cmd === "disconnect") disconnectSent = true;
          if (p.cmd === "disconnect" || p.cmd === "subscribe" || p.cmd === "unsubscribe") note(id, `slot ${slot}: ${p.cmd} sent`);
        });
        client.on("packetreceive", (p) => {
          if (p.cmd === "suback" || p.cmd === "unsuback" || p.cmd === "disconnect") note(id, `slot ${slot}: ${p.cmd} received`);
        });
        client.on("close", () => {
          note(id, `slot ${slot}: closed${conn.ending ? "" : " (not by us)"}`);
          conn.closed = true;
          conn.online = false;
          for (const op of conn.pending) {
            // What was in flight may or may not have landed.
            if (op.state === "pending") {
              op.state = "failed";
              op.settledAt = Date.now();
              report.retained.failed++;
              const s = retained[op.k]!;
              s.busy = false;
              s.quarantine = Date.now() + 5000;
            }
          }
          conn.pending.clear();
        });
        report.churn.connections++;
        if (transport === "tcp") report.churn.gateway++;
        else report.churn.websocket++;
        if (version === 5) report.churn.v5++;
        try {
          await whenConnected(client);
          conn.online = true;
          conn.openedAt = Date.now();
          note(id, `slot ${slot}: CONNACK${transport === "tcp" ? ` (gateway, port ${(client.stream as unknown as { localPort?: number }).localPort})` : ""}`);
          if (victim) report.churn.takeovers++;
          if (token) wills.get(token)!.state = "live";
        } catch (e) {
          // A takeover beyond MAX_TAKEOVERS_PER_MINUTE: CONNACK 0x9F (MQTT 5) or 3 (3.1.1).
          const code = (e as { code?: number }).code;
          const refused = code === 0x9f || (version === 4 && code === 3);
          if (victim && refused) report.churn.takeoversRefused++;
          else report.churn.connectFailures++;
          if (victim) victim.takenOver = false;
          if (token) wills.get(token)!.state = "failed";
          if (live.get(id) === conn) {
            if (victim && !victim.closed) live.set(id, victim);
            else live.delete(id);
          }
          if (!refused) problem(ctx, `churn ${id} (${transport}, v${version}): ${e instanceof Error ? e.message : String(e)}`);
          await endClient(client, true, 2000);
          churnClients.delete(client);
          await sleep(500);
          continue;
        }
        lastId = id;

        // A life of some seconds: subscriptions, unsubscriptions, retained updates, chatter.
        const until = Date.now() + r.range(lifetime[0], lifetime[1]);
        while (!ctx.stopping && !conn.closed && Date.now() < until) {
          await sleep(r.range(150, 1200));
          if (conn.closed || ctx.stopping) break;
          const x = r.next();
          if (x < 0.3 && conn.subs.length < 4) {
            const y = r.next();
            const k = r.int(nTopics);
            const filter = y < 0.5 ? (r.chance(0.5) ? "ret/x/+" : retainedTopic(r.int(nRetained))) : y < 0.8 && clean ? topicName(k) : y < 0.9 ? "$SYS/broker/clients/+" : `chat/c${r.int(10)}`;
            const qos = filter.startsWith("d") ? r.pick([0, 1] as const) : r.pick([0, 1, 2] as const);
            report.churn.subscribes++;
            conn.subs.push(filter);
            client.subscribe(filter, { qos }, () => undefined);
          } else if (x < 0.45 && conn.subs.length > 0) {
            const filter = conn.subs.splice(r.int(conn.subs.length), 1)[0]!;
            report.churn.unsubscribes++;
            client.unsubscribe(filter, () => undefined);
          } else if (x < 0.8) {
            retainedUpdate(client, id, r, conn.pending);
          } else {
            client.publish(`chat/c${r.int(10)}`, `c|${id}`, { qos: r.pick([0, 1] as const) }, () => undefined);
          }
        }

        // The end: taken over, gracefully, or killed so that the will fires.
        const w = token ? wills.get(token) : undefined;
        if (conn.takenOver) {
          if (w) w.state = "takenover";
          await whenClosed(client, 5000);
          await endClient(client, true, 2000);
        } else if (conn.closed) {
          if (w) w.state = "lost";
          report.churn.unexpectedCloses++;
          problem(ctx, `churn ${id}: closed by the broker`);
          await endClient(client, true, 2000);
        } else if (ctx.stopping || r.chance(0.65)) {
          conn.ending = true;
          if (w) w.state = "graceful";
          report.churn.graceful++;
          if (w) w.endedAt = Date.now() - runStart;
          note(id, `slot ${slot}: graceful end, ${Object.keys((client as unknown as { outgoing: object }).outgoing).length} outgoing`);
          if (!(await endClient(client, false, 5000))) {
            if (w) w.state = "lost";
            problem(ctx, `churn ${id}: a graceful end took more than 5 s (forced)`);
          } else if (conn.aborted) {
            report.churn.abortedEnds++;
            if (w) w.state = "lost";
          }
        } else {
          conn.ending = true;
          if (w) w.state = "killed";
          report.churn.killed++;
          if (willDelay) cooldown.set(id, Date.now() + (willDelay + 1) * 1000);
          note(id, `slot ${slot}: kill`);
          killSocket(client);
          await whenClosed(client, 5000);
          await endClient(client, true, 2000);
        }
        churnClients.delete(client);
        if (live.get(id) === conn) live.delete(id);
        await sleep(r.int(800));
      }
    };
    const churn = Array.from({ length: nChurn }, (_, slot) => churnLoop(slot));

    // ---- progress and samples ----
    await sample();
    const sampler = setInterval(() => void sample().catch(() => undefined), sampleMs);
    timers.push(sampler);
    const progressEvery = runMs > 120_000 ? 30_000 : 10_000;
    const progress = setInterval(() => {
      const s = report.samples[report.samples.length - 1];
      log(
        `${((Date.now() - runStart) / 1000).toFixed(0)} s: sent ${report.qos[0].sent}/${report.qos[1].sent}/${report.qos[2].sent} (QoS 0/1/2), acked ${report.qos[1].acked}/${report.qos[2].acked}, delivered ${report.qos[0].delivered}/${report.qos[1].delivered}/${report.qos[2].delivered}; churn ${report.churn.connections} connections, ${report.churn.takeovers} takeovers; ${wills.size} wills registered` +
          (s
            ? `; workerd ${(s.rss / MiB).toFixed(0)} MiB, ${s.sessions ?? "?"} sessions, ${s.subscriptions ?? "?"} subscriptions, ${s.retained ?? "?"} retained, ${s.held ?? "?"} messages held, database ${(s.db / MiB).toFixed(1)} MiB (+ WAL ${(s.wal / MiB).toFixed(0)} MiB)`
            : ""),
      );
    }, progressEvery);
    timers.push(progress);

    await publishing;
    report.seconds = (Date.now() - runStart) / 1000;
    ctx.stopping = true;
    clearInterval(progress);
    log(`publishing stopped after ${report.seconds.toFixed(1)} s; stopping churn and disruptions`);
    await Promise.race([Promise.all([...churn, ...disruptions, probes]), sleep(20_000)]);

    // ---- drain ----
    const drainStart = Date.now();
    for (const d of durables) if (!d.online) void d.recover();
    const missing = () => {
      let n = 0;
      pubs.forEach((p, pi) => {
        for (let seq = 0; seq < p.seq; seq++) {
          if (p.qos[seq] === 0 || p.state[seq] !== ACKED) continue;
          for (const si of topicSubs[p.topic[seq]!]!) if ((checked[si]!.counts[pi]?.get(seq) ?? 0) === 0) n++;
        }
      });
      for (const w of wills.values()) if (w.state === "killed" && w.received === 0) n++;
      return n;
    };
    for (;;) {
      const inFlight = pubs.reduce((n, p) => n + p.pending, 0);
      const m = missing();
      if ((m === 0 && inFlight === 0) || Date.now() - drainStart > drainMs) {
        if (m > 0 || inFlight > 0) log(`drain: gave up after ${drainMs / 1000} s with ${m} copies missing and ${inFlight} publishes unacknowledged`);
        break;
      }
      await sleep(250);
    }
    report.drainSeconds = (Date.now() - drainStart) / 1000;
    await sleep(1000); // late wills, late duplicates

    // ---- the final retained state ----
    for (const [filter, label] of [
      ["ret/x/+", "topic shard"],
      ["+/x/+", "wildcard shard"],
    ] as const) {
      const got = await probeRetained(filter, 2000);
      if (!got) continue;
      report.retained.finalTopics = got.size;
      retained.forEach((s, k) => {
        const versions = got.get(k) ?? [];
        const have = versions.length ? Math.max(...versions) : -1;
        if (!retainedAcceptable(k, s.lastAcked, have) || versions.length > 1) {
          report.retained.finalWrong++;
          const held = s.ops.find((op) => op.v === have);
          const last = s.ops.find((op) => op.v === s.lastAcked.v);
          if (report.retained.finalWrongExamples.length < 6)
            report.retained.finalWrongExamples.push(
              `${retainedTopic(k)} (${label}): holds ${held ? describeOp(held) : "nothing"}${versions.length > 1 ? ` (${versions.length} copies)` : ""}; the last acknowledged is ${last ? describeOp(last) : "none"}`,
            );
        }
      });
    }
    await sample();
    if (TRACE) {
      const files: [string, number][] = [];
      const walk = (dir: string) => {
        for (const e of readdirSync(dir, { withFileTypes: true })) {
          const path = join(dir, e.name);
          if (e.isDirectory()) walk(path);
          else files.push([path.slice(persistDir.length + 1), statSync(path).size]);
        }
      };
      walk(persistDir);
      files.sort((a, b) => b[1] - a[1]);
      console.log(
        `state on disk: ${files.length} files; largest:\n  ${files
          .slice(0, 12)
          .map(([f, n]) => `${(n / MiB).toFixed(1)} MiB ${f}`)
          .join("\n  ")}`,
      );
    }

    // ---- accounting ----
    pubs.forEach((p, pi) => {
      for (let seq = 0; seq < p.seq; seq++) {
        const q = p.qos[seq] as Qos;
        const t = p.topic[seq]!;
        const acked = p.state[seq] === ACKED;
        for (const si of topicSubs[t]!) {
          const n = checked[si]!.counts[pi]?.get(seq) ?? 0;
          if (q === 0) continue;
          if (acked) {
            report.qos[q].expected++;
            if (n === 0) {
              report.qos[q].lost++;
              example(`lost: pub-${pi} #${seq} (QoS ${q}, ${topicName(t)}) never reached ${checked[si]!.d.id}`);
            }
          } else if (n > 0) report.qos[q].deliveredUnacked++;
        }
      }
    });
    report.qos[0].expected = 0;
    for (const d of dupEvents) {
      const all = history.get(`pub-${d.p}`) ?? [];
      const ids = new Set(all.filter((l) => l.includes(`m|${d.p}|${d.seq}|`)).map((l) => / id (\d+) /.exec(l)?.[1]));
      const lines = all.filter((l) => !/PUBLISH|PUBREL|PUBREC|PUBCOMP|PUBACK/.test(l) || [...ids].some((id) => l.includes(` id ${id} `) || l.endsWith(` id ${id}`)));
      console.log(`QoS 2 duplicate of pub-${d.p} #${d.seq}, second copy at ${d.at.toFixed(3)} s; the publisher's history around it:\n  ${lines.join("\n  ")}`);
    }
    report.wills.registered = wills.size;
    for (const [token, w] of wills) {
      if (w.received > 0) report.wills.received++;
      if (w.state === "killed") {
        report.wills.expected++;
        if (w.received === 0) {
          report.wills.lost++;
          example(`will lost: ${token} (socket destroyed)`);
        }
      } else if (w.state === "takenover") {
        report.wills.takenOver++;
        if (w.received > 0) report.wills.takenOverReceived++;
      } else if ((w.state === "graceful" || w.state === "live") && w.received > 0) {
        report.wills.unexpected++;
        example(`will published after a graceful DISCONNECT: ${token} (${w.how}; ended at ${((w.endedAt ?? 0) / 1000).toFixed(2)} s, will at ${((w.receivedAt ?? 0) / 1000).toFixed(2)} s)`);
        if (TRACE) {
          const h = history.get(token.split("#")[0]!) ?? [];
          const ports = new Set(h.map((l) => / port (\d+)\)/.exec(l)?.[1]).filter((x) => x));
          const gw = (gateway?.logs ?? []).filter((l) => [...ports].some((port) => l.includes(`:${port} `)));
          console.log(`history of ${token}:\n  ${h.join("\n  ")}${gw.length ? `\n  gateway:\n  ${gw.join("\n  ")}` : ""}`);
        }
      }
    }
  } finally {
    for (const t of timers) clearInterval(t);
    const closing = async () => {
      if (ctxRef) ctxRef.closing = true;
      await Promise.all([...durables.map((d) => d.stop()), ...[...churnClients].map((c) => endClient(c, true, 2000))]);
    };
    await Promise.race([closing(), sleep(15_000)]);
    await gateway?.stop().catch((e: unknown) => report.gatewayErrors.push(`gateway stop: ${String(e)}`));
    for (const line of gateway?.logs ?? []) if (/uncaught|TypeError|RangeError|ReferenceError/i.test(line)) report.gatewayErrors.push(line);
    await broker?.stop().catch(() => undefined);
    brokerLog?.end();
    rmSync(persistDir, { recursive: true, force: true });
    process.off("uncaughtException", onProcessError);
    process.off("unhandledRejection", onProcessError);
  }

  for (const q of [1, 2] as const) {
    const xs = ackTimesRef[q].sort((a, b) => a - b);
    const at = (f: number) => xs[Math.min(xs.length - 1, Math.floor(f * xs.length))] ?? 0;
    report.ackMs[q] = { p50: at(0.5), p99: at(0.99), max: xs[xs.length - 1] ?? 0 };
  }

  // ---- trends and the verdict ----
  const during = report.samples.filter((s) => s.at <= report.seconds + 0.5);
  const tol = options.rssToleranceMiB ?? 64;
  report.trends = [
    trend(
      "workerd RSS",
      during.map((s) => [s.at, s.rss]),
      (base) => Math.max(tol * MiB, base * 0.15),
    ),
    trend(
      "database",
      during.map((s) => [s.at, s.db]),
      (base) => Math.max(16 * MiB, base * 0.25),
    ),
    trend(
      "held messages",
      during.filter((s) => s.held !== null).map((s) => [s.at, s.held!]),
      (base) => Math.max(500, base * 0.5),
    ),
    trend(
      "write-ahead logs",
      during.map((s) => [s.at, s.wal]),
      () => Infinity,
    ),
    trend(
      "sessions",
      during.filter((s) => s.sessions !== null).map((s) => [s.at, s.sessions!]),
      (base) => Math.max(5, base * 0.1),
    ),
    trend(
      "subscriptions",
      during.filter((s) => s.subscriptions !== null).map((s) => [s.at, s.subscriptions!]),
      (base) => Math.max(10, base * 0.1),
    ),
    trend(
      "retained",
      during.filter((s) => s.retained !== null).map((s) => [s.at, s.retained!]),
      (base) => Math.max(5, base * 0.1),
    ),
  ];
  const f = report.failures;
  if (report.qos[1].lost + report.qos[2].lost > 0) f.push(`lost: ${report.qos[1].lost} QoS 1 and ${report.qos[2].lost} QoS 2 copies`);
  if (report.qos[2].duplicated > 0) f.push(`${report.qos[2].duplicated} QoS 2 duplicates delivered to the application`);
  if (report.wills.lost > 0) f.push(`${report.wills.lost} wills of killed clients never arrived`);
  if (report.wills.unexpected > 0) f.push(`${report.wills.unexpected} wills published after a graceful DISCONNECT`);
  if (report.outOfOrder > 0) f.push(`${report.outOfOrder} deliveries out of order`);
  if (report.misrouted > 0) f.push(`${report.misrouted} deliveries on a topic or to a client they did not belong to`);
  if (report.retained.finalWrong > 0) f.push(`${report.retained.finalWrong} retained topics not holding their last acknowledged update`);
  if (report.durable.sessionsLost > 0) f.push(`${report.durable.sessionsLost} persistent sessions lost`);
  if (options.failOnGrowth) for (const t of report.trends) if (t.flagged) f.push(`${t.name} grew by ${fmtValue(t.name, t.growth)} over the second half (tolerance ${fmtValue(t.name, t.tolerance)})`);
  report.ok = f.length === 0;
  return report;
}

// ---- memory and storage ----

/** Resident memory of the workerd processes among this process's descendants. */
export function workerdRss(): number {
  let total = 0;
  for (const pid of descendants([process.pid])) {
    if (pid === process.pid) continue;
    try {
      if (readFileSync(`/proc/${pid}/comm`, "utf8").trim() !== "workerd") continue;
      total += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) * 1024;
    } catch {
      // gone
    }
  }
  return total;
}

/** The Durable Objects' state on disk: databases, and their write-ahead logs apart. */
function diskBytes(dir: string, into = { db: 0, wal: 0 }): { db: number; wal: number } {
  try {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) diskBytes(path, into);
      else if (entry.isFile()) {
        if (/-(wal|shm)$/.test(entry.name)) into.wal += statSync(path).size;
        else into.db += statSync(path).size;
      }
    }
  } catch {
    // a file went away while we looked
  }
  return into;
}

/**
 * QoS 1/2 messages held: pending in the topic shards' logs (`/stats/shards`) plus queued in the
 * sessions (the operator API's client list, which counts queues by order of magnitude).
 */
async function heldMessages(url: string, shardKeys: string[]): Promise<number | null> {
  try {
    const shards = await Promise.all(
      shardKeys.map(async (key) => {
        const res = await fetch(`${url}/stats/shards/${key}`, { headers: { Authorization: `Bearer ${STATS_TOKEN}` }, signal: AbortSignal.timeout(5000) });
        return res.ok ? Number(((await res.json()) as { pendingDurable?: number }).pendingDurable ?? 0) : 0;
      }),
    );
    let queued = 0;
    let after: string | undefined;
    for (let page = 0; page < 5; page++) {
      const res = await fetch(`${url}/api/clients?limit=1000${after !== undefined ? `&after=${encodeURIComponent(after)}` : ""}`, {
        headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
        signal: AbortSignal.timeout(5000),
      });
      if (!res.ok) return null;
      const list = (await res.json()) as ClientList;
      for (const c of list.clients) queued += c.queued;
      if (!list.next) break;
      after = list.next;
    }
    return shards.reduce((a, b) => a + b, 0) + queued;
  } catch {
    return null;
  }
}

async function overview(url: string): Promise<Overview | null> {
  try {
    const res = await fetch(`${url}/api/overview`, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` }, signal: AbortSignal.timeout(5000) });
    return res.ok ? ((await res.json()) as Overview) : null;
  } catch {
    return null;
  }
}

function trend(name: string, points: [number, number][], tolerance: (base: number) => number): Trend {
  const values = points.map((p) => p[1]);
  const first = values[0] ?? 0;
  const last = values[values.length - 1] ?? 0;
  const max = values.length ? Math.max(...values) : 0;
  const end = points.length ? points[points.length - 1]![0] : 0;
  const half = points.filter((p) => p[0] >= end / 2).map((p) => p[1]);
  const third = Math.max(1, Math.floor(half.length / 3));
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
  const base = mean(half.slice(0, third));
  const growth = half.length >= 3 ? mean(half.slice(-third)) - base : 0;
  const tol = tolerance(base);
  return { name, first, max, last, growth, tolerance: tol, flagged: growth > tol };
}

function fmtValue(name: string, v: number): string {
  if (!Number.isFinite(v)) return "none: only reported";
  return name === "workerd RSS" || name === "database" || name === "write-ahead logs" ? `${(v / MiB).toFixed(1)} MiB` : v.toFixed(0);
}

// ---- the report ----

/** One line with the figures that matter. */
export function summaryLine(r: SoakReport): string {
  const q = (n: Qos) => `QoS ${n} ${r.qos[n].sent}/${n === 0 ? "-" : r.qos[n].acked}/${r.qos[n].delivered}/${r.qos[n].duplicated}/${n === 0 ? "-" : r.qos[n].lost}`;
  const rss = r.trends.find((t) => t.name === "workerd RSS");
  return (
    `soak: ${r.clients.total} clients, ${r.seconds.toFixed(0)} s, seed ${r.seed}; sent/acked/delivered/duplicated/lost ${q(0)}, ${q(1)}, ${q(2)}; ` +
    `wills ${r.wills.expected} expected/${r.wills.received} received/${r.wills.lost} lost; takeovers ${r.churn.takeovers + r.durable.takeovers}, reconnects ${r.churn.reconnects + r.durable.bounces + r.durable.offline + r.durable.kills}; ` +
    `RSS ${rss ? `${(rss.first / MiB).toFixed(0)}/${(rss.max / MiB).toFixed(0)}/${(rss.last / MiB).toFixed(0)} MiB first/max/last` : "?"}; ${r.ok ? "OK" : "FAILED"}`
  );
}

export function formatReport(r: SoakReport): string {
  const c = r.clients;
  const row = (n: Qos) => {
    const s = r.qos[n];
    return `  QoS ${n}: sent ${s.sent}, acknowledged ${n === 0 ? "-" : s.acked}, delivered ${s.delivered} copies${n === 0 ? "" : ` of ${s.expected} expected`}, duplicated ${s.duplicated}${s.duplicatedByClient ? ` (and ${s.duplicatedByClient} copies of messages mqtt.js published twice)` : ""}, lost ${n === 0 ? "- (may be shed)" : s.lost}${s.deliveredUnacked ? `, delivered though unacknowledged ${s.deliveredUnacked}` : ""}`;
  };
  const lines = [
    `soak: seed ${r.seed}, ${r.seconds.toFixed(1)} s of publishing at ${r.rate} msg/s, drain ${r.drainSeconds.toFixed(1)} s`,
    `  clients: ${c.total} (${c.publishers} publishers, ${c.checked} checked subscribers incl. the will subscriber, ${c.churn} churn); ${c.websocket} WebSocket, ${c.gateway} gateway; ${c.v5} MQTT 5`,
    row(0),
    row(1),
    row(2),
    `  acknowledgement times: QoS 1 p50 ${r.ackMs[1].p50} ms, p99 ${r.ackMs[1].p99} ms, max ${r.ackMs[1].max} ms; QoS 2 p50 ${r.ackMs[2].p50} ms, p99 ${r.ackMs[2].p99} ms, max ${r.ackMs[2].max} ms`,
    `  order: ${r.outOfOrder} out of order; misrouted ${r.misrouted}; QoS differing from the publisher's ${r.qosMismatch}; publishes not made: ${r.skipped.offline} with every publisher offline, ${r.skipped.inFlight} with every online one at ${"its in-flight cap"}, ${r.skipped.late} behind schedule`,
    `  wills: ${r.wills.registered} registered; killed ${r.wills.expected}: received ${r.wills.expected - r.wills.lost}, lost ${r.wills.lost}; taken over ${r.wills.takenOver}: received ${r.wills.takenOverReceived}; after a graceful DISCONNECT ${r.wills.unexpected}; duplicated ${r.wills.duplicated}`,
    `  churn: ${r.churn.connections} connections, ${r.churn.takeovers} takeovers (${r.churn.takeoversRefused} refused), ${r.churn.reconnects} reconnects with the same id, ${r.churn.killed} killed, ${r.churn.graceful} graceful (${r.churn.abortedEnds} of them aborted by mqtt.js after DISCONNECT), ${r.churn.subscribes} subscribes, ${r.churn.unsubscribes} unsubscribes, ${r.churn.connectFailures} failed connects, ${r.churn.unexpectedCloses} unexpected closes`,
    `  persistent clients: ${r.durable.bounces} bounced, ${r.durable.offline} offline a while, ${r.durable.kills} killed, ${r.durable.takeovers} taken over (${r.durable.takeoverNotClosed} old connections not closed); ${r.durable.unexpectedCloses} unexpected closes, ${r.durable.sessionsLost} sessions lost`,
    `  retained: ${r.retained.updates} updates (${r.retained.acked} acknowledged, ${r.retained.failed} unsettled), ${r.retained.probes} probes (${r.retained.stale} stale topics), final: ${r.retained.finalTopics} topics, ${r.retained.finalWrong} wrong`,
    ...r.retained.finalWrongExamples.map((e) => `    ${e}`),
    `  broker counters: dropped ${
      Object.entries(r.dropped)
        .map(([k, v]) => `${k} ${v}`)
        .join(", ") || "none"
    }`,
    ...r.trends.map(
      (t) =>
        `  ${t.name}: first ${fmtValue(t.name, t.first)}, max ${fmtValue(t.name, t.max)}, last ${fmtValue(t.name, t.last)}; second half ${t.growth >= 0 ? "+" : ""}${fmtValue(t.name, t.growth)} (tolerance ${fmtValue(t.name, t.tolerance)})${t.flagged ? " GROWING" : ""}`,
    ),
    `  workerd output: ${r.brokerLines.total} lines${r.brokerLines.total ? ", most frequent:" : ""}`,
    ...Object.entries(r.brokerLines.kinds)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 6)
      .map(([k, n]) => `    ${n} × ${k}`),
    `  workerd error lines: ${r.brokerErrors.count}`,
    ...r.brokerErrors.lines.slice(0, 5).map((l) => `    ${l}`),
    ...r.gatewayErrors.slice(0, 5).map((l) => `  gateway: ${l}`),
    ...(r.examples.length ? ["  examples:", ...r.examples.map((e) => `    ${e}`)] : []),
    ...(r.problems.length ? [`  notes (${r.problems.length}${r.problems.length >= 40 ? "+" : ""}):`, ...r.problems.slice(0, 10).map((p) => `    ${p}`)] : []),
    ...r.failures.map((x) => `  FAILURE: ${x}`),
    summaryLine(r),
  ];
  return lines.join("\n");
}
