/**
 * The operator's console (/dashboard) in headless Chromium, against a fake admin API: a node:http
 * server on 127.0.0.1 serving public/ (built by the global setup) and /api/* with canned data that
 * conforms to src/admin/api-types.ts. Independent of the broker; the real API has its own tests.
 */
import { readFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { extname, join, resolve, sep } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BrokerEvent, ClientDetail, ClientList, EventList, Overview, RetainedList, RetainedSummary } from "../../src/admin/api-types.js";
import { sameOriginBase } from "../../web/dashboard/same-origin.js";
import { formatAgo, formatBytes, formatCount, formatDuration, formatRate, niceCeiling, protocolName } from "../../web/dashboard/format.js";
import { previewPayload } from "../../web/dashboard/payload.js";
import { launchBrowser, openPage, screenshot } from "../helpers/browser.js";

const TOKEN = "test-admin-token";
const PUBLIC = resolve("public");

// ---- the fake API ------------------------------------------------------------------------------

interface FakeState {
  token: string;
  /** Drop every API connection without an answer (the API unreachable). */
  down: boolean;
  clients: ClientDetail[];
  retained: RetainedSummary[];
  events: BrokerEvent[];
  /** "METHOD /path?query" of every API request, in order. */
  calls: string[];
}

function client(clientId: string, connected: boolean, extra: Partial<ClientDetail> = {}): ClientDetail {
  const filters: Record<string, number> = connected ? { [`devices/${clientId}/cmd`]: 1, "broadcast/#": 0 } : { "archive/#": 2 };
  return {
    clientId,
    connected,
    ...(connected ? { address: `203.0.113.${clientId.length + 10}`, protocolVersion: 5 as const } : {}),
    since: Date.now() - 3_725_000,
    subscriptions: Object.keys(filters).length,
    queued: connected ? 0 : 42,
    filters,
    queuedBytes: connected ? 0 : 5_300,
    counters: { received: 120, sent: 340 },
    ...extra,
  };
}

function retained(topic: string, payload: string | Uint8Array, qos: 0 | 1 | 2 = 1): RetainedSummary {
  const bytes = typeof payload === "string" ? Buffer.from(payload) : Buffer.from(payload);
  return { topic, qos, bytes: bytes.length, payloadBase64: bytes.toString("base64"), truncated: false };
}

function initialState(): FakeState {
  const now = Date.now();
  return {
    token: TOKEN,
    down: false,
    calls: [],
    clients: [
      client("sensor-1", true, { protocolVersion: 4, username: "sensors" }),
      client("sensor-2", true),
      client("sensor-3", true, { queued: 3, queuedBytes: 210 }),
      client("dashboard-ui", true),
      client("archiver", false, { expiryInterval: 86_400 }),
      client("sensor-old", false),
    ],
    retained: [
      retained("home/kitchen/temp", '{"celsius":21.5}'),
      retained("home/kitchen/humidity", "48"),
      retained("home/garage/door", "closed", 2),
      retained("status/gateway", new Uint8Array([0, 1, 2, 250, 255]), 0),
    ],
    events: [
      { at: now - 5_000, level: "error", source: "session sensor-3", kind: "dropped_queue_full", message: "queue full (100000 messages): QoS 1 message to sensor-3 dropped" },
      { at: now - 60_000, level: "warn", source: "worker", kind: "connects_refused_auth", message: "CONNECT refused: bad username or password from 198.51.100.7" },
      { at: now - 120_000, level: "info", source: "shard home", kind: "retained_limit", message: "retained store near its limit" },
    ],
  };
}

function overview(s: FakeState): Overview {
  const now = Date.now();
  const rates: Overview["rates"] = [];
  for (let i = 59; i >= 0; i--) {
    const t = 59 - i;
    rates.push({ at: now - i * 10_000, inPerSecond: 40 + 25 * Math.sin(t / 6), outPerSecond: 90 + 60 * Math.sin(t / 6 + 1) });
  }
  return {
    version: "0.1.0",
    now,
    uptimeSeconds: 93_784,
    clients: { connected: s.clients.filter((c) => c.connected).length, sessions: s.clients.length },
    subscriptions: s.clients.reduce((n, c) => n + c.subscriptions, 0),
    retained: s.retained.length,
    messages: { received: 1_234_567, sent: 2_345_678, dropped: { dropped_queue_full: 12, dropped_qos0_rate: 3 } },
    rates,
  };
}

