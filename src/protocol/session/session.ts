/**
 * The session core: one client's MQTT session as a state machine with no I/O. The shell feeds it
 * decoded packets, deliveries from topic shards, connection loss and the passing of time; it
 * answers with actions. One dispatcher owns the connection-state guard; each packet type has a
 * handler in ./handlers.
 */
import type { Packet } from "mqtt-packet";
import type { BrokerConfig } from "../../config.js";
import type { Action } from "../actions.js";
import { type DecodeResult, encodePacket, type ProtocolVersion } from "../codec/codec.js";
import { ProtocolError, Reason, type ReasonCode } from "../errors.js";
import { isExpired, messageBytes, minQoS, type Delivery, type DeliveryOutcome, type Message, type QoS } from "../message.js";
import { getOwn } from "./own-keys.js";
import { handleAuth } from "./handlers/auth.js";
import { handleConnect, type ConnectRoute } from "./handlers/connect.js";
import { handleDisconnect } from "./handlers/disconnect.js";
import { handlePuback, handlePubcomp, handlePubrec } from "./handlers/acks.js";
import { handlePublish, handlePubrel, publishNotRouted, publishRouted, type PublishRoute } from "./handlers/publish.js";
import { handleSubscribe, type PendingSubscribe, subscribed } from "./handlers/subscribe.js";
import { handleUnsubscribe } from "./handlers/unsubscribe.js";
import { deliver } from "./deliver.js";
import { RateBudget } from "./rate-budget.js";
import { Marks } from "./marks.js";
import { MutedShards } from "./muted.js";
import { Takeovers } from "./takeovers.js";
import { RecentSubscriptions } from "./recent-subscriptions.js";
import { PendingWills } from "./pending-wills.js";
import { type Outcome, PendingRoutes } from "./pending-routes.js";
import { SharedTaken } from "./shared-taken.js";
import type { AuthVerdict } from "./auth-verdict.js";
import type { TopicRights } from "../../auth/authorizer.js";
import { type DropReason, Outbound } from "./outbound.js";
import { buildPublish, type OutgoingPublish } from "./publish-out.js";
import { NEVER_EXPIRES, sessionExpired, type ConnectionState, type OutboundEntry, type SessionRecord, type Subscription, type TopicAliases, type Will } from "./state.js";
import type { PendingWill, SessionStore } from "./store.js";
import { fitConnack, serverDisconnect } from "./wire.js";

export type SessionConfig = BrokerConfig;

/** Before a CONNECT is accepted, a connection may do nothing. */
const NO_RIGHTS: TopicRights = { check: () => false };
export type { ConnectRoute };

/** A message held in memory for the client is stored after this long without its PUBACK. */
export const SPILL_AFTER_MS = 5000;

/** A route the session waits for: a client's QoS 1/2 message, or a will (see PendingRoutes). */
export type RouteCompletion = PublishRoute | { kind: "will"; topic: string; willId: number };

/** A SUBSCRIBE or UNSUBSCRIBE waiting for its topic shards. */
export type PendingShardCall = PendingSubscribe | { kind: "unsubscribe"; unsuback: Action };

/** Where a delivery came from, for the topic shard's release point. */
export interface Origin {
  shard: string;
  seq: number;
}

export class Session {
  /** Undefined when no session exists (never connected, or it ended). */
  record: SessionRecord | undefined;
  /** The live connection, if any. */
  current: ConnectionState | null = null;
  outbound: Outbound;
  marks: Marks;
  sharedTaken: SharedTaken;
  readonly muted: MutedShards;
  readonly takeovers = new Takeovers();
  readonly recentSubscriptions = new RecentSubscriptions();
  readonly wills: PendingWills;
  aliases: TopicAliases;
  /** What the live connection may still be sent of QoS 0 messages (memory only; see RateBudget). */
  private qos0Budget: { connId: string; budget: RateBudget } | undefined;
  /** What the live connection may still publish, in messages and bytes (memory only). */
  private publishBudget: { connId: string; messages: RateBudget; bytes: RateBudget } | undefined;
  /** QoS 2 packet ids from the client whose route is still under way (memory only). */
  qos2InFlight = new Set<number>();
  /** QoS 1 messages from the client whose route is under way, and their bytes (memory only). */
  inbound = { count: 0, bytes: 0 };
  /** The stamp of the client's last PUBLISH (`Message.stamp`; memory only, see `stampPublish`). */
  private lastStamp = 0;
  /** Routes under way whose completion the session waits for, in the order issued (memory only). */
  private routes = new PendingRoutes<RouteCompletion>();
  /** SUBSCRIBEs and UNSUBSCRIBEs waiting for their shards (memory only; the shell awaits each). */
  private shardCalls = new Map<number, PendingShardCall>();
  private nextShardCall = 1;
  /** Sockets that have not sent CONNECT yet, and when they must have (memory; the shell restores it after waking). */
  private awaitingConnect = new Map<string, number>();

