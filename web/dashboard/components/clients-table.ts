/**
 * Sessions: connected clients and those kept for offline clients. Searchable by client id,
 * filterable by state, paged ("Load more"), with details per client and a "Disconnect" action.
 * `refresh()` re-reads the pages shown (the page's poller calls it).
 */
import { html, nothing, type TemplateResult } from "lit";
import type { ClientDetail, ClientSummary } from "../../../src/admin/api-types.js";
import { ApiError, type ApiClient } from "../api.js";
import { formatAgo, formatBytes, formatCount, formatDuration, isoTime, protocolName } from "../format.js";
import { LightElement } from "./light-element.js";

type StateFilter = "all" | "true" | "false";
type Detail = { state: "loading" } | { state: "error"; message: string } | { state: "ok"; client: ClientDetail };

export class ClientsTable extends LightElement {
  static override properties = {
    api: { attribute: false },
    now: { attribute: false },
    clients: { state: true },
    next: { state: true },
    q: { state: true },
    connected: { state: true },
    notice: { state: true },
    expanded: { state: true },
    detail: { state: true },
    pending: { state: true },
  };
  declare api: ApiClient | null;
  declare now: number;
  declare clients: ClientSummary[] | null;
  declare next: string | undefined;
  declare q: string;
  declare connected: StateFilter;
  declare notice: string;
  declare expanded: string | null;
  declare detail: Detail | null;
  declare pending: ReadonlySet<string>;
  private pages = 1;
  private seq = 0;
  private searchTimer: ReturnType<typeof setTimeout> | undefined;

  constructor() {
    super();
    this.api = null;
    this.now = Date.now();
    this.clients = null;
    this.next = undefined;
    this.q = "";
    this.connected = "all";
    this.notice = "";
    this.expanded = null;
    this.detail = null;
    this.pending = new Set();
  }

  /** Re-reads the pages shown with the current search; a later call wins over an earlier one. */
  async refresh(): Promise<void> {
    const api = this.api;
    if (!api) return;
    const seq = ++this.seq;
    const connected = this.connected === "all" ? undefined : this.connected === "true";
    const all: ClientSummary[] = [];
    let after: string | undefined;
    let next: string | undefined;
    try {
      for (let page = 0; page < this.pages; page++) {
        const list = await api.clients({ q: this.q || undefined, connected, after });
        all.push(...list.clients);
        next = list.next;
        if (next === undefined) break;
        after = next;
      }
    } catch (e) {
      // Unreachable and refused tokens are the page's status; anything else is said here.
      if (seq === this.seq && e instanceof ApiError && (e.kind === "http" || e.kind === "not-found")) this.notice = `Could not list clients: ${e.message}`;
      return;
    }
    if (seq !== this.seq) return;
    this.clients = all;
    this.next = next;
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    clearTimeout(this.searchTimer);
  }

  private search(q: string, immediately = false): void {
    this.q = q.trim();
    this.pages = 1;
    clearTimeout(this.searchTimer);
    this.searchTimer = setTimeout(() => void this.refresh(), immediately ? 0 : 250);
  }

  private filter(value: StateFilter): void {
    this.connected = value;
    this.pages = 1;
    void this.refresh();
  }

  private loadMore(): void {
    this.pages++;
    void this.refresh();
  }

  private async toggleDetail(clientId: string): Promise<void> {
    if (this.expanded === clientId) {
      this.expanded = null;
      return;
    }
    this.expanded = clientId;
    this.detail = { state: "loading" };
    try {
      const client = await this.api!.client(clientId);
      if (this.expanded === clientId) this.detail = { state: "ok", client };
    } catch (e) {
      const message = e instanceof ApiError && e.kind === "not-found" ? "This session no longer exists." : `Could not load the details (${e instanceof Error ? e.message : String(e)}).`;
      if (this.expanded === clientId) this.detail = { state: "error", message };
    }
  }

  private async disconnect(clientId: string): Promise<void> {
    if (!this.api || this.pending.has(clientId)) return;
    if (!window.confirm(`Disconnect the client “${clientId}”? It may reconnect.`)) return;
    this.pending = new Set([...this.pending, clientId]);
    try {
      await this.api.disconnect(clientId);
      this.notice = `Disconnected ${clientId}.`;
      if (this.connected === "true") this.clients = (this.clients ?? []).filter((c) => c.clientId !== clientId);
    } catch (e) {
      this.notice = e instanceof ApiError && e.kind === "not-found" ? `${clientId} was not connected.` : `Could not disconnect ${clientId}: ${e instanceof Error ? e.message : String(e)}`;
    } finally {
      const pending = new Set(this.pending);
      pending.delete(clientId);
      this.pending = pending;
    }
    await this.refresh();
    // The button may be gone with its row: keep the keyboard focus in the table.
    if (!this.contains(document.activeElement) || document.activeElement === document.body) this.querySelector<HTMLElement>("#clients-table")?.focus();
  }