/** MQTT topic filter matching (enough for the fake: `+`, trailing `#`). */
function matches(filter: string, topic: string): boolean {
  const f = filter.split("/");
  const t = topic.split("/");
  for (let i = 0; i < f.length; i++) {
    if (f[i] === "#") return true;
    if (i >= t.length || (f[i] !== "+" && f[i] !== t[i])) return false;
  }
  return f.length === t.length;
}

function summary({ filters: _f, queuedBytes: _q, counters: _c, expiryInterval: _e, ...rest }: ClientDetail): ClientList["clients"][number] {
  return rest;
}

const TYPES: Record<string, string> = { ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml" };

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" }).end(JSON.stringify(body));
}

async function serveStatic(url: URL, res: ServerResponse): Promise<void> {
  const path = url.pathname === "/dashboard" || url.pathname === "/dashboard/" ? "/dashboard/index.html" : url.pathname;
  const file = join(PUBLIC, path);
  if (!file.startsWith(PUBLIC + sep)) return void res.writeHead(404).end();
  try {
    const body = await readFile(file);
    res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream" }).end(body);
  } catch {
    res.writeHead(404, { "content-type": "text/plain" }).end("not found");
  }
}

function serveApi(s: FakeState, req: IncomingMessage, url: URL, res: ServerResponse) {
  s.calls.push(`${req.method} ${url.pathname}${url.search}`);
  if (s.down) return void req.socket.destroy();
  if (req.headers.authorization !== `Bearer ${s.token}`) return json(res, 401, { error: "unauthorized" });
  const p = url.searchParams;
  const route = `${req.method} ${url.pathname}`;
  if (route === "GET /api/overview") return json(res, 200, overview(s));
  if (route === "GET /api/events") {
    const body: EventList = { events: s.events.slice(0, Number(p.get("limit") ?? 100)) };
    return json(res, 200, body);
  }
  if (route === "GET /api/clients") {
    const q = p.get("q") ?? "";
    const connected = p.get("connected");
    const limit = Number(p.get("limit") ?? 100);
    const after = p.get("after");
    const all = s.clients
      .filter((c) => c.clientId.includes(q) && (connected === null || String(c.connected) === connected))
      .sort((a, b) => (a.clientId < b.clientId ? -1 : 1))
      .filter((c) => after === null || c.clientId > after);
    const page = all.slice(0, limit);
    const body: ClientList = { clients: page.map(summary), ...(all.length > limit ? { next: page.at(-1)!.clientId } : {}) };
    return json(res, 200, body);
  }
  const one = /^\/api\/clients\/([^/]+)(\/disconnect)?$/.exec(url.pathname);
  if (one) {
    const c = s.clients.find((x) => x.clientId === decodeURIComponent(one[1]!));
    if (req.method === "GET" && !one[2]) return c ? json(res, 200, c) : json(res, 404, { error: "no such session" });
    if (req.method === "POST" && one[2]) {
      if (!c?.connected) return json(res, 404, { error: "not connected" });
      s.clients = s.clients.filter((x) => x !== c); // a clean session: gone with its connection
      return void res.writeHead(204).end();
    }
  }
  if (route === "GET /api/retained") {
    const filter = p.get("filter") ?? "#";
    const after = p.get("after");
    const messages = s.retained.filter((m) => matches(filter, m.topic) && (after === null || m.topic > after)).sort((a, b) => (a.topic < b.topic ? -1 : 1));
    const body: RetainedList = { messages };
    return json(res, 200, body);
  }
  if (route === "DELETE /api/retained") {
    const topic = p.get("topic");
    s.retained = s.retained.filter((m) => m.topic !== topic);
    return void res.writeHead(204).end();
  }
  json(res, 404, { error: "not found" });
}