  constructor(
    readonly store: SessionStore,
    readonly config: SessionConfig,
  ) {
    this.record = store.readSession();
    this.outbound = new Outbound(store, config);
    this.marks = new Marks(store);
    this.sharedTaken = new SharedTaken(store);
    this.muted = new MutedShards(store);
    this.wills = new PendingWills(store);
    this.aliases = store.readAliases() ?? { inbound: {}, outbound: {} };
    // Stamps never go back below a stored subscription's mark, whatever the clock of this instance.
    for (const sub of Object.values(this.record?.subscriptions ?? {})) this.lastStamp = Math.max(this.lastStamp, sub.madeAfter ?? 0);
  }

  /**
   * A stamp for the client's next PUBLISH: above every earlier one. Microseconds of the clock
   * when that is higher, so an object that restarts (losing the count) still goes on above what
   * it stamped before; a subscription's `madeAfter` is the last stamp when it was made.
   */
  stampPublish(now: number): number {
    this.lastStamp = Math.max(now * 1000, this.lastStamp + 1);
    return this.lastStamp;
  }

  /** The stamp of the client's last PUBLISH so far (0: none). */
  get publishedUpTo(): number {
    return this.lastStamp;
  }

  /** Re-attaches the live connection after the object woke from hibernation, with its rights found again. */
  restore(conn: ConnectionState, rights: TopicRights): void {
    this.current = conn;
    this.rights = rights;
  }

  /** What the live connection may publish, subscribe to and receive (see AuthVerdict). */
  rights: TopicRights = NO_RIGHTS;

  /**
   * A new socket `connId`: it must send CONNECT within CONNECT_TIMEOUT or it is closed (§3.1:
   * the server SHOULD; see `timer`). An edge in front (the Worker pipe, the gateway) enforces
   * that itself and opens the socket only once it has the CONNECT: no deadline then. Returns the
   * deadline, for the shell to keep across hibernation (`restoreAwaitingConnect`).
   */
  opened(connId: string, route: ConnectRoute, now: number): number | undefined {
    if (route.edgeKeepalive) return undefined;
    const by = now + this.config.connectTimeoutMs;
    this.awaitingConnect.set(connId, by);
    return by;
  }

  /**
   * The shell rebuilt the core from storage (a delivery failed half way, see SessionDO): what
   * only memory held of the work under way comes along, so that work still completes as before
   * (PUBACK, PUBREC, SUBACK, UNSUBACK; CONNECT deadlines). Work of the session `old` had then is
   * the new core's session's; any older stays older.
   */
  carryOver(old: Session): void {
    const from = old.record;
    const to = this.record;
    const moved = from !== undefined && to !== undefined;
    const rebind = <T extends { record?: SessionRecord | undefined }>(v: T): T => (moved && v.record === from ? { ...v, record: to } : v);
    old.routes.rebind((v) => (v.kind === "will" ? v : rebind(v)));
    this.routes = old.routes;
    this.shardCalls = new Map([...old.shardCalls].map(([id, call]) => [id, call.kind === "subscribe" ? rebind(call) : call]));
    this.nextShardCall = old.nextShardCall;
    this.awaitingConnect = old.awaitingConnect;
    if (moved) {
      this.inbound = old.inbound;
      this.qos2InFlight = old.qos2InFlight;
    }
  }

  /** After waking from hibernation: socket `connId` still has until `by` to send its CONNECT. */
  restoreAwaitingConnect(connId: string, by: number): void {
    if (this.current?.connId !== connId) this.awaitingConnect.set(connId, by);
  }

