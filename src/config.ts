/** Broker limits from the Worker's environment; a bad value fails loudly and names the setting. */

export interface BrokerConfig {
  /** Largest packet accepted from or sent to a client, in bytes. */
  maxPacketSize: number;
  /** QoS 1/2 messages a session keeps for its client before refusing more. */
  maxQueuedMessages: number;
  /** Unacknowledged QoS 1/2 messages in flight to one client. */
  maxInflight: number;
}

export interface ConfigVars {
  MAX_PACKET_SIZE?: string;
  MAX_QUEUED_MESSAGES?: string;
  MAX_INFLIGHT?: string;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

/** Workers accept WebSocket messages of at most 32 MiB. */
export const WORKERS_MAX_MESSAGE = 32 * 1024 * 1024;

export function loadConfig(vars: ConfigVars): BrokerConfig {
  return {
    maxPacketSize: integer(vars, "MAX_PACKET_SIZE", 1024 * 1024, 64, WORKERS_MAX_MESSAGE),
    maxQueuedMessages: integer(vars, "MAX_QUEUED_MESSAGES", 1000, 1, 1_000_000),
    maxInflight: integer(vars, "MAX_INFLIGHT", 20, 1, 65535),
  };
}

function integer(vars: ConfigVars, name: keyof ConfigVars, fallback: number, min: number, max: number): number {
  const raw = vars[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  }
  return value;
}
