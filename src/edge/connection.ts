/**
 * The edge connection: what stands between one client and its session object — the Worker pipe
 * for stock WebSocket clients, the gateway's bridge for TCP clients — as one machine with no I/O.
 * It frames the client's bytes into whole packets, waits for CONNECT, holds what follows while the
 * upstream socket opens, then forwards packets upstream. Once the session's CONNACK accepted the
 * connection it answers PINGREQ itself and enforces the keepalive, so a client that only pings
 * never wakes its session object; on expiry it closes both sides, and the session, seeing the
 * connection lost, publishes the will. Time comes in as `now`; the shell keeps one timer at
 * `nextDeadline()` and calls `timer(now)` when it fires (as the session core does).
 */
import { connectSummary, decodePacket, encodePacket, type ProtocolVersion } from "../protocol/codec/codec.js";
import { Framer } from "../protocol/codec/framer.js";
import { Reason, type ReasonCode } from "../protocol/errors.js";
import { utf8Length } from "../protocol/topic/validate.js";
import { serverDisconnect } from "../protocol/session/wire.js";
import { joinPackets } from "./join.js";

export interface EdgeOptions {
  /** Largest packet accepted from the client. */
  maxPacketSize: number;
  /** Bytes held (the CONNECT and what follows) while the upstream opens; beyond it the connection is closed. */
  maxHeldBytes: number;
  /** Milliseconds to complete a CONNECT and have the upstream open. */
  connectTimeoutMs: number;
  /** Milliseconds a half-received packet may wait for more bytes (reset by every byte); null: no limit. */
  stallTimeoutMs: number | null;
  /**
   * False when another edge in front of this one (our gateway, through the Worker pipe) already
   * answers PINGREQ and enforces the keepalive: PINGREQ is then forwarded like any packet.
   */
  enforceKeepalive: boolean;
  /**
   * Flow control towards the session (null: none): at most this many bytes go upstream before
   * the session has answered a probe (a PINGREQ of our own; it handles packets in order, so its
   * PINGRESP means it has taken everything before). Past a window the shell stops reading the
   * client (`paused`), so a client that writes faster than its session takes is slowed down by
   * TCP instead of filling the runtime's memory. Only an edge that answers the client's own
   * PINGREQs can tell the PINGRESPs apart.
   */
  flowWindowBytes: number | null;
  /**
   * Longest client id, in UTF-8 bytes. A longer one is refused here with CONNACK 0x85 (5.0) /
   * 0x02 (3.1.1) and the connection closed: an id names the session object and rides in its route
   * header and socket attachment, which must never see one that cannot fit.
   */
  maxClientIdBytes: number;
  /**
   * The id the upgrade named (`?clientId=`) when it was too long to go straight to its session:
   * a CONNECT must carry the same one, as the session object checks on the direct path.
   */
  clientIdHint?: string;
}

/** What the shell must do, in order. Close codes are WebSocket ones (RFC 6455 §7.4.1). */
export type EdgeAction =
  /** Open the upstream socket to the session of `clientId` (null: the CONNECT did not decode). */
  | { type: "open"; clientId: string | null }
  /** Whole packets for the session object, in the client's order. */
  | { type: "toUpstream"; bytes: Uint8Array }
  | { type: "toClient"; bytes: Uint8Array }
  /** Close both sides; nothing follows. */
  | { type: "close"; code: number; reason: string };

type Phase = "awaiting-connect" | "opening" | "awaiting-connack" | "accepted" | "refused" | "closed";

/** [MQTT-3.12.4-1]: the answer to PINGREQ. */
const PINGRESP = Uint8Array.of(0xd0, 0x00);
/** The probe of the flow control (see `EdgeOptions.flowWindowBytes`). */
const PINGREQ = Uint8Array.of(0xc0, 0x00);
/** The first packet the session sends is CONNACK, a few bytes even with MQTT 5 properties. */
const MAX_CONNACK = 64 * 1024;