  /**
   * One packet (or decode failure) from connection `connId`. A CONNECT, and an MQTT 5 AUTH, come
   * with the shell's verdict on their credentials (`auth`).
   */
  receive(connId: string, route: ConnectRoute, input: DecodeResult, now: number, auth?: AuthVerdict): Action[] {
    const conn = this.current?.connId === connId ? this.current : null;
    // A socket's first packet connects it or closes it: either way its CONNECT deadline is over.
    if (!conn) this.awaitingConnect.delete(connId);
    try {
      if (!input.ok) {
        if (input.error === "unacceptable-protocol") return handleConnect.unacceptable(connId, input.detail);
        const reason = input.error === "duplicate-property" || input.error === "protocol-error" ? Reason.ProtocolError : Reason.MalformedPacket;
        const why = reason === Reason.ProtocolError ? input.detail : `malformed packet: ${input.detail}`;
        // A CONNECT that broke a rule: CONNACK with the reason (5.0), or a bare close (3.1.1).
        if (input.connect !== undefined && !conn) return handleConnect.invalid(connId, input.connect, reason, why);
        throw new ProtocolError(reason, why);
      }
      const packet = input.packet;
      if (packet.cmd === "connect") {
        // A second CONNECT on the same connection is a protocol violation [MQTT-3.1.0-2].
        if (conn) throw new ProtocolError(Reason.ProtocolError, "second CONNECT on one connection");
        if (!auth) throw new Error("a CONNECT must come with an authentication verdict");
        return handleConnect(this, connId, route, packet, now, auth);
      }
      // Anything before CONNECT closes the connection [MQTT-3.1.0-1].
      if (!conn) return [close(connId, `${packet.cmd} before CONNECT`, true)];
      conn.lastSeen = now;
      return this.dispatch(conn, packet, now, auth);
    } catch (e) {
      if (!(e instanceof ProtocolError)) throw e;
      // A CONNECT refused for a rule it broke (Receive Maximum 0, a will topic with a wildcard…):
      // CONNACK with the reason (5.0), a bare close (3.1.1), as for one that failed to decode.
      if (!conn && input.ok && input.packet.cmd === "connect")
        return handleConnect.invalid(connId, (input.packet.protocolVersion ?? 4) as ProtocolVersion, e.reason, e.message, input.packet.properties?.maximumPacketSize);
      return this.fail(connId, e.reason, e.message, now);
    }
  }

  private dispatch(conn: ConnectionState, packet: Packet, now: number, auth: AuthVerdict | undefined): Action[] {
    switch (packet.cmd) {
      case "publish":
        return handlePublish(this, conn, packet, now);
      case "pubrel":
        return handlePubrel(this, conn, packet);
      case "puback":
        return handlePuback(this, conn, packet, now);
      case "pubrec":
        return handlePubrec(this, conn, packet, now);
      case "pubcomp":
        return handlePubcomp(this, conn, packet, now);
      case "subscribe":
        return handleSubscribe(this, conn, packet, now);
      case "unsubscribe":
        return handleUnsubscribe(this, conn, packet, now);
      case "pingreq":
        return [send(conn, { cmd: "pingresp" })]; // [MQTT-3.12.4-1]
      case "disconnect":
        return handleDisconnect(this, conn, packet, now);
      case "auth":
        return handleAuth(this, conn, packet, auth, now);
      default:
        // Server-to-client packets (CONNACK, SUBACK, PINGRESP…) are not valid from a client.
        throw new ProtocolError(Reason.ProtocolError, `unexpected ${packet.cmd} from client`);
    }
  }

  /** Messages from topic shard `shard`. */
  deliver(shard: string, deliveries: Delivery[], now: number): { actions: Action[]; outcome: DeliveryOutcome } {
    return deliver(this, shard, deliveries, now);
  }

  /** The network connection closed without DISCONNECT: the will goes out [MQTT-3.1.2-8]. */
  connectionLost(connId: string, now: number): Action[] {
    this.awaitingConnect.delete(connId);
    // A taken-over connection closed without the DISCONNECT its will waited for (see PendingWills).
    if (this.current?.connId !== connId) return this.settleHeldWill(connId, false, now);
    return this.endConnection(true, "connection lost", now);
  }

  /**
   * A DISCONNECT from a connection already taken over: it crossed the takeover, so the client had
   * ended that connection itself. Reason 0x00 discards the will it held [MQTT-3.14.4-3]; any
   * other sends it now.
   */
  lateDisconnect(connId: string, reason: number, now: number): Action[] {
    return this.settleHeldWill(connId, reason === Reason.NormalDisconnection, now);
  }

