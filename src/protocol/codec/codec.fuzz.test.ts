/**
 * Property tests (fast-check) of the framer and the decoder on hostile input: they never throw
 * anything but ProtocolError, however the bytes are cut; a valid stream frames to the same
 * packets in any split; valid packets of 3.1.1 and 5.0 survive encode → decode. Budget and replay:
 * see test/fuzz/arbitraries.ts (FUZZ_RUNS, FUZZ_SECONDS, FUZZ_SEED).
 */
import fc from "fast-check";
import type { Packet } from "mqtt-packet";
import { describe, expect, it } from "vitest";
import { anyPacket, clientPacket, connectPacket, fuzzParameters, fuzzTimeout, type Version } from "../../../test/fuzz/arbitraries.js";
import { concat, MUTATIONS, mutateOnce, Prng } from "../../../test/fuzz/mutate.js";
import { EdgeConnection } from "../../edge/connection.js";
import { ProtocolError } from "../errors.js";
import { connectSummary, decodePacket, encodePacket, type DecodeResult, type ProtocolVersion } from "./codec.js";
import { peekConnectProtocol } from "./connect-header.js";
import { Framer, packetSize } from "./framer.js";

const timeout = fuzzTimeout();
const versions: (ProtocolVersion | undefined)[] = [undefined, 3, 4, 5];

