/** Starts the TCP gateway in this process on 127.0.0.1 (free ports), pointed at a test broker. */
import { type Gateway, startGateway } from "../../gateway/src/gateway.js";
import type { GatewayOptions } from "../../gateway/src/options.js";
import type { Broker } from "./broker.js";
import { GATEWAY_SECRET } from "./broker.js";

export interface TestGateway extends Gateway {
  url: string;
  logs: string[];
}

export async function startTestGateway(broker: Broker, options: Partial<GatewayOptions> = {}): Promise<TestGateway> {
  const logs: string[] = [];
  const gateway = await startGateway(
    {
      workerUrl: broker.mqttUrl,
      host: "127.0.0.1",
      port: 0,
      tlsPort: 0,
      secret: GATEWAY_SECRET,
      maxPacketSize: 1024 * 1024,
      maxBuffer: 4 * 1024 * 1024,
      connectTimeoutMs: 10_000,
      stallTimeoutMs: 30_000,
      waitForWorkerMs: 0,
      maxConnections: 10_000,
      ...options,
    },
    (line) => logs.push(line),
  );
  return { ...gateway, stats: gateway.stats, stop: gateway.stop, url: `mqtt://127.0.0.1:${gateway.port}`, logs };
}
