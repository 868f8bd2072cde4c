/**
 * The operator's JSON API under /api/ (and GET /metrics), as the Worker serves it and the console
 * at /dashboard reads it. Every request needs `Authorization: Bearer <ADMIN_TOKEN>`; without
 * ADMIN_TOKEN configured the API answers 404, with a wrong token 401.
 */

/**
 * Errors are JSON `{ error, message }`: `admin_api_disabled` (404: no ADMIN_TOKEN), `unauthorized`
 * (401), or a 404 / 400 about the request (an unknown or offline client, a bad filter).
 * Answers carry `Cache-Control: no-store`. Times are epoch milliseconds of the broker's clock.
 */

/** GET /api/overview */
export interface Overview {
  version: string;
  /** The broker's clock when it answered (compare `since` and event times with it, not the browser's). */
  now: number;
  /** Since the stats object started (it restarts with the runtime). */
  uptimeSeconds: number;
  clients: { connected: number /** Sessions known: connected plus kept for offline clients. */; sessions: number };
  subscriptions: number;
  retained: number;
  messages: {
    received: number;
    sent: number;
    /** Dropped or refused messages by reason (the counters' names, e.g. `dropped_queue_full`). */
    dropped: Record<string, number>;
  };
  /** Messages per second in and out over the 10 s ending at `at`, oldest first (at most 30 minutes; the current partial 10 s is not included). */
  rates: { at: number; inPerSecond: number; outPerSecond: number }[];
}

/** One session as the console lists it. */
export interface ClientSummary {
  clientId: string;
  connected: boolean;
  address?: string;
  /** 4 = MQTT 3.1.1, 5 = MQTT 5.0. */
  protocolVersion?: 4 | 5;
  username?: string;
  /** Epoch ms of the current connection's CONNECT, or of the last disconnect when offline. */
  since: number;
  subscriptions: number;
  queued: number;
}

/** GET /api/clients?q=<substring of client id>&connected=true|false&limit=<n, default 100>&after=<client id> */
export interface ClientList {
  clients: ClientSummary[];
  /** Pass as `after` for the next page; absent on the last page. */
  next?: string;
}

/** GET /api/clients/:clientId — one session in detail (404 when unknown). */
export interface ClientDetail extends ClientSummary {
  /** Session Expiry Interval in seconds (capped by MAX_SESSION_EXPIRY; 0: ends with the connection). */
  expiryInterval?: number;
  /** Filter → granted QoS. */
  filters: Record<string, number>;
  queuedBytes: number;
  counters: Record<string, number>;
}

/** POST /api/clients/:clientId/disconnect → 204; the client gets DISCONNECT 0x98 (MQTT 5) and is closed. 404 when not connected. */

/** One retained message as the console shows it. */
export interface RetainedSummary {
  topic: string;
  qos: 0 | 1 | 2;
  /** Payload size in bytes. */
  bytes: number;
  /** The payload as base64 (at most the first 4 KiB). */
  payloadBase64: string;
  truncated: boolean;
}

/** GET /api/retained?filter=<topic filter, default #>&after=<topic> — a page in topic order. */
export interface RetainedList {
  messages: RetainedSummary[];
  next?: string;
}

/** DELETE /api/retained?topic=<topic> → 204 (an empty retained publish, as a client would send). */

/** GET /api/events?limit=<n, default 100> — the last errors, drops and refusals, newest first. */
export interface BrokerEvent {
  at: number;
  level: "info" | "warn" | "error";
  /** `session <clientId>`, `shard <key>`, `worker`. */
  source: string;
  /** The counter it is counted under, e.g. `connects_refused_auth`. */
  kind: string;
  message: string;
}
export interface EventList {
  events: BrokerEvent[];
}

/** GET /metrics — Prometheus text format (same token). Metric names: */
export const METRICS = {
  clientsConnected: "mqtt_clients_connected",
  sessions: "mqtt_sessions",
  subscriptions: "mqtt_subscriptions",
  retained: "mqtt_retained_messages",
  received: "mqtt_messages_received_total",
  sent: "mqtt_messages_sent_total",
  dropped: "mqtt_messages_dropped_total",
  uptime: "mqtt_uptime_seconds",
} as const;
