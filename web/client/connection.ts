/**
 * One MQTT connection over WebSocket (mqtt.js's browser build): connect, reconnect with backoff
 * (the page's own, so it can show the attempt and the delay and stop on refusals that need the
 * user), subscribe, unsubscribe and publish with the broker's reason codes.
 */
import mqtt, { type IConnackPacket, type IPublishPacket, type MqttClient } from "mqtt";
import { backoffDelay } from "./backoff.js";
import { type ConnectSettings, clientOptions, connectUrl } from "./connect-options.js";
import { describeReason, retryAfterRefusal } from "./reason-codes.js";

export type Status = "idle" | "connecting" | "connected" | "reconnecting" | "disconnected" | "failed";

export interface ConnectionState {
  status: Status;
  /** What happened, in words. */
  detail: string;
  /** The reconnect attempt under way or next (0: none). */
  attempt: number;
  /** When the next attempt starts (ms since the epoch). */
  nextRetryAt?: number;
  sessionPresent?: boolean;
  /** What the CONNACK told (MQTT 5 properties), in words. */
  server?: string[];
}

export interface ConnectionEvents {
  state(state: ConnectionState): void;
  connected(sessionPresent: boolean): void;
  message(topic: string, payload: Uint8Array, packet: IPublishPacket): void;
}

export interface SubscribeRequest {
  qos: 0 | 1 | 2;
  nl: boolean;
  rap: boolean;
  rh: 0 | 1 | 2;
}

export class Connection {
  state: ConnectionState = { status: "idle", detail: "Not connected", attempt: 0 };
  private client: MqttClient | undefined;
  private settings: ConnectSettings | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private attempt = 0;
  /** Why the last connection ended, in words. */
  private lastReason: string | undefined;
  /** The last refusal needs the user (wrong password, taken over…): no retry. */
  private refused = false;
  private userClosed = false;

  constructor(private readonly events: ConnectionEvents) {}

  get version(): 4 | 5 {
    return this.settings?.version ?? 5;
  }

  get connected(): boolean {
    return this.state.status === "connected";
  }

  connect(settings: ConnectSettings): void {
    this.teardown();
    this.settings = structuredClone(settings);
    this.attempt = 0;
    this.userClosed = false;
    this.open();
  }

  /** Ends the connection with DISCONNECT (the will is not published) and stops reconnecting. */
  disconnect(): void {
    const client = this.client;
    this.userClosed = true;
    this.clearTimer();
    if (!client) return;
    if (client.connected) client.end(false);
    else client.end(true);
    this.set({ status: "disconnected", detail: "Disconnected", attempt: 0 });
  }

  /** Resolves with the SUBACK code: the granted QoS, or a failure ≥ 0x80. */
  subscribe(filter: string, request: SubscribeRequest): Promise<number> {
    const client = this.requireClient();
    return new Promise((resolve, reject) => {
      client.subscribe(filter, { qos: request.qos, nl: request.nl, rap: request.rap, rh: request.rh }, (err, granted, packet) => {
        const code = packet?.granted?.[0] ?? granted?.[0]?.qos;
        if (typeof code === "number") resolve(code);
        else reject(err ?? new Error("no SUBACK"));
      });
    });
  }

  /** Resolves with the UNSUBACK reason code (MQTT 5) or 0. */
  unsubscribe(filter: string): Promise<number> {
    const client = this.requireClient();
    return new Promise((resolve, reject) => {
      client.unsubscribe(filter, (err, packet) => {
        if (err) reject(err);
        else {
          const codes = (packet as { granted?: number[]; reasonCode?: number } | undefined)?.granted;
          resolve(codes?.[0] ?? 0);
        }
      });
    });
  }

  /** Resolves when sent (QoS 0) or acknowledged; rejects with the reason in words. */
  publish(topic: string, payload: Uint8Array, options: { qos: 0 | 1 | 2; retain: boolean; properties?: IPublishPacket["properties"] }): Promise<void> {
    const client = this.requireClient();
    return new Promise((resolve, reject) => {
      client.publish(topic, payload as unknown as Buffer, { qos: options.qos, retain: options.retain, ...(options.properties ? { properties: options.properties } : {}) }, (err) => {
        if (!err) resolve();
        else reject(new Error("code" in err && typeof err.code === "number" ? describeReason(err.code, "puback", this.version) : err.message));
      });
    });
  }

  private requireClient(): MqttClient {
    if (!this.client || !this.connected) throw new Error("not connected");
    return this.client;
  }