export class EdgeConnection {
  private phase: Phase = "awaiting-connect";
  private readonly framer: Framer;
  /** Reads the upstream's first packet (the CONNACK); dropped once it has. */
  private downstream: Framer | null = null;
  private readonly connectBy: number;
  /** Bytes sent upstream since the last probe, and whether a probe awaits its answer. */
  private unconfirmed = 0;
  private probing = false;
  private held: Uint8Array[] = [];
  private heldSize = 0;
  private version: ProtocolVersion = 4;
  /** MQTT 5: whether the client wants Reason Strings, and the largest packet it accepts. */
  private problemInformation = true;
  private clientMaximumPacketSize: number | undefined;
  /** Seconds; 0 = off. The client's, or MQTT 5's Server Keep Alive once CONNACK said so. */
  private keepalive = 0;
  private lastPacketAt: number;
  /** When the keepalive is next checked; it moves only when checked, so packets cost no timer changes. */
  private keepaliveCheckAt: number | undefined;
  private lastBytesAt: number;
  private stallCheckAt: number | undefined;

  constructor(
    private readonly options: EdgeOptions,
    now: number,
  ) {
    this.framer = new Framer(options.maxPacketSize);
    this.connectBy = now + options.connectTimeoutMs;
    this.lastPacketAt = now;
    this.lastBytesAt = now;
  }

  get closed(): boolean {
    return this.phase === "closed";
  }

  /** Bytes held while the upstream opens (the gateway stops reading past its buffer limit). */
  get heldBytes(): number {
    return this.heldSize;
  }

  /** Bytes from the client, in any split (MQTT-6.0.0-2). */
  fromClient(bytes: Uint8Array, now: number): EdgeAction[] {
    if (this.phase === "closed") return [];
    this.lastBytesAt = now;
    const result = this.framer.push(bytes);
    const actions: EdgeAction[] = [];
    const upstream: Uint8Array[] = [];
    for (const packet of result.packets) {
      // Any packet counts for the keepalive, not only PINGREQ [MQTT-3.1.2-24] (3.1.1), [MQTT-3.1.2-22] (5.0).
      this.lastPacketAt = now;
      if (this.phase === "awaiting-connect") {
        // The first packet must be CONNECT [MQTT-3.1.0-1].
        if (packet[0]! >> 4 !== 1) return this.close(1002, "first packet was not CONNECT");
        const connect = connectSummary(packet);
        if (connect) {
          this.version = connect.version;
          this.keepalive = connect.keepalive;
          this.problemInformation = connect.problemInformation;
          this.clientMaximumPacketSize = connect.maximumPacketSize;
          const refused = this.refusedClientId(connect.clientId);
          if (refused) return this.refuseConnect(refused);
        }
        this.phase = "opening";
        actions.push({ type: "open", clientId: connect ? connect.clientId : null });
        this.hold(packet);
      } else if (this.phase === "opening") {
        this.hold(packet);
      } else if (this.phase === "accepted" && this.options.enforceKeepalive && isPingreq(packet)) {
        // Answered here, never waking the session [MQTT-3.12.4-1]. It goes to the client only, so
        // it cannot overtake anything the session sent: that was relayed as it arrived.
        actions.push({ type: "toClient", bytes: PINGRESP });
      } else {
        upstream.push(packet);
      }
    }
    if (upstream.length > 0) actions.push(this.toUpstream(joinPackets(upstream)));
    if (this.heldSize > this.options.maxHeldBytes) {
      return [...actions, ...this.close(1008, `more than ${this.options.maxHeldBytes} bytes sent before the session opened`)];
    }
    if (result.error) {
      const tooLarge = result.error === "too-large";
      const what = tooLarge ? `a packet of ${result.declaredSize} bytes (over ${this.options.maxPacketSize})` : "a malformed remaining length";
      return [...actions, ...this.fail(tooLarge ? Reason.PacketTooLarge : Reason.MalformedPacket, `bad input: ${what}`)];
    }
    if (this.framer.partialLength === 0) this.stallCheckAt = undefined;
    else if (this.options.stallTimeoutMs !== null) this.stallCheckAt ??= now + this.options.stallTimeoutMs;
    return actions;
  }

  /** A text frame: MQTT travels in binary frames only [MQTT-6.0.0-1]. */
  clientText(): EdgeAction[] {
    if (this.phase === "closed") return [];
    return this.fail(Reason.MalformedPacket, "MQTT requires binary frames", 1003);
  }

