/** The overview header: uptime, version, clients, sessions, subscriptions, retained, totals, drops by reason. */
import { html, nothing } from "lit";
import type { Overview } from "../../../src/admin/api-types.js";
import { formatCount, formatDuration } from "../format.js";
import { LightElement } from "./light-element.js";

export class OverviewStats extends LightElement {
  static override properties = { overview: { attribute: false } };
  declare overview: Overview | null;

  constructor() {
    super();
    this.overview = null;
  }

  override render() {
    const o = this.overview;
    if (!o) return html`<p class="muted">Loading the overview…</p>`;
    const dropped = Object.entries(o.messages.dropped).sort(([, a], [, b]) => b - a);
    const droppedTotal = dropped.reduce((sum, [, n]) => sum + n, 0);
    const stat = (label: string, value: string, title?: string) => html`<div class="stat"><dt>${label}</dt><dd title=${title ?? nothing}>${value}</dd></div>`;
    return html`
      <dl class="stats">
        ${stat("Connected clients", formatCount(o.clients.connected))}
        ${stat("Sessions", formatCount(o.clients.sessions), "Connected plus kept for offline clients")}
        ${stat("Subscriptions", formatCount(o.subscriptions))}
        ${stat("Retained", formatCount(o.retained))}
        ${stat("Received", formatCount(o.messages.received), "Messages received since start")}
        ${stat("Sent", formatCount(o.messages.sent), "Messages sent since start")}
        ${stat("Dropped", formatCount(droppedTotal), "Dropped or refused messages, all reasons")}
        ${stat("Uptime", formatDuration(o.uptimeSeconds))}
      </dl>
      <div class="dropped">
        <h3 id="dropped-title">Dropped or refused by reason</h3>
        ${
          dropped.length === 0
            ? html`<p class="muted">None.</p>`
            : html`<ul aria-labelledby="dropped-title" class="reasons">
              ${dropped.map(([reason, n]) => html`<li><code>${reason}</code> <strong>${formatCount(n)}</strong></li>`)}
            </ul>`
        }
      </div>
    `;
  }
}
customElements.define("overview-stats", OverviewStats);
