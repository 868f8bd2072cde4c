/**
 * The network fuzzer: throws random, mutated and truncated MQTT packets at a broker running in
 * workerd (Miniflare, 127.0.0.1), over WebSocket (the Worker pipe and `?clientId=` straight to the
 * session object) and over TCP through the gateway, while canary clients (mqtt.js) subscribed at
 * QoS 1 must receive every QoS 1 message another one publishes meanwhile. Afterwards it reports
 * packets sent, connections, and crashes: lines of workerd's output that show an uncaught
 * error (or any error line that is not an ordinary protocol-error close), errors the gateway
 * threw, and canary loss.
 *
 * Everything is bounded: connections at a time, packets per connection, time per connection,
 * total time; loopback only. Every connection is a "case" built from (seed, index) alone, so
 * `replayCase(seed, index)` prints the exact bytes of one case, and a crash line that names a
 * client id `fz-<seed>-<index>` points at its case.
 *
 * Used by scripts/fuzz.mjs (`npm run fuzz`) and test/integration/45-fuzz.test.ts.
 */
import { connect as tcpConnect, type Socket } from "node:net";
import fc from "fast-check";
import mqtt, { type MqttClient } from "mqtt";
import mqttPacket, { type Packet } from "mqtt-packet";
import WebSocket from "ws";
import { type Broker, startBroker } from "../helpers/broker.js";
import { startTestGateway, type TestGateway } from "../helpers/gateway.js";
import { anyPacket, clientPacket, connectPacket as connectArbitrary, type Version } from "./arbitraries.js";
import { caseSeed, concat, mutate, Prng, split } from "./mutate.js";

// ---- corpus ----

export interface CorpusEntry {
  version: Version;
  name: string;
  packet: Packet;
  bytes: Uint8Array;
}

const buf = (s: string) => Buffer.from(s);

/** Hand-written valid packets of every type, for both versions: the seeds of the mutations. */
function handWritten(v: Version): Packet[] {
  const v5 = v === 5;
  const props = <T>(p: T) => (v5 ? { properties: p } : {});
  const user = { userProperties: { app: "fuzz", tag: ["a", "b"] } };
  return [
    { cmd: "connect", protocolId: "MQTT", protocolVersion: v, clientId: "x", clean: true, keepalive: 30 },
    {
      cmd: "connect",
      protocolId: "MQTT",
      protocolVersion: v,
      clientId: "x",
      clean: false,
      keepalive: 5,
      username: "u",
      password: buf("p"),
      will: {
        topic: "canary/will",
        payload: buf("bye"),
        qos: 1,
        retain: true,
        ...props({ willDelayInterval: 1, messageExpiryInterval: 60, contentType: "text/plain", responseTopic: "r/t", correlationData: buf("c"), payloadFormatIndicator: true, ...user }),
      },
      ...props({ sessionExpiryInterval: 30, receiveMaximum: 5, maximumPacketSize: 4096, topicAliasMaximum: 4, requestResponseInformation: true, requestProblemInformation: false, ...user }),
    },
    { cmd: "publish", topic: "canary/x", payload: buf("q0"), qos: 0, retain: false, dup: false },
    {
      cmd: "publish",
      topic: "a/b",
      payload: buf("q1"),
      qos: 1,
      retain: true,
      dup: false,
      messageId: 1,
      ...props({ payloadFormatIndicator: true, messageExpiryInterval: 10, topicAlias: 1, responseTopic: "resp", correlationData: buf("id"), contentType: "json", ...user }),
    },
    { cmd: "publish", topic: "sensors/k/t", payload: Buffer.alloc(300, 7), qos: 2, retain: false, dup: true, messageId: 2, ...props({ topicAlias: 2 }) },
    ...(v5 ? [{ cmd: "publish", topic: "", payload: buf("alias"), qos: 1, retain: false, dup: false, messageId: 3, properties: { topicAlias: 1 } } as Packet] : []),
    { cmd: "puback", messageId: 1, ...(v5 ? { reasonCode: 0x10, properties: { reasonString: "r", ...user } } : {}) },
    { cmd: "pubrec", messageId: 2 },
    { cmd: "pubrel", messageId: 2, ...(v5 ? { reasonCode: 0x92 } : {}) },
    { cmd: "pubcomp", messageId: 2 },
    {
      cmd: "subscribe",
      messageId: 4,
      subscriptions: [
        { topic: "canary/#", qos: 1, ...(v5 ? { nl: true, rap: true, rh: 1 } : {}) },
        { topic: "+/b", qos: 2, ...(v5 ? { rh: 2 } : {}) },
        { topic: "#", qos: 0 },
        { topic: "$share/g/canary/+", qos: 1 },
      ],
      ...props({ subscriptionIdentifier: 7, ...user }),
    },
    { cmd: "unsubscribe", messageId: 5, unsubscriptions: ["canary/#", "#", "$share/g/canary/+"], ...props(user) },
    { cmd: "pingreq" },
    { cmd: "disconnect", ...(v5 ? { reasonCode: 0x04, properties: { sessionExpiryInterval: 0, reasonString: "bye" } } : {}) },
    // Server-to-client packets: a client sending them breaks the protocol.
    { cmd: "connack", sessionPresent: false, ...(v5 ? { reasonCode: 0 } : { returnCode: 0 }) },
    { cmd: "suback", messageId: 4, granted: [0, 1, 2, 0x80] },
    { cmd: "unsuback", messageId: 5, ...(v5 ? { granted: [0, 0x11] } : {}) },
    { cmd: "pingresp" },
    ...(v5 ? [{ cmd: "auth", reasonCode: 0x18, properties: { authenticationMethod: "m", authenticationData: buf("d") } } as Packet] : []),
  ] as Packet[];
}

