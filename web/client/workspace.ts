/**
 * One tab: a connection with its settings, subscriptions, publish history, message log, topic
 * tree and chart. Messages update the data at once; the UI is told at most once per animation
 * frame, per channel, never per message.
 */
import type { IPublishPacket } from "mqtt";
import { numericValue, Series } from "./chart.js";
import { type ConnectSettings, defaultSettings } from "./connect-options.js";
import { Connection, type ConnectionState } from "./connection.js";
import { type LogFilter, makePredicate, NO_FILTER } from "./message-filter.js";
import { type LoggedMessage, MessageLog, MessageView } from "./message-log.js";
import { type PayloadFormat, encodePayload } from "./payload-format.js";
import { messageProps, type PublishProps, publishProperties } from "./publish-options.js";
import { describeReason, isFailure } from "./reason-codes.js";
import { filterProblem, topicMatches, topicProblem } from "./topic-match.js";
import { TopicTree } from "./topic-tree.js";

export type Channel = "state" | "messages" | "tree" | "subs" | "history" | "chart" | "settings";

export interface Subscription {
  id: number;
  filter: string;
  qos: 0 | 1 | 2;
  nl: boolean;
  rap: boolean;
  rh: 0 | 1 | 2;
  colour: string;
  /** inactive: not on the broker yet (subscribed on connect). */
  status: "inactive" | "pending" | "active" | "refused";
  /** The SUBACK code, in words. */
  detail?: string;
}

export interface PublishRequest {
  topic: string;
  input: string;
  format: PayloadFormat;
  qos: 0 | 1 | 2;
  retain: boolean;
  props: PublishProps;
}

export interface PublishRecord extends PublishRequest {
  time: number;
  result: string;
}

export const COLOURS = ["#2563eb", "#db2777", "#16a34a", "#ea580c", "#7c3aed", "#0891b2", "#ca8a04", "#dc2626", "#4f46e5", "#059669"];
const HISTORY = 20;
/** Channels that change with every message are drawn at most this often (ms); the rest on the next frame. */
export const HOT_INTERVAL = 100;
const HOT: ReadonlySet<Channel> = new Set<Channel>(["messages", "tree", "chart"]);

let nextWorkspace = 1;
let nextSubscription = 1;

export class Workspace {
  readonly id = nextWorkspace++;
  settings: ConnectSettings;
  readonly log = new MessageLog();
  readonly view: MessageView;
  filter: LogFilter = NO_FILTER;
  readonly tree = new TopicTree();
  subscriptions: Subscription[] = [];
  history: PublishRecord[] = [];
  readonly chart = { topic: "", field: "", series: new Series() };
  received = 0;
  sent = 0;
  /** Messages that passed the log filter since the list last rendered (it keeps its scroll position by them). */
  addedToView = 0;
  /** A hidden tab is told nothing until shown. */
  visible = true;
  readonly conn: Connection;
  private dirty = new Set<Channel>();
  private frame = 0;
  private lastHot = 0;
  private listeners = new Map<Channel, Set<() => void>>();
  private colourCache = new Map<string, string | undefined>();

  constructor(location: { protocol: string; host: string }) {
    this.settings = defaultSettings(location);
    this.view = new MessageView(this.log);
    this.conn = new Connection({
      state: (s) => this.onState(s),
      connected: (sessionPresent) => this.resubscribe(sessionPresent),
      message: (topic, payload, packet) => this.onMessage(topic, payload, packet),
    });
  }

  get label(): string {
    return this.settings.name || this.settings.clientId || `connection ${this.id}`;
  }

  get state(): ConnectionState {
    return this.conn.state;
  }

  /** Calls `fn` (at most once a frame) when any of the channels changed; returns the unsubscribe. */
  on(channels: Channel[], fn: () => void): () => void {
    for (const c of channels) {
      let set = this.listeners.get(c);
      if (!set) this.listeners.set(c, (set = new Set()));
      set.add(fn);
    }
    return () => {
      for (const c of channels) this.listeners.get(c)?.delete(fn);
    };
  }

  touch(channel: Channel): void {
    this.dirty.add(channel);
    if (this.frame === 0 && this.visible) this.frame = requestAnimationFrame((t) => this.flush(t));
  }

