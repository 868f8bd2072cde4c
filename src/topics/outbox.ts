/**
 * QoS 1/2 messages a topic shard has accepted but not yet handed to every subscriber session.
 * A message row plus one row per pending recipient: the publisher is acknowledged once these are
 * written, and each row is deleted when that session has stored the message.
 */
import type { Message } from "../protocol/message.js";
import type { SyncKv } from "../storage/memory-kv.js";

const SEQ = "seq";
const MSG = "out:";
const PEND = "pend:";
const pad = (seq: number) => seq.toString().padStart(16, "0");

export class Outbox {
  private nextSeq: number;
  private readonly remaining = new Map<number, number>();

  constructor(private readonly kv: SyncKv) {
    this.nextSeq = kv.get<number>(SEQ) ?? 1;
    // Count what each stored message still waits for, so `done` is right from the start.
    for (const { seq } of this.rows()) this.remaining.set(seq, (this.remaining.get(seq) ?? 0) + 1);
  }

  get size(): number {
    return this.remaining.size;
  }

  /** Stores the message for these recipients (client ids or group keys); returns its sequence number. */
  add(message: Message, recipients: Iterable<string>): number {
    const seq = this.nextSeq++;
    this.kv.put(SEQ, this.nextSeq);
    this.kv.put(MSG + pad(seq), message);
    let count = 0;
    for (const recipient of recipients) {
      this.kv.put(`${PEND}${pad(seq)}:${recipient}`, 1);
      count++;
    }
    this.remaining.set(seq, count);
    return seq;
  }

  /** The recipient (a client id, or a shared group key) has these messages now. */
  done(recipient: string, seqs: number[]): void {
    for (const seq of seqs) {
      if (!this.kv.delete(`${PEND}${pad(seq)}:${recipient}`)) continue;
      const left = (this.remaining.get(seq) ?? 1) - 1;
      if (left > 0) {
        this.remaining.set(seq, left);
      } else {
        this.remaining.delete(seq);
        this.kv.delete(MSG + pad(seq));
      }
    }
  }

  /** Everything still pending, in sequence order: for recovery after the object restarts. */
  *pending(): Iterable<{ seq: number; recipient: string; message: Message }> {
    const messages = new Map<number, Message | undefined>();
    for (const { seq, recipient } of this.rows()) {
      if (!messages.has(seq)) messages.set(seq, this.kv.get<Message>(MSG + pad(seq)));
      const message = messages.get(seq);
      if (message) yield { seq, recipient, message };
    }
  }

  private *rows(): Iterable<{ seq: number; recipient: string }> {
    for (const [k] of [...this.kv.list({ prefix: PEND })]) {
      const rest = k.slice(PEND.length);
      yield { seq: Number(rest.slice(0, 16)), recipient: rest.slice(17) };
    }
  }
}
