/**
 * SessionDO: the Durable Object of one client id. A thin shell around the session core: it owns
 * the connection's WebSocket through the Hibernation API, cuts frames into packets, feeds them
 * to the core one event at a time, and performs the actions the core returns.
 */
import { DurableObject } from "cloudflare:workers";
import { type BrokerConfig, loadConfig } from "../config.js";
import type { Env } from "../env.js";
import type { Action, CloseAction, SendAction } from "../protocol/actions.js";
import { decodePacket, encodePacket } from "../protocol/codec/codec.js";
import { Framer } from "../protocol/codec/framer.js";
import { Reason } from "../protocol/errors.js";
import type { Delivery, DeliveryOutcome, Message } from "../protocol/message.js";
import { Session } from "../protocol/session/session.js";
import { CountingKv } from "../storage/counting-kv.js";
import { KvSessionStore } from "../storage/kv-session-store.js";
import { ATTACHMENT_PARTIAL_LIMIT, type Attachment, Attachments } from "./attachment.js";
import { Counters } from "./counters.js";
import { ShardRouter } from "./router.js";
import { closeReason } from "../edge/close-reason.js";
import type { AuthVerdict } from "../protocol/session/auth-verdict.js";
import { AuthGate, authSettings } from "./auth-gate.js";
import { Faults, topicsOf } from "../objects/faults.js";
import { logLine, setLogLevel } from "../objects/rate-limited-log.js";
import { StubCache } from "../objects/stub-cache.js";
import { StatsReporter } from "../stats/reporter.js";
import { RECEIVED, SENT } from "../stats/report.js";
import { parseRoute, ROUTE_HEADER, type SessionRpc, type SessionStats, STATS_OBJECT, SUBPROTOCOL_HEADER } from "../contracts/index.js";