async function startFake(s: FakeState): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    if (url.pathname.startsWith("/api/")) serveApi(s, req, url, res);
    else void serveStatic(url, res);
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

// ---- the page ----------------------------------------------------------------------------------

const state = initialState();
let fake: { server: Server; url: string };
let browser: Browser;
let page: Page;
let errors: string[];
/** Console errors a test provoked on purpose (the browser logs refused and failed requests). */
const expected: RegExp[] = [];

const clientRows = () => page.locator("clients-table tbody tr:not(.detail-row)");
const retainedRows = () => page.locator("retained-browser tbody tr");
const apiStatus = () => page.locator("#api-status");
const storedToken = () => page.evaluate<string | null>("sessionStorage.getItem('mqtt-console.admin-token')");

async function signIn(p: Page, token: string): Promise<void> {
  await p.getByLabel("Admin token").fill(token);
  await p.getByRole("button", { name: "Open console" }).click();
}

beforeAll(async () => {
  fake = await startFake(state);
  browser = await launchBrowser();
  ({ page, errors } = await openPage(browser, `${fake.url}/dashboard`));
  page.on("dialog", (d) => void d.accept());
  page.setDefaultTimeout(8_000);
});

afterAll(async () => {
  await browser?.close();
  await new Promise((ok) => fake?.server.close(ok));
});

