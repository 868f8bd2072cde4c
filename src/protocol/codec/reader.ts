/**
 * A bounded cursor over the raw bytes of one packet, reading MQTT's data types (§1.5) strictly:
 * a field that runs past its end, a string of ill-formed UTF-8 or with U+0000, is a `Violation`.
 * The checks in validate.ts walk packets with it; mqtt-packet, which decodes them afterwards,
 * reads past bounds and rewrites ill-formed UTF-8 to U+FFFD, so it cannot tell.
 */

/** What a rule broken by a packet leads to: 0x81 Malformed Packet or 0x82 Protocol Error (MQTT 5 §4.13). */
export type ViolationKind = "malformed" | "protocol-error" | "duplicate-property";

export class Violation extends Error {
  constructor(
    readonly kind: ViolationKind,
    /** The normative statement or section broken, e.g. "[MQTT-3.8.3-5]" or "§2.2.2.2". */
    readonly clause: string,
    detail: string,
  ) {
    super(`${detail} ${clause}`);
    this.name = "Violation";
  }
}

export const malformed = (clause: string, detail: string): Violation => new Violation("malformed", clause, detail);
export const protocolError = (clause: string, detail: string): Violation => new Violation("protocol-error", clause, detail);

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

export class ByteReader {
  constructor(
    private readonly bytes: Uint8Array,
    public pos: number,
    /** One past the last byte this reader may read. */
    readonly end: number,
    /** Whose rules the strings obey: MQTT 5 [MQTT-1.5.4-1/-2] or 3.1.1 [MQTT-1.5.3-1/-2]. */
    readonly v5: boolean,
  ) {}

  get remaining(): number {
    return this.end - this.pos;
  }

  get atEnd(): boolean {
    return this.pos >= this.end;
  }

  /** A reader over the next `length` bytes, which this one skips. */
  take(length: number, what: string): ByteReader {
    this.need(length, what);
    const sub = new ByteReader(this.bytes, this.pos, this.pos + length, this.v5);
    this.pos += length;
    return sub;
  }

  byte(what: string): number {
    this.need(1, what);
    return this.bytes[this.pos++]!;
  }

  u16(what: string): number {
    this.need(2, what);
    const value = (this.bytes[this.pos]! << 8) | this.bytes[this.pos + 1]!;
    this.pos += 2;
    return value;
  }

  u32(what: string): number {
    this.need(4, what);
    const b = this.bytes;
    const value = b[this.pos]! * 2 ** 24 + ((b[this.pos + 1]! << 16) | (b[this.pos + 2]! << 8) | b[this.pos + 3]!);
    this.pos += 4;
    return value;
  }

  /** A Variable Byte Integer (§1.5.5): at most four bytes. */
  varint(what: string): number {
    let value = 0;
    for (let i = 0; i < 4; i++) {
      const b = this.byte(what);
      value += (b & 0x7f) * 128 ** i;
      if ((b & 0x80) === 0) return value;
    }
    throw malformed("§1.5.5", `${what}: a Variable Byte Integer of more than four bytes`);
  }

  /** Binary Data (§1.5.6): a two-byte length, then that many bytes. */
  binary(what: string): Uint8Array {
    const length = this.u16(what);
    this.need(length, what);
    const value = this.bytes.subarray(this.pos, this.pos + length);
    this.pos += length;
    return value;
  }

  /**
   * A UTF-8 Encoded String (§1.5.4 / 3.1.1 §1.5.3): well-formed UTF-8 without U+0000, or the
   * packet is malformed (5.0) / the connection is closed (3.1.1).
   */
  string(what: string, inPair = false): string {
    const raw = this.binary(what);
    let text: string;
    try {
      text = strictUtf8.decode(raw);
    } catch {
      // The strings of a UTF-8 String Pair obey the same rules [MQTT-1.5.7-1].
      throw malformed(inPair ? "[MQTT-1.5.7-1]" : this.v5 ? "[MQTT-1.5.4-1]" : "[MQTT-1.5.3-1]", `${what} is not well-formed UTF-8`);
    }
    if (text.includes("\u0000")) throw malformed(inPair ? "[MQTT-1.5.7-1]" : this.v5 ? "[MQTT-1.5.4-2]" : "[MQTT-1.5.3-2]", `${what} contains U+0000`);
    return text;
  }

  private need(length: number, what: string): void {
    if (this.pos + length > this.end) throw malformed(this.v5 ? "§1.2" : "[MQTT-4.8.0-1]", `${what} runs past the end of its packet or field`);
  }
}