export class SessionDO extends DurableObject<Env> implements SessionRpc {
  private readonly config: BrokerConfig;
  private readonly gate: AuthGate;
  /** Test-only fault injection (null unless the FAULTS binding is set). */
  private readonly faults: Faults | null;
  /** Rebuilt from storage when a delivery fails half way (see deliverAllOrNothing). */
  private session: Session;
  private readonly router: ShardRouter;
  private readonly sockets = new Map<string, WebSocket>();
  private readonly framers = new Map<string, Framer>();
  private readonly attachments = new Attachments();
  private readonly counters: Counters;
  /** Counts and client changes for the broker's stats object, sent in batches. */
  private readonly reporter: StatsReporter;
  /** What was last reported of the client (see reportClient). */
  private reported = "";
  private lastClientId: string | undefined;
  /** Events run one at a time: the core sees a total order even while actions await shards. */
  private tail: Promise<unknown> = Promise.resolve();
  /** The alarm time last set (undefined after waking: unknown). */
  private alarmAt: number | null | undefined;
  /**
   * While messages are held in memory for the client, a timer stores them if their PUBACK is
   * late. A pending timer also keeps the object from hibernating, which would lose them.
   */
  private spillTimer: { at: number; timer: ReturnType<typeof setTimeout> } | null = null;
  private readonly kv: CountingKv;
  private attachmentTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.config = loadConfig(env);
    this.gate = new AuthGate(authSettings(env as unknown as Record<string, unknown>));
    this.faults = Faults.from(env.FAULTS, ctx.storage.kv);
    this.kv = new CountingKv(ctx.storage.kv);
    this.session = new Session(new KvSessionStore(this.kv), this.config);
    this.router = new ShardRouter(env.SHARDS);
    setLogLevel(env.LOG_LEVEL);
    const stats = new StubCache((name: string) => env.STATS.get(env.STATS.idFromName(name)));
    this.reporter = new StatsReporter(
      () => `session ${this.session.record?.clientId ?? "?"}`,
      (report) => stats.call(STATS_OBJECT, (stub) => stub.report(report)),
    );
    this.counters = new Counters(this.kv, {
      count: (counter) => this.reporter.count(counter),
      logged: (level, counter, line) => level === "warn" && this.reporter.event("warn", counter, line),
    });
    // After hibernation only the sockets and their attachments remain; rebuild from them.
    for (const ws of ctx.getWebSockets()) {
      const a = this.attachments.get(ws);
      this.sockets.set(a.connId, ws);
      if (a.conn) this.session.restore(a.conn, this.gate.rightsAfterWake(a.conn));
      else if (a.connectBy !== undefined) this.session.restoreAwaitingConnect(a.connId, a.connectBy);
    }
  }

  /** The internal upgrade from the Worker: accept the socket as hibernatable. */
  override async fetch(request: Request): Promise<Response> {
    this.kv.cost.requests++;
    const route = parseRoute(request.headers.get(ROUTE_HEADER));
    if (!route || request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
      return new Response("session objects accept only the broker's internal WebSocket upgrade", { status: 400 });
    }
    const pair = new WebSocketPair();
    const [client, server] = [pair[0], pair[1]];
    this.ctx.acceptWebSocket(server);
    // A client that never completes CONNECT is closed: the core keeps the deadline (unless an
    // edge in front enforces it) and the alarm follows it; the attachment keeps it for after
    // hibernation. Told at once (the core only notes it), so the socket's first packet finds it.
    const connId = crypto.randomUUID();
    const connectBy = this.session.opened(connId, route, Date.now());
    const attachment: Attachment = { connId, route, ...(connectBy !== undefined ? { connectBy } : {}) };
    this.attachments.init(server, attachment);
    this.sockets.set(connId, server);
    if (connectBy !== undefined) void this.serial(async () => undefined); // arms the alarm
    const protocol = request.headers.get(SUBPROTOCOL_HEADER) ?? "mqtt";
    return new Response(null, { status: 101, webSocket: client, headers: { "Sec-WebSocket-Protocol": protocol } });
  }

  override async webSocketMessage(ws: WebSocket, data: ArrayBuffer | string): Promise<void> {
    this.kv.cost.wsMessagesIn++;
    await this.serial(async () => {
      const a = this.attachments.get(ws);
      if (!this.sockets.has(a.connId)) return this.lateInput(a, data); // already closed by us
      try {
        await this.onBytes(ws, a, data);
      } catch (error) {
        console.error(`session ${a.route.clientId}: failed handling input: ${String(error)}`);
        this.counters.count("internal_errors");
        await this.runSafely(this.session.fail(a.connId, Reason.UnspecifiedError, "internal error", Date.now()));
      }
    });
  }

  /**
   * A frame from a connection this object already closed. Only a DISCONNECT that crossed a
   * takeover matters: it decides the will the connection left (see PendingWills).
   */
  private async lateInput(a: Attachment, data: ArrayBuffer | string): Promise<void> {
    if (typeof data === "string" || !this.session.wills.holds(a.connId)) return;
    const { packets } = new Framer(this.config.maxPacketSize).push(new Uint8Array(data));
    for (const bytes of packets) {
      // A 3.1.1 DISCONNECT (no body) decodes as MQTT 5's with reason 0x00.
      const input = decodePacket(bytes, 5);
      if (input.ok && input.packet.cmd === "disconnect") {
        await this.runSafely(this.session.lateDisconnect(a.connId, input.packet.reasonCode ?? Reason.NormalDisconnection, Date.now()));
      }
    }
  }

  override async webSocketClose(ws: WebSocket): Promise<void> {
    await this.connectionEnded(ws);
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    await this.connectionEnded(ws);
  }

  override async alarm(): Promise<void> {
    this.alarmAt = null; // a fired alarm is no longer set
    await this.serial(async () => {
      const now = Date.now();
      await this.runSafely(this.session.recoverLostConnection(now));
      await this.runSafely(this.session.timer(now));
    });
  }

  /** A topic shard hands over messages; they are stored before this resolves. */
  async deliver(shard: string, deliveries: Delivery[]): Promise<DeliveryOutcome> {
    this.kv.cost.requests++;
    if (this.faults?.fires("resetSessionOn", topicsOf(deliveries))) await this.reset("fault injected: session reset");
    const result = await this.serial(async () => {
      const { actions, outcome } = this.deliverAllOrNothing(shard, deliveries);
      await this.runSafely(actions);
      if (!outcome.gone && outcome.released !== undefined) this.router.heard(shard, outcome.released);
      return outcome;
    });
    if (this.faults?.fires("loseDeliveryReplyOn", topicsOf(deliveries))) throw new Error("fault injected: the reply to a delivery is lost");
    return result;
  }

  /**
   * A delivery applies wholly or not at all (review F13): its writes are one transaction, and
   * an exception half way rolls them back and rebuilds the core from storage, so the shard's
   * retry is taken afresh instead of being skipped as a duplicate of what never went out.
   */
  private deliverAllOrNothing(shard: string, deliveries: Delivery[]): ReturnType<Session["deliver"]> {
    // Decided outside the transaction, whose rollback would forget that the fault fired.
    const inject = this.faults?.fires("throwInDeliverOn", topicsOf(deliveries)) ?? false;
    try {
      return this.ctx.storage.transactionSync(() => {
        const applied = this.session.deliver(shard, deliveries, Date.now());
        if (inject) throw new Error("fault injected: the core failed half way through a delivery");
        return applied;
      });
    } catch (error) {
      console.error(`session ${this.session.record?.clientId ?? "?"}: a delivery from ${shard} failed, state rebuilt from storage: ${String(error)}`);
      this.counters.count("internal_errors");
      this.rebuildCore();
      throw error;
    }
  }

  /** A fresh core from storage, with the live connection (if any) attached again, as after waking. */
  private rebuildCore(): void {
    const old = this.session;
    this.session = new Session(new KvSessionStore(this.kv), this.config);
    for (const ws of this.ctx.getWebSockets()) {
      const a = this.attachments.get(ws);
      if (a.conn && this.sockets.has(a.connId)) this.session.restore(a.conn, this.gate.rightsAfterWake(a.conn));
    }
    // Routes, SUBSCRIBEs and CONNECT deadlines under way still complete (PUBACK, PUBREC…).
    this.session.carryOver(old);
  }

  /**
   * Asked by the stats object after it (re)started, for every client it last knew connected: a
   * session whose connection did not survive a restart of the runtime ends it (will, clean
   * session). A session with a live socket is not touched.
   */
  async wake(): Promise<void> {
    this.kv.cost.requests++;
    await this.serial(() => this.runSafely(this.session.recoverLostConnection(Date.now())));
  }

  /** Test-only: the object resets as a crash or a redeploy would (its fired-fault mark kept). */
  private async reset(why: string): Promise<never> {
    await this.ctx.storage.sync();
    this.ctx.abort(why);
    throw new Error(why);
  }

  /** The operator's "disconnect": MQTT 5 clients get DISCONNECT 0x98 Administrative action. False when not connected. */
  async adminDisconnect(): Promise<boolean> {
    this.kv.cost.requests++;
    return this.serial(async () => {
      const conn = this.session.current;
      if (!conn) return false;
      await this.runSafely(this.session.fail(conn.connId, Reason.AdministrativeAction, "disconnected by the operator", Date.now()));
      return true;
    });
  }

  async stats(): Promise<SessionStats> {
    this.kv.cost.requests++;
    const record = this.session.record;
    const conn = this.session.current;
    const ws = conn ? this.sockets.get(conn.connId) : undefined;
    const address = ws ? this.attachments.get(ws).route.address : undefined;
    return {
      clientId: record?.clientId,
      connected: conn !== null,
      ...(address ? { address } : {}),
      expiryInterval: record?.expiryInterval,
      subscriptions: Object.fromEntries(Object.entries(record?.subscriptions ?? {}).map(([f, s]) => [f, s.qos])),
      queued: this.session.outbound.size,
      queuedBytes: this.session.outbound.queuedBytes,
      counters: this.counters.snapshot(),
      cost: { ...this.kv.cost },
    };
  }

  private async onBytes(ws: WebSocket, a: Attachment, data: ArrayBuffer | string): Promise<void> {
    // MQTT travels in binary frames only; a text frame closes the connection [MQTT-6.0.0-1].
    if (typeof data === "string") {
      await this.run(this.session.fail(a.connId, Reason.MalformedPacket, "text frame received", Date.now()));
      return;
    }
    const framer = this.framerFor(a);
    if (!framer) {
      await this.run(this.session.fail(a.connId, Reason.ImplementationSpecificError, "partial packet lost while hibernating", Date.now()));
      return;
    }
    const result = framer.push(new Uint8Array(data));
    for (const bytes of result.packets) {
      if (!this.sockets.has(a.connId)) return; // an earlier packet of this frame closed it
      if (bytes[0] === 0xc0) this.counters.count("pingreq_received"); // shows that edges answer PINGREQ themselves
      const conn = this.session.current;
      const live = conn?.connId === a.connId ? conn : undefined;
      const input = decodePacket(bytes, live?.version);
      // Credentials are judged here, before the core sees the packet (see AuthVerdict).
      let verdict: AuthVerdict | undefined;
      if (input.ok && input.packet.cmd === "connect" && !live) verdict = await this.gate.connect(a.route.clientId, input.packet);
      else if (input.ok && input.packet.cmd === "auth" && live?.auth.method !== undefined) verdict = await this.gate.reauthenticate(live, input.packet);
      if (input.ok && input.packet.cmd === "publish") this.reporter.count(RECEIVED);
      const wasLive = live !== undefined;
      await this.run(this.session.receive(a.connId, a.route, input, Date.now(), verdict));
      const now = this.session.current;
      if (!wasLive && now?.connId === a.connId) {
        logLine(
          "info",
          `session ${now.clientId} (${a.route.address ?? "unknown"}, MQTT ${now.version === 5 ? "5.0" : "3.1.1"}${now.auth.username !== undefined ? `, user ${now.auth.username}` : ""}): connected`,
        );
      }
    }
    if (result.error && this.sockets.has(a.connId)) {
      const tooLarge = result.error === "too-large";
      const why = tooLarge ? `packet of ${result.declaredSize} bytes exceeds MAX_PACKET_SIZE ${this.config.maxPacketSize}` : "malformed remaining length";
      await this.run(this.session.fail(a.connId, tooLarge ? Reason.PacketTooLarge : Reason.MalformedPacket, why, Date.now()));
    }
    if (this.sockets.has(a.connId)) this.savePartial(ws, framer);
  }

  private async connectionEnded(ws: WebSocket): Promise<void> {
    await this.serial(async () => {
      const a = this.attachments.get(ws);
      this.forget(a.connId);
      try {
        ws.close(1000, "closed");
      } catch {
        // Already closed.
      }
      if (this.session.current?.connId === a.connId) logLine("info", `session ${a.route.clientId} (${a.route.address ?? "unknown"}): connection lost`);
      await this.runSafely(this.session.connectionLost(a.connId, Date.now()));
    });
  }

  /** The framer of a connection; null when a partial packet was lost to hibernation. */
  private framerFor(a: Attachment): Framer | null {
    let framer = this.framers.get(a.connId);
    if (!framer) {
      if (a.partialInStorage) return null;
      framer = new Framer(this.config.maxPacketSize, a.partial ?? null);
      this.framers.set(a.connId, framer);
    }
    return framer;
  }

  /**
   * Keeps a small partial packet for after hibernation; only those fields change (the connection
   * state is `saveConnection`'s, the CONNECT deadline stays until CONNECT).
   */
  private savePartial(ws: WebSocket, framer: Framer): void {
    const { partial: _, partialInStorage: __, ...rest } = this.attachments.get(ws);
    const next: Attachment = rest;
    const partial = framer.partial;
    // Large partials stay in memory only: writing them per frame would cost O(n²) bytes. If the
    // object hibernates mid-packet the connection is closed rather than misparsed.
    if (partial && partial.length <= ATTACHMENT_PARTIAL_LIMIT) next.partial = partial;
    else if (partial) next.partialInStorage = true;
    this.attachments.update(ws, next, true);
  }

  private async run(actions: Action[]): Promise<void> {
    for (const action of actions) {
      switch (action.type) {
        case "send":
          this.send(action);
          break;
        case "close":
          this.close(action);
          break;
        case "route":
          this.route(action.message, action.routeId);
          break;
        case "subscribe": {
          const pages = await this.router.subscribe(action.clientId, action.subscriptions).catch((error: unknown) => {
            this.session.shardCallFailed(action.subscribeId);
            throw error;
          });
          const retained = pages.map((page) => page.messages);
          await this.run(this.session.subscribed(action.subscribeId, retained));
          // More retained messages than one page: the rest, a page at a time (F6).
          for (const [i, first] of pages.entries()) {
            const filter = action.subscriptions[i]!.filter;
            for (let next = first.next; next !== undefined; ) {
              const wait = this.session.retainedPageDelay(Date.now());
              if (wait > 0) await new Promise((r) => setTimeout(r, wait));
              const page = await this.router.retainedPage(filter, next);
              await this.run(this.session.retainedPage(filter, page.messages, Date.now()));
              next = page.next;
            }
          }
          break;
        }
        case "unsubscribe": {
          const id = action.unsubscribeId;
          await this.router.unsubscribe(action.clientId, action.filters).catch((error: unknown) => {
            if (id !== undefined) this.session.shardCallFailed(id);
            throw error;
          });
          if (id !== undefined) await this.run(this.session.unsubscribed(id));
          break;
        }
        case "reshare": {
          const routeId = action.routeId;
          void this.router.reshare(action.share, action.message).then(
            () => this.serial(() => this.runSafely(this.session.routed(routeId, Date.now()))),
            (error) => this.serial(() => this.runSafely(this.session.routeFailed(routeId, String(error), Date.now()))),
          );
          break;
        }
        case "release":
          this.router.release(action.shard, action.clientId, action.upTo);
          break;
        case "online":
          this.router.online(action.shard, action.clientId);
          break;
        case "log":
          this.counters.log(action.level, action.message, action.counter);
          break;
      }
    }
  }

  /**
   * Routes without holding up the next event, so a client's publishes batch and pipeline. A
   * route the core waits for (`routeId`: PUBACK, PUBREC, a will) is reported to it as its own
   * event once the shards stored the message, or could not; the core keeps the order of the
   * publishes (PUBACK [MQTT-4.6.0-2], PUBREC [MQTT-4.6.0-3]).
   */
  private route(message: Message, routeId: number | undefined): void {
    if (routeId === undefined && message.qos === 0 && this.router.overloaded(message.topic)) {
      // QoS 0 may be lost; shedding it here keeps a flood from queueing without bound.
      this.warn("qos0_dropped_overload", `QoS 0 publishes from ${message.origin} arrive faster than their shard stores them; dropping (e.g. on ${message.topic})`);
      return;
    }
    const routed = this.router.publish(message);
    if (routeId === undefined) {
      routed.catch((e) => this.warn("route_failures", `publish to ${message.topic} failed: ${String(e)}`));
      return;
    }
    void routed.then(
      () => this.serial(() => this.runSafely(this.session.routed(routeId, Date.now()))),
      (error) => this.serial(() => this.runSafely(this.session.routeFailed(routeId, String(error), Date.now()))),
    );
  }

  /** Runs actions where no connection's input is being handled; a failure is logged, not thrown. */
  private async runSafely(actions: Action[]): Promise<void> {
    try {
      await this.run(actions);
    } catch (error) {
      this.warn("internal_errors", `action failed: ${String(error)}`);
    }
  }

  private send(action: SendAction): void {
    // A PINGRESP waits until the publishes read before its PINGREQ have reached their shards:
    // the gateway's flow-control probe then holds the device back until the broker has really
    // taken what it sent, instead of letting it send what would only be shed.
    if (action.packet.cmd === "pingresp" && !this.router.idle) {
      void this.router.whenIdle().then(() => this.send(action));
      return;
    }
    const ws = this.sockets.get(action.connId);
    if (!ws) return;
    if (action.packet.cmd === "publish") this.reporter.count(SENT);
    try {
      ws.send(action.bytes ?? encodePacket(action.packet, action.version));
    } catch (error) {
      // The socket closed under us; its close event ends the connection in order.
      console.warn(`session: send failed: ${String(error)}`);
    }
  }

  private close(action: CloseAction): void {
    const ws = this.sockets.get(action.connId);
    this.forget(action.connId);
    if (!ws) return;
    // A closed socket may linger until its peer answers; it must not look live after hibernation.
    const { conn: _, ...rest } = this.attachments.get(ws);
    this.attachments.update(ws, rest);
    const who = this.session.record?.clientId ?? rest.route.clientId;
    logLine(action.error ? "warn" : "info", `session ${who} (${rest.route.address ?? "unknown"}): ${action.error ? "closing connection" : "disconnected"}: ${action.reason}`);
    // 1002 = protocol error (RFC 6455 §7.4.1); close reasons are limited to 123 bytes.
    ws.close(action.error ? 1002 : 1000, closeReason(action.reason));
  }

  private forget(connId: string): void {
    this.sockets.delete(connId);
    this.framers.delete(connId);
  }

  /** Runs one event after the previous ones, then arms the alarm at the core's next deadline. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    // biome-ignore lint/nursery/noMisusedPromises: finally() waits for the promise it is given back, so the alarm is armed before the result settles.
    const result = this.tail.then(fn).finally(() => {
      this.saveConnection();
      this.reportClient();
      this.counters.save();
      this.syncSpill();
      this.flushAttachmentsSoon();
      return this.syncAlarm();
    });
    this.tail = result.catch(() => undefined);
    return result;
  }

  /**
   * Tells the stats object about the client when something the console shows changed: connected
   * or not, subscriptions, the session's end. Checked after every event; sent in a batch.
   */
  private reportClient(): void {
    const record = this.session.record;
    const conn = this.session.current;
    const subscriptions = record ? Object.keys(record.subscriptions).length : 0;
    // The queue length counts by its order of magnitude: a busy queue must not cost a report per message.
    const signature = record ? `${conn?.connId ?? "-"}|${subscriptions}|${Math.floor(Math.log2(this.session.outbound.size + 1))}` : "gone";
    if (signature === this.reported) return;
    const first = this.reported === "";
    this.reported = signature;
    if (!record) {
      if (!first) this.reporter.clientNow({ clientId: this.lastClientId ?? "?", gone: true });
      // Its counters row was cleared with the session (review F22); memory must not write it back.
      this.counters.forget();
      return;
    }
    this.lastClientId = record.clientId;
    const ws = conn ? this.sockets.get(conn.connId) : undefined;
    const address = ws ? this.attachments.get(ws).route.address : undefined;
    this.reporter.clientNow({
      clientId: record.clientId,
      connected: conn !== null,
      ...(address ? { address } : {}),
      ...(conn ? { protocolVersion: conn.version === 5 ? 5 : 4 } : {}),
      ...(conn?.auth.username !== undefined ? { username: conn.auth.username } : {}),
      since: conn?.connectedAt ?? Date.now(),
      subscriptions,
      queued: this.session.outbound.size,
    });
  }

  /** The live connection's state rides in its socket's attachment, for after hibernation. */
  private saveConnection(): void {
    const conn = this.session.current;
    const ws = conn && this.sockets.get(conn.connId);
    if (!ws) return;
    // Connected: its CONNECT deadline is over (after waking, only a socket without one is restored as awaiting).
    const { connectBy: _, ...rest } = this.attachments.get(ws);
    this.attachments.update(ws, { ...rest, conn });
  }

  /** Partial packets reach the attachments within a second (see `Attachments.update`). */
  private flushAttachmentsSoon(): void {
    if (this.attachmentTimer || !this.attachments.pending) return;
    this.attachmentTimer = setTimeout(() => {
      this.attachmentTimer = null;
      this.attachments.flush();
    }, 1000);
  }

  /** Arms the timer that stores held messages whose PUBACK is late (see `spillTimer`). */
  private syncSpill(): void {
    const at = this.session.nextSpill();
    // Moved only to an earlier time: firing early spills nothing that is not due (no churn per PUBACK).
    if (this.spillTimer && (at === null || at >= this.spillTimer.at)) return;
    if (this.spillTimer) clearTimeout(this.spillTimer.timer);
    this.spillTimer = null;
    if (at === null) return;
    const timer = setTimeout(
      () => {
        this.spillTimer = null;
        void this.serial(() => this.runSafely(this.session.spill(Date.now())));
      },
      Math.max(0, at - Date.now()),
    );
    this.spillTimer = { at, timer };
  }

  /** CONNECT deadlines, keepalive, delayed will and session expiry share the object's one alarm. */
  private async syncAlarm(): Promise<void> {
    const at = this.session.nextDeadline();
    // After waking the alarm is unknown: read it (a read commits nothing) rather than clear it blindly.
    if (this.alarmAt === undefined) this.alarmAt = await this.ctx.storage.getAlarm();
    if (at === this.alarmAt) return;
    this.alarmAt = at;
    if (at === null) await this.ctx.storage.deleteAlarm();
    else await this.ctx.storage.setAlarm(at);
  }

  private warn(counter: string, message: string): void {
    this.counters.log("warn", message, counter);
  }
}
