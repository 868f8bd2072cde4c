/**
 * The browser client page at / in headless Chromium against the broker in workerd: two pages
 * (MQTT 5 and 3.1.1), a will when a page closes, a Node client both ways, SUBACK refusals,
 * reconnecting, a burst of 10,000 messages with the page's frame times, a phone screen.
 * Screenshots go to .tmp/screenshots/client-*.png.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type Broker, startBroker } from "../helpers/broker.js";
import { launchBrowser, openPage, SCREENSHOTS, screenshot } from "../helpers/browser.js";
import { collect, connect, connectWithInbox, uniqueId } from "../helpers/clients.js";

// Anonymous clients may do anything but touch secret/# (for SUBACK refusals).
const ACL_FILE = "topic readwrite #\ntopic deny secret/#\n";

let broker: Broker;
let browser: Browser;
const pages: { page: Page; errors: string[] }[] = [];

beforeAll(async () => {
  [broker, browser] = await Promise.all([startBroker({ vars: { ACL_FILE } }), launchBrowser()]);
}, 60_000);

// Each test's pages go when it ends (a closed page's connection ends as a lost one would).
afterEach(async () => {
  await Promise.all(pages.splice(0).map(({ page }) => page.context().close()));
});

afterAll(async () => {
  await browser?.close();
  await broker?.stop();
});

async function open(viewport?: { width: number; height: number }): Promise<{ page: Page; errors: string[] }> {
  const opened = await openPage(browser, `${broker.url}/`, viewport);
  pages.push(opened);
  return opened;
}

interface PageConnect {
  version?: 4 | 5;
  clientId?: string;
  will?: { topic: string; payload: string; qos?: 0 | 1 | 2 };
}

/** Fills the connect form and waits for Connected; returns the client id. */
async function connectPage(page: Page, options: PageConnect = {}): Promise<string> {
  if (options.version === 4) await page.getByTestId("conn-version").selectOption("4");
  if (options.clientId) await page.getByTestId("conn-client-id").fill(options.clientId);
  if (options.will) {
    await page.getByText("Last will").click();
    await page.getByTestId("will-enabled").check();
    await page.getByTestId("will-topic").fill(options.will.topic);
    await page.getByTestId("will-payload").fill(options.will.payload);
    await page.getByTestId("will-qos").selectOption(String(options.will.qos ?? 1));
  }
  const clientId = await page.getByTestId("conn-client-id").inputValue();
  await page.getByTestId("connect").click();
  await page.locator("[data-testid=conn-status][data-status=connected]").waitFor({ timeout: 15_000 });
  return clientId;
}

async function subscribe(page: Page, filter: string, options: { qos?: 0 | 1 | 2; noLocal?: boolean } = {}): Promise<string> {
  await page.getByTestId("sub-filter").fill(filter);
  if (options.qos !== undefined) await page.getByTestId("sub-qos").selectOption(String(options.qos));
  if (options.noLocal) {
    await page.getByText("MQTT 5 options").click();
    await page.getByTestId("sub-nl").check();
  }
  await page.getByTestId("subscribe").click();
  const row = page.locator(`[data-testid=sub-row][data-filter="${filter}"]`);
  await row.and(page.locator("[data-status=active], [data-status=refused]")).waitFor({ timeout: 10_000 });
  return (await row.getByTestId("sub-state").textContent()) ?? "";
}

async function publish(page: Page, topic: string, payload: string, options: { qos?: 0 | 1 | 2; retain?: boolean } = {}): Promise<void> {
  await page.getByTestId("pub-topic").fill(topic);
  await page.getByTestId("pub-payload").fill(payload);
  await page.getByTestId("pub-qos").selectOption(String(options.qos ?? 0));
  await page.getByTestId("pub-retain").setChecked(options.retain ?? false);
  const sentBefore = await count(page, "count-sent");
  await page.getByTestId("publish").click();
  await page.locator(`[data-testid=count-sent][data-value="${sentBefore + 1}"]`).waitFor({ timeout: 10_000 });
}