/** Runs `fn`; anything it throws other than ProtocolError fails the property. */
function onlyProtocolErrors<T>(fn: () => T): T | ProtocolError {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ProtocolError) return e;
    throw new Error(`threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
  }
}

function isDecodeResult(r: unknown): r is DecodeResult {
  if (typeof r !== "object" || r === null || !("ok" in r)) return false;
  const d = r as DecodeResult;
  return d.ok
    ? typeof d.packet === "object" && typeof d.packet.cmd === "string"
    : typeof d.detail === "string" && (d.error === "malformed" || d.error === "unacceptable-protocol" || d.error === "duplicate-property" || d.error === "protocol-error");
}

/** Cut points: an arbitrary list of chunk sizes, applied to any byte string. */
const chunkSizes = fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 20 });

function chunked(bytes: Uint8Array, sizes: number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let at = 0;
  for (let i = 0; at < bytes.length; i++) {
    const n = sizes[i % sizes.length]!;
    out.push(bytes.subarray(at, at + n));
    at += n;
  }
  return out;
}

const version = fc.constantFrom(4 as const, 5 as const);
/** A valid packet with the version it is encoded for. */
const encoded = version.chain((v) => anyPacket(v).map((p) => ({ version: v as Version, packet: p, bytes: encodePacket(p, v) })));
/** Bytes: random, or a valid packet after some mutations (seeded, so it shrinks by seed). */
const hostile = fc.oneof(
  fc.uint8Array({ maxLength: 300 }),
  fc.tuple(encoded, encoded, fc.integer(), fc.integer({ min: 1, max: 3 })).map(([a, b, seed, n]) => {
    const rng = new Prng(seed);
    let out = a.bytes;
    for (let i = 0; i < n; i++) out = mutateOnce(rng, out, b.bytes, rng.pick(MUTATIONS));
    return Uint8Array.from(out);
  }),
);

describe("decodePacket on hostile bytes", () => {
  it(
    "never throws, for any version, and always answers a DecodeResult",
    () => {
      fc.assert(
        fc.property(hostile, fc.constantFrom(...versions), (bytes, v) => {
          const result = onlyProtocolErrors(() => decodePacket(bytes, v));
          if (!(result instanceof ProtocolError)) expect(isDecodeResult(result)).toBe(true);
        }),
        fuzzParameters(600),
      );
    },
    timeout,
  );

  it(
    "leaves the shared parser clean: a valid packet after garbage decodes as on its own",
    () => {
      fc.assert(
        fc.property(hostile, encoded, (garbage, good) => {
          const alone = decodePacket(good.bytes, good.version);
          onlyProtocolErrors(() => decodePacket(garbage, good.version));
          expect(decodePacket(good.bytes, good.version)).toEqual(alone);
        }),
        fuzzParameters(300),
      );
    },
    timeout,
  );

  it(
    "connectSummary and peekConnectProtocol never throw",
    () => {
      fc.assert(
        fc.property(hostile, (bytes) => {
          onlyProtocolErrors(() => connectSummary(bytes));
          onlyProtocolErrors(() => peekConnectProtocol(bytes));
        }),
        fuzzParameters(300),
      );
    },
    timeout,
  );
});

describe("Framer on hostile bytes", () => {
  it(
    "never throws; every packet it returns is whole, within the limit, and decoding it never throws",
    () => {
      fc.assert(
        fc.property(hostile, chunkSizes, fc.integer({ min: 2, max: 400 }), fc.constantFrom(...versions), (bytes, sizes, max, v) => {
          const framer = new Framer(max);
          const out: Uint8Array[] = [];
          let failed = false;
          for (const chunk of chunked(bytes, sizes)) {
            const result = onlyProtocolErrors(() => framer.push(chunk));
            if (result instanceof ProtocolError) return;
            for (const p of result.packets) {
              expect(p.length).toBeLessThanOrEqual(max);
              expect(packetSize(p, 0)).toBe(p.length);
              out.push(p.slice());
              onlyProtocolErrors(() => decodePacket(p, v));
            }
            if (result.error) {
              failed = true;
              break;
            }
          }
          // Without an error, nothing is lost or invented: packets then the partial are the input.
          if (!failed) expect([...concat([...out, framer.partial ?? new Uint8Array(0)])]).toEqual([...bytes]);
        }),
        fuzzParameters(600),
      );
    },
    timeout,
  );

  it(
    "frames a valid stream to the same packets however it is split [MQTT-6.0.0-2]",
    () => {
      fc.assert(
        fc.property(
          version.chain((v) => fc.array(anyPacket(v), { minLength: 1, maxLength: 8 }).map((ps) => ps.map((p) => encodePacket(p, v)))),
          chunkSizes,
          (packets, sizes) => {
            const framer = new Framer(1024 * 1024);
            const out: Uint8Array[] = [];
            for (const chunk of chunked(concat(packets), sizes)) {
              const result = framer.push(chunk);
              expect(result.error).toBeUndefined();
              out.push(...result.packets.map((p) => p.slice()));
            }
            expect(out.map((p) => [...p])).toEqual(packets.map((p) => [...p]));
            expect(framer.partial).toBeNull();
          },
        ),
        fuzzParameters(300),
      );
    },
    timeout,
  );
});

/** The packet's fields that must survive a round trip (payloads compared as bytes). */
function essentials(p: Packet): Record<string, unknown> {
  const bytes = (b: unknown) => (b === undefined ? undefined : [...Buffer.from(b as Uint8Array)]);
  switch (p.cmd) {
    case "publish":
      return { cmd: p.cmd, topic: p.topic, qos: p.qos, retain: p.retain, dup: p.dup, messageId: p.messageId, payload: bytes(p.payload) };
    case "connect":
      return {
        cmd: p.cmd,
        clientId: p.clientId,
        clean: p.clean,
        keepalive: p.keepalive,
        username: p.username,
        password: bytes(p.password),
        will: p.will && { topic: p.will.topic, qos: p.will.qos, retain: p.will.retain, payload: bytes(p.will.payload) },
      };
    case "subscribe":
      return { cmd: p.cmd, messageId: p.messageId, subscriptions: p.subscriptions.map((s) => ({ topic: s.topic, qos: s.qos })) };
    case "unsubscribe":
      return { cmd: p.cmd, messageId: p.messageId, unsubscriptions: p.unsubscriptions };
    default:
      return { cmd: p.cmd, messageId: p.messageId };
  }
}

/** A decoded packet without its `length`, buffers as byte lists. */
function comparable(p: Packet): unknown {
  const { length: _, ...rest } = p;
  return JSON.parse(JSON.stringify(rest, (_k, value: unknown) => (value && typeof value === "object" && (value as { type?: string }).type === "Buffer" ? (value as { data: number[] }).data : value)));
}

describe("encode → decode round trips", () => {
  for (const v of [4, 5] as const) {
    it(
      `MQTT ${v === 4 ? "3.1.1" : "5.0"}: every generated packet decodes to itself, and re-encoding is a fixed point`,
      () => {
        fc.assert(
          fc.property(anyPacket(v), (packet) => {
            const bytes = encodePacket(packet, v);
            const decoded = decodePacket(bytes, packet.cmd === "connect" ? undefined : v);
            if (!decoded.ok) throw new Error(`decode failed: ${decoded.error} ${decoded.detail}`);
            expect(essentials(decoded.packet)).toEqual(essentials(packet));
            // Decoded once, it is a fixed point (the bytes may differ: MQTT 5 lets an encoder leave
            // out a reason code 0 with no properties).
            const again = decodePacket(encodePacket(decoded.packet, v), packet.cmd === "connect" ? undefined : v);
            expect(again.ok && comparable(again.packet)).toEqual(comparable(decoded.packet));
          }),
          fuzzParameters(400),
        );
      },
      timeout,
    );
  }

  it(
    "a CONNECT's summary agrees with its decoding",
    () => {
      fc.assert(
        fc.property(
          version.chain((v) => connectPacket(v)),
          (packet) => {
            if (packet.cmd !== "connect") return;
            const summary = connectSummary(encodePacket(packet, packet.protocolVersion as Version));
            expect(summary).toMatchObject({ clientId: packet.clientId, version: packet.protocolVersion, keepalive: packet.keepalive });
            expect(summary?.problemInformation).toBe(packet.properties?.requestProblemInformation !== false);
          },
        ),
        fuzzParameters(200),
      );
    },
    timeout,
  );
});

describe("EdgeConnection (pipe and gateway) on hostile bytes", () => {
  it(
    "never throws, whatever the client sends and however the session answers",
    () => {
      const options = { maxPacketSize: 512, maxHeldBytes: 2048, connectTimeoutMs: 10_000, stallTimeoutMs: 30_000, enforceKeepalive: true, flowWindowBytes: 256, maxClientIdBytes: 64 };
      const input = fc.oneof(
        version.chain((v) => fc.tuple(connectPacket(v), fc.array(clientPacket(v), { maxLength: 6 })).map(([c, ps]) => concat([encodePacket(c, v), ...ps.map((p) => encodePacket(p, v))]))),
        hostile,
      );
      fc.assert(
        fc.property(input, hostile, chunkSizes, fc.boolean(), (bytes, upstream, sizes, accept) => {
          const edge = new EdgeConnection(options, 0);
          let now = 0;
          for (const chunk of chunked(bytes, sizes)) {
            now += 100;
            const actions = onlyProtocolErrors(() => edge.fromClient(chunk, now));
            if (actions instanceof ProtocolError) return;
            if (actions.some((a) => a.type === "open")) {
              onlyProtocolErrors(() => edge.upstreamOpened());
              onlyProtocolErrors(() => edge.fromUpstream(accept ? Uint8Array.of(0x20, 0x02, 0x00, 0x00) : upstream, now));
            }
          }
          onlyProtocolErrors(() => edge.timer(now + 60_000));
        }),
        fuzzParameters(300),
      );
    },
    timeout,
  );
});
