/**
 * The operator's JSON API (/api/*) and Prometheus metrics (/metrics), for the console at
 * /dashboard and for monitoring. Both need `Authorization: Bearer <ADMIN_TOKEN>`; without an
 * ADMIN_TOKEN they do not exist (404). The numbers come from the stats object; a client's detail
 * and the disconnect action from its session object; retained messages from the shard that
 * holds a filter (the wildcard shard mirrors every non-`$` retained message).
 */
import { Hono, type MiddlewareHandler } from "hono";
import type { ClientDetail, RetainedList } from "../admin/api-types.js";
import type { Env } from "../env.js";
import { STATS_OBJECT } from "../contracts/index.js";
import { shardForFilter, shardForTopic } from "../protocol/topic/shard-key.js";
import { isValidTopicFilter, isValidTopicName } from "../protocol/topic/validate.js";
import { bearerMatches } from "./client-address.js";

/** A retained payload is shown up to this many bytes. */
const PREVIEW_BYTES = 4096;

export const admin = new Hono<{ Bindings: Env }>();

const requireToken: MiddlewareHandler<{ Bindings: Env }> = async (c, next) => {
  const token = c.env.ADMIN_TOKEN;
  // Answers are live data: never cached.
  c.header("Cache-Control", "no-store");
  if (!token) return c.json({ error: "admin_api_disabled", message: "the operator API is off: set ADMIN_TOKEN to turn it on" }, 404);
  if (!bearerMatches(c.req.header("Authorization"), token)) {
    c.header("WWW-Authenticate", 'Bearer realm="edge-mqtt-broker"');
    return c.json({ error: "unauthorized", message: "this needs Authorization: Bearer <ADMIN_TOKEN>" }, 401);
  }
  await next();
};
// Only these paths: the app mounts this at its root.
admin.use("/api/*", requireToken);
admin.use("/metrics", requireToken);

const stats = (env: Env) => env.STATS.get(env.STATS.idFromName(STATS_OBJECT));

admin.get("/metrics", async (c) => c.text(await stats(c.env).metrics(), 200, { "Content-Type": "text/plain; version=0.0.4; charset=utf-8" }));

admin.get("/api/overview", async (c) => c.json(await stats(c.env).overview()));

admin.get("/api/clients", async (c) => {
  const q = c.req.query("q");
  const connected = c.req.query("connected");
  const limit = c.req.query("limit");
  const after = c.req.query("after");
  return c.json(
    await stats(c.env).clients({
      ...(q ? { q } : {}),
      ...(connected === "true" || connected === "false" ? { connected: connected === "true" } : {}),
      ...(limit && /^\d+$/.test(limit) ? { limit: Number(limit) } : {}),
      ...(after ? { after } : {}),
    }),
  );
});

admin.get("/api/clients/:clientId", async (c) => {
  const clientId = c.req.param("clientId");
  const summary = await stats(c.env).client(clientId);
  if (!summary) return c.json({ error: `no session ${clientId}` }, 404);
  const session = await c.env.SESSIONS.get(c.env.SESSIONS.idFromName(clientId)).stats();
  const detail: ClientDetail = {
    ...summary,
    ...(session.expiryInterval !== undefined ? { expiryInterval: session.expiryInterval } : {}),
    filters: session.subscriptions,
    queued: session.queued,
    queuedBytes: session.queuedBytes,
    counters: session.counters,
  };
  return c.json(detail);
});

admin.post("/api/clients/:clientId/disconnect", async (c) => {
  const clientId = c.req.param("clientId");
  const done = await c.env.SESSIONS.get(c.env.SESSIONS.idFromName(clientId)).adminDisconnect();
  return done ? c.body(null, 204) : c.json({ error: `${clientId} is not connected` }, 404);
});

admin.get("/api/retained", async (c) => {
  const filter = c.req.query("filter") || "#";
  if (!isValidTopicFilter(filter)) return c.json({ error: `not a topic filter: ${filter}` }, 400);
  const key = shardForFilter(filter);
  const page = await c.env.SHARDS.get(c.env.SHARDS.idFromName(key)).retainedPage(key, filter, c.req.query("after") || undefined);
  const list: RetainedList = {
    messages: page.messages.map((m) => ({
      topic: m.topic,
      qos: m.qos,
      bytes: m.payload.byteLength,
      payloadBase64: base64(m.payload.subarray(0, PREVIEW_BYTES)),
      truncated: m.payload.byteLength > PREVIEW_BYTES,
    })),
    ...(page.next !== undefined ? { next: page.next } : {}),
  };
  return c.json(list);
});

admin.delete("/api/retained", async (c) => {
  const topic = c.req.query("topic") ?? "";
  if (!isValidTopicName(topic)) return c.json({ error: `not a topic name: ${topic}` }, 400);
  const key = shardForTopic(topic);
  // An empty retained publish deletes it, as a client's would [MQTT-3.3.1-10].
  await c.env.SHARDS.get(c.env.SHARDS.idFromName(key)).publish(key, [{ topic, payload: new Uint8Array(), qos: 0, retain: true, origin: "$admin" }]);
  return c.body(null, 204);
});

admin.get("/api/events", async (c) => {
  const limit = c.req.query("limit");
  return c.json(await stats(c.env).events(limit && /^\d+$/.test(limit) ? Number(limit) : undefined));
});

function base64(bytes: Uint8Array): string {
  let text = "";
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text);
}
