/**
 * The broker Worker: answers WebSocket upgrades on /mqtt and routes each connection to the
 * session Durable Object of its client id. Exports both Durable Object classes.
 */
import { Hono } from "hono";
import { ConfigError, loadConfig } from "../config.js";
import type { Env } from "../env.js";
import { authSettings } from "../session/auth-gate.js";
import { admin } from "./admin.js";
import { bearerMatches, clientAddress } from "./client-address.js";
import { allowConnect } from "./connect-rate.js";
import { EDGE_KEEPALIVE_HEADER, routeHeaders } from "../contracts/index.js";
import { utf8Length } from "../protocol/topic/validate.js";
import { pipeToSession } from "./pipe.js";
import { checkOrigin, parseAllowedOrigins } from "./origin.js";
import { settingsErrors } from "./settings.js";
import { chooseSubprotocol } from "./subprotocol.js";
import { WILDCARD_SHARD } from "../protocol/topic/shard-key.js";

export { SessionDO } from "../session/session-do.js";
export { TopicShardDO } from "../topics/topic-shard-do.js";
export { StatsDO } from "../stats/stats-do.js";

const app = new Hono<{ Bindings: Env }>();

app.onError((error, c) => {
  if (error instanceof ConfigError) {
    logMisconfigured(error.message);
    return c.text(`broker misconfigured: ${error.message}\n`, 500);
  }
  console.error(`worker: ${String(error)}`);
  return c.text("internal error\n", 500);
});

/** A bad setting is logged once a minute per isolate (every request fails the same way). */
let misconfiguredLogged: { message: string; at: number } | undefined;
function logMisconfigured(message: string): void {
  const now = Date.now();
  if (misconfiguredLogged?.message === message && now - misconfiguredLogged.at < 60_000) return;
  misconfiguredLogged = { message, at: now };
  console.error(`worker: broker misconfigured, answering 500 until it is fixed: ${message}`);
}

/** Every setting is checked before any route (static pages are served without the Worker). */
let checked: { key: string; errors: string[] } | undefined;
app.use("*", async (c, next) => {
  const env = c.env as unknown as Record<string, unknown>;
  const key = JSON.stringify(
    Object.keys(env)
      .sort()
      .map((name) => [name, typeof env[name] === "object" ? null : env[name]]),
  );
  if (checked?.key !== key) checked = { key, errors: settingsErrors(env) };
  if (checked.errors.length > 0) throw new ConfigError(checked.errors.join("; "));
  await next();
});

// For load balancers, supervisors and the gateway's startup check: 200 once the settings are good.
app.get("/health", (c) => c.text("edge-mqtt-broker: ok\n"));

// The pages at / and /dashboard are static assets (wrangler.toml [assets]); this answers only
// when they were not built.
app.get("/", (c) => c.text('edge-mqtt-broker: connect an MQTT client over WebSocket to /mqtt (subprotocol "mqtt"). The web client was not built: run `npm run build:web`.\n'));

