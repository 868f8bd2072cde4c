/** The web pages are served as static assets next to the broker: / (client) and /dashboard (console). */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Broker, startBroker } from "../helpers/broker.js";

let broker: Broker;
beforeAll(async () => {
  broker = await startBroker();
});
afterAll(() => broker.stop());

describe("static pages", () => {
  it("serves the client page at / and the console at /dashboard, and /mqtt still reaches the Worker", async () => {
    for (const path of ["/", "/dashboard"]) {
      const res = await fetch(broker.url + path);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toContain("text/html");
      expect(await res.text()).toContain('<script type="module"');
    }
    expect((await fetch(`${broker.url}/mqtt`)).status).toBe(426);
  });
});
