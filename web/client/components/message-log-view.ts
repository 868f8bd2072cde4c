/** The messages: counts, filter by topic and text, payload format, caps, export; the list and the selected message. */
import { css, html, LitElement, nothing } from "lit";
import { customElement, property, state } from "lit/decorators.js";
import { download, toCsv, toJson } from "../export.js";
import type { LogFilter } from "../message-filter.js";
import { PAYLOAD_FORMATS, type PayloadFormat } from "../payload-format.js";
import type { Workspace } from "../workspace.js";
import "./message-details.js";
import "./message-list.js";
import { base } from "./styles.js";
import { WorkspaceController } from "./workspace-controller.js";

const MB = 1024 * 1024;

export function bytesText(n: number): string {
  return n >= MB ? `${(n / MB).toFixed(1)} MB` : n >= 1024 ? `${(n / 1024).toFixed(0)} KB` : `${n} B`;
}

@customElement("message-log-view")
export class MessageLogView extends LitElement {
  static override styles = [
    base,
    css`
      :host {
        display: flex;
        flex-direction: column;
        min-height: 0;
      }
      section {
        display: flex;
        flex-direction: column;
        gap: 0.5rem;
        height: 100%;
        min-height: 0;
      }
      message-list {
        flex: 1 1 auto;
        min-height: 14rem;
      }
      .counts {
        display: flex;
        flex-wrap: wrap;
        gap: 0.25rem 0.9rem;
        font-size: 0.8rem;
      }
      .counts strong {
        font-variant-numeric: tabular-nums;
      }
      .details {
        flex: 0 0 auto;
        max-height: 45%;
        overflow: auto;
      }
      @media (max-width: 760px) {
        message-list {
          flex: none;
          height: 60vh;
        }
        .details {
          max-height: none;
        }
      }
    `,
  ];
  @property({ attribute: false }) workspace?: Workspace;
  @state() private format: PayloadFormat = "text";
  @state() private selected = -1;
  @state() private limitsNote = "";
  private filterTimer: ReturnType<typeof setTimeout> | undefined;
  private draftFilter: LogFilter = { topic: "", text: "", dir: "all" };

  constructor() {
    super();
    new WorkspaceController(this, ["messages"]);
  }

  /** Filters the log (from a topic tree row). */
  filterTopic(topic: string): void {
    this.draftFilter = { ...this.draftFilter, topic };
    this.workspace?.setFilter(this.draftFilter);
    this.requestUpdate();
  }

  private changeFilter(patch: Partial<LogFilter>, debounce: boolean): void {
    this.draftFilter = { ...this.draftFilter, ...patch };
    clearTimeout(this.filterTimer);
    const apply = () => this.workspace?.setFilter(this.draftFilter);
    if (debounce) this.filterTimer = setTimeout(apply, 200);
    else apply();
  }

  private exportAs(kind: "json" | "csv"): void {
    const ws = this.workspace!;
    const stamp = new Date().toISOString().replace(/[:.]/g, "-");
    const name = `mqtt-${ws.settings.clientId || "messages"}-${stamp}.${kind}`;
    if (kind === "json") download(name, "application/json", toJson(ws.view.messages()));
    else download(name, "text/csv", toCsv(ws.view.messages()));
  }

  private applyLimits(e: Event): void {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const data = new FormData(form);
    try {
      this.workspace!.log.setLimits({ maxMessages: Number(data.get("max-messages")), maxBytes: Number(data.get("max-mb")) * MB });
      this.workspace!.setFilter(this.workspace!.filter);
      this.limitsNote = "applied";
    } catch (error) {
      this.limitsNote = (error as Error).message;
    }
  }

  override render() {
    const ws = this.workspace;
    if (!ws) return nothing;
    const log = ws.log;
    const limits = log.getLimits();
    const f = this.draftFilter;
    const selected = this.selected >= 0 ? log.get(this.selected) : undefined;
    return html`<section class="panel" aria-labelledby="log-h">
      <div class="row" style="justify-content:space-between">
        <h2 id="log-h">Messages</h2>
        <div class="counts" aria-live="off">
          <span>received <strong data-testid="count-received" data-value=${ws.received}>${ws.received.toLocaleString("en")}</strong></span>
          <span>sent <strong data-testid="count-sent" data-value=${ws.sent}>${ws.sent.toLocaleString("en")}</strong></span>
          <span>in the log <strong data-testid="count-log" data-value=${log.size}>${log.size.toLocaleString("en")}</strong> (${bytesText(log.bytes)})</span>
          ${ws.view.filtered ? html`<span>shown <strong data-testid="count-shown" data-value=${ws.view.length}>${ws.view.length.toLocaleString("en")}</strong></span>` : nothing}
          ${log.droppedMessages > 0 ? html`<span class="error" data-testid="count-dropped" data-value=${log.droppedMessages}>oldest ${log.droppedMessages.toLocaleString("en")} dropped (${bytesText(log.droppedBytes)})</span>` : nothing}
        </div>
      </div>
      <div class="row">
        <label class="grow">Filter by topic<input data-testid="log-filter-topic" type="search" .value=${f.topic} placeholder="text or a filter: a/+/c" @input=${(e: Event) => this.changeFilter({ topic: (e.target as HTMLInputElement).value }, true)} /></label>
        <label class="grow">Filter by payload text<input data-testid="log-filter-text" type="search" .value=${f.text} @input=${(e: Event) => this.changeFilter({ text: (e.target as HTMLInputElement).value }, true)} /></label>
        <label>Show
          <select data-testid="log-dir" @change=${(e: Event) => this.changeFilter({ dir: (e.target as HTMLSelectElement).value as LogFilter["dir"] }, false)}>
            <option value="all">all</option>
            <option value="in">received</option>
            <option value="out">sent</option>
          </select>
        </label>
        <label>Payload as
          <select data-testid="log-format" @change=${(e: Event) => (this.format = (e.target as HTMLSelectElement).value as PayloadFormat)}>
            ${PAYLOAD_FORMATS.map((p) => html`<option value=${p} ?selected=${p === this.format}>${p === "json" ? "pretty JSON" : p}</option>`)}
          </select>
        </label>
      </div>
      <div class="row">
        <button type="button" class="small" data-testid="export-json" @click=${() => this.exportAs("json")}>Export JSON</button>
        <button type="button" class="small" data-testid="export-csv" @click=${() => this.exportAs("csv")}>Export CSV</button>
        <button type="button" class="small" data-testid="log-clear" @click=${() => ws.clearLog()}>Clear the log</button>
        <details>
          <summary>Log limits</summary>
          <form class="row" @submit=${this.applyLimits}>
            <label>Messages<input name="max-messages" type="number" min="1" max="10000000" .value=${String(limits.maxMessages)} style="width:8rem" /></label>
            <label>MB<input name="max-mb" type="number" min="1" step="1" .value=${String(Math.round(limits.maxBytes / MB))} style="width:5rem" /></label>
            <button type="submit" class="small">Apply</button>
            <span class="muted">When either is reached, the oldest messages are dropped and counted. ${this.limitsNote}</span>
          </form>
        </details>
      </div>
      <message-list
        .workspace=${ws}
        .format=${this.format}
        .selected=${this.selected}
        @select=${(e: CustomEvent<number>) => (this.selected = e.detail)}
      ></message-list>
      <div class="details">
        ${this.selected >= 0 && !selected ? html`<p class="muted">The selected message was dropped from the log.</p>` : html`<message-details .message=${selected} .format=${this.format}></message-details>`}
      </div>
    </section>`;
  }
}
