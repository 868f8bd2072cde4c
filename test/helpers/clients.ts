/** Real clients for the integration tests: mqtt.js, and a raw WebSocket for byte-level cases. */
import mqtt, { type IClientOptions, type MqttClient } from "mqtt";
import mqttPacket, { type Packet } from "mqtt-packet";
import WebSocket from "ws";

let counter = 0;
/** A client id unique within the test run. */
export const uniqueId = (prefix = "c") => `${prefix}-${process.pid}-${++counter}-${Math.random().toString(36).slice(2, 8)}`;

export async function connect(url: string, options: IClientOptions = {}): Promise<MqttClient> {
  return mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 5000, clientId: uniqueId(), ...options });
}

export interface Received {
  topic: string;
  payload: string;
  qos: number;
  retain: boolean;
  dup: boolean;
  properties?: mqttPacket.IPublishPacket["properties"];
}

/** Collects messages as they arrive; `next()` waits for the next one. */
export function collect(client: MqttClient): { messages: Received[]; next(timeoutMs?: number): Promise<Received>; count(n: number, timeoutMs?: number): Promise<Received[]> } {
  const messages: Received[] = [];
  const waiters: (() => void)[] = [];
  let read = 0;
  client.on("message", (topic, payload, packet) => {
    messages.push({ topic, payload: payload.toString(), qos: packet.qos, retain: packet.retain, dup: packet.dup, ...(packet.properties ? { properties: packet.properties } : {}) });
    for (const w of waiters.splice(0)) w();
  });
  const waitFor = (cond: () => boolean, timeoutMs: number, what: string) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (cond()) {
          clearTimeout(timer);
          resolve();
        } else waiters.push(check);
      };
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what} (have ${messages.length})`)), timeoutMs);
      check();
    });
  return {
    messages,
    async next(timeoutMs = 5000) {
      await waitFor(() => messages.length > read, timeoutMs, "a message");
      return messages[read++]!;
    },
    async count(n, timeoutMs = 5000) {
      await waitFor(() => messages.length >= n, timeoutMs, `${n} messages`);
      read = Math.max(read, n);
      return messages.slice(0, n);
    },
  };
}

/** Resolves after `ms`: only to prove that something does NOT happen within a window. */
export const quiet = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A raw MQTT-over-WebSocket connection for malformed input, split frames and the like. */
export class RawClient {
  readonly packets: Packet[] = [];
  closed: Promise<{ code: number; reason: string }>;
  private readonly parser = mqttPacket.parser({ protocolVersion: 4 });
  private waiters: (() => void)[] = [];

  private constructor(readonly ws: WebSocket) {
    this.parser.on("packet", (p: Packet) => {
      this.packets.push(p);
      for (const w of this.waiters.splice(0)) w();
    });
    ws.on("message", (data: Buffer) => this.parser.parse(data));
    this.closed = new Promise((resolve) =>
      ws.on("close", (code, reason) => {
        resolve({ code, reason: reason.toString() });
        for (const w of this.waiters.splice(0)) w();
      }),
    );
  }

  static open(url: string, protocols: string[] = ["mqtt"], protocolVersion: 4 | 5 = 4): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, protocols);
      const client = new RawClient(ws);
      (client.parser as unknown as { settings: object }).settings = { protocolVersion };
      ws.once("open", () => resolve(client));
      ws.once("error", reject);
    });
  }

  send(packet: Packet | Uint8Array, protocolVersion: 4 | 5 = 4): void {
    this.ws.send(packet instanceof Uint8Array ? packet : mqttPacket.generate(packet, { protocolVersion }));
  }

  /** Waits for the next packet of the given type (or for the socket to close). */
  async expect(cmd: Packet["cmd"], timeoutMs = 5000): Promise<Packet> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.packets.findIndex((p) => p.cmd === cmd);
      if (found !== -1) return this.packets.splice(found, 1)[0]!;
      if (this.ws.readyState === WebSocket.CLOSED) throw new Error(`connection closed before ${cmd}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${cmd}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 100);
      });
    }
  }

  close(): void {
    this.ws.close();
  }
}

export function connectPacket(clientId: string, extra: Partial<mqttPacket.IConnectPacket> = {}): Packet {
  return { cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clientId, clean: true, keepalive: 60, ...extra } as Packet;
}

/** Connects with the message collector attached before CONNACK, for queued messages sent right after it. */
export async function connectWithInbox(url: string, options: IClientOptions = {}): Promise<{ client: MqttClient; inbox: ReturnType<typeof collect> }> {
  const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000, clientId: uniqueId(), ...options });
  const inbox = collect(client);
  await new Promise<void>((resolve, reject) => {
    client.once("connect", () => resolve());
    client.once("error", reject);
  });
  return { client, inbox };
}

/** An MQTT 5 client with its CONNACK and a collector attached before CONNACK. */
export async function connectV5(url: string, options: IClientOptions = {}): Promise<{ client: MqttClient; connack: mqttPacket.IConnackPacket; inbox: ReturnType<typeof collect> }> {
  const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000, clientId: uniqueId(), protocolVersion: 5, ...options });
  const inbox = collect(client);
  const connack = await new Promise<mqttPacket.IConnackPacket>((resolve, reject) => {
    client.once("connect", (packet) => resolve(packet as mqttPacket.IConnackPacket));
    client.once("error", reject);
  });
  return { client, connack, inbox };
}

/** Full packets as mqtt.js received them (properties included). */
export function packetsOf(client: MqttClient, cmd: Packet["cmd"]): Packet[] {
  const seen: Packet[] = [];
  client.on("packetreceive", (p: Packet) => {
    if (p.cmd === cmd) seen.push(p);
  });
  return seen;
}
