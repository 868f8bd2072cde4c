/** The last errors, drops and refusals, newest first, with a level filter. */
import { html, nothing } from "lit";
import type { BrokerEvent } from "../../../src/admin/api-types.js";
import { formatAgo, formatClock, isoTime } from "../format.js";
import { LightElement } from "./light-element.js";

type LevelFilter = "all" | "warn" | "error";
const RANK: Record<BrokerEvent["level"], number> = { info: 0, warn: 1, error: 2 };

export class EventsList extends LightElement {
  static override properties = { events: { attribute: false }, now: { attribute: false }, level: { state: true } };
  declare events: BrokerEvent[] | null;
  declare now: number;
  declare level: LevelFilter;

  constructor() {
    super();
    this.events = null;
    this.now = Date.now();
    this.level = "all";
  }

  override render() {
    const min = this.level === "all" ? 0 : RANK[this.level];
    const shown = (this.events ?? []).filter((e) => RANK[e.level] >= min);
    return html`
      <div class="toolbar">
        <label for="events-level">Show</label>
        <select id="events-level" .value=${this.level} @change=${(e: Event) => (this.level = (e.target as HTMLSelectElement).value as LevelFilter)}>
          <option value="all">All events</option>
          <option value="warn">Warnings and errors</option>
          <option value="error">Errors only</option>
        </select>
      </div>
      ${
        this.events === null
          ? html`<p class="muted">Loading events…</p>`
          : shown.length === 0
            ? html`<p class="muted">No events.</p>`
            : html`<ol class="events" aria-label="Broker events, newest first">
              ${shown.map(
                (e) => html`<li class="event level-${e.level}">
                  <span class="badge ${e.level}">${e.level}</span>
                  <time datetime=${isoTime(e.at)} title=${isoTime(e.at)}>${formatClock(e.at)} <span class="muted">(${formatAgo(e.at, this.now)})</span></time>
                  <code class="kind">${e.kind}</code>
                  <span class="source">${e.source}</span>
                  <span class="message">${e.message || nothing}</span>
                </li>`,
              )}
            </ol>`
      }
    `;
  }
}
customElements.define("events-list", EventsList);