  /** The upstream socket is open: the CONNECT and whatever followed it go first, in order. */
  upstreamOpened(): EdgeAction[] {
    if (this.phase !== "opening") return [];
    this.phase = "awaiting-connack";
    this.downstream = new Framer(MAX_CONNACK);
    const bytes = joinPackets(this.held);
    this.held = [];
    this.heldSize = 0;
    return [{ type: "toUpstream", bytes }];
  }

  /** Whether the shell should stop reading the client until the session answered a probe. */
  get paused(): boolean {
    return this.probing && this.unconfirmed >= (this.options.flowWindowBytes ?? Infinity);
  }

  /** Packets for the session, with a probe after them when a window of bytes went unconfirmed. */
  private toUpstream(bytes: Uint8Array): EdgeAction {
    const window = this.options.flowWindowBytes;
    if (window === null || !this.options.enforceKeepalive || this.phase !== "accepted") return { type: "toUpstream", bytes };
    this.unconfirmed += bytes.length;
    if (this.probing || this.unconfirmed < window) return { type: "toUpstream", bytes };
    this.probing = true;
    this.unconfirmed = 0;
    return { type: "toUpstream", bytes: joinPackets([bytes, PINGREQ]) };
  }

  /** Bytes from the session object: relayed at once; the first packet (CONNACK) is read on the way. */
  fromUpstream(bytes: Uint8Array, now: number): EdgeAction[] {
    if (this.phase === "closed") return [];
    // The answer to our probe (the session sends one packet per frame): not the client's.
    if (this.probing && bytes.length === 2 && bytes[0] === 0xd0 && bytes[1] === 0x00) {
      this.probing = false;
      // A full window already waits: probe again at once.
      if (this.unconfirmed >= (this.options.flowWindowBytes ?? Infinity)) {
        this.probing = true;
        this.unconfirmed = 0;
        return [{ type: "toUpstream", bytes: PINGREQ }];
      }
      return [];
    }
    if (this.downstream) {
      const result = this.downstream.push(bytes);
      const [first] = result.packets;
      if (first) this.connack(first, now);
      else if (result.error) this.settle("refused");
    }
    return [{ type: "toClient", bytes }];
  }

  /** Either side closed, failed or must go: close both, once. */
  close(code: number, reason: string): EdgeAction[] {
    if (this.phase === "closed") return [];
    this.phase = "closed";
    this.held = [];
    this.heldSize = 0;
    this.downstream = null;
    return [{ type: "close", code, reason }];
  }

  /** When the shell should next call `timer`; null when nothing is due. */
  nextDeadline(): number | null {
    if (this.phase === "closed") return null;
    const waiting = this.phase === "awaiting-connect" || this.phase === "opening";
    const times = [waiting ? this.connectBy : undefined, this.stallCheckAt, this.keepaliveCheckAt];
    const defined = times.filter((t): t is number => t !== undefined);
    return defined.length > 0 ? Math.min(...defined) : null;
  }

  /** Time passed: the CONNECT deadline, a stalled half packet, the keepalive. */
  timer(now: number): EdgeAction[] {
    if (this.phase === "closed") return [];
    if (this.phase === "awaiting-connect" && now >= this.connectBy) return this.close(1002, "no CONNECT in time");
    if (this.phase === "opening" && now >= this.connectBy) return this.close(1011, "the session did not open in time");
    if (this.stallCheckAt !== undefined && now >= this.stallCheckAt) {
      const due = this.lastBytesAt + this.options.stallTimeoutMs!;
      if (this.framer.partialLength > 0 && now >= due) return this.close(1008, `half a packet stalled for ${this.options.stallTimeoutMs! / 1000} s`);
      this.stallCheckAt = this.framer.partialLength > 0 ? due : undefined;
    }
    if (this.keepaliveCheckAt !== undefined && now >= this.keepaliveCheckAt) {
      const due = this.lastPacketAt + this.keepalive * 1500;
      // 1.5 × the keepalive without a packet ends the connection [MQTT-3.1.2-24] (3.1.1), [MQTT-3.1.2-22] (5.0).
      if (now >= due) return this.fail(Reason.KeepAliveTimeout, "keepalive expired");
      this.keepaliveCheckAt = due;
    }
    return [];
  }