  private open(): void {
    const settings = this.settings!;
    this.lastReason = undefined;
    this.refused = false;
    const url = connectUrl(settings);
    const again = this.attempt > 0;
    this.set({ status: again ? "reconnecting" : "connecting", detail: again ? `Reconnecting to ${url}: attempt ${this.attempt}` : `Connecting to ${url}`, attempt: this.attempt });
    if (this.client) {
      const old = this.client;
      old.reconnect({ incomingStore: old.incomingStore, outgoingStore: old.outgoingStore });
      return;
    }
    const client = mqtt.connect(url, clientOptions(settings));
    this.client = client;
    client.on("connect", (connack) => {
      if (this.client !== client) return;
      this.attempt = 0;
      this.set({
        status: "connected",
        detail: `Connected to ${url} as ${settings.clientId || connack.properties?.assignedClientIdentifier || "(assigned id)"}, MQTT ${settings.version === 5 ? "5.0" : "3.1.1"}`,
        attempt: 0,
        sessionPresent: connack.sessionPresent,
        server: serverFacts(connack),
      });
      this.events.connected(connack.sessionPresent);
    });
    client.on("message", (topic, payload, packet) => {
      if (this.client === client) this.events.message(topic, payload, packet);
    });
    client.on("disconnect", (packet) => {
      const code = packet.reasonCode ?? 0;
      const why = packet.properties?.reasonString;
      this.lastReason = `The broker sent DISCONNECT ${describeReason(code, "disconnect", 5)}${why ? ` (${why})` : ""}`;
      if (!retryAfterRefusal(code, "disconnect", 5)) this.refused = true;
    });
    client.on("error", (err) => {
      const code = "code" in err && typeof err.code === "number" ? err.code : undefined;
      if (code !== undefined && err.message.startsWith("Connection refused")) {
        this.lastReason = `Refused: CONNACK ${describeReason(code, "connack", settings.version)}`;
        if (!retryAfterRefusal(code, "connack", settings.version)) this.refused = true;
      } else this.lastReason = err.message;
    });
    client.on("close", () => {
      if (this.client === client) this.closed();
    });
  }

  private closed(): void {
    if (this.userClosed || this.timer !== undefined) return;
    const wasConnected = this.state.status === "connected";
    const reason = this.lastReason ?? (wasConnected ? "The connection closed" : "Could not connect: the WebSocket closed before a CONNACK");
    if (!this.settings?.autoReconnect || this.refused) {
      this.client?.end(true);
      this.set({ status: this.refused ? "failed" : "disconnected", detail: reason, attempt: 0 });
      return;
    }
    this.attempt++;
    const delay = backoffDelay(this.attempt);
    this.set({ status: "reconnecting", detail: reason, attempt: this.attempt, nextRetryAt: Date.now() + delay });
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.userClosed) this.open();
    }, delay);
  }

  private teardown(): void {
    this.clearTimer();
    const client = this.client;
    this.client = undefined;
    client?.removeAllListeners();
    // mqtt.js emits errors on a client being torn down; keep them away from the console.
    client?.on("error", () => {});
    client?.end(true);
  }

  private clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private set(state: ConnectionState): void {
    this.state = state;
    this.events.state(state);
  }
}

/** The CONNACK's properties worth telling. */
function serverFacts(connack: IConnackPacket): string[] {
  const p = connack.properties;
  const facts = [`session present: ${connack.sessionPresent ? "yes" : "no"}`];
  if (!p) return facts;
  if (p.assignedClientIdentifier) facts.push(`assigned client id ${p.assignedClientIdentifier}`);
  if (p.serverKeepAlive !== undefined) facts.push(`server keepalive ${p.serverKeepAlive} s`);
  if (p.sessionExpiryInterval !== undefined) facts.push(`session expiry ${p.sessionExpiryInterval} s`);
  if (p.maximumQoS !== undefined) facts.push(`maximum QoS ${p.maximumQoS}`);
  if (p.retainAvailable === false) facts.push("no retained messages");
  if (p.maximumPacketSize !== undefined) facts.push(`maximum packet ${p.maximumPacketSize} bytes`);
  if (p.topicAliasMaximum !== undefined) facts.push(`topic aliases ${p.topicAliasMaximum}`);
  if (p.receiveMaximum !== undefined) facts.push(`receive maximum ${p.receiveMaximum}`);
  if (p.wildcardSubscriptionAvailable === false) facts.push("no wildcard subscriptions");
  if (p.sharedSubscriptionAvailable === false) facts.push("no shared subscriptions");
  if (p.responseInformation) facts.push(`response information ${p.responseInformation}`);
  if (p.reasonString) facts.push(p.reasonString);
  return facts;
}
