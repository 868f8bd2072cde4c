/**
 * The edges of the broker (issue: security): which web pages may open an MQTT WebSocket
 * (ALLOWED_ORIGINS), and the gateway's shared secret, refused when wrong instead of being
 * silently downgraded to a direct client.
 */
import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Broker, GATEWAY_SECRET, startBroker } from "../helpers/broker.js";
import { startTestGateway } from "../helpers/gateway.js";

let broker: Broker;
beforeAll(async () => {
  broker = await startBroker({ vars: { ALLOWED_ORIGINS: "https://app.example.com" } });
});
afterAll(() => broker.stop());

/** The HTTP status of a WebSocket upgrade to /mqtt with these headers (101 when it opened). */
function upgrade(headers: Record<string, string>, url = broker.mqttUrl): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, ["mqtt"], { headers });
    ws.on("open", () => {
      ws.terminate();
      resolve(101);
    });
    ws.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
    ws.on("error", reject);
  });
}

describe("ALLOWED_ORIGINS", () => {
  it("lets a client without Origin (native), the broker's own page and a listed origin in", async () => {
    expect(await upgrade({})).toBe(101);
    expect(await upgrade({ Origin: broker.url })).toBe(101);
    expect(await upgrade({ Origin: "https://app.example.com" })).toBe(101);
  });

  it("refuses any other page, and an oversized or malformed Origin, with 403", async () => {
    expect(await upgrade({ Origin: "https://evil.example" })).toBe(403);
    expect(await upgrade({ Origin: "http://app.example.com" })).toBe(403);
    expect(await upgrade({ Origin: `https://${"a".repeat(5000)}.example` })).toBe(403);
    expect(await upgrade({ Origin: "null" })).toBe(403);
  });
});

describe("connection attempts per address (CONNECT_RATE_LIMITER, the Rate Limiting binding)", () => {
  it("refuses an address over its limit with 429, other addresses and loopback unaffected", async () => {
    const limited = await startBroker({ connectRateLimit: 5 });
    try {
      const from = (address: string) => ({ "x-mqtt-client-address": address, "x-mqtt-gateway-secret": GATEWAY_SECRET });
      const statuses: number[] = [];
      for (let i = 0; i < 7; i++) statuses.push(await upgrade(from(`203.0.113.7:${40000 + i}`), limited.mqttUrl));
      expect(statuses.slice(0, 5)).toEqual([101, 101, 101, 101, 101]);
      expect(statuses.slice(5)).toEqual([429, 429]);
      expect(await upgrade(from("198.51.100.9:40000"), limited.mqttUrl)).toBe(101);
      for (let i = 0; i < 7; i++) expect(await upgrade({}, limited.mqttUrl)).toBe(101);
    } finally {
      await limited.stop();
    }
  });
});

describe("the gateway's secret", () => {
  it("refuses gateway headers with a wrong or missing secret (401), and takes the right one", async () => {
    expect(await upgrade({ "x-mqtt-client-address": "10.0.0.1", "x-mqtt-gateway-secret": "wrong" })).toBe(401);
    expect(await upgrade({ "x-mqtt-client-address": "10.0.0.1" })).toBe(401);
    expect(await upgrade({ "x-mqtt-gateway-secret": "wrong" })).toBe(401);
    expect(await upgrade({ "x-mqtt-client-address": "10.0.0.1", "x-mqtt-gateway-secret": GATEWAY_SECRET })).toBe(101);
  });

  it("a gateway configured with the wrong secret carries no client, and says why", async () => {
    // Its startup check is a real upgrade with its secret: refused there, before any device.
    await expect(startTestGateway(broker, { secret: "not-the-secret" })).rejects.toThrow(/HTTP 401: unauthorized: wrong gateway secret .*GATEWAY_SECRET/);
  });
});
