/**
 * A seeded PRNG and byte-level mutations of MQTT packets, shared by the network fuzzer and the
 * property tests: bit flips, byte insertions and deletions, truncation, a random remaining
 * length, a duplicated MQTT 5 property, splicing two packets, random bytes. Deterministic for a
 * given seed, so a failure replays from the seed the fuzzer printed.
 */

/** mulberry32: small, fast, good enough to drive a fuzzer; `next()` is in [0, 1). */
export class Prng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** An integer in [min, max]. */
  range(min: number, max: number): number {
    return min + this.int(max - min + 1);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }
}

/** A seed for case `index` of a run with `seed`: each case replays on its own. */
export function caseSeed(seed: number, index: number): number {
  let h = (seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

export const MUTATIONS = ["bitflip", "insert", "delete", "truncate", "length", "dup-property", "splice", "random", "type"] as const;
export type Mutation = (typeof MUTATIONS)[number];

/** The remaining-length varint of MQTT (§2.2.3 / §1.5.5): 1 to 4 bytes. */
export function encodeLength(n: number): number[] {
  const out: number[] = [];
  do {
    let digit = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) digit |= 0x80;
    out.push(digit);
  } while (n > 0 && out.length < 4);
  return out;
}

/** Where the body of a packet starts (after the type byte and its remaining length), or -1. */
export function bodyOffset(packet: Uint8Array): number {
  for (let i = 1; i <= 4 && i < packet.length; i++) if ((packet[i]! & 0x80) === 0) return i + 1;
  return -1;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The packet with its remaining length rewritten to match its body (after a body mutation). */
export function refitLength(packet: Uint8Array): Uint8Array {
  const body = bodyOffset(packet);
  if (body < 0) return packet;
  const rest = packet.subarray(body);
  return concat([Uint8Array.of(packet[0]!, ...encodeLength(rest.length)), rest]);
}

/**
 * One mutation of `packet`; `other` is another valid packet (for splicing). Body mutations keep
 * the remaining length consistent half of the time, so the damage reaches the decoder rather
 * than only the framer.
 */
export function mutateOnce(rng: Prng, packet: Uint8Array, other: Uint8Array, kind: Mutation = rng.pick(MUTATIONS)): Uint8Array {
  const out = Uint8Array.from(packet);
  const refit = (p: Uint8Array) => (rng.chance(0.5) ? refitLength(p) : p);
  switch (kind) {
    case "bitflip": {
      if (out.length === 0) return out;
      const flips = rng.range(1, 4);
      for (let i = 0; i < flips; i++) {
        const at = rng.int(out.length);
        out[at] = out[at]! ^ (1 << rng.int(8));
      }
      return out;
    }
    case "insert": {
      const at = rng.int(out.length + 1);
      const extra = rng.chance(0.5) ? rng.bytes(rng.range(1, 8)) : Uint8Array.of(rng.pick([0x00, 0xff, 0x7f, 0x80, 0x26, 0x0b, 0x23]));
      return refit(concat([out.subarray(0, at), extra, out.subarray(at)]));
    }
    case "delete": {
      if (out.length <= 1) return out;
      const at = rng.int(out.length);
      const n = rng.range(1, Math.min(8, out.length - at));
      return refit(concat([out.subarray(0, at), out.subarray(at + n)]));
    }
    case "truncate":
      return out.subarray(0, rng.int(Math.max(1, out.length)));
    case "length": {
      // A random remaining length, shorter, longer or absurd, with a body that does not match.
      const body = bodyOffset(out);
      const rest = body < 0 ? new Uint8Array(0) : out.subarray(body);
      const length = rng.pick([0, 1, 2, rest.length - 1, rest.length + 1, rng.int(256), rng.int(1 << 21), 268_435_455]);
      const header = rng.chance(0.1) ? [0xff, 0xff, 0xff, 0xff, 0x7f] : encodeLength(Math.max(0, length));
      return concat([Uint8Array.of(out[0] ?? 0x30, ...header), rest]);
    }
    case "dup-property": {
      // MQTT 5: a property given twice is a protocol error [MQTT-2.2.2-2]; repeat a short run of
      // bytes somewhere after the variable header and fix the property length when we can.
      const body = bodyOffset(out);
      if (body < 0 || out.length - body < 3) return out;
      const at = rng.range(body, out.length - 2);
      const n = rng.range(2, Math.min(9, out.length - at));
      return refitLength(concat([out.subarray(0, at + n), out.subarray(at, at + n), out.subarray(at + n)]));
    }
    case "splice": {
      const cut = rng.int(out.length + 1);
      const from = rng.int(other.length + 1);
      return refit(concat([out.subarray(0, cut), other.subarray(from)]));
    }
    case "random":
      return rng.bytes(rng.range(1, 64));
    case "type": {
      // Another packet type or other fixed-header flags on the same body.
      if (out.length === 0) return out;
      out[0] = rng.chance(0.5) ? (rng.int(16) << 4) | (out[0]! & 0x0f) : (out[0]! & 0xf0) | rng.int(16);
      return out;
    }
  }
}

/** One to three mutations in a row. */
export function mutate(rng: Prng, packet: Uint8Array, other: Uint8Array): Uint8Array {
  let out = packet;
  const n = rng.range(1, 3);
  for (let i = 0; i < n; i++) out = mutateOnce(rng, out, other);
  return out;
}

/** Cuts `bytes` into 1 to `maxChunks` pieces at random points (frames, TCP writes). */
export function split(rng: Prng, bytes: Uint8Array, maxChunks: number): Uint8Array[] {
  if (bytes.length <= 1 || maxChunks <= 1) return [bytes];
  const n = Math.min(bytes.length, rng.range(1, maxChunks));
  const cuts = new Set<number>();
  while (cuts.size < n - 1) cuts.add(rng.range(1, bytes.length - 1));
  const points = [0, ...[...cuts].sort((a, b) => a - b), bytes.length];
  const out: Uint8Array[] = [];
  for (let i = 0; i + 1 < points.length; i++) out.push(bytes.subarray(points[i]!, points[i + 1]!));
  return out;
}

export { concat };
