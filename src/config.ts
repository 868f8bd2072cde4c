/** Broker settings from the Worker's environment; a bad value fails loudly and names the setting. */

/** MAX_SESSION_EXPIRY's default, in seconds: a week. */
export const DEFAULT_MAX_SESSION_EXPIRY = 7 * 24 * 3600;

export interface BrokerConfig {
  /** Largest packet accepted from a client, in bytes (CONNACK Maximum Packet Size). */
  maxPacketSize: number;
  /** QoS 1/2 messages a session keeps for its client before refusing more. */
  maxQueuedMessages: number;
  /** Bytes of QoS 1/2 messages a session keeps for its client before refusing more. */
  maxQueuedBytes: number;
  /** Bytes of QoS 0 messages per second one connection may be sent (twice that in a burst); beyond, dropped and counted. */
  maxQos0BytesPerSecond: number;
  /** Unacknowledged QoS 1/2 messages in flight to one client (also capped by its Receive Maximum). */
  maxInflight: number;
  /** Unacknowledged QoS 2 messages a client may have towards the broker (CONNACK Receive Maximum). */
  receiveMaximum: number;
  /** Topic aliases a client may use towards the broker (CONNACK Topic Alias Maximum). */
  topicAliasMaximum: number;
  /** Topic aliases the broker assigns towards a client that allows them; 0 turns that off. */
  serverTopicAliases: number;
  /** Highest keepalive the broker accepts from MQTT 5 clients, seconds (Server Keep Alive); 0 = any. */
  maxKeepalive: number;
  maximumQoS: 0 | 1 | 2;
  retainAvailable: boolean;
  wildcardSubscriptions: boolean;
  subscriptionIdentifiers: boolean;
  sharedSubscriptions: boolean;
  /** Subscriptions one session may hold; beyond it SUBACK says 0x97 Quota exceeded. */
  maxSubscriptions: number;
  /** Prefix of the Response Information given to clients that request it; empty = none. */
  responseInformation: string;
  /** Milliseconds a new connection has to complete its CONNECT. */
  connectTimeoutMs: number;
  /** Longest client id, in UTF-8 bytes (control characters are always refused). */
  maxClientIdBytes: number;
  /** Longest topic name or filter, in UTF-8 bytes, and most levels in one. */
  maxTopicBytes: number;
  maxTopicLevels: number;
  /** Longest a session outlives its connection, seconds (MQTT 5 clients are told in CONNACK; 3.1.1 CleanSession=0 too). */
  maxSessionExpiry: number;
  /** What one connection may publish per second (twice that in a burst): messages and bytes. */
  maxPublishRate: number;
  maxPublishBytesPerSecond: number;
  /** Takeovers of one client id within a minute beyond which further ones are refused. */
  maxTakeoversPerMinute: number;
  /** Topics with a retained message per topic shard (first topic level); beyond, not retained (counted). */
  maxRetainedPerShard: number;
}

