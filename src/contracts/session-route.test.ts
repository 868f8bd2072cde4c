/** The Worker → session object route header: what it carries, and what it refuses. */
import { describe, expect, it } from "vitest";
import { parseRoute, ROUTE_HEADER, routeHeaders } from "./session-route.js";

describe("the route header", () => {
  it("round-trips a route, edgeKeepalive included", () => {
    const route = { clientId: "c1", assigned: false, address: "127.0.0.1:5", edgeKeepalive: true };
    expect(parseRoute(routeHeaders(route, "mqtt")[ROUTE_HEADER]!)).toEqual(route);
  });

  it("keeps edgeKeepalive only when it is exactly true (older routes have none)", () => {
    expect(parseRoute(JSON.stringify({ clientId: "c1", assigned: false }))).toEqual({ clientId: "c1", assigned: false });
    expect(parseRoute(JSON.stringify({ clientId: "c1", assigned: false, edgeKeepalive: "yes" }))).toEqual({ clientId: "c1", assigned: false });
  });

  it("refuses a route without its required fields", () => {
    expect(parseRoute(null)).toBeNull();
    expect(parseRoute("{")).toBeNull();
    expect(parseRoute(JSON.stringify({ clientId: 1, assigned: false }))).toBeNull();
  });
});

describe("the client id in the route header", () => {
  it("travels as ASCII and comes back exactly as it was, whatever its characters", () => {
    for (const clientId of ["ünïcødé-€-😀", "\uFFFD", "\uFEFF", "a\u007fb", "\u{10FFFF}"]) {
      const header = routeHeaders({ clientId, assigned: false }, "mqtt")[ROUTE_HEADER]!;
      expect(/^[\x20-\x7e]*$/.test(header), clientId).toBe(true);
      expect(parseRoute(header)?.clientId).toBe(clientId);
    }
  });
});
