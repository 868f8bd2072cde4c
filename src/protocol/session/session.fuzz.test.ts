/**
 * Property test (fast-check) of the session core: arbitrary sequences of events — packets (valid
 * for the connection's version, or hostile bytes through the decoder), deliveries from shards,
 * lost connections, time, routes that succeed or fail later, spills, restarts — never make it
 * throw (not even ProtocolError, which `receive` turns into a close), and after every event its
 * invariants hold:
 * - every packet it sends encodes for its connection's version and decodes back (what the
 *   Durable Object does with it), and goes to a connection the shell opened;
 * - a live connection is never one it closed, and has a session record;
 * - the outbound queue's count and bytes match its entries, in-flight packet ids are unique,
 *   the window is within MAX_INFLIGHT and the client's Receive Maximum, the queue within its limit;
 * - every QoS 1/2 PUBLISH it sends carries the packet id of an entry in flight;
 * - `nextDeadline()` is null or a time; an offline session restarts from storage as it was.
 * Budget and replay: see test/fuzz/arbitraries.ts (FUZZ_RUNS, FUZZ_SECONDS, FUZZ_SEED).
 */
import { ALLOWED } from "./auth-verdict.js";
import fc from "fast-check";
import type { Packet } from "mqtt-packet";
import { describe, expect, it } from "vitest";
import { clientPacket, connectPacket, fuzzParameters, fuzzTimeout, topicName } from "../../../test/fuzz/arbitraries.js";
import { loadConfig } from "../../config.js";
import { KvSessionStore } from "../../storage/kv-session-store.js";
import { MemoryKv } from "../../storage/memory-kv.js";
import { shardForTopic, WILDCARD_SHARD } from "../topic/shard-key.js";
import type { Action } from "../actions.js";
import { decodePacket, encodePacket, type DecodeResult, type ProtocolVersion } from "../codec/codec.js";
import { Reason } from "../errors.js";
import type { Delivery, Message } from "../message.js";
import { Session, type SessionConfig } from "./session.js";

const CLIENT = "c1";
/** The reason codes a DISCONNECT may carry (MQTT 5 §3.14.2.1). */
const DISCONNECT_CODES = [0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8b, 0x8d, 0x8e, 0x8f, 0x90, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9e, 0x9f, 0xa0, 0xa1, 0xa2];
const CONNS = 3;

type Event =
  | { t: "connect"; conn: number; packet: Packet; clientId: string }
  | { t: "packet"; conn: number; p4: Packet; p5: Packet }
  | { t: "bytes"; conn: number; bytes: Uint8Array }
  /** A well-behaved client: acknowledge the `index`th message in flight as its QoS wants. */
  | { t: "ack"; index: number; all: boolean }
  /** A well-behaved client: subscribe to a wide filter, so deliveries match. */
  | { t: "subscribe"; filter: string; qos: 0 | 1 | 2 }
  | { t: "deliver"; toWildcard: boolean; deliveries: { message: Message; share: boolean; force: boolean; qos1Seq: boolean }[] }
  | { t: "lost"; conn: number }
  | { t: "time"; ms: number }
  /** Routes complete: all in order, or the `index`th under way (out of order). */
  | { t: "settle"; ok: boolean; all: boolean; index: number }
  | { t: "spill" }
  | { t: "restart" };

const conn = fc.integer({ min: 0, max: CONNS - 1 });
const message: fc.Arbitrary<Message> = fc
  .record({
    topic: topicName,
    payload: fc.uint8Array({ maxLength: 40 }),
    qos: fc.constantFrom(0 as const, 1 as const, 2 as const),
    retain: fc.boolean(),
    origin: fc.constantFrom(CLIENT, "other", "other"),
    properties: fc.option(fc.record({ contentType: fc.string({ maxLength: 5 }), responseTopic: topicName, userProperties: fc.constant({ k: "v" }) }, { requiredKeys: [] }), { nil: undefined }),
    expiresAt: fc.option(fc.integer({ min: 0, max: 120_000 }), { nil: undefined, freq: 5 }),
  })
  .map(({ properties, expiresAt, ...m }) => ({ ...m, ...(properties ? { properties } : {}), ...(expiresAt !== undefined ? { expiresAt } : {}) }));

