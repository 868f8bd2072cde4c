/**
 * A WebSocket for mqtt.js (its `createWebsocket` option) that hands incoming data over in
 * slices, a few milliseconds of work at a time. The broker may send hundreds of messages in one
 * WebSocket frame, and mqtt.js parses a frame and emits every message in one task: sliced, a
 * burst cannot hold the main thread, so the page keeps drawing frames. Order is kept (close and
 * error events wait behind the data); MQTT's parser does not care where the bytes are cut.
 */
export const SLICE_BYTES = 2048;
export const BUDGET_MS = 6;

type Item = ArrayBuffer | Event;

export class PacedSocket extends EventTarget {
  readonly CONNECTING = 0;
  readonly OPEN = 1;
  readonly CLOSING = 2;
  readonly CLOSED = 3;
  private queue: Item[] = [];
  private head = 0;
  private scheduled = false;
  private readonly channel = new MessageChannel();

  constructor(private readonly ws: WebSocket) {
    super();
    ws.binaryType = "arraybuffer";
    this.channel.port1.onmessage = () => this.run();
    ws.addEventListener("open", () => this.dispatchEvent(new Event("open")));
    ws.addEventListener("message", (e: MessageEvent) => {
      const data: unknown = e.data;
      if (data instanceof ArrayBuffer && data.byteLength > SLICE_BYTES) {
        for (let i = 0; i < data.byteLength; i += SLICE_BYTES) this.queue.push(data.slice(i, i + SLICE_BYTES));
      } else if (data instanceof ArrayBuffer) this.queue.push(data);
      else this.queue.push(new MessageEvent("message", { data }));
      this.schedule();
    });
    ws.addEventListener("error", () => this.enqueue(new Event("error")));
    ws.addEventListener("close", (e: CloseEvent) => this.enqueue(new CloseEvent("close", { code: e.code, reason: e.reason, wasClean: e.wasClean })));
  }

  get readyState(): number {
    return this.ws.readyState;
  }
  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }
  get url(): string {
    return this.ws.url;
  }
  get protocol(): string {
    return this.ws.protocol;
  }
  get binaryType(): BinaryType {
    return "arraybuffer";
  }
  set binaryType(_: BinaryType) {
    // Always arraybuffer: slices are ArrayBuffers.
  }

  send(data: string | ArrayBufferLike | Blob | ArrayBufferView): void {
    this.ws.send(data as ArrayBuffer);
  }

  close(code?: number, reason?: string): void {
    this.ws.close(code, reason);
  }

  /** Data waiting to be handed over, in items (for tests). */
  get pending(): number {
    return this.queue.length - this.head;
  }

  private enqueue(event: Event): void {
    this.queue.push(event);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    this.channel.port2.postMessage(0);
  }

  private run(): void {
    this.scheduled = false;
    const start = performance.now();
    while (this.head < this.queue.length) {
      const item = this.queue[this.head]!;
      this.queue[this.head++] = undefined as unknown as Item;
      if (item instanceof ArrayBuffer) this.dispatchEvent(new MessageEvent("message", { data: item }));
      else this.dispatchEvent(item);
      if (performance.now() - start >= BUDGET_MS) break;
    }
    if (this.head >= this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else {
      if (this.head > 1024) {
        this.queue = this.queue.slice(this.head);
        this.head = 0;
      }
      this.schedule();
    }
  }
}

export function pacedWebSocket(url: string, protocols: string[]): PacedSocket {
  return new PacedSocket(new WebSocket(url, protocols));
}