async function count(page: Page, testId = "count-received"): Promise<number> {
  return Number(await page.getByTestId(testId).getAttribute("data-value"));
}

async function waitForCount(page: Page, n: number, timeout = 10_000, testId = "count-received"): Promise<void> {
  await page.locator(`[data-testid=${testId}][data-value="${n}"]`).waitFor({ timeout });
}

async function treeRow(page: Page, topic: string): Promise<{ own: number; total: number }> {
  const row = page.locator(`[data-testid=tree-row][data-topic="${topic}"]`);
  await row.waitFor({ timeout: 5000 });
  return { own: Number(await row.getAttribute("data-own")), total: Number(await row.getAttribute("data-total")) };
}

/** The renderer main threads' tasks in a Chrome trace: wall time and the thread's CPU time, in ms. */
function mainThreadTasks(trace: Buffer): { wall: number; cpu: number }[] {
  interface TraceEvent {
    name: string;
    ph: string;
    pid: number;
    tid: number;
    dur?: number;
    tdur?: number;
    args?: { name?: string };
  }
  const parsed = JSON.parse(trace.toString("utf8")) as { traceEvents: TraceEvent[] } | TraceEvent[];
  const events = Array.isArray(parsed) ? parsed : parsed.traceEvents;
  const main = new Set(events.filter((e) => e.ph === "M" && e.name === "thread_name" && e.args?.name === "CrRendererMain").map((e) => `${e.pid}:${e.tid}`));
  return events.filter((e) => e.name === "ThreadControllerImpl::RunTask" && e.ph === "X" && main.has(`${e.pid}:${e.tid}`)).map((e) => ({ wall: (e.dur ?? 0) / 1000, cpu: (e.tdur ?? 0) / 1000 }));
}