/** Valid packets for both versions: hand-written ones and generated ones (fixed seed). */
export function buildCorpus(generated = 150): CorpusEntry[] {
  const corpus: CorpusEntry[] = [];
  for (const version of [4, 5] as const) {
    const packets = [
      ...handWritten(version),
      ...fc.sample(anyPacket(version), { seed: 42 + version, numRuns: generated }),
      ...fc.sample(clientPacket(version), { seed: 7 + version, numRuns: generated }),
    ];
    for (const packet of packets) {
      const bytes = Uint8Array.from(mqttPacket.generate(packet, { protocolVersion: version }));
      if (bytes.length > 1) corpus.push({ version, name: packet.cmd, packet, bytes });
    }
  }
  return corpus;
}

// ---- cases ----

export type Transport = "ws" | "ws-direct" | "tcp";

export interface FuzzCase {
  index: number;
  transport: Transport;
  clientId: string;
  /** The bytes as they go on the wire: one entry per WebSocket frame or TCP write. */
  frames: Uint8Array[];
  /** Milliseconds to wait before each frame. */
  delays: number[];
  /** WebSocket only: send this frame as text instead (protocol violation). */
  textFrame: number;
  /** Packets (valid or mutated) the frames carry. */
  packets: number;
  /** How long to keep the connection after the last frame, then close it (abruptly or not). */
  lingerMs: number;
  abrupt: boolean;
}

const CONNECTS = new Map<Version, Packet[]>();

function connectsFor(version: Version): Packet[] {
  let list = CONNECTS.get(version);
  if (!list) {
    list = [...handWritten(version).filter((p) => p.cmd === "connect"), ...fc.sample(connectArbitrary(version), { seed: 99 + version, numRuns: 50 })];
    CONNECTS.set(version, list);
  }
  return list;
}

