/**
 * One home for the contracts between the broker's parts, one file each: the gateway's headers
 * (gateway → Worker), the route (Worker → session object), and the RPCs between the objects.
 * Pure: the boundary check keeps the runtime and the shells out of here.
 */
export { EDGE_KEEPALIVE_HEADER, GATEWAY_ADDRESS_HEADER, GATEWAY_SECRET_HEADER } from "./gateway-headers.js";
export { type ClientQuery, type SessionRpc, type SessionStats, type ShardStats, STATS_OBJECT, type StatsRpc, type TopicShardRpc } from "./rpc.js";
export { parseRoute, ROUTE_HEADER, routeHeaders, SUBPROTOCOL_HEADER } from "./session-route.js";