const event: fc.Arbitrary<Event> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant("connect" as const),
      conn,
      packet: fc.constantFrom(4 as const, 5 as const).chain((v) => connectPacket(v)),
      clientId: fc.oneof({ weight: 8, arbitrary: fc.constant(CLIENT) }, { weight: 1, arbitrary: fc.constantFrom("", "c2") }),
    }),
  },
  { weight: 12, arbitrary: fc.record({ t: fc.constant("packet" as const), conn, p4: clientPacket(4), p5: clientPacket(5) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("bytes" as const), conn, bytes: fc.uint8Array({ minLength: 2, maxLength: 40 }) }) },
  { weight: 4, arbitrary: fc.record({ t: fc.constant("ack" as const), index: fc.nat(10), all: fc.boolean() }) },
  {
    weight: 2,
    arbitrary: fc.record({ t: fc.constant("subscribe" as const), filter: fc.constantFrom("#", "a/#", "+/+", "$share/g/#", "sensors/+/x"), qos: fc.constantFrom(0 as const, 1 as const, 2 as const) }),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      t: fc.constant("deliver" as const),
      toWildcard: fc.boolean(),
      deliveries: fc.array(fc.record({ message, share: fc.boolean(), force: fc.boolean(), qos1Seq: fc.boolean() }), { minLength: 1, maxLength: 5 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("lost" as const), conn }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("time" as const), ms: fc.oneof(fc.integer({ min: 0, max: 2000 }), fc.integer({ min: 0, max: 200_000 })) }) },
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant("settle" as const),
      ok: fc.oneof({ weight: 5, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
      all: fc.boolean(),
      index: fc.nat(10),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ t: "spill" as const }) },
  { weight: 1, arbitrary: fc.constant({ t: "restart" as const }) },
);