  private settleHeldWill(connId: string, clean: boolean, now: number): Action[] {
    const { discarded, due } = this.wills.settleHold(connId, clean, now);
    const actions: Action[] = discarded.map((w) => ({
      type: "log" as const,
      level: "info" as const,
      message: `will of ${w.message.origin} on ${w.message.topic} discarded: the taken-over connection had sent DISCONNECT`,
      counter: "wills_discarded_crossed_disconnect",
    }));
    for (const w of due) {
      actions.push({ type: "log", level: "info", message: `publishing will of ${w.message.origin} on ${w.message.topic} (session taken over)`, counter: "wills_published" }, this.routePending(w));
    }
    return actions;
  }

  /**
   * The object woke with no socket although its session was connected: the connection did not
   * survive a restart of the runtime. It ended without DISCONNECT: the will goes out and a
   * session that was to end with its connection ends ([MQTT-3.1.2-8], [MQTT-3.1.2-6]).
   * Connected means: a will is stored, or the session has no expiry deadline running.
   */
  recoverLostConnection(now: number): Action[] {
    const record = this.record;
    if (this.current || !record) return [];
    const wasConnected = this.store.readWill() !== undefined || (record.expiresAt === undefined && record.expiryInterval !== NEVER_EXPIRES);
    if (!wasConnected) return [];
    return [
      { type: "log", level: "warn", message: `${record.clientId}: its connection did not survive a restart; ending it`, counter: "connections_lost_in_restart" },
      ...this.endConnection(true, "connection lost in a restart", now),
    ];
  }

  /** When the shell should next call `timer`: CONNECT deadline, keepalive check, delayed will, session expiry. */
  nextDeadline(): number | null {
    const times = [
      this.current?.keepaliveCheckAt,
      this.current?.auth.expiresAt,
      this.record?.delayedWill?.at,
      this.current ? undefined : this.record?.expiresAt,
      this.wills.retryAt ?? undefined,
      ...this.awaitingConnect.values(),
    ];
    const defined = times.filter((t): t is number => t !== undefined);
    return defined.length > 0 ? Math.min(...defined) : null;
  }

  /** Time passed: close sockets without CONNECT, enforce keepalive, publish a delayed will, end an expired session. */
  timer(now: number): Action[] {
    const actions: Action[] = [];
    for (const [connId, by] of this.awaitingConnect) {
      if (now < by) continue;
      this.awaitingConnect.delete(connId);
      actions.push(close(connId, "no CONNECT in time", true));
    }
    const conn = this.current;
    if (conn?.keepaliveCheckAt !== undefined && now >= conn.keepaliveCheckAt) {
      const deadline = conn.lastSeen + conn.keepalive * 1500;
      // 1.5 times the keepalive without a packet ends the connection [MQTT-3.1.2-24] (3.1.1), [MQTT-3.1.2-22] (5.0).
      if (now >= deadline) actions.push(...this.fail(conn.connId, Reason.KeepAliveTimeout, "keepalive expired", now));
      else conn.keepaliveCheckAt = deadline;
    }
    // A token's expiry ends the connection, unless an MQTT 5 client re-authenticated in time (§4.12.1).
    if (this.current && this.current.auth.expiresAt !== undefined && now >= this.current.auth.expiresAt) {
      actions.push(...this.fail(this.current.connId, Reason.MaximumConnectTime, "the client's token expired (an MQTT 5 client can send a fresh one in an AUTH packet before)", now));
    }
    const { released, retried } = this.wills.due(now);
    for (const will of released) {
      actions.push(
        { type: "log", level: "info", message: `publishing will of ${will.message.origin} on ${will.message.topic} (session taken over)`, counter: "wills_published" },
        this.routePending(will),
      );
    }
    for (const will of retried) {
      actions.push({ type: "log", level: "warn", message: `routing the will on ${will.message.topic} again: its shard has not stored it yet`, counter: "wills_retried" }, this.routePending(will));
    }
    const record = this.record;
    if (record?.delayedWill && now >= record.delayedWill.at) {
      const { will } = record.delayedWill;
      delete record.delayedWill;
      this.saveRecord();
      actions.push(...this.publishWill(will, now, "will delay passed"));
    }
    if (!this.current && this.record && sessionExpired(this.record, now)) {
      actions.push({ type: "log", level: "info", message: `session ${this.record.clientId} expired`, counter: "sessions_expired" });
      actions.push(...this.discard(now));
    }
    return actions;
  }

