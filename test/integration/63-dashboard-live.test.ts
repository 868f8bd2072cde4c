/**
 * The operator's console against the real broker in workerd (62-dashboard-page.test.ts covers the
 * page in depth against a fake API): it lists a connected mqtt.js client and disconnects it, and
 * the client sees the broker's DISCONNECT 0x98.
 */
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, type Broker, startBroker } from "../helpers/broker.js";
import { launchBrowser, openPage, screenshot } from "../helpers/browser.js";
import { connectV5, uniqueId } from "../helpers/clients.js";

let broker: Broker;
let browser: Browser;
beforeAll(async () => {
  [broker, browser] = await Promise.all([startBroker(), launchBrowser()]);
});
afterAll(async () => {
  await browser?.close();
  await broker?.stop();
});

describe("the console on the live broker", () => {
  it("lists a connected client and disconnects it", async () => {
    const id = uniqueId("live");
    const { client } = await connectV5(broker.mqttUrl, { clientId: id });
    await client.subscribeAsync("plant/+/temp");
    const disconnected = new Promise<number | undefined>((resolve) => client.on("disconnect", (p) => resolve(p.reasonCode)));
    const { page, errors } = await openPage(browser, `${broker.url}/dashboard`);
    page.on("dialog", (d) => void d.accept());
    await page.getByLabel("Admin token").fill(ADMIN_TOKEN);
    await page.getByRole("button", { name: "Open console" }).click();
    await page.getByLabel("Search client id").fill(id);
    await page.locator("clients-table tbody tr").filter({ hasText: id }).first().waitFor({ timeout: 10_000 });
    await screenshot(page, "dashboard-live");
    await page.getByRole("button", { name: `Disconnect ${id}` }).click();
    expect(await disconnected).toBe(0x98);
    await page
      .getByRole("status")
      .filter({ hasText: `Disconnected ${id}.` })
      .waitFor();
    expect(errors).toEqual([]);
    client.end(true);
  }, 40_000);
});
