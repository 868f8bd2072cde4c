/** Gateway settings from command-line flags and environment variables; errors name the setting. */
import { readFileSync } from "node:fs";

export interface GatewayOptions {
  /** The Worker's MQTT WebSocket endpoint, ws:// or wss://. */
  workerUrl: string;
  host: string;
  /** Plain TCP port; 0 picks a free one. */
  port: number;
  /** TLS port, used only with a certificate and key. */
  tlsPort: number;
  tls?: { cert: Buffer; key: Buffer };
  /** Shared with the Worker's GATEWAY_SECRET, so it believes the client-address header. */
  secret?: string;
  maxPacketSize: number;
  /** Bytes the gateway holds for one client in either direction before pausing; twice that closes it. */
  maxBuffer: number;
  connectTimeoutMs: number;
  /** A client that leaves a packet half sent this long without a new byte is closed. */
  stallTimeoutMs: number;
  /** How long to wait at startup for the Worker to answer. */
  waitForWorkerMs: number;
  /** Clients open at once, TCP and TLS together; beyond it new ones are refused. */
  maxConnections: number;
}

export class GatewayConfigError extends Error {}

interface Setting {
  flag: string;
  env: string;
  help: string;
  fallback?: string;
}

const SETTINGS = {
  workerUrl: { flag: "--worker-url", env: "GATEWAY_WORKER_URL", help: "the Worker's MQTT endpoint (ws:// or wss://)", fallback: "ws://127.0.0.1:8787/mqtt" },
  host: { flag: "--host", env: "GATEWAY_HOST", help: "address to listen on", fallback: "127.0.0.1" },
  port: { flag: "--port", env: "GATEWAY_PORT", help: "MQTT over TCP port (0 = any free port)", fallback: "1883" },
  tlsPort: { flag: "--tls-port", env: "GATEWAY_TLS_PORT", help: "MQTT over TLS port, used with --tls-cert and --tls-key", fallback: "8883" },
  tlsCert: { flag: "--tls-cert", env: "GATEWAY_TLS_CERT", help: "PEM certificate file for TLS" },
  tlsKey: { flag: "--tls-key", env: "GATEWAY_TLS_KEY", help: "PEM private key file for TLS" },
  secret: { flag: "--secret", env: "GATEWAY_SECRET", help: "secret shared with the Worker's GATEWAY_SECRET" },
  maxPacketSize: { flag: "--max-packet-size", env: "GATEWAY_MAX_PACKET_SIZE", help: "largest MQTT packet in bytes", fallback: "1048576" },
  maxBuffer: { flag: "--max-buffer", env: "GATEWAY_MAX_BUFFER", help: "bytes buffered per client before pausing (twice that closes it)", fallback: "4194304" },
  connectTimeout: { flag: "--connect-timeout", env: "GATEWAY_CONNECT_TIMEOUT", help: "seconds a client has to send CONNECT", fallback: "10" },
  stallTimeout: { flag: "--stall-timeout", env: "GATEWAY_STALL_TIMEOUT", help: "seconds a half-sent packet may wait for its next byte", fallback: "30" },
  waitForWorker: { flag: "--wait-for-worker", env: "GATEWAY_WAIT_FOR_WORKER", help: "seconds to wait at startup for the Worker to answer", fallback: "0" },
  maxConnections: { flag: "--max-connections", env: "GATEWAY_MAX_CONNECTIONS", help: "clients open at once (TCP and TLS); more are refused", fallback: "10000" },
} satisfies Record<string, Setting>;

type Name = keyof typeof SETTINGS;

export function helpText(): string {
  const lines = Object.values(SETTINGS).map((s: Setting) => {
    const def = s.fallback !== undefined ? ` (default ${s.fallback})` : "";
    return `  ${s.flag.padEnd(20)} ${s.env.padEnd(26)} ${s.help}${def}`;
  });
  return [
    "edge-mqtt-broker gateway: MQTT over TCP (and TLS) into the broker Worker over WebSocket.",
    "",
    "Usage: node dist/gateway.mjs [flags]   (each flag also reads from its environment variable)",
    "",
    `  ${"flag".padEnd(20)} ${"environment".padEnd(26)} meaning`,
    ...lines,
    "  --help                                          this text",
  ].join("\n");
}

export function parseOptions(argv: string[], env: Record<string, string | undefined>): GatewayOptions | "help" {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--help" || arg === "-h") return "help";
    const known = Object.values(SETTINGS).some((s: Setting) => s.flag === arg.split("=")[0]);
    if (!known) throw new GatewayConfigError(`unknown flag ${arg} (see --help)`);
    const eq = arg.indexOf("=");
    if (eq !== -1) flags.set(arg.slice(0, eq), arg.slice(eq + 1));
    else {
      const value = argv[++i];
      if (value === undefined) throw new GatewayConfigError(`${arg} needs a value`);
      flags.set(arg, value);
    }
  }
  const raw = (name: Name): string | undefined => {
    const s: Setting = SETTINGS[name];
    return flags.get(s.flag) ?? env[s.env] ?? s.fallback;
  };
  const label = (name: Name) => `${SETTINGS[name].flag} / ${SETTINGS[name].env}`;
  const int = (name: Name, min: number, max: number): number => {
    const value = Number(raw(name));
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new GatewayConfigError(`${label(name)} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw(name))}`);
    }
    return value;
  };

  const workerUrl = raw("workerUrl")!;
  if (!/^wss?:\/\//.test(workerUrl)) throw new GatewayConfigError(`${label("workerUrl")} must start with ws:// or wss://, got ${JSON.stringify(workerUrl)}`);
  const certFile = raw("tlsCert");
  const keyFile = raw("tlsKey");
  if ((certFile === undefined) !== (keyFile === undefined)) {
    throw new GatewayConfigError(`TLS needs both ${label("tlsCert")} and ${label("tlsKey")}`);
  }
  const secret = raw("secret");
  return {
    workerUrl,
    host: raw("host")!,
    port: int("port", 0, 65535),
    tlsPort: int("tlsPort", 0, 65535),
    ...(certFile && keyFile ? { tls: { cert: readPem(certFile, label("tlsCert")), key: readPem(keyFile, label("tlsKey")) } } : {}),
    ...(secret ? { secret } : {}),
    maxPacketSize: int("maxPacketSize", 64, 32 * 1024 * 1024),
    maxBuffer: int("maxBuffer", 1024, 1024 * 1024 * 1024),
    connectTimeoutMs: int("connectTimeout", 1, 3600) * 1000,
    stallTimeoutMs: int("stallTimeout", 1, 3600) * 1000,
    waitForWorkerMs: int("waitForWorker", 0, 3600) * 1000,
    maxConnections: int("maxConnections", 1, 1_000_000),
  };
}

function readPem(file: string, label: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new GatewayConfigError(`cannot read ${label} file ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
}