  /** Why the CONNECT's client id may not reach a session object, if it may not. */
  private refusedClientId(clientId: string): string | null {
    // The server may refuse an id (MQTT 5 §3.1.3.1), 3.1.1 [MQTT-3.1.3-8].
    if (utf8Length(clientId) > this.options.maxClientIdBytes) return `client id longer than ${this.options.maxClientIdBytes} bytes (MAX_CLIENT_ID_LENGTH)`;
    const hint = this.options.clientIdHint;
    if (hint !== undefined && clientId !== hint) return "client id does not match the one in the URL";
    return null;
  }

  /** CONNACK 0x85 Client Identifier not valid (5.0) / 0x02 Identifier rejected (3.1.1), then close [MQTT-3.2.2-5]. */
  private refuseConnect(why: string): EdgeAction[] {
    const connack = this.version === 5 ? Uint8Array.of(0x20, 0x03, 0x00, Reason.ClientIdentifierNotValid, 0x00) : Uint8Array.of(0x20, 0x02, 0x00, 0x02);
    return [{ type: "toClient", bytes: connack }, ...this.close(1002, why)];
  }

  private hold(packet: Uint8Array): void {
    this.held.push(packet);
    this.heldSize += packet.length;
  }

  /** The session's first packet says whether it took the connection, and its Server Keep Alive. */
  private connack(packet: Uint8Array, now: number): void {
    const decoded = decodePacket(packet, this.version);
    const connack = decoded.ok && decoded.packet.cmd === "connack" ? decoded.packet : undefined;
    if (!connack || (connack.reasonCode ?? connack.returnCode ?? 0) !== 0) {
      this.settle("refused");
      return;
    }
    this.settle("accepted");
    if (!this.options.enforceKeepalive) return;
    // Server Keep Alive replaces the client's keepalive [MQTT-3.2.2-21]; without it the client's
    // stands [MQTT-3.2.2-22].
    const serverKeepAlive = this.version === 5 ? connack.properties?.serverKeepAlive : undefined;
    if (serverKeepAlive !== undefined) this.keepalive = serverKeepAlive;
    // Counted from acceptance: until then the client had nothing to keep alive.
    this.lastPacketAt = Math.max(this.lastPacketAt, now);
    if (this.keepalive > 0) this.keepaliveCheckAt = this.lastPacketAt + this.keepalive * 1500;
  }

  /**
   * A refused connection (or one whose first packet was not a CONNACK) is the session's to
   * close: the edge relays, answers nothing and times nothing.
   */
  private settle(phase: "accepted" | "refused"): void {
    this.phase = phase;
    this.downstream = null;
  }

  /** Ends the connection; an accepted MQTT 5 client is told why first (MQTT 5 §4.13, §3.14.2.1). */
  private fail(reason: ReasonCode, why: string, code = 1002): EdgeAction[] {
    const tell = this.phase === "accepted" && this.version === 5;
    const actions: EdgeAction[] = tell ? [{ type: "toClient", bytes: this.disconnect(reason, why) }] : [];
    return [...actions, ...this.close(code, why)];
  }

  /**
   * DISCONNECT with the reason code, and the Reason String when the client wants problem
   * information and the packet stays within its Maximum Packet Size [MQTT-3.1.2-24]; otherwise
   * the 3-byte form.
   */
  private disconnect(reason: ReasonCode, why: string): Uint8Array {
    const bare = Uint8Array.of(0xe0, 0x01, reason);
    const packet = this.problemInformation ? serverDisconnect(5, reason, why) : null;
    if (!packet) return bare;
    const full = encodePacket(packet, 5);
    return this.clientMaximumPacketSize === undefined || full.byteLength <= this.clientMaximumPacketSize ? full : bare;
  }
}

/** Exactly PINGREQ: type 12, flags 0, no body. Anything else of type 12 is the session's to reject. */
function isPingreq(packet: Uint8Array): boolean {
  return packet.length === 2 && packet[0] === 0xc0 && packet[1] === 0x00;
}