/** Case `index` of the run with `seed`: the same arguments always give the same bytes. */
export function fuzzCase(seed: number, index: number, corpus: CorpusEntry[]): FuzzCase {
  const rng = new Prng(caseSeed(seed, index));
  const transport: Transport = rng.chance(0.45) ? "ws" : rng.chance(0.3) ? "ws-direct" : "tcp";
  const version: Version = rng.chance(0.5) ? 4 : 5;
  // Some cases share a client id with an earlier one: takeovers, resumed persistent sessions.
  const clientId = rng.chance(0.15) ? `fz-${seed}-s${rng.int(5)}` : `fz-${seed}-${index}`;
  const pool = corpus.filter((c) => c.version === version);
  const mutationRate = rng.pick([0, 0.05, 0.2, 0.5, 1]);
  const parts: Uint8Array[] = [];
  let packets = 0;

  // CONNECT first, valid most of the time so the damage reaches a live session.
  const connect = { ...rng.pick(connectsFor(version)), clientId } as Packet;
  if (rng.chance(0.1)) (connect as { protocolId?: string; protocolVersion?: number }).protocolVersion = rng.pick([3, 6, 0]);
  let connectBytes: Uint8Array;
  try {
    connectBytes = Uint8Array.from(mqttPacket.generate(connect, { protocolVersion: version }));
  } catch {
    connectBytes = rng.bytes(12);
  }
  if (connectBytes.length <= 1) connectBytes = rng.bytes(12);
  if (rng.chance(0.8)) {
    parts.push(rng.chance(0.15) ? mutate(rng, connectBytes, rng.pick(pool).bytes) : connectBytes);
    packets++;
  }

  const count = rng.range(0, 30);
  for (let i = 0; i < count; i++) {
    if (rng.chance(0.03)) {
      parts.push(rng.bytes(rng.range(1, 200)));
    } else if (rng.chance(0.02)) {
      // A large PUBLISH (beyond the 8 KiB a session object keeps across hibernation), often cut
      // into many frames below.
      const big: Packet = {
        cmd: "publish",
        topic: rng.pick(["canary/big", "a/b", "big"]),
        payload: Buffer.from(rng.bytes(rng.range(8 * 1024, 60 * 1024))),
        qos: rng.pick([0, 1, 2] as const),
        retain: false,
        dup: false,
        messageId: rng.range(1, 0xffff),
      };
      const bytes = Uint8Array.from(mqttPacket.generate(big, { protocolVersion: version }));
      parts.push(rng.chance(mutationRate) ? mutate(rng, bytes, rng.pick(pool).bytes) : bytes);
    } else {
      const entry = rng.pick(pool);
      parts.push(rng.chance(mutationRate) ? mutate(rng, entry.bytes, rng.pick(pool).bytes) : entry.bytes);
    }
    packets++;
    // A burst: the same packet many times (QoS 1 floods, ping floods).
    if (rng.chance(0.02)) {
      const again = parts[parts.length - 1]!;
      const n = rng.range(10, 100);
      for (let k = 0; k < n; k++) parts.push(again);
      packets += n;
    }
  }

  // Frames: packet by packet, or the whole stream cut at random points.
  const stream = concat(parts);
  const frames = rng.chance(0.4) ? parts.filter((p) => p.length > 0) : split(rng, stream, rng.pick([1, 2, 5, 20, 60]));
  const delays = frames.map(() => (rng.chance(0.15) ? rng.int(40) : 0));
  return {
    index,
    transport,
    clientId,
    frames,
    delays,
    textFrame: transport !== "tcp" && rng.chance(0.02) ? rng.int(Math.max(1, frames.length)) : -1,
    packets,
    lingerMs: rng.pick([0, 50, 200, 600]),
    abrupt: rng.chance(0.3),
  };
}

/** A case's bytes as hex, frame by frame, for a report or a bug. */
export function describeCase(c: FuzzCase): string {
  const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
  const frames = c.frames.map((f, i) => `  frame ${i}${c.textFrame === i ? " (text)" : ""}${c.delays[i] ? ` after ${c.delays[i]} ms` : ""}: ${hex(f)}`);
  return [`case ${c.index}: ${c.transport}, client id ${c.clientId}, ${c.packets} packets, ${c.frames.length} frames, linger ${c.lingerMs} ms${c.abrupt ? ", abrupt close" : ""}`, ...frames].join(
    "\n",
  );
}