  /** Ends a connection because of `reason`; MQTT 5 clients get a DISCONNECT saying why first (§4.13). */
  fail(connId: string, reason: ReasonCode, why: string, now: number): Action[] {
    const conn = this.current?.connId === connId ? this.current : null;
    this.awaitingConnect.delete(connId);
    const actions: Action[] = [];
    if (conn) {
      const disconnect = serverDisconnect(conn.version, reason, conn.problemInformation ? why : undefined);
      if (disconnect) actions.push(send(conn, disconnect));
    }
    actions.push(close(connId, why, reason !== Reason.SessionTakenOver));
    // A taken-over connection's will waits briefly for a DISCONNECT that crossed the takeover.
    if (conn) actions.push(...this.endConnection(true, why, now, reason === Reason.SessionTakenOver ? connId : undefined));
    return actions;
  }

  /**
   * The live connection is over. The will goes out now, after its delay, or when the session
   * ends, whichever is first [MQTT-3.1.2-8]; a session with expiry 0 ends now [MQTT-3.1.2-6].
   */
  endConnection(publishWill: boolean, why: string, now: number, holdWillFor?: string): Action[] {
    const actions: Action[] = [];
    this.current = null;
    // Messages held in memory for the connection are the session's to keep now.
    if (this.record && this.record.expiryInterval !== 0) {
      actions.push(...this.spill());
      this.outbound.saveSize(false);
    }
    const record = this.record;
    const will = this.store.readWill();
    if (will) this.store.writeWill(undefined);
    if (!record) return actions;
    const expiry = record.expiryInterval;
    if (will && publishWill) {
      const delay = Math.min(will.delay, expiry === NEVER_EXPIRES ? will.delay : expiry);
      if (delay === 0 && holdWillFor !== undefined) this.wills.hold(this.willMessage(will, now), holdWillFor, now);
      else if (delay === 0) actions.push(...this.publishWill(will, now, why));
      else record.delayedWill = { will, at: now + delay * 1000 };
    }
    if (expiry === 0) return actions.concat(this.discard(now));
    if (expiry !== NEVER_EXPIRES) record.expiresAt = now + expiry * 1000;
    this.saveRecord();
    return actions;
  }

  /**
   * Forgets the session: a pending will goes out, shared messages in flight go back to their
   * group, the subscriptions leave the shards and the state is deleted.
   */
  discard(now: number): Action[] {
    const record = this.record;
    const actions: Action[] = [];
    if (!record) return actions;
    if (record.delayedWill) actions.push(...this.publishWill(record.delayedWill.will, now, "session ended"));
    // Handed back through the pending list, which outlives the rows deleted below (F10).
    for (const entry of this.outbound.sharedEntries()) actions.push(this.routePending({ id: this.wills.add(entry.message, now, entry.share!), message: entry.message, share: entry.share! }));
    // Whatever the shards still keep for this session is no longer needed.
    for (const entry of this.outbound.dropTransient()) this.marks.unhold(entry.origin!.shard, entry.origin!.seq);
    actions.push(...this.releases());
    const filters = Object.keys(record.subscriptions);
    this.store.clear();
    this.record = undefined;
    this.outbound = new Outbound(this.store, this.config);
    this.marks = new Marks(this.store);
    this.sharedTaken = new SharedTaken(this.store);
    this.muted.forget();
    this.aliases = { inbound: {}, outbound: {} };
    this.qos2InFlight = new Set();
    this.inbound = { count: 0, bytes: 0 };
    if (filters.length > 0) actions.push({ type: "unsubscribe", clientId: record.clientId, filters });
    return actions;
  }

  saveRecord(): void {
    if (this.record) this.store.writeSession(this.record);
  }

  saveAliases(): void {
    this.store.writeAliases(this.aliases);
  }