  /** Tells every listener (a tab being shown). */
  touchAll(): void {
    for (const c of this.listeners.keys()) this.touch(c);
  }

  private flush(now: number): void {
    this.frame = 0;
    if (!this.visible) return;
    // A stream of messages is drawn ~10 times a second: drawing it every frame would take the frames from the page.
    const hotDue = now - this.lastHot >= HOT_INTERVAL;
    const due = [...this.dirty].filter((c) => hotDue || !HOT.has(c));
    if (due.some((c) => HOT.has(c))) this.lastHot = now;
    if (due.includes("messages")) this.addedToView += this.view.sync();
    const fns = new Set<() => void>();
    for (const c of due) {
      this.dirty.delete(c);
      for (const fn of this.listeners.get(c) ?? []) fns.add(fn);
    }
    for (const fn of fns) fn();
    if (this.dirty.size > 0) this.frame = requestAnimationFrame((t) => this.flush(t));
  }

  setVisible(visible: boolean): void {
    this.visible = visible;
    if (visible) this.touchAll();
  }

  connect(settings: ConnectSettings): void {
    this.settings = structuredClone(settings);
    this.touch("settings");
    this.conn.connect(this.settings);
  }

  private onState(s: ConnectionState): void {
    this.touch("state");
    if (s.status !== "connected") {
      for (const sub of this.subscriptions) if (sub.status === "pending") sub.status = "inactive";
      this.touch("subs");
    }
  }

  private onMessage(topic: string, payload: Uint8Array, packet: IPublishPacket): void {
    // A copy: mqtt.js's buffer may be a view of a whole WebSocket frame.
    const bytes = new Uint8Array(payload);
    const time = Date.now();
    const props = this.conn.version === 5 ? messageProps(packet.properties) : undefined;
    this.log.push({ time, dir: "in", topic, payload: bytes, qos: packet.qos, retain: packet.retain, dup: packet.dup, ...(props ? { props } : {}) });
    this.tree.add(topic, bytes, time, packet.qos, packet.retain);
    this.received++;
    if (topic === this.chart.topic) this.chartPoint(bytes, time);
    this.touch("messages");
    this.touch("tree");
  }

  // ---- the log

  setFilter(filter: LogFilter): void {
    this.filter = { ...filter };
    this.view.setPredicate(makePredicate(this.filter));
    this.addedToView = 0;
    this.touch("messages");
  }

  clearLog(): void {
    this.log.clear();
    this.view.setPredicate(makePredicate(this.filter));
    this.addedToView = 0;
    this.touch("messages");
  }

  clearTree(): void {
    this.tree.clear();
    this.touch("tree");
  }

  /** The colour of the first subscription whose filter matches the topic. */
  colourOf(topic: string): string | undefined {
    if (this.colourCache.has(topic)) return this.colourCache.get(topic);
    const colour = this.subscriptions.find((s) => topicMatches(s.filter, topic))?.colour;
    if (this.colourCache.size > 10_000) this.colourCache.clear();
    this.colourCache.set(topic, colour);
    return colour;
  }

  // ---- subscriptions

  /** Adds (or changes) a subscription; returns a problem in words, or undefined. */
  subscribe(filter: string, options: Omit<Subscription, "id" | "filter" | "colour" | "status">, colour?: string): string | undefined {
    const problem = filterProblem(filter);
    if (problem) return problem;
    let sub = this.subscriptions.find((s) => s.filter === filter);
    if (sub) Object.assign(sub, options, colour ? { colour } : {});
    else {
      sub = { id: nextSubscription++, filter, ...options, colour: colour ?? COLOURS[this.subscriptions.length % COLOURS.length]!, status: "inactive" };
      this.subscriptions.push(sub);
    }
    this.colourCache.clear();
    if (this.conn.connected) this.sendSubscribe(sub);
    this.touch("subs");
    this.touch("messages");
    return undefined;
  }

  async unsubscribe(id: number): Promise<void> {
    const sub = this.subscriptions.find((s) => s.id === id);
    if (!sub) return;
    this.subscriptions = this.subscriptions.filter((s) => s !== sub);
    this.colourCache.clear();
    this.touch("subs");
    this.touch("messages");
    if (this.conn.connected && sub.status === "active") await this.conn.unsubscribe(sub.filter).catch(() => undefined);
  }