export interface ConfigVars {
  MAX_PACKET_SIZE?: string;
  MAX_QUEUED_MESSAGES?: string;
  MAX_QUEUED_BYTES?: string;
  MAX_QOS0_BYTES_PER_SECOND?: string;
  MAX_INFLIGHT?: string;
  RECEIVE_MAXIMUM?: string;
  TOPIC_ALIAS_MAXIMUM?: string;
  SERVER_TOPIC_ALIASES?: string;
  MAX_KEEPALIVE?: string;
  MAXIMUM_QOS?: string;
  RETAIN_AVAILABLE?: string;
  WILDCARD_SUBSCRIPTIONS?: string;
  SUBSCRIPTION_IDENTIFIERS?: string;
  SHARED_SUBSCRIPTIONS?: string;
  MAX_SUBSCRIPTIONS?: string;
  RESPONSE_INFORMATION?: string;
  CONNECT_TIMEOUT?: string;
  MAX_CLIENT_ID_LENGTH?: string;
  MAX_TOPIC_LENGTH?: string;
  MAX_TOPIC_LEVELS?: string;
  MAX_SESSION_EXPIRY?: string;
  MAX_PUBLISH_RATE?: string;
  MAX_PUBLISH_BYTES_PER_SECOND?: string;
  MAX_TAKEOVERS_PER_MINUTE?: string;
  MAX_RETAINED_PER_SHARD?: string;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

/**
 * Largest packet the broker can take: Workers accept WebSocket messages of up to 32 MiB, but a
 * QoS 1/2 or retained message is stored as one Durable Object value, and a key and value
 * together may not exceed 2 MB. 64 KiB are left for the topic, properties and the record.
 */
export const MAX_STORABLE_PACKET = 2_000_000 - 64 * 1024;
/**
 * The highest MAX_CLIENT_ID_LENGTH: an id names a session object and rides in its route header,
 * its socket attachment (16 KiB) and storage keys. Edges that do not know the setting (the
 * gateway) refuse longer ids themselves.
 */
export const CLIENT_ID_BYTES_LIMIT = 1000;

/** Every setting loadConfig reads (the rest of the Worker's settings are checked in src/worker/settings.ts). */
export const BROKER_LIMIT_SETTINGS: readonly (keyof ConfigVars)[] = [
  "MAX_PACKET_SIZE",
  "MAX_QUEUED_MESSAGES",
  "MAX_QUEUED_BYTES",
  "MAX_QOS0_BYTES_PER_SECOND",
  "MAX_INFLIGHT",
  "RECEIVE_MAXIMUM",
  "TOPIC_ALIAS_MAXIMUM",
  "SERVER_TOPIC_ALIASES",
  "MAX_KEEPALIVE",
  "MAXIMUM_QOS",
  "RETAIN_AVAILABLE",
  "WILDCARD_SUBSCRIPTIONS",
  "SUBSCRIPTION_IDENTIFIERS",
  "SHARED_SUBSCRIPTIONS",
  "MAX_SUBSCRIPTIONS",
  "RESPONSE_INFORMATION",
  "CONNECT_TIMEOUT",
  "MAX_CLIENT_ID_LENGTH",
  "MAX_TOPIC_LENGTH",
  "MAX_TOPIC_LEVELS",
  "MAX_SESSION_EXPIRY",
  "MAX_PUBLISH_RATE",
  "MAX_PUBLISH_BYTES_PER_SECOND",
  "MAX_TAKEOVERS_PER_MINUTE",
  "MAX_RETAINED_PER_SHARD",
];

/** The broker's limits; every bad value is named at once, in one ConfigError. */
export function loadConfig(vars: ConfigVars): BrokerConfig {
  const result = readBrokerConfig(vars);
  if (!result.ok) throw new ConfigError(result.errors.join("; "));
  return result.config;
}

/** The broker's limits, or every problem with them (each names its setting). */
export function readBrokerConfig(vars: ConfigVars): { ok: true; config: BrokerConfig } | { ok: false; errors: string[] } {
  const errors: string[] = [];
  const config = readConfig(vars, errors);
  // A packet the broker accepts must fit what a connection may publish in a burst (two seconds' worth).
  if (errors.length === 0 && config.maxPublishBytesPerSecond * 2 < config.maxPacketSize) {
    errors.push(`MAX_PUBLISH_BYTES_PER_SECOND (${config.maxPublishBytesPerSecond}) must be at least half of MAX_PACKET_SIZE (${config.maxPacketSize})`);
  }
  return errors.length === 0 ? { ok: true, config } : { ok: false, errors };
}

function readConfig(vars: ConfigVars, errors: string[]): BrokerConfig {
  const integer = (name: keyof ConfigVars, fallback: number, min: number, max: number) => readInteger(vars, name, fallback, min, max, errors);
  const flag = (name: keyof ConfigVars, fallback: boolean) => readFlag(vars, name, fallback, errors);
  return {
    maxPacketSize: integer("MAX_PACKET_SIZE", 1024 * 1024, 64, MAX_STORABLE_PACKET),
    // The queue lives in storage (a Durable Object has 10 GB), read a page at a time.
    maxQueuedMessages: integer("MAX_QUEUED_MESSAGES", 100_000, 1, 10_000_000),
    maxQueuedBytes: integer("MAX_QUEUED_BYTES", 64 * 1024 * 1024, 1024, 4 * 1024 ** 3),
    // A client that stops reading must not pile QoS 0 up in the runtime's send buffer (F7).
    maxQos0BytesPerSecond: integer("MAX_QOS0_BYTES_PER_SECOND", 4 * 1024 * 1024, 1024, 1024 ** 3),
    maxInflight: integer("MAX_INFLIGHT", 64, 1, 65535),
    receiveMaximum: integer("RECEIVE_MAXIMUM", 100, 1, 65535),
    topicAliasMaximum: integer("TOPIC_ALIAS_MAXIMUM", 16, 0, 65535),
    serverTopicAliases: integer("SERVER_TOPIC_ALIASES", 16, 0, 65535),
    // Cloudflare cuts WebSockets idle for about 100 s: clients must ping more often than that.
    maxKeepalive: integer("MAX_KEEPALIVE", 60, 0, 65535),
    maximumQoS: integer("MAXIMUM_QOS", 2, 0, 2) as 0 | 1 | 2,
    retainAvailable: flag("RETAIN_AVAILABLE", true),
    wildcardSubscriptions: flag("WILDCARD_SUBSCRIPTIONS", true),
    subscriptionIdentifiers: flag("SUBSCRIPTION_IDENTIFIERS", true),
    sharedSubscriptions: flag("SHARED_SUBSCRIPTIONS", true),
    maxSubscriptions: integer("MAX_SUBSCRIPTIONS", 1000, 1, 1_000_000),
    responseInformation: text(vars, "RESPONSE_INFORMATION", "response/", errors),
    connectTimeoutMs: integer("CONNECT_TIMEOUT", 10, 1, 3600) * 1000,
    // Client ids and topics become storage keys (at most 2 KiB each): these maxima keep every
    // key (`sub:<filter>\0<client id>` is the longest) within it.
    maxClientIdBytes: integer("MAX_CLIENT_ID_LENGTH", 256, 23, CLIENT_ID_BYTES_LIMIT),
    maxTopicBytes: integer("MAX_TOPIC_LENGTH", 1024, 16, 1024),
    maxTopicLevels: integer("MAX_TOPIC_LEVELS", 128, 1, 1024),
    // Unauthenticated or not, a session must not hold storage for ever (review finding F16).
    maxSessionExpiry: integer("MAX_SESSION_EXPIRY", DEFAULT_MAX_SESSION_EXPIRY, 0, 0xffffffff),
    maxPublishRate: integer("MAX_PUBLISH_RATE", 10_000, 1, 1_000_000),
    maxPublishBytesPerSecond: integer("MAX_PUBLISH_BYTES_PER_SECOND", 16 * 1024 * 1024, 1024, 1024 ** 3),
    maxTakeoversPerMinute: integer("MAX_TAKEOVERS_PER_MINUTE", 10, 1, 10_000),
    maxRetainedPerShard: integer("MAX_RETAINED_PER_SHARD", 100_000, 1, 100_000_000),
  };
}

/**
 * A setting's value as the runtime passes it: a string, or a number or boolean when wrangler.toml
 * has it unquoted (`MAX_PACKET_SIZE = 100000`). An integer may be either.
 */
function raw(vars: ConfigVars, name: keyof ConfigVars): unknown {
  return (vars as Record<string, unknown>)[name];
}

function readInteger(vars: ConfigVars, name: keyof ConfigVars, fallback: number, min: number, max: number, errors: string[]): number {
  const given = raw(vars, name);
  if (given === undefined || given === "") return fallback;
  const value = typeof given === "string" && given.trim() !== "" ? Number(given) : typeof given === "number" ? given : NaN;
  if (!Number.isInteger(value) || value < min || value > max) {
    errors.push(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(given)}`);
    return fallback;
  }
  return value;
}

function readFlag(vars: ConfigVars, name: keyof ConfigVars, fallback: boolean, errors: string[]): boolean {
  const given = raw(vars, name);
  if (given === undefined || given === "") return fallback;
  if (given === "true") return true;
  if (given === "false") return false;
  errors.push(`${name} must be "true" or "false", got ${JSON.stringify(given)}`);
  return fallback;
}

function text(vars: ConfigVars, name: keyof ConfigVars, fallback: string, errors: string[]): string {
  const given = raw(vars, name);
  if (given === undefined) return fallback;
  if (typeof given === "string") return given;
  errors.push(`${name} must be a string, got ${JSON.stringify(given)}`);
  return fallback;
}