  /**
   * Sends a QoS 0 message now or queues a QoS 1/2 one; says so when the queue is full. A QoS 1
   * message from a shard for a live client that keeps up is held in memory only (the shard keeps
   * it until the client acknowledges); anything else is stored.
   */
  enqueue(message: Message, qos: QoS, retain: boolean, now: number, options: { subscriptionIds?: number[]; share?: string; retained?: true } = {}, origin?: Origin): Action[] {
    const conn = this.current;
    const { retained, ...extra } = options;
    if (qos === 0) {
      // QoS 0 is not queued for an offline client (the spec allows it; this broker does not).
      if (!conn) return [];
      const budget = this.qos0BudgetOf(conn, now);
      // Retained messages for a new subscription must be sent [MQTT-3.3.1-6]: charged, never dropped.
      if (retained) budget.charge(messageBytes(message), now);
      else if (!budget.take(messageBytes(message), now)) {
        return [
          {
            type: "log",
            level: "warn",
            message: `${conn.clientId} is sent QoS 0 messages faster than ${this.config.maxQos0BytesPerSecond} bytes/s (MAX_QOS0_BYTES_PER_SECOND): dropped one on ${message.topic}`,
            counter: "qos0_dropped_client_rate",
          },
        ];
      }
      const sent = this.sendPublish(conn, { message, qos: 0, retain, dup: false, ...extra }, now);
      return Array.isArray(sent) ? sent : this.dropped(message, sent);
    }
    const mayHold = origin !== undefined && qos === 1 && conn !== null && extra.share === undefined;
    const taken = this.outbound.enqueue({ message, qos, retain, ...extra, ...(origin ? { origin } : {}) }, now, mayHold);
    if (!taken) {
      return [
        {
          type: "log",
          level: "warn",
          message: `queue full (${this.outbound.size} messages, ${this.outbound.queuedBytes} bytes; limits ${this.config.maxQueuedMessages} and ${this.config.maxQueuedBytes}) for ${this.record?.clientId}: dropped QoS ${qos} message on ${message.topic}`,
          counter: "dropped_queue_full",
        },
      ];
    }
    if (origin) {
      if (taken === "held") this.marks.hold(origin.shard, origin.seq);
      else this.marks.stored(origin.shard, origin.seq);
    }
    return [];
  }

  /**
   * How long to wait before fetching the next page of retained messages: a page of QoS 0 ones
   * may put the connection's QoS 0 budget in debt, and a client that does not read must not be
   * sent page after page.
   */
  retainedPageDelay(now: number): number {
    return this.current && this.qos0Budget?.connId === this.current.connId ? this.qos0Budget.budget.debtMs(now) : 0;
  }

  /** Counts a PUBLISH from the client against MAX_PUBLISH_RATE and MAX_PUBLISH_BYTES_PER_SECOND. */
  chargePublish(conn: ConnectionState, bytes: number, now: number): void {
    if (this.publishBudget?.connId !== conn.connId) {
      this.publishBudget = { connId: conn.connId, messages: new RateBudget(this.config.maxPublishRate, now), bytes: new RateBudget(this.config.maxPublishBytesPerSecond, now) };
    }
    const { messages, bytes: budget } = this.publishBudget;
    if (!messages.take(1, now)) throw new ProtocolError(Reason.MessageRateTooHigh, `more than ${this.config.maxPublishRate} PUBLISH per second (MAX_PUBLISH_RATE)`);
    if (!budget.take(bytes, now)) throw new ProtocolError(Reason.MessageRateTooHigh, `more than ${this.config.maxPublishBytesPerSecond} bytes of PUBLISH per second (MAX_PUBLISH_BYTES_PER_SECOND)`);
  }

  private qos0BudgetOf(conn: ConnectionState, now: number): RateBudget {
    if (this.qos0Budget?.connId !== conn.connId) this.qos0Budget = { connId: conn.connId, budget: new RateBudget(this.config.maxQos0BytesPerSecond, now) };
    return this.qos0Budget.budget;
  }

  /**
   * A further page of the retained messages a subscription asked for: sent like the first page,
   * with the retain flag [MQTT-3.3.1-8] and at most the granted QoS [MQTT-3.8.4-6], while the
   * subscription is still there.
   */
  retainedPage(filter: string, messages: Message[], now: number): Action[] {
    const sub = this.record ? getOwn(this.record.subscriptions, filter) : undefined;
    return sub ? this.enqueueRetained(sub, messages, now).concat(this.pump(now)) : [];
  }

  /** Retained messages for a subscription: the retain flag set, at most the granted QoS, its identifier. */
  enqueueRetained(sub: Subscription, messages: Message[], now: number): Action[] {
    const actions: Action[] = [];
    const extra = { retained: true as const, ...(sub.id !== undefined ? { subscriptionIds: [sub.id] } : {}) };
    for (const message of messages) {
      if (!isExpired(message, now)) actions.push(...this.enqueue(message, minQoS(sub.qos, message.qos), true, now, extra));
    }
    return actions;
  }

  /** Drains the outbound queue into the client's window. */
  pump(now: number): Action[] {
    const actions = this.outbound.pump(
      this.current,
      (c, out) => this.sendPublish(c, out, now),
      (e, why) => this.dropped(e.message, why),
      (e) => this.finished(e),
    );
    this.marks.save();
    this.outbound.saveSize(this.current !== null);
    return actions;
  }