  setColour(id: number, colour: string): void {
    const sub = this.subscriptions.find((s) => s.id === id);
    if (!sub) return;
    sub.colour = colour;
    this.colourCache.clear();
    this.touch("subs");
    this.touch("messages");
  }

  private resubscribe(sessionPresent: boolean): void {
    // Without a session the broker knows none of them; with one, only those it never granted.
    for (const sub of this.subscriptions) if (!sessionPresent || sub.status !== "active") this.sendSubscribe(sub);
    this.touch("subs");
  }

  private sendSubscribe(sub: Subscription): void {
    sub.status = "pending";
    delete sub.detail;
    const version = this.conn.version;
    this.conn
      .subscribe(sub.filter, { qos: sub.qos, nl: sub.nl, rap: sub.rap, rh: sub.rh })
      .then((code) => {
        sub.status = isFailure(code) ? "refused" : "active";
        sub.detail = isFailure(code) ? describeReason(code, "suback", version) : `QoS ${code}`;
      })
      .catch((error: Error) => {
        sub.status = "inactive";
        sub.detail = error.message;
      })
      .finally(() => this.touch("subs"));
  }

  // ---- publishing

  /** Publishes; resolves with the outcome in words (throws nothing). */
  async publish(request: PublishRequest): Promise<{ ok: boolean; text: string }> {
    let payload: Uint8Array;
    let properties: IPublishPacket["properties"] | undefined;
    try {
      const problem = topicProblem(request.topic);
      if (problem) throw new Error(`topic: ${problem}`);
      payload = encodePayload(request.input, request.format);
      properties = this.conn.version === 5 ? publishProperties(request.props) : undefined;
      if (!this.conn.connected) throw new Error("not connected");
    } catch (error) {
      return { ok: false, text: (error as Error).message };
    }
    const time = Date.now();
    let result: { ok: boolean; text: string };
    try {
      await this.conn.publish(request.topic, payload, { qos: request.qos, retain: request.retain, ...(properties ? { properties } : {}) });
      result = { ok: true, text: request.qos === 0 ? "sent" : "acknowledged" };
    } catch (error) {
      result = { ok: false, text: (error as Error).message };
    }
    if (result.ok) {
      this.sent++;
      const props = properties ? messageProps(properties) : undefined;
      this.log.push({ time, dir: "out", topic: request.topic, payload, qos: request.qos, retain: request.retain, dup: false, ...(props ? { props } : {}) });
      this.touch("messages");
    }
    this.remember({ ...structuredClone(request), time, result: result.text });
    return result;
  }

  private remember(record: PublishRecord): void {
    const same = (a: PublishRequest, b: PublishRequest) =>
      a.topic === b.topic && a.input === b.input && a.format === b.format && a.qos === b.qos && a.retain === b.retain && JSON.stringify(a.props) === JSON.stringify(b.props);
    this.history = [record, ...this.history.filter((r) => !same(r, record))].slice(0, HISTORY);
    this.touch("history");
  }

  // ---- the chart

  setChart(topic: string, field: string): void {
    this.chart.topic = topic;
    this.chart.field = field;
    const series = this.chart.series;
    series.clear();
    if (topic !== "") {
      // What the log still holds, newest last (only the last series.capacity points matter).
      const points: LoggedMessage[] = [];
      for (let i = 0; i < this.log.size; i++) {
        const m = this.log.get(this.log.nextSeq - 1 - i);
        if (!m) break;
        if (m.dir === "in" && m.topic === topic) points.push(m);
        if (points.length >= series.capacity) break;
      }
      for (const m of points.reverse()) this.chartPoint(m.payload, m.time);
    }
    this.touch("chart");
  }

  private chartPoint(payload: Uint8Array, time: number): void {
    const v = numericValue(payload, this.chart.field);
    if (v === undefined) this.chart.series.skipped++;
    else this.chart.series.push(time, v);
    this.touch("chart");
  }

  /** Closing the tab ends the connection with DISCONNECT (no will). */
  close(): void {
    this.conn.disconnect();
    this.listeners.clear();
    if (this.frame !== 0) cancelAnimationFrame(this.frame);
  }
}