  private renderDetail(colspan: number) {
    const d = this.detail;
    let body: TemplateResult;
    if (!d || d.state === "loading") body = html`<p class="muted">Loading…</p>`;
    else if (d.state === "error") body = html`<p class="notice error">${d.message}</p>`;
    else {
      const c = d.client;
      const filters = Object.entries(c.filters);
      const counters = Object.entries(c.counters);
      body = html`
        <dl class="detail-grid">
          <div><dt>Username</dt><dd>${c.username ?? "—"}</dd></div>
          <div><dt>Session expiry</dt><dd>${c.expiryInterval === undefined ? "—" : c.expiryInterval === 0xffffffff ? "never" : formatDuration(c.expiryInterval)}</dd></div>
          <div><dt>Queued</dt><dd>${formatCount(c.queued)} (${formatBytes(c.queuedBytes)})</dd></div>
        </dl>
        <h4>Subscriptions</h4>
        ${filters.length === 0 ? html`<p class="muted">None.</p>` : html`<ul class="filters">${filters.map(([f, qos]) => html`<li><code>${f}</code> <span class="muted">QoS ${qos}</span></li>`)}</ul>`}
        ${
          counters.length === 0
            ? nothing
            : html`<h4>Counters</h4>
              <ul class="reasons">${counters.map(([k, n]) => html`<li><code>${k}</code> <strong>${formatCount(n)}</strong></li>`)}</ul>`
        }
      `;
    }
    return html`<tr class="detail-row"><td colspan=${colspan} id="client-detail">${body}</td></tr>`;
  }

  private renderRow(c: ClientSummary) {
    const open = this.expanded === c.clientId;
    const busy = this.pending.has(c.clientId);
    return html`
      <tr class=${c.connected ? "online" : "offline"}>
        <th scope="row" data-label="Client id">
          <button type="button" class="link client-id" aria-expanded=${open ? "true" : "false"} aria-controls=${open ? "client-detail" : nothing}
            @click=${() => this.toggleDetail(c.clientId)} title="Show details">${c.clientId}</button>
        </th>
        <td data-label="State"><span class="badge ${c.connected ? "ok" : "off"}">${c.connected ? "Connected" : "Offline"}</span></td>
        <td data-label="Address">${c.address ?? "—"}</td>
        <td data-label="Protocol">${protocolName(c.protocolVersion)}</td>
        <td data-label=${c.connected ? "Connected since" : "Offline since"}>
          <time datetime=${isoTime(c.since)} title=${isoTime(c.since)}>${formatAgo(c.since, this.now)}</time>
        </td>
        <td data-label="Subscriptions" class="num">${formatCount(c.subscriptions)}</td>
        <td data-label="Queue" class="num">${formatCount(c.queued)}</td>
        <td data-label="Actions" class="actions">
          ${
            c.connected
              ? html`<button type="button" class="danger" ?disabled=${busy} aria-label=${`Disconnect ${c.clientId}`} @click=${() => this.disconnect(c.clientId)}>
                ${busy ? "Disconnecting…" : "Disconnect"}
              </button>`
              : nothing
          }
        </td>
      </tr>
      ${open ? this.renderDetail(8) : nothing}
    `;
  }

  override render() {
    const list = this.clients;
    return html`
      <form class="toolbar" role="search" @submit=${(e: Event) => {
        e.preventDefault();
        this.search(this.q, true);
      }}>
        <label for="clients-search">Search client id</label>
        <input id="clients-search" type="search" autocomplete="off" spellcheck="false" placeholder="e.g. sensor-"
          .value=${this.q} @input=${(e: Event) => this.search((e.target as HTMLInputElement).value)} />
        <label for="clients-state">State</label>
        <select id="clients-state" .value=${this.connected} @change=${(e: Event) => this.filter((e.target as HTMLSelectElement).value as StateFilter)}>
          <option value="all">All sessions</option>
          <option value="true">Connected</option>
          <option value="false">Offline (kept sessions)</option>
        </select>
      </form>
      <p class="notice" role="status" aria-live="polite">${this.notice}</p>
      ${
        list === null
          ? html`<p class="muted">Loading clients…</p>`
          : list.length === 0
            ? html`<p class="muted">${this.q ? `No session’s id contains “${this.q}”.` : "No sessions."}</p>`
            : html`
              <div class="table-wrap">
                <table id="clients-table" class="responsive" tabindex="-1">
                  <caption class="visually-hidden">Sessions${this.q ? ` whose id contains “${this.q}”` : ""}: ${list.length}${this.next ? " (more available)" : ""}</caption>
                  <thead>
                    <tr>
                      <th scope="col">Client id</th><th scope="col">State</th><th scope="col">Address</th><th scope="col">Protocol</th>
                      <th scope="col">Since</th><th scope="col" class="num">Subscriptions</th><th scope="col" class="num">Queue</th>
                      <th scope="col"><span class="visually-hidden">Actions</span></th>
                    </tr>
                  </thead>
                  <tbody>${list.map((c) => this.renderRow(c))}</tbody>
                </table>
              </div>
              ${this.next ? html`<button type="button" class="more" @click=${this.loadMore}>Load more</button>` : nothing}
            `
      }
    `;
  }
}
customElements.define("clients-table", ClientsTable);