// ---- log lines ----

export type LineKind = "crash" | "protocol" | "info";

/**
 * Lines that are the broker and the runtime doing their job: bad input closing its connection,
 * notices, and workerd's verbose reports of peers that went away (our abrupt closes).
 */
const BENIGN = [
  /closing connection:/,
  /session: send failed/, // a socket closed under a send: its close event follows
  /could not reach the session/, // a pipe whose session socket closed first
  /queue full|dropped|counter|expired|publishing will/i,
  /release to .* failed/,
  /\bdisconnected: /, // kj: WebSocket peer disconnected, operation canceled, broken pipe…
  /^\s*$/,
];
/**
 * Signs of a crash: an exception nobody caught (workerd, verbose: "uncaught exception; source =
 * Uncaught …"), one the broker caught but did not expect, or the runtime giving up on an object.
 */
const CRASH = [
  /source = Uncaught/,
  /failed handling input/,
  /action failed/,
  /internal_errors/,
  /exceeded (CPU|memory)|exceededCpu|exceededMemory/i,
  /Durable Object reset|broken\.|overloaded/i,
  /^worker: /,
];
/** workerd's second line about the same JS exception (its C++ view), and stack lines. */
const DUPLICATE = [/uncaught exception; exception = .*\bjsg\./, /^stack: /, /^\s+at /];

export function classifyLine(line: string): LineKind {
  if (DUPLICATE.some((re) => re.test(line))) return "info";
  if (CRASH.some((re) => re.test(line))) return "crash";
  if (BENIGN.some((re) => re.test(line))) return "protocol";
  return /\b(error|uncaught)\b/i.test(line) ? "crash" : "info";
}

// ---- driving connections ----

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface CaseResult {
  packets: number;
  frames: number;
  bytes: number;
  closedByBroker: boolean;
  refused: boolean;
}

/** Bounds one connection: a case never takes longer than this. */
const CASE_TIMEOUT_MS = 5000;

async function runWsCase(url: string, c: FuzzCase): Promise<CaseResult> {
  const result: CaseResult = { packets: c.packets, frames: 0, bytes: 0, closedByBroker: false, refused: false };
  const target = c.transport === "ws-direct" ? `${url}?clientId=${encodeURIComponent(c.clientId)}` : url;
  const ws = new WebSocket(target, ["mqtt"]);
  ws.on("error", () => undefined);
  let closed = false;
  const closedP = new Promise<void>((resolve) =>
    ws.on("close", () => {
      closed = true;
      resolve();
    }),
  );
  const opened = await Promise.race([new Promise<boolean>((r) => ws.once("open", () => r(true))), closedP.then(() => false), sleep(CASE_TIMEOUT_MS).then(() => false)]);
  if (!opened) {
    result.refused = true;
    ws.terminate();
    return result;
  }
  for (let i = 0; i < c.frames.length && !closed; i++) {
    if (c.delays[i]) await sleep(c.delays[i]!);
    if (closed) break;
    const frame = c.frames[i]!;
    ws.send(i === c.textFrame ? Buffer.from(frame).toString("latin1") : frame, { binary: i !== c.textFrame });
    result.frames++;
    result.bytes += frame.length;
  }
  await Promise.race([closedP, sleep(c.lingerMs)]);
  result.closedByBroker = closed;
  if (!closed) {
    if (c.abrupt) ws.terminate();
    else ws.close();
    await Promise.race([closedP, sleep(1000)]);
    if (!closed) ws.terminate();
  }
  return result;
}