describe("the client page", () => {
  it("two pages, MQTT 5 and 3.1.1: a wildcard subscriber gets retained and live messages, the topic tree counts them; refusals in words", async () => {
    const { page: a, errors: errorsA } = await open();
    const { page: b, errors: errorsB } = await open();
    // The URL is this broker's own, and the direct path carries the client id.
    expect(await a.getByTestId("conn-url").inputValue()).toBe(broker.mqttUrl);
    await connectPage(b, { version: 4 });
    expect(await b.getByTestId("conn-detail").textContent()).toMatch(/\/mqtt\?clientId=web-[0-9a-f]+ .*MQTT 3\.1\.1/);
    await publish(b, "room/retained", "kept", { qos: 1, retain: true });

    await connectPage(a, { version: 5 });
    expect(await subscribe(a, "room/#", { qos: 1, noLocal: true })).toBe("granted: QoS 1");
    await waitForCount(a, 1);
    await a.locator('[data-testid=log-row][data-topic="room/retained"] [data-testid=retain-flag]').waitFor();

    expect(await subscribe(b, "room/from-a")).toBe("granted: QoS 0");
    for (let i = 1; i <= 3; i++) await publish(b, "room/x/b", `b says ${i}`, { qos: (i % 2) as 0 | 1 });
    await publish(a, "room/from-a", "hello 3.1.1");
    await waitForCount(a, 4);
    await waitForCount(b, 1);
    // No Local: a's own message did not come back to it.
    expect(await count(a)).toBe(4);
    expect(await b.locator('[data-testid=log-row][data-topic="room/from-a"] [data-testid=log-payload]').textContent()).toBe("hello 3.1.1");
    expect(await a.locator('[data-testid=log-row][data-topic="room/x/b"]').count()).toBe(3);
    expect(await a.locator('[data-testid=log-row][data-topic="room/x/b"] [data-testid=log-payload]').first().textContent()).toBe("b says 3");

    expect(await treeRow(a, "room")).toEqual({ own: 0, total: 4 });
    expect(await treeRow(a, "room/retained")).toEqual({ own: 1, total: 1 });
    expect(await treeRow(a, "room/x/b")).toEqual({ own: 3, total: 3 });

    // Refused subscriptions, in words: MQTT 5 reason code, 3.1.1 failure.
    expect(await subscribe(a, "secret/#")).toMatch(/^refused: 0x87 Not authorized/);
    expect(await subscribe(b, "secret/x")).toMatch(/^refused: 0x80 Failure/);
    await a.locator('[data-testid=sub-row][data-filter="secret/#"][data-status=refused]').waitFor();

    await a.locator('[data-testid=log-row][data-topic="room/retained"]').click();
    await a.evaluate("window.scrollTo(0, 0)");
    await screenshot(a, "client-desktop");
    await a.locator("topic-tree-view").screenshot({ path: join(SCREENSHOTS, "client-topic-tree.png") });
    expect(errorsA).toEqual([]);
    expect(errorsB).toEqual([]);
  }, 45_000);

  it("a page and a Node client exchange messages both ways, with MQTT 5 properties; a publish is repeated from the history", async () => {
    const { page, errors } = await open();
    await connectPage(page);
    await subscribe(page, "chat/node", { qos: 1 });
    const { client: node, inbox } = await connectWithInbox(broker.mqttUrl, { protocolVersion: 5 });
    await node.subscribeAsync("chat/page", { qos: 1 });

    await node.publishAsync("chat/node", JSON.stringify({ t: 21.5, unit: "C" }), {
      qos: 1,
      properties: { contentType: "application/json", userProperties: { from: "node" }, responseTopic: "chat/page", correlationData: Buffer.from("req-1") },
    });
    await waitForCount(page, 1);
    await page.locator('[data-testid=log-row][data-topic="chat/node"]').click();
    await page.getByTestId("log-format").selectOption("json");
    expect(await page.getByTestId("detail-payload").textContent()).toBe('{\n  "t": 21.5,\n  "unit": "C"\n}');
    expect(await page.locator('[data-testid=detail-prop][data-prop="contentType"]').textContent()).toBe("application/json");
    expect(await page.locator('[data-testid=detail-prop][data-prop="userProperties"]').textContent()).toBe("from=node");
    await page.getByTestId("log-format").selectOption("hex");
    expect(await page.getByTestId("detail-payload").textContent()).toMatch(/^7b 22 74 22/);

    // Reply fills the publish form with the response topic and the correlation data.
    await page.getByRole("button", { name: "Reply" }).click();
    expect(await page.getByTestId("pub-topic").inputValue()).toBe("chat/page");
    await page.getByText("MQTT 5 properties").click();
    expect(await page.getByTestId("pub-correlation").inputValue()).toBe("req-1");
    await page.getByTestId("pub-content-type").fill("text/plain");
    await page.getByTestId("pub-user-props").fill("from=page\nlang=en");
    await publish(page, "chat/page", "hi node", { qos: 1 });
    const got = await inbox.next();
    expect(got.payload).toBe("hi node");
    expect(got.properties).toMatchObject({ contentType: "text/plain", userProperties: { from: "page", lang: "en" } });
    expect(Buffer.from(got.properties!.correlationData!).toString()).toBe("req-1");

    await page
      .getByTestId("history-row")
      .first()
      .getByRole("button", { name: /Publish again/ })
      .click();
    expect((await inbox.next()).payload).toBe("hi node");

    // Export: what the log shows, as JSON and CSV downloads.
    await waitForCount(page, 2, 5000, "count-sent");
    const [json] = await Promise.all([page.waitForEvent("download"), page.getByTestId("export-json").click()]);
    const exported = JSON.parse(readFileSync(await json.path(), "utf8")) as { topic: string; direction: string; payload: string; properties?: Record<string, unknown> }[];
    expect(exported.map((m) => [m.direction, m.topic])).toEqual([
      ["received", "chat/node"],
      ["sent", "chat/page"],
      ["sent", "chat/page"],
    ]);
    expect(exported[0]!.properties).toMatchObject({ contentType: "application/json", userProperties: [["from", "node"]] });
    const [csv] = await Promise.all([page.waitForEvent("download"), page.getByTestId("export-csv").click()]);
    expect(readFileSync(await csv.path(), "utf8").split("\r\n")[0]).toBe("time,direction,topic,qos,retain,encoding,payload,properties");
    await node.endAsync();
    expect(errors).toEqual([]);
  }, 30_000);

  it("a will fires when a page is closed", async () => {
    const node = await connect(broker.mqttUrl);
    const inbox = collect(node);
    await node.subscribeAsync("wills/#", { qos: 1 });
    const { page, errors } = await open();
    const clientId = await connectPage(page, { version: 4, will: { topic: "wills/page", payload: "page gone", qos: 1 } });
    expect(errors).toEqual([]);
    await page.context().close();
    pages.splice(0);
    const will = await inbox.next(10_000);
    expect(will).toMatchObject({ topic: "wills/page", payload: "page gone", qos: 1 });
    expect(clientId).toMatch(/^web-/);
    await node.endAsync();
  }, 30_000);

  it("reconnects with backoff when the connection drops, keeps the log and subscribes again", async () => {
    const { page, errors } = await open();
    const clientId = await connectPage(page, { version: 4 });
    await subscribe(page, "re/#", { qos: 1 });
    const pub = await connect(broker.mqttUrl);
    await pub.publishAsync("re/before", "1", { qos: 1 });
    await waitForCount(page, 1);
    // Every state the status shows, as it changes (the wait before the retry lasts about a second).
    await page.evaluate(`(() => {
      const root = document.querySelector("mqtt-app").shadowRoot.querySelector("connection-view").shadowRoot.querySelector("connection-status").shadowRoot;
      window.shown_ = [];
      new MutationObserver(() => {
        const el = root.querySelector("[data-testid=conn-status]");
        const line = el.dataset.status + " " + el.dataset.attempt + " " + (root.querySelector("[data-testid=conn-next]")?.textContent ?? "");
        if (window.shown_.at(-1) !== line) window.shown_.push(line);
      }).observe(root, { subtree: true, childList: true, attributes: true, characterData: true });
    })()`);
    // Another connection takes the client id over: the page's socket closes (3.1.1 has no reason to give).
    const usurper = await connect(broker.mqttUrl, { clientId });
    await page.locator("[data-testid=conn-status][data-status=reconnecting]").waitFor({ timeout: 10_000 });
    await page.locator("[data-testid=conn-status][data-status=connected]").waitFor({ timeout: 15_000 });
    const shown = (await page.evaluate("window.shown_")) as string[];
    expect(shown).toContainEqual(expect.stringMatching(/^reconnecting 1 next attempt in [12] s$/));
    expect(shown.at(-1)).toBe("connected 0 ");
    await page.locator('[data-testid=sub-row][data-filter="re/#"][data-status=active]').waitFor({ timeout: 10_000 });
    await pub.publishAsync("re/after", "2", { qos: 1 });
    await waitForCount(page, 2);
    expect(await page.locator("[data-testid=log-row]").count()).toBe(2);
    usurper.end(true);
    await pub.endAsync();
    expect(errors).toEqual([]);
  }, 40_000);

  it("says why in words when the broker refuses a CONNECT or ends the session, and does not retry those", async () => {
    const { page, errors } = await open();
    // A will to a topic the client may not write refuses the CONNECT: 0x87 (MQTT 5).
    await page.getByText("Last will").click();
    await page.getByTestId("will-enabled").check();
    await page.getByTestId("will-topic").fill("secret/will");
    await page.getByTestId("connect").click();
    await page.locator("[data-testid=conn-status][data-status=failed]").waitFor({ timeout: 15_000 });
    expect(await page.getByTestId("conn-detail").textContent()).toMatch(/^Refused: CONNACK 0x87 Not authorized: /);
    await page.getByTestId("will-enabled").uncheck();
    const clientId = await connectPage(page);
    // Another connection takes the id over: MQTT 5 says so with DISCONNECT 0x8E, and the page stays off.
    const usurper = await connect(broker.mqttUrl, { clientId, protocolVersion: 5 });
    await page.locator("[data-testid=conn-status][data-status=failed]").waitFor({ timeout: 10_000 });
    expect(await page.getByTestId("conn-detail").textContent()).toMatch(/DISCONNECT 0x8E Session taken over: another connection with the same client id/);
    expect(usurper.connected).toBe(true);
    usurper.end(true);
    expect(errors).toEqual([]);
  }, 30_000);

  it("stays responsive through a burst of 10,000 messages and counts them all", async () => {
    const { page, errors } = await open();
    const pageId = await connectPage(page);
    await subscribe(page, "burst/#");
    // Frame times in the page from requestAnimationFrame during the burst; and a trace, for the main
    // thread's CPU time per task (a task's wall time includes the time the machine gave to others).
    await page.evaluate(`(() => {
      window.frames_ = [];
      let last = performance.now();
      const tick = (t) => {
        window.frames_.push(t - last);
        last = t;
        if (!window.stop_) requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    })()`);
    await browser.startTracing(page, { categories: ["toplevel"] });
    const N = 10_000;
    const pubId = uniqueId("burst-pub");
    const pub = await connect(broker.mqttUrl, { clientId: pubId, protocolVersion: 5 });
    const started = Date.now();
    await new Promise<void>((resolve, reject) => {
      for (let i = 0; i < N; i++) pub.publish(`burst/${i % 10}`, String(i), { qos: 0 }, i === N - 1 ? (err) => (err ? reject(err) : resolve()) : undefined);
    });
    const sentMs = Date.now() - started;
    // QoS 0 may be shed under load (the broker counts where): wait until every message is either shown or counted as dropped.
    const counters = async (kind: "sessions" | "shards", name: string) => (await broker.stats(kind, name)).counters as Record<string, number>;
    let received = 0;
    let dropped = 0;
    const deadline = Date.now() + 60_000;
    for (;;) {
      received = await count(page);
      const [p, s, shard] = await Promise.all([counters("sessions", pubId), counters("sessions", pageId), counters("shards", "t/burst")]);
      dropped = (p.qos0_dropped_overload ?? 0) + (s.qos0_dropped_client_rate ?? 0) + (shard.qos0_dropped_slow_subscriber ?? 0);
      if (received + dropped >= N || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    const allMs = Date.now() - started;
    const frames = (await page.evaluate("window.stop_ = true, window.frames_")) as number[];
    const tasks = mainThreadTasks(await browser.stopTracing());
    await screenshot(page, "client-burst");
    const sorted = [...frames].sort((x, y) => y - x);
    const figures = {
      published_ms: sentMs,
      all_in_ms: allMs,
      received,
      dropped_by_broker: dropped,
      frames: frames.length,
      longest_frame_ms: Math.round(sorted[0] ?? 0),
      p99_frame_ms: Math.round(sorted[Math.floor(sorted.length / 100)] ?? 0),
      median_frame_ms: Math.round(sorted[Math.floor(sorted.length / 2)] ?? 0),
      frames_over_50ms: frames.filter((f) => f > 50).length,
      main_thread_tasks: tasks.length,
      longest_task_cpu_ms: Math.round(Math.max(0, ...tasks.map((t) => t.cpu))),
      longest_task_wall_ms: Math.round(Math.max(0, ...tasks.map((t) => t.wall))),
      main_thread_cpu_ms: Math.round(tasks.reduce((sum, t) => sum + t.cpu, 0)),
    };
    console.log("burst of 10,000 QoS 0 messages:", JSON.stringify(figures));
    expect(received + dropped).toBe(N);
    expect(received).toBeGreaterThan(N / 2);
    // The log, the list and the topic tree agree with the count.
    await waitForCount(page, received, 5000, "count-log");
    expect(Number(await page.getByTestId("log-list").getAttribute("data-rows"))).toBe(received);
    expect((await treeRow(page, "burst")).total).toBe(received);
    // The page's own work per task stays far below a frame budget's worth of trouble, and frames keep
    // coming. The longest frame is reported, not asserted: on a shared 2-core machine the longest ones
    // hold almost no page work (the renderer waited for a core while workerd handled the burst).
    expect(figures.longest_task_cpu_ms).toBeLessThan(100);
    expect(figures.median_frame_ms).toBeLessThanOrEqual(34);
    expect(figures.p99_frame_ms).toBeLessThan(250);
    await pub.endAsync();
    expect(errors).toEqual([]);
  }, 90_000);

  it("holds 100,000 messages: capped, drops the oldest and says so, filters them quickly", async () => {
    const { page, errors } = await open();
    // Straight into the page's message handler (no broker: its throughput is not what is measured here).
    const figures = (await page.evaluate(`(async () => {
      const ws = document.querySelector("mqtt-app").workspaces[0];
      const enc = new TextEncoder();
      const frames = [];
      let last = performance.now(), stop = false;
      const tick = (t) => { frames.push(t - last); last = t; if (!stop) requestAnimationFrame(tick); };
      requestAnimationFrame(tick);
      const t0 = performance.now();
      for (let i = 0; i < 110000; i++) {
        ws.onMessage("synthetic/" + (i % 100), enc.encode(JSON.stringify({ n: i })), { qos: 0, retain: false, dup: false });
        if (i % 2000 === 1999) await new Promise((r) => setTimeout(r, 0));
      }
      const injectMs = performance.now() - t0;
      await new Promise((r) => setTimeout(r, 300));
      stop = true;
      const f0 = performance.now();
      ws.setFilter({ topic: "+/7", text: "", dir: "all" });
      const topicFilterMs = performance.now() - f0;
      const topicShown = ws.view.length;
      const f1 = performance.now();
      ws.setFilter({ topic: "", text: '"n":10424', dir: "all" });
      const textFilterMs = performance.now() - f1;
      const textShown = ws.view.length;
      ws.setFilter({ topic: "", text: "", dir: "all" });
      return { injectMs: Math.round(injectMs), longestFrameMs: Math.round(Math.max(...frames)), topicFilterMs: Math.round(topicFilterMs), topicShown, textFilterMs: Math.round(textFilterMs), textShown };
    })()`)) as Record<string, number>;
    console.log("100,000 messages in the page:", JSON.stringify(figures));
    await page.locator("[data-testid=count-log][data-value='100000']").waitFor();
    await page.locator("[data-testid=count-dropped][data-value='10000']").waitFor();
    expect(await page.getByTestId("count-dropped").textContent()).toMatch(/^oldest 10,000 dropped \(/);
    expect(figures.topicShown).toBe(1000);
    expect(figures.textShown).toBe(1 + 10);
    expect(figures.topicFilterMs).toBeLessThan(1000);
    expect(figures.textFilterMs).toBeLessThan(2000);
    // Scrolled to the middle, the list draws the rows there (and only those).
    await page.getByTestId("log-list").evaluate((el) => el.scrollTo(0, 50_000 * 46));
    await page.locator('[data-testid=log-row][aria-posinset="50001"]').waitFor();
    expect(await page.getByTestId("log-row").count()).toBeLessThan(60);
    expect(errors).toEqual([]);
  }, 40_000);

  it("works on a phone screen (375×667) without sideways scrolling", async () => {
    const { page, errors } = await open({ width: 375, height: 667 });
    await connectPage(page);
    await subscribe(page, "phone/#");
    const node = await connect(broker.mqttUrl);
    await node.publishAsync("phone/temp", "21.5", { qos: 1 });
    await node.publishAsync("phone/temp", "22", { qos: 1 });
    await waitForCount(page, 2);
    await page.locator('[data-testid=tree-row][data-topic="phone/temp"]').getByRole("button", { name: "Chart phone/temp" }).click();
    await page.locator('[data-testid=chart-stats][data-points="2"]').waitFor();
    expect(await page.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(375);
    for (const id of ["connect", "subscribe", "publish", "log-list", "topic-tree"]) expect(await page.getByTestId(id).boundingBox()).toMatchObject({ x: expect.any(Number) });
    await screenshot(page, "client-phone");
    await node.endAsync();
    expect(errors).toEqual([]);
  }, 30_000);
});
