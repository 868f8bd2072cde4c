/** The Worker's bindings, shared by the Worker and both Durable Object classes. */
import type { ConfigVars } from "./config.js";
import type { RateLimiter } from "./worker/connect-rate.js";
import type { SessionDO } from "./session/session-do.js";
import type { TopicShardDO } from "./topics/topic-shard-do.js";
import type { StatsDO } from "./stats/stats-do.js";

export interface Env extends ConfigVars {
  SESSIONS: DurableObjectNamespace<SessionDO>;
  SHARDS: DurableObjectNamespace<TopicShardDO>;
  /** Shared with the TCP gateway: only with it is the gateway's client-address header believed. */
  GATEWAY_SECRET?: string;
  /** Authentication and authorization (see docs/SECURITY.md and src/auth/auth-config.ts). */
  ALLOW_ANONYMOUS?: string;
  PASSWORD_FILE?: string;
  ACL_FILE?: string;
  JWT_SECRET?: string;
  JWT_JWKS?: string;
  JWT_JWKS_URL?: string;
  JWT_ISSUER?: string;
  JWT_AUDIENCE?: string;
  /** Connection attempts per client address (wrangler.toml [[ratelimits]]); absent: not limited. */
  CONNECT_RATE_LIMITER?: RateLimiter;
  /** The broker's global numbers (operator API, /metrics, $SYS). */
  STATS: DurableObjectNamespace<StatsDO>;
  /** Bearer token for the operator's API (/api/*) and /metrics; both are off without it. */
  ADMIN_TOKEN?: string;
  /** Seconds between `$SYS/broker/...` updates; 0 turns them off. Default 10. */
  SYS_INTERVAL?: string;
  /** debug | info | warn | error: the least severe log line printed. Default info. */
  LOG_LEVEL?: string;
  /** Test-only fault injection (src/objects/faults.ts); never set in a deployment. */
  FAULTS?: string;
  /** Web pages (origins) allowed to open MQTT WebSockets besides the broker's own; `*` for any. */
  ALLOWED_ORIGINS?: string;
  /** Bearer token for GET /stats/*; the endpoints are off without it. */
  STATS_TOKEN?: string;
}
