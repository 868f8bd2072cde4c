import { describe, expect, it } from "vitest";
import { EXACT_PARTIAL_LIMIT, Framer, packetSize } from "./framer.js";

const bytes = (...b: number[]) => Uint8Array.from(b);
const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};
/** A PUBLISH-like packet (type 3) whose body is `bodyLength` bytes of `fill`. */
function packet(bodyLength: number, fill = 0xab): Uint8Array {
  const header = [0x30];
  let n = bodyLength;
  do {
    let digit = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) digit |= 0x80;
    header.push(digit);
  } while (n > 0);
  return concat(Uint8Array.from(header), new Uint8Array(bodyLength).fill(fill));
}

const PINGREQ = bytes(0xc0, 0x00);
const PUBACK = bytes(0x40, 0x02, 0x00, 0x07);

describe("packetSize", () => {
  it("returns header plus remaining length for one to four length bytes (MQTT 3.1.1 §2.2.3)", () => {
    expect(packetSize(PINGREQ, 0)).toBe(2);
    expect(packetSize(PUBACK, 0)).toBe(4);
    expect(packetSize(bytes(0x30, 0x7f), 0)).toBe(2 + 127);
    expect(packetSize(bytes(0x30, 0x80, 0x01), 0)).toBe(3 + 128);
    expect(packetSize(bytes(0x30, 0xff, 0x7f), 0)).toBe(3 + 16383);
    expect(packetSize(bytes(0x30, 0x80, 0x80, 0x01), 0)).toBe(4 + 16384);
    expect(packetSize(bytes(0x30, 0xff, 0xff, 0xff, 0x7f), 0)).toBe(5 + 268_435_455);
  });

  it("reads the header at the given offset", () => {
    expect(packetSize(concat(PINGREQ, PUBACK), 2)).toBe(4);
  });

  it("returns 0 while the length bytes are incomplete", () => {
    expect(packetSize(bytes(0x30), 0)).toBe(0);
    expect(packetSize(bytes(0x30, 0x80), 0)).toBe(0);
    expect(packetSize(bytes(0x30, 0xff, 0xff, 0xff), 0)).toBe(0);
    expect(packetSize(PINGREQ, 2)).toBe(0);
  });

  it("rejects a fifth remaining-length byte (MQTT 3.1.1 §2.2.3)", () => {
    expect(packetSize(bytes(0x30, 0xff, 0xff, 0xff, 0xff), 0)).toBe("malformed-length");
    expect(packetSize(bytes(0x30, 0x80, 0x80, 0x80, 0x80, 0x01), 0)).toBe("malformed-length");
  });
});