async function runTcpCase(port: number, c: FuzzCase): Promise<CaseResult> {
  const result: CaseResult = { packets: c.packets, frames: 0, bytes: 0, closedByBroker: false, refused: false };
  const socket: Socket = tcpConnect(port, "127.0.0.1");
  socket.setNoDelay(true);
  socket.on("error", () => undefined);
  socket.on("data", () => undefined);
  let closed = false;
  const closedP = new Promise<void>((resolve) =>
    socket.on("close", () => {
      closed = true;
      resolve();
    }),
  );
  const opened = await Promise.race([new Promise<boolean>((r) => socket.once("connect", () => r(true))), closedP.then(() => false), sleep(CASE_TIMEOUT_MS).then(() => false)]);
  if (!opened) {
    result.refused = true;
    socket.destroy();
    return result;
  }
  for (let i = 0; i < c.frames.length && !closed; i++) {
    if (c.delays[i]) await sleep(c.delays[i]!);
    if (closed) break;
    socket.write(c.frames[i]!);
    result.frames++;
    result.bytes += c.frames[i]!.length;
  }
  await Promise.race([closedP, sleep(c.lingerMs)]);
  result.closedByBroker = closed;
  if (!closed) {
    if (c.abrupt) socket.destroy();
    else socket.end();
    await Promise.race([closedP, sleep(1000)]);
    if (!closed) socket.destroy();
  }
  return result;
}

// ---- the canary ----

interface Canary {
  /** Publishes message i (awaiting its PUBACK). */
  publish(i: number): Promise<void>;
  acked: number;
  /** Each subscriber's received message numbers. */
  received: Map<string, Set<number>>;
  /** Unexpected disconnects and errors of the canary clients. */
  problems: string[];
  stop(): Promise<void>;
}

async function startCanary(broker: Broker, gateway: TestGateway, seed: number): Promise<Canary> {
  const topic = `canary/${seed}`;
  const received = new Map<string, Set<number>>();
  const problems: string[] = [];
  const clients: MqttClient[] = [];
  let stopping = false;
  const open = async (name: string, url: string, version: 4 | 5) => {
    const client = await mqtt.connectAsync(url, { clientId: `canary-${name}-${seed}`, clean: true, reconnectPeriod: 0, connectTimeout: 10_000, keepalive: 30, protocolVersion: version });
    clients.push(client);
    client.on("close", () => {
      if (!stopping) problems.push(`canary ${name} disconnected`);
    });
    client.on("error", (e) => problems.push(`canary ${name}: ${e.message}`));
    return client;
  };
  // Subscribers on both paths, the publisher through the gateway.
  for (const [name, url, version] of [
    ["sub-ws", broker.mqttUrl, 5],
    ["sub-tcp", gateway.url, 4],
  ] as const) {
    const client = await open(name, url, version);
    const seen = new Set<number>();
    received.set(name, seen);
    client.on("message", (t, payload) => {
      const m = /^canary-(\d+)$/.exec(payload.toString());
      if (t === topic && m) seen.add(Number(m[1]));
    });
    await client.subscribeAsync(topic, { qos: 1 });
  }
  const publisher = await open("pub-tcp", gateway.url, 4);
  const canary: Canary = {
    acked: 0,
    received,
    problems,
    async publish(i) {
      await publisher.publishAsync(topic, `canary-${i}`, { qos: 1 });
      canary.acked++;
    },
    async stop() {
      stopping = true;
      await Promise.all(clients.map((c) => c.endAsync().catch(() => undefined)));
    },
  };
  return canary;
}

// ---- the run ----

export interface NetworkFuzzOptions {
  /** Seconds of fuzzing (the canary's drain and startup come on top). */
  seconds: number;
  seed?: number;
  /** Connections at a time (default 6). */
  concurrency?: number;
  /** QoS 1 messages the canary publishes, spread over the run (default 4 per second, at least 20). */
  canaryMessages?: number;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
  /** Also print every workerd line (default: crash lines only, in the report). */
  verbose?: boolean;
}

export interface CrashLine {
  at: number;
  line: string;
  /** Cases open around the line (the one it names first when it names a client id). */
  suspects: number[];
  /** The JS stack lines that followed it. */
  stack: string[];
  lineNo: number;
}

