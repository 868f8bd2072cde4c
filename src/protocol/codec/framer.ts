/**
 * Cuts a byte stream into whole MQTT packets. WebSocket frames may split a packet or carry
 * several (MQTT-6.0.0-2), so the framer keeps the partial tail between pushes; the shell saves
 * that tail so it survives hibernation.
 */

export type FramerError = "malformed-length" | "too-large";

export interface FramerResult {
  packets: Uint8Array[];
  /** Set when the stream cannot continue; packets before the bad one are still returned. */
  error?: FramerError;
  /** Declared size of the packet that was too large, for the log line. */
  declaredSize?: number;
}

/** Reads the fixed header; returns the packet's total size, 0 if more bytes are needed. */
export function packetSize(buf: Uint8Array, offset: number): number | "malformed-length" {
  let remaining = 0;
  let multiplier = 1;
  for (let i = 1; i <= 4; i++) {
    const at = offset + i;
    if (at >= buf.length) return 0;
    const byte = buf[at]!;
    remaining += (byte & 0x7f) * multiplier;
    if ((byte & 0x80) === 0) return 1 + i + remaining;
    multiplier *= 128;
  }
  // A fifth length byte is never valid (MQTT 3.1.1 §2.2.3, MQTT 5 §1.5.5: at most four bytes).
  return "malformed-length";
}

export class Framer {
  private pending: Uint8Array | null;

  constructor(
    private readonly maxPacketSize: number,
    partial: Uint8Array | null = null,
  ) {
    this.pending = partial && partial.length > 0 ? partial : null;
  }

  /** Bytes of an incomplete packet waiting for more frames (null when none). */
  get partial(): Uint8Array | null {
    return this.pending;
  }

  push(chunk: Uint8Array): FramerResult {
    let buf = chunk;
    if (this.pending) {
      buf = new Uint8Array(this.pending.length + chunk.length);
      buf.set(this.pending, 0);
      buf.set(chunk, this.pending.length);
      this.pending = null;
    }
    const packets: Uint8Array[] = [];
    let offset = 0;
    while (offset < buf.length) {
      const size = packetSize(buf, offset);
      if (size === "malformed-length") return { packets, error: size };
      if (size > this.maxPacketSize) return { packets, error: "too-large", declaredSize: size };
      if (size === 0 || offset + size > buf.length) break;
      packets.push(buf.subarray(offset, offset + size));
      offset += size;
    }
    if (offset < buf.length) this.pending = buf.slice(offset);
    return { packets };
  }
}
