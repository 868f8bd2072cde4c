/** Headers the Worker sets on its internal upgrade to a session object (clients cannot reach it). */
import type { ConnectRoute } from "../protocol/session/session.js";

export const ROUTE_HEADER = "x-broker-route";
export const SUBPROTOCOL_HEADER = "x-broker-subprotocol";

export function routeHeaders(route: ConnectRoute, subprotocol: string): Record<string, string> {
  return { Upgrade: "websocket", [ROUTE_HEADER]: JSON.stringify(route), [SUBPROTOCOL_HEADER]: subprotocol };
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