export interface NetworkFuzzReport {
  seed: number;
  seconds: number;
  connections: Record<Transport, number>;
  refused: number;
  closedByBroker: number;
  packets: { ws: number; tcp: number };
  frames: { ws: number; tcp: number };
  bytes: { ws: number; tcp: number };
  brokerLines: number;
  protocolCloses: number;
  crashes: CrashLine[];
  gatewayErrors: string[];
  canary: { published: number; acked: number; received: Record<string, number>; missing: Record<string, number[]>; problems: string[]; ok: boolean };
  ok: boolean;
}

export async function runNetworkFuzz(options: NetworkFuzzOptions): Promise<NetworkFuzzReport> {
  const seed = (options.seed ?? Math.floor(Math.random() * 2 ** 31)) >>> 0;
  const log = options.log ?? (() => undefined);
  const concurrency = options.concurrency ?? 6;
  const canaryMessages = options.canaryMessages ?? Math.max(20, Math.round(options.seconds * 4));
  const corpus = buildCorpus();
  const started = Date.now();

  const active = new Map<number, { c: FuzzCase; from: number; to?: number }>();
  const recent: { index: number; from: number; to: number; clientId: string }[] = [];
  const crashes: CrashLine[] = [];
  let brokerLines = 0;
  let protocolCloses = 0;
  const onOutput = (line: string) => {
    brokerLines++;
    if (options.verbose) log(`workerd: ${line}`);
    const kind = classifyLine(line);
    if (kind === "protocol") protocolCloses++;
    // The JS stack of the last crash follows it.
    const last = crashes[crashes.length - 1];
    if (/^\s+at /.test(line) && last && last.stack.length < 6 && brokerLines - last.lineNo === last.stack.length + 1) last.stack.push(line.trim());
    if (kind !== "crash") return;
    const now = Date.now();
    const named = /fz-\d+-(\d+)/.exec(line);
    const around = [...active.values()].map((a) => a.c.index).concat(recent.filter((r) => r.to > now - 2000).map((r) => r.index));
    const suspects = [...new Set([...(named ? [Number(named[1])] : []), ...around])].slice(0, 12);
    crashes.push({ at: now - started, line, suspects, stack: [], lineNo: brokerLines });
    log(`CRASH? ${line}`);
  };

  const gatewayErrors: string[] = [];
  const onProcessError = (e: unknown) => gatewayErrors.push(`uncaught in the gateway process: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  process.on("uncaughtException", onProcessError);
  process.on("unhandledRejection", onProcessError);

  const broker = await startBroker({ vars: { MAX_PACKET_SIZE: "65536", CONNECT_TIMEOUT: "3", MAX_QUEUED_MESSAGES: "200" }, onOutput });
  let gateway: TestGateway | undefined;
  let canary: Canary | undefined;
  const report: NetworkFuzzReport = {
    seed,
    seconds: 0,
    connections: { ws: 0, "ws-direct": 0, tcp: 0 },
    refused: 0,
    closedByBroker: 0,
    packets: { ws: 0, tcp: 0 },
    frames: { ws: 0, tcp: 0 },
    bytes: { ws: 0, tcp: 0 },
    brokerLines: 0,
    protocolCloses: 0,
    crashes,
    gatewayErrors,
    canary: { published: 0, acked: 0, received: {}, missing: {}, problems: [], ok: false },
    ok: false,
  };
  try {
    gateway = await startTestGateway(broker, { maxPacketSize: 65536, connectTimeoutMs: 3000, stallTimeoutMs: 3000, maxConnections: 200 });
    canary = await Promise.race([startCanary(broker, gateway, seed), sleep(20_000).then(() => Promise.reject(new Error("the canary clients could not connect and subscribe within 20 s")))]);
    log(`fuzzing ${broker.mqttUrl} and ${gateway.url} for ${options.seconds} s, seed ${seed}, ${concurrency} connections at a time, corpus of ${corpus.length} packets`);

    const fuzzStart = Date.now();
    const deadline = fuzzStart + options.seconds * 1000;
    let next = 0;
    const worker = async () => {
      while (Date.now() < deadline) {
        const c = fuzzCase(seed, next++, corpus);
        const entry = { c, from: Date.now() };
        active.set(c.index, entry);
        const gw = gateway!;
        const run = c.transport === "tcp" ? runTcpCase(gw.port, c) : runWsCase(broker.mqttUrl, c);
        const r = await Promise.race([run, sleep(CASE_TIMEOUT_MS * 3).then(() => null)]);
        active.delete(c.index);
        recent.push({ index: c.index, from: entry.from, to: Date.now(), clientId: c.clientId });
        if (recent.length > 200) recent.splice(0, recent.length - 200);
        report.connections[c.transport]++;
        if (!r) continue;
        const path = c.transport === "tcp" ? "tcp" : "ws";
        report.packets[path] += r.refused ? 0 : r.packets;
        report.frames[path] += r.frames;
        report.bytes[path] += r.bytes;
        if (r.refused) report.refused++;
        if (r.closedByBroker) report.closedByBroker++;
      }
    };
    // The canary publishes evenly over the run, each message after the previous one's PUBACK.
    const canaryRun = (async () => {
      for (let i = 0; i < canaryMessages; i++) {
        const due = fuzzStart + (i * options.seconds * 1000) / canaryMessages;
        if (due > Date.now()) await sleep(due - Date.now());
        report.canary.published++;
        try {
          await canary!.publish(i);
        } catch (e) {
          canary!.problems.push(`canary publish ${i}: ${e instanceof Error ? e.message : String(e)}`);
          return;
        }
      }
    })();
    const progress = setInterval(() => {
      const s = (Date.now() - fuzzStart) / 1000;
      log(
        `${s.toFixed(0)} s: ${report.packets.ws} packets over WebSocket, ${report.packets.tcp} through the gateway, ${Object.values(report.connections).reduce((a, b) => a + b, 0)} connections, ${crashes.length} crash lines, canary ${canary!.acked}/${canaryMessages} acked`,
      );
    }, 10_000);
    await Promise.all([...Array.from({ length: concurrency }, worker), canaryRun]);
    clearInterval(progress);
    report.seconds = (Date.now() - fuzzStart) / 1000;

    // Every acknowledged canary message must reach both subscribers.
    const drainBy = Date.now() + 30_000;
    const complete = () => [...canary!.received.values()].every((seen) => seen.size >= canaryMessages);
    while (!complete() && Date.now() < drainBy && canary.problems.length === 0) await sleep(100);
    await sleep(500); // late crash lines
  } finally {
    if (canary) {
      report.canary.acked = canary.acked;
      report.canary.problems = [...canary.problems];
      for (const [name, seen] of canary.received) {
        report.canary.received[name] = seen.size;
        report.canary.missing[name] = Array.from({ length: canaryMessages }, (_, i) => i).filter((i) => !seen.has(i));
      }
      await canary.stop();
    }
    await gateway?.stop().catch((e: unknown) => gatewayErrors.push(`gateway stop: ${String(e)}`));
    for (const line of gateway?.logs ?? []) if (/uncaught|TypeError|RangeError|ReferenceError/i.test(line)) gatewayErrors.push(line);
    await broker.stop();
    process.off("uncaughtException", onProcessError);
    process.off("unhandledRejection", onProcessError);
  }
  report.brokerLines = brokerLines;
  report.protocolCloses = protocolCloses;
  const missing = Object.values(report.canary.missing).reduce((n, m) => n + m.length, 0);
  report.canary.ok = report.canary.acked === canaryMessages && missing === 0 && report.canary.problems.length === 0;
  report.ok = crashes.length === 0 && gatewayErrors.length === 0 && report.canary.ok;
  return report;
}

/** The report as text: figures, then each crash with the cases around it. */
export function formatReport(r: NetworkFuzzReport, corpus?: CorpusEntry[]): string {
  const rate = (n: number) => (r.seconds > 0 ? Math.round(n / r.seconds) : 0);
  const conns = r.connections.ws + r.connections["ws-direct"] + r.connections.tcp;
  const lines = [
    `network fuzz: seed ${r.seed}, ${r.seconds.toFixed(1)} s`,
    `  packets sent: ${r.packets.ws} over WebSocket (${rate(r.packets.ws)}/s), ${r.packets.tcp} through the gateway (${rate(r.packets.tcp)}/s); ${r.frames.ws + r.frames.tcp} frames/writes, ${r.bytes.ws + r.bytes.tcp} bytes`,
    `  connections: ${conns} (pipe ${r.connections.ws}, direct ${r.connections["ws-direct"]}, gateway ${r.connections.tcp}); closed by the broker ${r.closedByBroker}; refused ${r.refused}`,
    `  workerd lines: ${r.brokerLines} (${r.protocolCloses} ordinary protocol closes and notices)`,
    `  canary: ${r.canary.acked}/${r.canary.published} QoS 1 messages acknowledged; received ${Object.entries(r.canary.received)
      .map(([k, v]) => `${k} ${v}`)
      .join(", ")}${r.canary.ok ? " — all delivered" : " — LOSS"}`,
    ...r.canary.problems.map((p) => `    ${p}`),
    ...Object.entries(r.canary.missing)
      .filter(([, m]) => m.length > 0)
      .map(([k, m]) => `    ${k} missing: ${m.slice(0, 20).join(", ")}${m.length > 20 ? " …" : ""}`),
    `  crashes found: ${r.crashes.length + r.gatewayErrors.length}`,
  ];
  for (const crash of r.crashes.slice(0, 10)) {
    lines.push(`    at ${(crash.at / 1000).toFixed(1)} s: ${crash.line}`);
    for (const frame of crash.stack) lines.push(`        ${frame}`);
    lines.push(`      cases around it: ${crash.suspects.join(", ")} (replay one: npm run fuzz -- --seed ${r.seed} --case <n>)`);
    if (corpus && crash.suspects[0] !== undefined) lines.push(describeCase(fuzzCase(r.seed, crash.suspects[0], corpus)).replace(/^/gm, "      "));
  }
  for (const e of r.gatewayErrors.slice(0, 10)) lines.push(`    ${e}`);
  lines.push(r.ok ? "  result: OK" : "  result: FAILED");
  return lines.join("\n");
}

/**
 * Replays one case against a fresh broker and gateway, printing its bytes and every workerd line
 * it caused: the reproduction of a crash the report pointed at.
 */
export async function replayCase(seed: number, index: number, log: (line: string) => void = console.log): Promise<{ crashes: string[] }> {
  const corpus = buildCorpus();
  const c = fuzzCase(seed, index, corpus);
  log(describeCase(c));
  const crashes: string[] = [];
  const broker = await startBroker({
    vars: { MAX_PACKET_SIZE: "65536", CONNECT_TIMEOUT: "3", MAX_QUEUED_MESSAGES: "200" },
    onOutput: (line) => {
      log(`workerd: ${line}`);
      if (classifyLine(line) === "crash") crashes.push(line);
    },
  });
  const gateway = await startTestGateway(broker, { maxPacketSize: 65536, connectTimeoutMs: 3000, stallTimeoutMs: 3000 });
  try {
    const r = c.transport === "tcp" ? await runTcpCase(gateway.port, c) : await runWsCase(broker.mqttUrl, c);
    log(`sent ${r.frames} frames (${r.bytes} bytes); closed by the broker: ${r.closedByBroker}`);
    await sleep(1500);
  } finally {
    await gateway.stop();
    for (const line of gateway.logs) log(`gateway: ${line}`);
    await broker.stop();
  }
  return { crashes };
}
