/**
 * Cuts a byte stream into whole MQTT packets. WebSocket frames and TCP reads may split a packet
 * or carry several (MQTT-6.0.0-2), so the framer keeps the partial tail between pushes; the shell
 * saves that tail so it survives hibernation. A slow drip of a large packet costs O(n): the tail
 * lives in one buffer that grows geometrically (never past the packet's declared size), and a
 * completed packet is that buffer, not a further copy.
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

/** The longest fixed header: one type byte and four length bytes. */
const MAX_HEADER = 5;

/**
 * Partials up to this size are handed out as their own exact buffer: a structured clone (the
 * session object's hibernation attachment, which keeps partials up to 8 KiB) copies a view's whole
 * ArrayBuffer, room to grow included.
 */
export const EXACT_PARTIAL_LIMIT = 8 * 1024;

export class Framer {
  /** The partial packet is `buffer[0, filled)`; the rest of `buffer` is room to grow. */
  private buffer: Uint8Array | null = null;
  private filled = 0;
  /** Declared size of the partial packet, 0 while its header is incomplete. */
  private size = 0;
  private copied = 0;

  constructor(
    private readonly maxPacketSize: number,
    partial: Uint8Array | null = null,
  ) {
    if (partial && partial.length > 0) {
      // Adopted as is: it is full, so the next append moves it into a buffer of our own.
      this.buffer = partial;
      this.filled = partial.length;
    }
  }

  /**
   * Bytes of an incomplete packet waiting for more frames (null when none): up to
   * EXACT_PARTIAL_LIMIT a buffer of exactly that size (a copy, the reader's cost), beyond it a view.
   */
  get partial(): Uint8Array | null {
    if (this.filled === 0) return null;
    const view = this.buffer!.subarray(0, this.filled);
    return this.filled <= EXACT_PARTIAL_LIMIT && this.buffer!.length !== this.filled ? view.slice() : view;
  }

  /** Size of the incomplete packet's bytes so far, 0 when none (no copy). */
  get partialLength(): number {
    return this.filled;
  }

  /** Bytes copied while framing (`partial`'s copies are not counted): linear in the bytes pushed. */
  get bytesCopied(): number {
    return this.copied;
  }

  push(chunk: Uint8Array): FramerResult {
    const packets: Uint8Array[] = [];
    let offset = 0;
    if (this.filled > 0) {
      // First finish the partial packet with the start of this chunk.
      if (this.size === 0) {
        const size = this.pendingSize(chunk);
        if (size === "malformed-length") return { packets, error: size };
        if (size > this.maxPacketSize) return { packets, error: "too-large", declaredSize: size };
        this.size = size;
      }
      // Size still 0: the header itself is incomplete, so the whole (tiny) chunk belongs to it.
      offset = this.size === 0 ? chunk.length : Math.min(this.size - this.filled, chunk.length);
      this.append(chunk.subarray(0, offset));
      if (this.size === 0 || this.filled < this.size) return { packets };
      packets.push(this.buffer!.subarray(0, this.size));
      this.buffer = null;
      this.filled = 0;
      this.size = 0;
    }
    // Whole packets inside the chunk are views of it, not copies.
    while (offset < chunk.length) {
      const size = packetSize(chunk, offset);
      if (size === "malformed-length") return { packets, error: size };
      if (size > this.maxPacketSize) return { packets, error: "too-large", declaredSize: size };
      if (size === 0 || offset + size > chunk.length) {
        this.size = size;
        break;
      }
      packets.push(chunk.subarray(offset, offset + size));
      offset += size;
    }
    if (offset < chunk.length) this.append(chunk.subarray(offset));
    return { packets };
  }

  /** The declared size of the partial packet, reading its header across the partial and `chunk`. */
  private pendingSize(chunk: Uint8Array): number | "malformed-length" {
    const head = new Uint8Array(Math.min(MAX_HEADER, this.filled + chunk.length));
    const fromPartial = Math.min(this.filled, head.length);
    head.set(this.buffer!.subarray(0, fromPartial));
    head.set(chunk.subarray(0, head.length - fromPartial), fromPartial);
    return packetSize(head, 0);
  }

  /**
   * Adds bytes to the partial packet. The buffer doubles when full, capped at the declared size:
   * every byte is copied a bounded number of times, and memory stays within twice what arrived.
   */
  private append(bytes: Uint8Array): void {
    const needed = this.filled + bytes.length;
    if (!this.buffer || this.buffer.length < needed) {
      let capacity = Math.max(needed, 2 * (this.buffer?.length ?? 0), 64);
      if (this.size > 0) capacity = Math.min(capacity, this.size);
      const grown = new Uint8Array(capacity);
      if (this.buffer && this.filled > 0) grown.set(this.buffer.subarray(0, this.filled));
      this.copied += this.filled;
      this.buffer = grown;
    }
    this.buffer.set(bytes, this.filled);
    this.copied += bytes.length;
    this.filled = needed;
  }
}