/** Mostly what a well-behaved client and busy shards do, with a little hostility. */
const friendlyEvent: fc.Arbitrary<Event> = fc.oneof(
  { weight: 1, arbitrary: fc.record({ t: fc.constant("packet" as const), conn: fc.constant(0), p4: clientPacket(4), p5: clientPacket(5) }) },
  { weight: 6, arbitrary: fc.record({ t: fc.constant("ack" as const), index: fc.nat(10), all: fc.boolean() }) },
  {
    weight: 2,
    arbitrary: fc.record({ t: fc.constant("subscribe" as const), filter: fc.constantFrom("#", "a/#", "+/+", "$share/g/#", "sensors/+/x"), qos: fc.constantFrom(0 as const, 1 as const, 2 as const) }),
  },
  {
    weight: 8,
    arbitrary: fc.record({
      t: fc.constant("deliver" as const),
      toWildcard: fc.boolean(),
      deliveries: fc.array(fc.record({ message, share: fc.boolean(), force: fc.boolean(), qos1Seq: fc.boolean() }), { minLength: 1, maxLength: 8 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("lost" as const), conn: fc.constant(0) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("time" as const), ms: fc.oneof(fc.integer({ min: 0, max: 6000 }), fc.integer({ min: 0, max: 200_000 })) }) },
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant("settle" as const),
      ok: fc.oneof({ weight: 9, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
      all: fc.boolean(),
      index: fc.nat(10),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ t: "spill" as const }) },
  { weight: 1, arbitrary: fc.constant({ t: "restart" as const }) },
);

const config: fc.Arbitrary<Partial<SessionConfig>> = fc.record({
  maxInflight: fc.integer({ min: 1, max: 8 }),
  maxQueuedMessages: fc.integer({ min: 1, max: 30 }),
  maxQueuedBytes: fc.constantFrom(1024, 4096, 1024 * 1024),
  receiveMaximum: fc.integer({ min: 1, max: 5 }),
  topicAliasMaximum: fc.constantFrom(0, 2, 16),
  serverTopicAliases: fc.constantFrom(0, 2),
  maxSubscriptions: fc.constantFrom(3, 1000),
  maximumQoS: fc.constantFrom(1 as const, 2 as const),
});

/** The shell around the core, as the Durable Object is, with the invariants checked after each event. */
class Harness {
  readonly kv = new MemoryKv();
  session: Session;
  now = 1_000;
  /** Connection ids per slot (a slot gets a new id after its connection closed). */
  private readonly ids: string[] = [];
  private generation = 0;
  /** Connections the shell has open (not closed by the core, not lost). */
  private readonly open = new Set<string>();
  /** Every id ever opened. */
  private readonly known = new Set<string>();
  private readonly closedByCore = new Set<string>();
  /** Ids of the routes the core waits for, in the order issued, until their outcome is reported. */
  private readonly pending: number[] = [];
  private readonly seqs = new Map<string, number>();

  constructor(private readonly config: SessionConfig) {
    this.session = new Session(new KvSessionStore(this.kv), config);
    for (let i = 0; i < CONNS; i++) this.ids.push(this.fresh());
  }

  private fresh(): string {
    const id = `k${++this.generation}`;
    this.known.add(id);
    this.open.add(id);
    return id;
  }

  private slot(i: number): string {
    const id = this.ids[i]!;
    if (this.open.has(id)) return id;
    return (this.ids[i] = this.fresh());
  }

  /** What the DO passes as the version for decoding: the live connection's, else undefined (CONNECT). */
  private versionOf(connId: string): ProtocolVersion | undefined {
    const c = this.session.current;
    return c?.connId === connId ? c.version : undefined;
  }

  apply(e: Event): void {
    const s = this.session;
    switch (e.t) {
      case "connect": {
        const connId = this.slot(e.conn);
        const packet = { ...e.packet, clientId: e.clientId } as Packet;
        const bytes = tryEncode(packet, ((packet as { protocolVersion?: number }).protocolVersion ?? 4) as ProtocolVersion);
        if (!bytes) return;
        this.receive(connId, decodePacket(bytes, this.versionOf(connId)));
        return;
      }
      case "packet": {
        const connId = this.slot(e.conn);
        const version = this.versionOf(connId) ?? 4;
        const bytes = tryEncode(version === 5 ? e.p5 : e.p4, version);
        if (!bytes) return;
        this.receive(connId, decodePacket(bytes, this.versionOf(connId)));
        return;
      }
      case "bytes": {
        const connId = this.slot(e.conn);
        this.receive(connId, decodePacket(e.bytes, this.versionOf(connId)));
        return;
      }
      case "ack": {
        const c = s.current;
        if (!c) return;
        const inFlight = s.outbound.all().filter((entry) => entry.state !== "queued");
        const chosen = e.all ? inFlight : inFlight.slice(e.index % Math.max(1, inFlight.length)).slice(0, 1);
        for (const entry of chosen) {
          const id = entry.packetId!;
          const acks: Packet[] =
            entry.qos === 1
              ? [{ cmd: "puback", messageId: id }]
              : entry.state === "sent"
                ? [
                    { cmd: "pubrec", messageId: id },
                    { cmd: "pubcomp", messageId: id },
                  ]
                : [{ cmd: "pubcomp", messageId: id }];
          for (const ack of acks) if (s.current === c) this.receive(c.connId, decodePacket(encodePacket(ack, c.version), c.version));
        }
        return;
      }
      case "subscribe": {
        const c = s.current;
        if (!c) return;
        const packet: Packet = { cmd: "subscribe", messageId: 1 + (this.now % 60000), subscriptions: [{ topic: e.filter, qos: e.qos }] };
        this.receive(c.connId, decodePacket(encodePacket(packet, c.version), c.version));
        return;
      }
      case "deliver": {
        const subs = Object.keys(s.record?.subscriptions ?? {});
        const shareFilter = subs.find((f) => f.startsWith("$share/"));
        const byShard = new Map<string, Delivery[]>();
        for (const d of e.deliveries) {
          const shard = e.toWildcard ? WILDCARD_SHARD : shardForTopic(d.message.topic);
          const seq = d.message.qos > 0 || d.qos1Seq ? this.nextSeq(shard) : undefined;
          const delivery: Delivery = { message: d.message, ...(seq !== undefined ? { seq } : {}), ...(d.share && shareFilter ? { share: shareFilter, force: d.force } : {}) };
          byShard.set(shard, [...(byShard.get(shard) ?? []), delivery]);
        }
        for (const [shard, deliveries] of byShard) {
          const { actions, outcome } = s.deliver(shard, deliveries, this.now);
          if (!outcome.gone) {
            for (const i of outcome.declined) expect(i).toBeLessThan(deliveries.length);
            if (outcome.released !== undefined) expect(Number.isInteger(outcome.released)).toBe(true);
          }
          this.run(actions);
        }
        return;
      }
      case "lost": {
        const connId = this.slot(e.conn);
        this.open.delete(connId);
        this.run(s.connectionLost(connId, this.now));
        return;
      }
      case "time":
        this.now += e.ms;
        this.run(s.timer(this.now));
        return;
      case "settle": {
        if (this.pending.length === 0) return;
        // All in order, or one, possibly out of order: the core keeps the order of what follows.
        const ids = e.all ? this.pending.splice(0) : this.pending.splice(e.index % this.pending.length, 1);
        for (const id of ids) this.run(e.ok ? s.routed(id, this.now) : s.routeFailed(id, "the shard could not store it", this.now));
        return;
      }
      case "spill":
        this.run(s.spill(this.now));
        return;
      case "restart": {
        // An object with no live connection may be evicted: it comes back from storage alone.
        if (s.current || this.pending.length > 0) return;
        const before = { record: s.record, size: s.outbound.size, bytes: s.outbound.queuedBytes, entries: s.outbound.all().map(({ seq, state, packetId, qos }) => ({ seq, state, packetId, qos })) };
        this.session = new Session(new KvSessionStore(this.kv), this.config);
        const after = this.session;
        expect(after.record).toEqual(before.record);
        expect(after.outbound.size).toBe(before.size);
        expect(after.outbound.queuedBytes).toBe(before.bytes);
        expect(after.outbound.all().map(({ seq, state, packetId, qos }) => ({ seq, state, packetId, qos }))).toEqual(before.entries);
        return;
      }
    }
  }

  private nextSeq(shard: string): number {
    const seq = (this.seqs.get(shard) ?? 0) + 1;
    this.seqs.set(shard, seq);
    return seq;
  }

  private receive(connId: string, input: DecodeResult): void {
    // Every CONNECT and AUTH is let in: credentials are judged by the shell (see AuthVerdict).
    this.run(this.session.receive(connId, { clientId: CLIENT, assigned: false }, input, this.now, ALLOWED));
  }

  /** Runs actions as the shell does, checking each. */
  private run(actions: Action[]): void {
    for (const a of actions) {
      switch (a.type) {
        case "send": {
          expect(this.known.has(a.connId), `send to a connection never opened: ${a.connId}`).toBe(true);
          const bytes = a.bytes ?? encodePacket(a.packet, a.version);
          expect(bytes.length, `${a.packet.cmd} encodes to no bytes`).toBeGreaterThan(1);
          const decoded = decodePacket(bytes, a.version);
          if (!decoded.ok) throw new Error(`sent ${a.packet.cmd} does not decode: ${decoded.detail} (${JSON.stringify(a.packet)})`);
          expect(decoded.packet.cmd).toBe(a.packet.cmd);
          if (a.packet.cmd === "disconnect") expect(DISCONNECT_CODES, `DISCONNECT reason 0x${a.packet.reasonCode?.toString(16)}`).toContain(a.packet.reasonCode ?? 0);
          if (a.version !== 5) expect(a.packet.cmd).not.toBe("auth");
          if (a.packet.cmd === "publish" && a.packet.qos > 0) {
            const id = a.packet.messageId;
            expect(id !== undefined && id >= 1 && id <= 0xffff).toBe(true);
            expect(
              this.session.outbound.all().some((entry) => entry.packetId === id && entry.state !== "queued"),
              `PUBLISH ${id} is not in flight`,
            ).toBe(true);
          }
          break;
        }
        case "close":
          this.open.delete(a.connId);
          this.closedByCore.add(a.connId);
          break;
        case "route":
          expect(a.message.topic.length).toBeGreaterThan(0);
          if (a.routeId !== undefined) this.pending.push(a.routeId);
          break;
        case "subscribe":
          this.run(
            this.session.subscribed(
              a.subscribeId,
              a.subscriptions.map(() => []),
            ),
          );
          break;
        case "unsubscribe":
          if (a.unsubscribeId !== undefined) this.run(this.session.unsubscribed(a.unsubscribeId));
          break;
        case "release":
          expect(Number.isInteger(a.upTo)).toBe(true);
          break;
        case "reshare":
          this.pending.push(a.routeId);
          break;
        case "log":
          break;
      }
    }
  }

  checkInvariants(): void {
    const s = this.session;
    // Every route the core waits for is one whose outcome is still to come, or one held behind it.
    if (this.pending.length === 0) expect(s.routesUnderWay).toBe(0);
    expect(s.routesUnderWay).toBeGreaterThanOrEqual(this.pending.length);
    const c = s.current;
    if (c) {
      expect(this.closedByCore.has(c.connId), `live connection ${c.connId} was closed by the core`).toBe(false);
      expect(s.record, "a live connection without a session record").toBeDefined();
      expect(c.clientId).toBe(s.record!.clientId);
    }
    const entries = s.outbound.all();
    expect(s.outbound.size).toBe(entries.length);
    expect(s.outbound.queuedBytes).toBe(entries.reduce((n, e) => n + e.bytes, 0));
    expect(s.outbound.size).toBeLessThanOrEqual(this.config.maxQueuedMessages);
    const inFlight = entries.filter((e) => e.state !== "queued");
    const ids = inFlight.map((e) => e.packetId);
    expect(new Set(ids).size, "in-flight packet ids are unique").toBe(ids.length);
    for (const id of ids) expect(id !== undefined && id >= 1 && id <= 0xffff).toBe(true);
    if (c) expect(inFlight.length).toBeLessThanOrEqual(Math.max(this.config.maxInflight, 1));
    const seqs = entries.map((e) => e.seq);
    expect(seqs, "entries in sequence order").toEqual([...seqs].sort((a, b) => a - b));
    const deadline = s.nextDeadline();
    expect(deadline === null || Number.isFinite(deadline)).toBe(true);
  }
}

function tryEncode(packet: Packet, version: ProtocolVersion): Uint8Array | null {
  try {
    return encodePacket(packet, version);
  } catch {
    return null; // a generated packet mqtt-packet refuses for this version (e.g. AUTH in 3.1.1)
  }
}

describe("session core under arbitrary event sequences", () => {
  it(
    "never throws and keeps its invariants",
    () => {
      fc.assert(
        fc.property(config, fc.array(event, { minLength: 1, maxLength: 40 }), (overrides, events) => {
          const h = new Harness({ ...loadConfig({}), ...overrides });
          for (const e of events) {
            h.apply(e);
            h.checkInvariants();
          }
        }),
        fuzzParameters(150),
      );
    },
    fuzzTimeout(),
  );

  it(
    "a well-behaved client with busy shards keeps the invariants (reconnecting when its connection ends)",
    () => {
      const connect = fc
        .constantFrom(4 as const, 5 as const)
        .chain((v) => connectPacket(v))
        .map((p) => ({ ...p, clean: false, clientId: CLIENT }) as Packet);
      fc.assert(
        fc.property(config, connect, fc.array(friendlyEvent, { minLength: 10, maxLength: 60 }), (overrides, connectPacket, events) => {
          const h = new Harness({ ...loadConfig({}), ...overrides });
          h.apply({ t: "connect", conn: 0, packet: connectPacket, clientId: CLIENT });
          h.apply({ t: "subscribe", filter: "#", qos: 2 });
          h.checkInvariants();
          for (const e of events) {
            if (!h.session.current) {
              h.apply({ t: "connect", conn: 0, packet: connectPacket, clientId: CLIENT });
              h.checkInvariants();
            }
            h.apply(e);
            h.checkInvariants();
          }
        }),
        fuzzParameters(150),
      );
    },
    fuzzTimeout(),
  );

  // Found by this test: ending a connection with a CONNACK-only code (0x88) sent a DISCONNECT an
  // MQTT 5 client's parser rejects as malformed. Server DISCONNECTs now map such codes (wire.ts).
  it("a DISCONNECT for a failed store is one an MQTT 5 client can read (0x88 is not a DISCONNECT code)", () => {
    const h = new Harness(loadConfig({}));
    h.apply({ t: "connect", conn: 0, packet: { cmd: "connect", protocolId: "MQTT", protocolVersion: 5, clientId: CLIENT, clean: true, keepalive: 0 }, clientId: CLIENT });
    const c = h.session.current!;
    const sentDisconnect = h.session.fail(c.connId, Reason.ServerUnavailable, "the broker could not store a message", h.now).find((a) => a.type === "send");
    if (sentDisconnect?.type !== "send") throw new Error("no DISCONNECT");
    const decoded = decodePacket(encodePacket(sentDisconnect.packet, 5), 5);
    expect(decoded).toMatchObject({ ok: true, packet: { cmd: "disconnect" } });
  });
});
