/**
 * The console: asks for the token (token-prompt), then polls the API every few seconds while the
 * tab is visible and lays out the overview, the rate chart, clients, retained messages and events.
 * One status line (aria-live) says whether the data is live, stale (API unreachable) or paused;
 * a refused token brings the prompt back with the reason.
 */
import { html, nothing } from "lit";
import type { BrokerEvent, Overview } from "../../../src/admin/api-types.js";
import { ApiClient, type ApiError } from "../api.js";
import { formatClock } from "../format.js";
import { Poller } from "../poller.js";
import { forgetToken, loadToken, saveToken } from "../token-store.js";
import type { ClientsTable } from "./clients-table.js";
import { LightElement } from "./light-element.js";
import type { RetainedBrowser } from "./retained-browser.js";
import "./clients-table.js";
import "./events-list.js";
import "./overview-stats.js";
import "./rate-chart.js";
import "./retained-browser.js";
import "./token-prompt.js";

/** Same-origin only: the page and the API are served by the same Worker. */
const API_BASE = "/api";
const POLL_MS = 3_000;
const EVENTS_LIMIT = 50;

type Status = { kind: "loading" | "live" | "paused" | "stale" | "off"; text: string };

export class DashboardApp extends LightElement {
  static override properties = {
    token: { state: true },
    promptMessage: { state: true },
    status: { state: true },
    overview: { state: true },
    events: { state: true },
    updatedAt: { state: true },
    now: { state: true },
  };
  declare token: string | null;
  declare promptMessage: string;
  declare status: Status;
  declare overview: Overview | null;
  declare events: BrokerEvent[] | null;
  declare updatedAt: number | null;
  declare now: number;

  private readonly api = new ApiClient(
    API_BASE,
    () => this.token,
    (error) => this.outcome(error),
  );
  private readonly poller = new Poller(
    () => this.tick(),
    POLL_MS,
    (paused) => this.paused(paused),
  );
  private tickErrors: ApiError[] = [];
  private lastRetained: number | null = null;

  constructor() {
    super();
    this.token = loadToken();
    this.promptMessage = "";
    this.status = { kind: "loading", text: "Connecting to the API…" };
    this.overview = null;
    this.events = null;
    this.updatedAt = null;
    this.now = Date.now();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.poller.stop();
  }

  protected override updated(): void {
    // Start polling once the dashboard (and the components the poller refreshes) is rendered.
    if (this.token !== null) this.poller.start();
  }

  private outcome(error: ApiError | null): void {
    if (error === null) return;
    if (error.kind === "unauthorized") {
      // The other requests of the same round are refused too: sign out once.
      if (this.token !== null) this.signOut("The API refused this token (401 Unauthorized). It may be wrong or have been changed: enter the current ADMIN_TOKEN.");
      return;
    }
    this.tickErrors.push(error);
  }

  private signOut(message: string): void {
    this.poller.stop();
    forgetToken();
    this.token = null;
    this.promptMessage = message;
    this.overview = null;
    this.events = null;
    this.updatedAt = null;
    this.lastRetained = null;
    this.status = { kind: "loading", text: "Connecting to the API…" };
  }

  private paused(paused: boolean): void {
    if (paused) this.status = { kind: "paused", text: "Paused while this tab is hidden." };
  }

  private async tick(): Promise<void> {
    this.tickErrors = [];
    const clients = this.querySelector<ClientsTable>("clients-table");
    const [overview, events] = await Promise.allSettled([this.api.overview(), this.api.events(EVENTS_LIMIT), clients?.refresh()]);
    if (this.token === null) return;
    this.now = Date.now();
    if (overview.status === "fulfilled") {
      this.overview = overview.value;
      if (overview.value.retained !== this.lastRetained) {
        this.lastRetained = overview.value.retained;
        void this.querySelector<RetainedBrowser>("retained-browser")?.refresh();
      }
    }
    if (events.status === "fulfilled") this.events = events.value.events;
    if (document.hidden) return; // hidden while the round was under way: stay "paused"
    const error = this.tickErrors[0];
    if (!error) {
      this.updatedAt = this.now;
      if (this.status.kind !== "live") this.status = { kind: "live", text: `Live: updated every ${POLL_MS / 1000} s.` };
      return;
    }
    const since = this.updatedAt === null ? "" : ` Showing data from ${formatClock(this.updatedAt)}.`;
    let status: Status;
    if (error.kind === "not-found") status = { kind: "off", text: "The admin API is off: ADMIN_TOKEN is not configured on the Worker (wrangler secret put ADMIN_TOKEN)." };
    else if (error.kind === "unreachable") status = { kind: "stale", text: `Cannot reach the API (${error.message}); retrying every ${POLL_MS / 1000} s.${since}` };
    else status = { kind: "stale", text: `The API failed: ${error.message}; retrying every ${POLL_MS / 1000} s.${since}` };
    if (status.text !== this.status.text) this.status = status;
  }

  private submitToken(e: CustomEvent<string>): void {
    saveToken(e.detail);
    this.promptMessage = "";
    this.token = e.detail;
  }

  private forget(): void {
    this.signOut("The token was forgotten in this tab. Enter it again to continue.");
  }

  override render() {
    if (this.token === null) {
      return html`
        <header class="top"><div class="brand"><h1>MQTT broker console</h1></div></header>
        <main id="main"><token-prompt .message=${this.promptMessage} @token-submit=${this.submitToken}></token-prompt></main>
      `;
    }
    const o = this.overview;
    const stale = this.status.kind === "stale" || this.status.kind === "off";
    return html`
      <a class="skip" href="#clients-h">Skip to clients</a>
      <header class="top">
        <div class="brand">
          <h1>MQTT broker console</h1>
          ${o ? html`<span class="version" title="Broker version">v${o.version}</span>` : nothing}
        </div>
        <div class="status-line">
          <p id="api-status" class="status ${this.status.kind}" role="status" aria-live="polite">${this.status.text}</p>
          ${this.updatedAt !== null ? html`<span class="muted updated">Updated ${formatClock(this.updatedAt)}</span>` : nothing}
        </div>
        <div class="header-actions">
          <button type="button" @click=${() => this.poller.runNow()}>Refresh</button>
          <button type="button" @click=${this.forget}>Forget token</button>
        </div>
      </header>
      <main id="main" class=${stale ? "stale" : ""} aria-busy=${o === null ? "true" : "false"}>
        <section class="card overview" aria-labelledby="overview-h">
          <h2 id="overview-h" class="visually-hidden">Overview</h2>
          <overview-stats .overview=${o}></overview-stats>
        </section>
        <section class="card rates" aria-labelledby="rates-h">
          <h2 id="rates-h">Messages per second</h2>
          <rate-chart .rates=${o?.rates ?? []}></rate-chart>
        </section>
        <section class="card events-card" aria-labelledby="events-h">
          <h2 id="events-h">Errors, drops and refusals</h2>
          <events-list .events=${this.events} .now=${this.now}></events-list>
        </section>
        <section class="card clients" aria-labelledby="clients-h">
          <h2 id="clients-h" tabindex="-1">Clients and sessions</h2>
          <clients-table .api=${this.api} .now=${this.now}></clients-table>
        </section>
        <section class="card retained-card" aria-labelledby="retained-h">
          <h2 id="retained-h">Retained messages</h2>
          <retained-browser .api=${this.api}></retained-browser>
        </section>
      </main>
    `;
  }
}
customElements.define("dashboard-app", DashboardApp);