  resume(conn: ConnectionState, now: number): Action[] {
    const actions = this.outbound.resume(
      conn,
      (c, out) => this.sendPublish(c, out, now),
      (e, why) => this.dropped(e.message, why),
      (e) => this.finished(e),
    );
    this.marks.save();
    return actions;
  }

  /** An entry is done with (acknowledged or dropped): a held one moves its shard's release point. */
  finished(entry: OutboundEntry): void {
    if (entry.transient && entry.origin) this.marks.unhold(entry.origin.shard, entry.origin.seq);
  }

  /** Release points that moved, for the shards. */
  releases(): Action[] {
    const clientId = this.record?.clientId ?? this.current?.clientId;
    if (clientId === undefined) return [];
    return this.marks.toReport().map(({ shard, upTo }) => ({ type: "release", shard, clientId, upTo }));
  }

  /** When held messages are next due to be stored (the shell keeps a timer for it). */
  nextSpill(): number | null {
    const oldest = this.outbound.oldestTransient();
    return oldest === undefined ? null : oldest + SPILL_AFTER_MS;
  }

  /** Stores held messages taken before `now - SPILL_AFTER_MS` (all when `now` is undefined). */
  spill(now?: number): Action[] {
    const entries = this.outbound.spill(now === undefined ? undefined : now - SPILL_AFTER_MS);
    for (const entry of entries) {
      this.marks.unhold(entry.origin!.shard, entry.origin!.seq);
      this.marks.stored(entry.origin!.shard, entry.origin!.seq);
    }
    this.marks.save();
    return this.releases();
  }

  /** One PUBLISH to the client, or why not: expired, or above the client's maximum size. */
  sendPublish(conn: ConnectionState, out: OutgoingPublish, now: number): Action[] | DropReason {
    // Rights are checked at delivery, so queued and retained messages obey them too.
    if (!this.rights.check("read", out.message.topic)) return "not-authorized";
    const aliasCount = Object.keys(this.aliases.outbound).length;
    const built = buildPublish(conn, out, this.aliases, this.config.serverTopicAliases, now);
    if (!built.ok) return built.why;
    if (Object.keys(this.aliases.outbound).length !== aliasCount) this.saveAliases();
    return [{ type: "send", connId: conn.connId, version: conn.version, packet: built.packet, ...(built.bytes ? { bytes: built.bytes } : {}) }];
  }

  /** A message that expired, does not fit the client's Maximum Packet Size [MQTT-3.1.2-25], or it may not read. */
  private dropped(message: Message, why: DropReason): Action[] {
    if (why === "not-authorized") {
      return [{ type: "log", level: "info", message: `${this.record?.clientId} may not read ${message.topic} (ACL): not sent`, counter: "delivery_denied" }];
    }
    const expired = why === "expired";
    return [
      {
        type: "log",
        level: expired ? "info" : "warn",
        message: `${expired ? "expired" : "too large for the client"}: message on ${message.topic} for ${this.record?.clientId} not sent`,
        counter: expired ? "dropped_expired" : "dropped_too_large",
      },
    ];
  }

  /** The message a will becomes; its Message Expiry Interval runs from now. */
  private willMessage(will: Will, now: number): Message {
    const message: Message = { ...will.message };
    if (will.expiryInterval !== undefined) message.expiresAt = now + will.expiryInterval * 1000;
    return message;
  }

  private publishWill(will: Will, now: number, why: string): Action[] {
    const message = this.willMessage(will, now);
    const id = this.wills.add(message, now);
    return [{ type: "log", level: "info", message: `publishing will of ${message.origin} on ${message.topic} (${why})`, counter: "wills_published" }, this.routeWill(id, message)];
  }

  /** A will is routed like a QoS 1 publish: kept until its shard stored it (review F11). */
  private routeWill(id: number, message: Message): Action {
    return { type: "route", message, routeId: this.awaitRoute({ kind: "will", topic: message.topic, willId: id }) };
  }

  /** A will, or a shared message handed back to its group, from the pending list. */
  private routePending(p: PendingWill): Action {
    if (p.share === undefined) return this.routeWill(p.id, p.message);
    return { type: "reshare", share: p.share, message: p.message, routeId: this.awaitRoute({ kind: "will", topic: p.message.topic, willId: p.id }) };
  }

  /** A route whose completion the session waits for; its id goes in the route action. */
  awaitRoute(completion: RouteCompletion): number {
    return this.routes.add(completion);
  }

