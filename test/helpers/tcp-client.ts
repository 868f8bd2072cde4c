/** A raw MQTT-over-TCP connection (to the gateway), with the same shape as RawClient for WebSocket. */
import { connect as tcpConnect, type Socket } from "node:net";
import mqttPacket, { type Packet } from "mqtt-packet";

export class RawTcpClient {
  readonly packets: Packet[] = [];
  readonly closed: Promise<void>;
  private readonly parser: ReturnType<typeof mqttPacket.parser>;
  private waiters: (() => void)[] = [];
  private isClosed = false;

  private constructor(
    readonly socket: Socket,
    private readonly protocolVersion: 4 | 5,
  ) {
    this.parser = mqttPacket.parser({ protocolVersion });
    this.parser.on("packet", (p: Packet) => {
      this.packets.push(p);
      this.wake();
    });
    socket.on("data", (d) => this.parser.parse(d));
    this.closed = new Promise((resolve) =>
      socket.on("close", () => {
        this.isClosed = true;
        resolve();
        this.wake();
      }),
    );
  }

  static open(port: number, protocolVersion: 4 | 5 = 4): Promise<RawTcpClient> {
    return new Promise((resolve, reject) => {
      const socket = tcpConnect(port, "127.0.0.1");
      const client = new RawTcpClient(socket, protocolVersion);
      socket.once("connect", () => resolve(client));
      socket.once("error", reject);
    });
  }

  get open(): boolean {
    return !this.isClosed;
  }

  send(packet: Packet): void {
    this.socket.write(mqttPacket.generate(packet, { protocolVersion: this.protocolVersion }));
  }

  /** Waits for the next packet of the given type (or for the socket to close). */
  async expect(cmd: Packet["cmd"], timeoutMs = 5000): Promise<Packet> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.packets.findIndex((p) => p.cmd === cmd);
      if (found !== -1) return this.packets.splice(found, 1)[0]!;
      if (this.isClosed) throw new Error(`connection closed before ${cmd}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${cmd}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 100);
      });
    }
  }

  close(): void {
    this.socket.destroy();
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}