describe("Framer", () => {
  it("returns one packet per complete packet in a single push", () => {
    const framer = new Framer(1024);
    const result = framer.push(PUBACK);
    expect(result.error).toBeUndefined();
    expect(result.packets).toEqual([PUBACK]);
    expect(framer.partial).toBeNull();
  });

  it("splits several packets carried by one push, in order [MQTT-6.0.0-2]", () => {
    const framer = new Framer(1024);
    const big = packet(300, 0x11);
    const result = framer.push(concat(PINGREQ, big, PUBACK, PINGREQ));
    expect(result.packets).toEqual([PINGREQ, big, PUBACK, PINGREQ]);
    expect(framer.partial).toBeNull();
  });

  it("joins a packet split across pushes [MQTT-6.0.0-2]", () => {
    const framer = new Framer(1024);
    const big = packet(200, 0x22);
    const first = framer.push(big.subarray(0, 50));
    expect(first.packets).toEqual([]);
    expect(framer.partial).toEqual(big.subarray(0, 50));
    const second = framer.push(big.subarray(50, 150));
    expect(second.packets).toEqual([]);
    expect(framer.partial?.length).toBe(150);
    const third = framer.push(big.subarray(150));
    expect(third.packets).toEqual([big]);
    expect(framer.partial).toBeNull();
  });

  it("keeps the tail of a push that ends mid-packet and completes it with the next", () => {
    const framer = new Framer(1024);
    const stream = concat(PUBACK, PINGREQ, PUBACK);
    const a = framer.push(stream.subarray(0, 7)); // PUBACK, PINGREQ, first byte of PUBACK
    expect(a.packets).toEqual([PUBACK, PINGREQ]);
    expect(framer.partial).toEqual(bytes(0x40));
    const b = framer.push(stream.subarray(7));
    expect(b.packets).toEqual([PUBACK]);
    expect(framer.partial).toBeNull();
  });

  it("reassembles a stream pushed byte by byte, including a multi-byte length", () => {
    const framer = new Framer(4096);
    const packets = [PINGREQ, packet(129, 0x33), PUBACK, packet(0), packet(1000, 0x44)];
    const stream = concat(...packets);
    const out: Uint8Array[] = [];
    for (let i = 0; i < stream.length; i++) {
      const result = framer.push(stream.subarray(i, i + 1));
      expect(result.error).toBeUndefined();
      out.push(...result.packets.map((p) => p.slice()));
    }
    expect(out).toEqual(packets);
    expect(framer.partial).toBeNull();
  });

  it("reports malformed-length for a fifth remaining-length byte, after the good packets (MQTT 3.1.1 §2.2.3)", () => {
    const framer = new Framer(1024);
    const result = framer.push(concat(PINGREQ, bytes(0x30, 0xff, 0xff, 0xff, 0xff, 0x01)));
    expect(result.packets).toEqual([PINGREQ]);
    expect(result.error).toBe("malformed-length");
  });

  it("reports malformed-length when the fifth length byte arrives in a later push", () => {
    const framer = new Framer(1024);
    expect(framer.push(bytes(0x30, 0x80, 0x80)).error).toBeUndefined();
    expect(framer.push(bytes(0x80)).error).toBeUndefined();
    const result = framer.push(bytes(0x80));
    expect(result.error).toBe("malformed-length");
    expect(result.packets).toEqual([]);
  });

  it("reports too-large from the declared size alone, before the body arrives", () => {
    const framer = new Framer(100);
    // Declares 2 + 99 = 101 bytes; only the fixed header is pushed.
    const result = framer.push(concat(PUBACK, bytes(0x30, 99)));
    expect(result.packets).toEqual([PUBACK]);
    expect(result.error).toBe("too-large");
    expect(result.declaredSize).toBe(101);
  });

  it("reports too-large for a huge declared length with a four-byte header", () => {
    const framer = new Framer(1024 * 1024);
    const result = framer.push(bytes(0x30, 0xff, 0xff, 0xff, 0x7f));
    expect(result.error).toBe("too-large");
    expect(result.declaredSize).toBe(5 + 268_435_455);
  });

  it("accepts a packet of exactly the maximum size", () => {
    const framer = new Framer(100);
    const exact = packet(98);
    expect(exact.length).toBe(100);
    const result = framer.push(exact);
    expect(result.error).toBeUndefined();
    expect(result.packets).toEqual([exact]);
  });

  it("resumes from a saved partial passed to the constructor (hibernation round trip)", () => {
    const big = packet(500, 0x55);
    const before = new Framer(1024);
    expect(before.push(big.subarray(0, 123)).packets).toEqual([]);
    const saved = before.partial!.slice();
    expect(saved).toEqual(big.subarray(0, 123));

    const after = new Framer(1024, saved);
    expect(after.partial).toEqual(saved);
    const result = after.push(concat(big.subarray(123), PINGREQ));
    expect(result.packets).toEqual([big, PINGREQ]);
    expect(after.partial).toBeNull();
  });

  it("treats an empty saved partial as none", () => {
    const framer = new Framer(1024, new Uint8Array(0));
    expect(framer.partial).toBeNull();
    expect(framer.push(PINGREQ).packets).toEqual([PINGREQ]);
  });

  it("returns packets that do not change when later bytes are pushed", () => {
    const framer = new Framer(1024);
    const stream = concat(PUBACK, bytes(0x40, 0x02));
    const [first] = framer.push(stream).packets;
    const copy = first!.slice();
    framer.push(bytes(0x00, 0x09));
    expect(first).toEqual(copy);
  });

  it("completes a packet dripped across many pushes with linear work (no copy of the whole tail per push)", () => {
    const framer = new Framer(2 * 1024 * 1024);
    const big = packet(1024 * 1024 - 4, 0x66); // 1 MiB with its header
    expect(big.length).toBe(1024 * 1024);
    // 100,000 one-byte chunks, then the rest at once.
    let early = 0;
    let seen = 0;
    for (let i = 0; i < 100_000; i++) {
      early += framer.push(big.subarray(i, i + 1)).packets.length;
      seen = framer.partialLength;
    }
    expect(early).toBe(0);
    expect(seen).toBe(100_000);
    const [whole] = framer.push(big.subarray(100_000)).packets;
    expect(Buffer.compare(whole!, big)).toBe(0);
    expect(framer.partial).toBeNull();
    // Copying the tail on every push would be ~5·10⁹ bytes; linear work stays within a few times the packet.
    expect(framer.bytesCopied).toBeLessThanOrEqual(3 * big.length);
  });

  it("copies nothing for packets that arrive whole", () => {
    const framer = new Framer(4096);
    for (let i = 0; i < 1000; i++) framer.push(concat(PUBACK, packet(500), PINGREQ));
    expect(framer.bytesCopied).toBe(0);
  });

  it("copies only what arrived of a partial packet, not its declared size", () => {
    const framer = new Framer(2 * 1024 * 1024);
    framer.push(packet(1024 * 1024).subarray(0, 10));
    expect(framer.bytesCopied).toBe(10);
    expect(framer.partialLength).toBe(10);
  });

  it("hands out a small partial as its own exact buffer, so a structured clone (the hibernation attachment) holds only it", () => {
    const framer = new Framer(2 * 1024 * 1024);
    const big = packet(100_000, 0x77);
    for (let at = 0; at < 20_000; at += 700) {
      framer.push(big.subarray(at, at + 700));
      const partial = framer.partial!;
      expect(partial.length).toBe(at + 700);
      if (partial.length <= EXACT_PARTIAL_LIMIT) {
        expect(partial.buffer.byteLength).toBe(partial.length);
        expect(structuredClone(partial).buffer.byteLength).toBe(partial.length);
      }
      expect(Buffer.compare(partial, big.subarray(0, partial.length))).toBe(0);
    }
  });
});