  /** Routes under way whose completion the session waits for. */
  get routesUnderWay(): number {
    return this.routes.size;
  }

  /**
   * The shards stored the message of route `routeId`. What follows it (PUBACK, PUBREC, the will
   * done) follows in the order the routes were issued: an earlier route still under way holds
   * it back, and it comes with that one's completion ([MQTT-4.6.0-2], [MQTT-4.6.0-3]).
   */
  routed(routeId: number, now: number): Action[] {
    return this.completeRoutes(this.routes.settle(routeId, { ok: true }), now);
  }

  /**
   * The shards could not store the message of route `routeId` (`reason`, for the log). Nothing
   * is acknowledged; the live connection is closed, and its client retransmits after
   * reconnecting. A will is routed again later (see PendingWills).
   */
  routeFailed(routeId: number, reason: string, now: number): Action[] {
    return this.completeRoutes(this.routes.settle(routeId, { ok: false, reason }), now);
  }

  /** A SUBSCRIBE or UNSUBSCRIBE to wait for; its id goes in the action. */
  awaitShardCall(call: PendingShardCall): number {
    const id = this.nextShardCall++;
    this.shardCalls.set(id, call);
    return id;
  }

  /**
   * The shards hold the filters of subscribe action `subscribeId`, and sent the first page of
   * retained messages for each (in the order of its `subscriptions`): the SUBACK, then those.
   */
  subscribed(subscribeId: number, retained: Message[][]): Action[] {
    const call = this.shardCalls.get(subscribeId);
    if (call?.kind !== "subscribe") return [];
    this.shardCalls.delete(subscribeId);
    return subscribed(this, call, retained);
  }

  /** The shards let go of the filters of unsubscribe action `unsubscribeId`: the UNSUBACK. */
  unsubscribed(unsubscribeId: number): Action[] {
    const call = this.shardCalls.get(unsubscribeId);
    if (call?.kind !== "unsubscribe") return [];
    this.shardCalls.delete(unsubscribeId);
    return [call.unsuback];
  }

  /** A subscribe or unsubscribe call failed: nothing follows it (the shell ends the connection). */
  shardCallFailed(id: number): void {
    this.shardCalls.delete(id);
  }

  private completeRoutes(done: { value: RouteCompletion; outcome: Outcome }[], now: number): Action[] {
    const actions: Action[] = [];
    for (const { value, outcome } of done) {
      if (outcome.ok) {
        if (value.kind === "will") this.wills.done(value.willId);
        else actions.push(...publishRouted(this, value));
        continue;
      }
      if (value.kind === "will") this.wills.failed(now);
      else publishNotRouted(this, value);
      actions.push({ type: "log", level: "warn", message: `could not store a message on ${value.topic}: ${outcome.reason}`, counter: "route_failures" });
      // A client's own message could not be stored: it is told. A will or a hand-over is retried.
      if (this.current && value.kind !== "will") actions.push(...this.fail(this.current.connId, Reason.ServerBusy, "the broker could not store a message", now));
    }
    return actions;
  }
}

export function send(conn: ConnectionState, packet: Packet): Action {
  return { type: "send", connId: conn.connId, version: conn.version, packet: fitted(conn, packet) };
}

/**
 * A Reason String or User Properties must be left out of an acknowledgement, SUBACK, UNSUBACK,
 * AUTH or DISCONNECT that they would make larger than the client's Maximum Packet Size
 * ([MQTT-3.4.2-2], [MQTT-3.9.2-1], [MQTT-3.11.2-1], [MQTT-3.14.2-3], [MQTT-3.15.2-2]; review F26).
 * PUBLISH is fitted in publish-out.ts.
 */
function fitted(conn: ConnectionState, packet: Packet): Packet {
  const props = (packet as { properties?: Record<string, unknown> }).properties;
  if (conn.version !== 5 || conn.maximumPacketSize === undefined || packet.cmd === "publish" || !props) return packet;
  if (packet.cmd === "connack") return fitConnack(packet, conn.maximumPacketSize);
  if (props.reasonString === undefined && props.userProperties === undefined) return packet;
  if (encodePacket(packet, 5).byteLength <= conn.maximumPacketSize) return packet;
  const { reasonString: _, userProperties: __, ...rest } = props;
  return { ...packet, properties: rest } as Packet;
}

export function close(connId: string, reason: string, error: boolean): Action {
  return { type: "close", connId, reason, error };
}