describe("operator console", () => {
  it("asks for the token, refuses a wrong one with a message, then shows the sessions", async () => {
    await page.getByRole("heading", { name: "Sign in to the console" }).waitFor();
    expect(await page.evaluate<string | undefined>("document.activeElement?.id")).toBe("admin-token");
    expect(state.calls).toEqual([]); // nothing asked of the API without a token

    expected.push(/status of 401/);
    await signIn(page, "not-the-token");
    await page.getByRole("alert").filter({ hasText: "refused this token" }).waitFor();
    expect(await storedToken()).toBeNull();

    await signIn(page, TOKEN);
    await clientRows().first().waitFor();
    expect(await clientRows().count()).toBe(6);
    expect(await storedToken()).toBe(TOKEN);
    await apiStatus().filter({ hasText: "Live" }).waitFor();
    const stats = page.locator("overview-stats");
    await expect(stats.textContent()).resolves.toMatch(/Connected clients\s*4/);
    await expect(stats.textContent()).resolves.toContain("1,234,567");
    await expect(stats.textContent()).resolves.toContain("dropped_queue_full");
    await expect(page.locator(".version").textContent()).resolves.toBe("v0.1.0");
    const row = await clientRows().filter({ hasText: "sensor-1" }).textContent();
    expect(row).toContain("203.0.113.18");
    expect(row).toContain("3.1.1");
    expect(row).toMatch(/1 h 2 min ago/);
  });

  it("searching filters the clients, and a client's details show its subscriptions", async () => {
    await page.getByLabel("Search client id").fill("sensor");
    await page.waitForFunction("document.querySelectorAll('clients-table tbody tr').length === 4");
    expect(state.calls).toContain("GET /api/clients?q=sensor");
    await page.getByLabel("State").selectOption("false");
    await page.waitForFunction("document.querySelectorAll('clients-table tbody tr').length === 1");
    await expect(clientRows().textContent()).resolves.toContain("sensor-old");
    await page.getByLabel("State").selectOption("all");
    await page.waitForFunction("document.querySelectorAll('clients-table tbody tr').length === 4");

    await page.getByRole("button", { name: "sensor-3", exact: true }).click();
    const detail = page.locator("#client-detail");
    await detail.getByText("devices/sensor-3/cmd").waitFor();
    await expect(detail.textContent()).resolves.toContain("210 B");
    await page.getByRole("button", { name: "sensor-3", exact: true }).click();
    await detail.waitFor({ state: "detached" });
  });

  it("'Disconnect' calls the API and the client disappears", async () => {
    await page.getByRole("button", { name: "Disconnect sensor-2" }).click();
    await page.getByRole("status").filter({ hasText: "Disconnected sensor-2." }).waitFor();
    await page.waitForFunction("document.querySelectorAll('clients-table tbody tr').length === 3");
    expect(state.calls).toContain("POST /api/clients/sensor-2/disconnect");
    expect(await clientRows().filter({ hasText: "sensor-2" }).count()).toBe(0);
    // An offline session has no disconnect button.
    expect(
      await clientRows()
        .filter({ hasText: "sensor-old" })
        .getByRole("button", { name: /Disconnect/ })
        .count(),
    ).toBe(0);
    await page.getByLabel("Search client id").fill("");
    await page.waitForFunction("document.querySelectorAll('clients-table tbody tr').length === 5");
  });

  it("the retained browser lists topics, drills down by level and deletes a topic", async () => {
    await retainedRows().first().waitFor();
    expect(await retainedRows().count()).toBe(4);
    await expect(retainedRows().filter({ hasText: "status" }).textContent()).resolves.toContain("00 01 02 fa ff");
    await expect(retainedRows().filter({ hasText: "temp" }).textContent()).resolves.toContain('{"celsius":21.5}');

    await retainedRows().filter({ hasText: "humidity" }).getByRole("button", { name: "kitchen", exact: true }).click();
    await page.waitForFunction("document.querySelectorAll('retained-browser tbody tr').length === 2");
    expect(await page.getByLabel("Topic filter").inputValue()).toBe("home/kitchen/#");

    await page.getByRole("button", { name: "Delete retained home/kitchen/temp" }).click();
    await page.getByRole("status").filter({ hasText: "Deleted the retained message on home/kitchen/temp." }).waitFor();
    await page.waitForFunction("document.querySelectorAll('retained-browser tbody tr').length === 1");
    expect(state.calls).toContain("DELETE /api/retained?topic=home%2Fkitchen%2Ftemp");
    expect(state.retained.map((m) => m.topic)).not.toContain("home/kitchen/temp");

    await page.getByRole("button", { name: "All topics" }).click();
    await page.waitForFunction("document.querySelectorAll('retained-browser tbody tr').length === 3");
  });

  it("the rate chart is drawn and the events are listed with their reasons", async () => {
    const inked = await page.evaluate<number>(`(() => {
      const c = document.querySelector("rate-chart canvas");
      const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
      return n;
    })()`);
    expect(inked).toBeGreaterThan(2_000);
    await expect(page.locator("rate-chart canvas").getAttribute("aria-label")).resolves.toMatch(/now [\d.]+\/s in and [\d.]+\/s out/);

    const events = page.locator("events-list li");
    expect(await events.count()).toBe(3);
    await expect(events.first().textContent()).resolves.toContain("dropped_queue_full");
    await expect(events.first().textContent()).resolves.toContain("queue full (100000 messages)");
    await page.getByLabel("Show").selectOption("error");
    expect(await events.count()).toBe(1);
    await page.getByLabel("Show").selectOption("all");
    await screenshot(page, "dashboard-desktop");
  });

  it("stops polling while the tab is hidden and resumes when it shows", async () => {
    const setHidden = (hidden: boolean) =>
      page.evaluate(`Object.defineProperty(document, "hidden", { configurable: true, get: () => ${hidden} }); document.dispatchEvent(new Event("visibilitychange"))`);
    await setHidden(true);
    await apiStatus().filter({ hasText: "Paused" }).waitFor();
    const before = state.calls.length;
    await page.waitForTimeout(3_500);
    expect(state.calls.length).toBe(before);
    await setHidden(false);
    await page.waitForFunction(`document.querySelector("#api-status")?.textContent.includes("Live")`);
    expect(state.calls.length).toBeGreaterThan(before);
  });

  it("says when the API is unreachable, keeps the data and recovers", async () => {
    expected.push(/net::ERR_(EMPTY_RESPONSE|CONNECTION_RESET|CONNECTION_CLOSED)/);
    state.down = true;
    await page.getByRole("button", { name: "Refresh" }).click();
    await apiStatus().filter({ hasText: "Cannot reach the API" }).waitFor();
    await expect(apiStatus().textContent()).resolves.toContain("Showing data from");
    expect(await clientRows().count()).toBe(5);
    state.down = false;
    await page.getByRole("button", { name: "Refresh" }).click();
    await apiStatus().filter({ hasText: "Live" }).waitFor();
  });

  it("a token that stops working brings the prompt back with a message; 'Forget token' too", async () => {
    state.token = "rotated-token";
    await page.getByRole("button", { name: "Refresh" }).click();
    await page.getByRole("alert").filter({ hasText: "refused this token" }).waitFor();
    expect(await storedToken()).toBeNull();
    await signIn(page, "rotated-token");
    await clientRows().first().waitFor();

    await page.getByRole("button", { name: "Forget token" }).click();
    await page.getByRole("alert").filter({ hasText: "forgotten" }).waitFor();
    expect(await storedToken()).toBeNull();
    expect(await clientRows().count()).toBe(0);
    state.token = TOKEN;
  });

  it("works on a phone: keyboard sign-in, one column, no horizontal scrolling", async () => {
    const phone = await openPage(browser, `${fake.url}/dashboard`, { width: 390, height: 844 });
    phone.page.on("dialog", (d) => void d.accept());
    try {
      await phone.page.keyboard.type(TOKEN); // the token field has the focus
      await phone.page.keyboard.press("Enter");
      await phone.page.locator("clients-table tbody tr").first().waitFor();
      await phone.page.locator("retained-browser tbody tr").first().waitFor();
      await phone.page.locator("#api-status").filter({ hasText: "Live" }).waitFor();
      const overflow = await phone.page.evaluate<number>("document.documentElement.scrollWidth - document.documentElement.clientWidth");
      expect(overflow).toBeLessThanOrEqual(0);
      // Table rows become labelled cards: the header row is hidden, each cell says its column.
      const display = await phone.page.evaluate<string>(`getComputedStyle(document.querySelector("clients-table tbody tr")).display`);
      expect(display).toBe("block");
      const box = await phone.page
        .getByRole("button", { name: /^Disconnect / })
        .first()
        .boundingBox();
      expect(box!.width).toBeGreaterThan(300);
      await screenshot(phone.page, "dashboard-phone");
      expect(phone.errors).toEqual([]);
    } finally {
      await phone.page.context().close();
    }
  });

  it("logged no console errors but the refused and failed requests the tests provoked", () => {
    expect(errors.filter((e) => !expected.some((re) => re.test(e)))).toEqual([]);
  });
});

