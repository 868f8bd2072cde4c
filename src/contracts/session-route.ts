/**
 * The Worker↔session route: headers the Worker sets on its internal upgrade to a session object
 * (clients cannot reach it), read back by the session object.
 */
import type { ConnectRoute } from "../protocol/session/session.js";

export const ROUTE_HEADER = "x-broker-route";
export const SUBPROTOCOL_HEADER = "x-broker-subprotocol";

/**
 * The route travels as JSON with every non-ASCII character escaped (`\uXXXX`): a header value is
 * bytes, and the client id in it must reach the session object exactly as the client sent it,
 * never re-encoded on the way (the edge has already refused ids that are not well-formed UTF-8).
 */
export function routeHeaders(route: ConnectRoute, subprotocol: string): Record<string, string> {
  const json = JSON.stringify(route).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
  return { Upgrade: "websocket", [ROUTE_HEADER]: json, [SUBPROTOCOL_HEADER]: subprotocol };
}

export function parseRoute(header: string | null): ConnectRoute | null {
  if (!header) return null;
  try {
    const value = JSON.parse(header) as Partial<ConnectRoute>;
    if (typeof value.clientId !== "string" || typeof value.assigned !== "boolean") return null;
    const route: ConnectRoute = { clientId: value.clientId, assigned: value.assigned };
    if (typeof value.address === "string") route.address = value.address;
    if (value.edgeKeepalive === true) route.edgeKeepalive = true;
    return route;
  } catch {
    return null;
  }
}
