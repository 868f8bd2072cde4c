/** Reference broker for the benchmark: Aedes 1.x, in memory, over TCP and WebSocket (ws streams). */
import { createServer as createHttpServer } from "node:http";
import { createServer } from "node:net";
import { Aedes } from "aedes";
import { WebSocketServer, createWebSocketStream } from "ws";

const [tcpPort, wsPort] = process.argv.slice(2).map(Number);
const aedes = await Aedes.createBroker();
const tcp = createServer(aedes.handle as never);
const http = createHttpServer();
const wss = new WebSocketServer({ server: http });
wss.on("connection", (socket, req) => aedes.handle(createWebSocketStream(socket) as never, req));
await new Promise<void>((r) => tcp.listen(tcpPort, "127.0.0.1", () => r()));
await new Promise<void>((r) => http.listen(wsPort, "127.0.0.1", () => r()));
process.send?.({ type: "ready" });