describe("the console's pure helpers", () => {
  it("formats counts, durations, bytes, rates and ages", () => {
    expect(formatCount(1_234_567)).toBe("1,234,567");
    expect(formatDuration(0)).toBe("0 s");
    expect(formatDuration(45)).toBe("45 s");
    expect(formatDuration(3_725)).toBe("1 h 2 min");
    expect(formatDuration(93_784)).toBe("1 d 2 h");
    expect(formatDuration(86_400)).toBe("1 d");
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(1_536)).toBe("1.5 KiB");
    expect(formatBytes(64 * 1024 * 1024)).toBe("64 MiB");
    expect(formatRate(0.25)).toBe("0.3/s");
    expect(formatAgo(1_000, 1_500)).toBe("just now");
    expect(formatAgo(0, 300_000)).toBe("5 min ago");
    expect(niceCeiling(0)).toBe(1);
    expect(niceCeiling(151)).toBe(200);
    expect(niceCeiling(3_001)).toBe(5_000);
    expect(protocolName(4)).toBe("3.1.1");
    expect(protocolName(undefined)).toBe("—");
  });

  it("previews payloads as text when printable UTF-8, as hex otherwise", () => {
    expect(previewPayload(Buffer.from("héllo").toString("base64"))).toEqual({ kind: "text", display: "héllo" });
    expect(previewPayload(Buffer.from([0, 255]).toString("base64"))).toEqual({ kind: "binary", display: "00 ff" });
    expect(previewPayload("")).toEqual({ kind: "empty", display: "" });
  });

  it("takes only a same-origin path as the API base", () => {
    expect(sameOriginBase("/api/")).toBe("/api");
    for (const bad of ["https://evil.example/api", "//evil.example/api", "/\\evil.example", "api", "/api?x=1"]) expect(() => sameOriginBase(bad)).toThrow();
  });
});