app.get("/mqtt", async (c) => {
  // Every setting was checked above (settingsErrors): these cannot throw here.
  const config = loadConfig(c.env);
  authSettings(c.env as unknown as Record<string, unknown>);
  if (c.req.header("Upgrade")?.toLowerCase() !== "websocket") {
    return c.text("/mqtt speaks MQTT over WebSocket: send a WebSocket upgrade request.\n", 426, { Upgrade: "websocket" });
  }
  const subprotocol = chooseSubprotocol(c.req.header("Sec-WebSocket-Protocol") ?? null);
  if (!subprotocol) {
    return c.text('offer the WebSocket subprotocol "mqtt" (or "mqttv3.1") in Sec-WebSocket-Protocol.\n', 400);
  }

  const origins = parseAllowedOrigins(c.env.ALLOWED_ORIGINS);
  if ("error" in origins) throw new ConfigError(origins.error);
  const origin = checkOrigin(c.req.header("Origin") ?? null, origins, c.req.url);
  if (!origin.ok) {
    console.warn(`worker: refused a WebSocket upgrade: ${origin.reason}`);
    return c.text(`forbidden: ${origin.reason}\n`, 403);
  }
  const from = clientAddress(c.req.raw.headers, c.env.GATEWAY_SECRET);
  if (!from.ok) {
    console.warn(`worker: refused a gateway connection: ${from.reason}`);
    return c.text(`unauthorized: ${from.reason}\n`, 401);
  }
  const address = from.address;
  if (!(await allowConnect(c.env.CONNECT_RATE_LIMITER, address))) {
    console.warn(`worker: refused a connection from ${address}: too many connection attempts from that address (CONNECT_RATE_LIMITER)`);
    return c.text("too many connection attempts from this address; retry later\n", 429, { "Retry-After": "10" });
  }
  // Our gateway answers PINGREQ and enforces the keepalive itself; nobody behind it may do it again.
  const edgeInFront = c.req.header(EDGE_KEEPALIVE_HEADER) === "1";
  // A client id hint (our gateway, our page) lets the upgrade go straight to the session object,
  // which checks that the CONNECT carries the same id. An id too long to name a session (it
  // would not fit its route and socket attachment) takes the pipe, whose edge reads the CONNECT
  // and refuses it with the CONNACK the session would send [MQTT-3.1.3-8].
  const hint = c.req.query("clientId");
  const routable = hint !== undefined && utf8Length(hint) <= config.maxClientIdBytes;
  if (hint !== undefined && hint !== "" && routable) {
    const stub = c.env.SESSIONS.get(c.env.SESSIONS.idFromName(hint));
    return stub.fetch("https://session.internal/connect", {
      headers: routeHeaders({ clientId: hint, assigned: false, address, ...(edgeInFront ? { edgeKeepalive: true } : {}) }, subprotocol),
    });
  }

  // A stock client (or the gateway's client with an empty id): the edge connection reads its
  // CONNECT here, then pipes to the session object, answering PINGREQ itself.
  const pair = new WebSocketPair();
  const [client, server] = [pair[0], pair[1]];
  pipeToSession(server, c.env, config, subprotocol, address, edgeInFront, hint !== undefined && !routable ? hint : undefined);
  return new Response(null, { status: 101, webSocket: client, headers: { "Sec-WebSocket-Protocol": subprotocol } });
});

// The operator's API and metrics (ADMIN_TOKEN).
app.route("/", admin);

// Stats reveal client ids and subscriptions: only with the operator's STATS_TOKEN.
app.use("/stats/*", async (c, next) => {
  const token = c.env.STATS_TOKEN;
  if (!token) return c.text("stats are disabled: set STATS_TOKEN to enable them.\n", 404);
  if (!bearerMatches(c.req.header("Authorization"), token)) return c.text("stats need Authorization: Bearer <STATS_TOKEN>.\n", 401);
  await next();
});

// A session object exists for every name: one that holds no session, is not connected and has
// counted nothing is a client id the broker does not know (a typo, or a clean session that ended).
app.get("/stats/sessions/:clientId", async (c) => {
  const clientId = c.req.param("clientId");
  const stats = await c.env.SESSIONS.get(c.env.SESSIONS.idFromName(clientId)).stats();
  const unknown = stats.clientId === undefined && !stats.connected && stats.queued === 0 && Object.keys(stats.subscriptions).length === 0 && Object.keys(stats.counters).length === 0;
  if (unknown) return c.json({ error: `no session ${JSON.stringify(clientId)}: that client id never connected, or its clean session ended`, ...stats }, 404);
  return c.json(stats);
});

// Shard keys are `t/<first topic level>`, or `#` (URL-encoded `%23`) for the wildcard shard; a
// shard that never held a subscription or a retained message has no name stored.
const SHARD_KEYS = "shard keys are t/<first topic level> (e.g. t/sensors) or %23 for the wildcard shard";
app.get("/stats/shards/:key{.+}", async (c) => {
  const key = c.req.param("key");
  if (key !== WILDCARD_SHARD && !key.startsWith("t/")) return c.json({ error: `no shard ${JSON.stringify(key)}: ${SHARD_KEYS}` }, 404);
  const stats = await c.env.SHARDS.get(c.env.SHARDS.idFromName(key)).stats();
  if (stats.shard === undefined) return c.json({ error: `no shard ${JSON.stringify(key)}: no subscription or retained message has used it (${SHARD_KEYS})`, ...stats }, 404);
  return c.json(stats);
});

export default app;
