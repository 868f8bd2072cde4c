/**
 * Retained messages, browsed by topic: a topic filter (default `#`), breadcrumbs to go up, topic
 * levels to drill down, a payload preview, "Load more" pages and a delete per topic.
 */
import { html, nothing } from "lit";
import type { RetainedSummary } from "../../../src/admin/api-types.js";
import { ApiError, type ApiClient } from "../api.js";
import { formatBytes } from "../format.js";
import { previewPayload } from "../payload.js";
import { LightElement } from "./light-element.js";

/** `a/b/#` → ["a", "b"]: the fixed levels a drill-down filter starts with. */
function filterLevels(filter: string): string[] {
  const levels = filter.split("/");
  return levels.at(-1) === "#" ? levels.slice(0, -1) : levels;
}

export class RetainedBrowser extends LightElement {
  static override properties = {
    api: { attribute: false },
    filter: { state: true },
    messages: { state: true },
    next: { state: true },
    notice: { state: true },
    pending: { state: true },
  };
  declare api: ApiClient | null;
  declare filter: string;
  declare messages: RetainedSummary[] | null;
  declare next: string | undefined;
  declare notice: string;
  declare pending: ReadonlySet<string>;
  private pages = 1;
  private seq = 0;

  constructor() {
    super();
    this.api = null;
    this.filter = "#";
    this.messages = null;
    this.next = undefined;
    this.notice = "";
    this.pending = new Set();
  }

  /** Re-reads the pages shown for the current filter. */
  async refresh(): Promise<void> {
    const api = this.api;
    if (!api) return;
    const seq = ++this.seq;
    const all: RetainedSummary[] = [];
    let after: string | undefined;
    let next: string | undefined;
    try {
      for (let page = 0; page < this.pages; page++) {
        const list = await api.retained({ filter: this.filter, after });
        all.push(...list.messages);
        next = list.next;
        if (next === undefined) break;
        after = next;
      }
    } catch (e) {
      if (seq === this.seq && e instanceof ApiError && (e.kind === "http" || e.kind === "not-found")) this.notice = `Could not list retained messages: ${e.message}`;
      return;
    }
    if (seq !== this.seq) return;
    this.messages = all;
    this.next = next;
  }

  private browse(filter: string): void {
    this.filter = filter.trim() || "#";
    this.pages = 1;
    this.notice = "";
    void this.refresh();
  }

  private loadMore(): void {
    this.pages++;
    void this.refresh();
  }

  private async deleteTopic(topic: string): Promise<void> {
    if (!this.api || this.pending.has(topic)) return;
    if (!window.confirm(`Delete the retained message on “${topic}”? New subscribers will no longer receive it.`)) return;
    this.pending = new Set([...this.pending, topic]);
    try {
      await this.api.deleteRetained(topic);
      this.messages = (this.messages ?? []).filter((m) => m.topic !== topic);
      this.notice = `Deleted the retained message on ${topic}.`;
    } catch (e) {
      this.notice = `Could not delete ${topic}: ${e instanceof Error ? e.message : String(e)}`;
    } finally {
      const pending = new Set(this.pending);
      pending.delete(topic);
      this.pending = pending;
    }
    await this.refresh();
    if (document.activeElement === document.body) this.querySelector<HTMLElement>("#retained-filter")?.focus();
  }

  private renderTopic(topic: string) {
    const levels = topic.split("/");
    // Each level but the last drills down to `<levels up to it>/#`.
    return html`<span class="topic">${levels.map((level, i) =>
      i < levels.length - 1
        ? html`<button type="button" class="link" title=${`Browse ${levels.slice(0, i + 1).join("/")}/#`}
              @click=${() => this.browse(`${levels.slice(0, i + 1).join("/")}/#`)}>${level || "(empty)"}</button><span class="sep" aria-hidden="true">/</span>`
        : html`<span>${level || "(empty)"}</span>`,
    )}</span>`;
  }

  private renderRow(m: RetainedSummary) {
    const p = previewPayload(m.payloadBase64);
    const busy = this.pending.has(m.topic);
    return html`
      <tr>
        <th scope="row" data-label="Topic">${this.renderTopic(m.topic)}</th>
        <td data-label="QoS" class="num">${m.qos}</td>
        <td data-label="Size" class="num">${formatBytes(m.bytes)}</td>
        <td data-label="Payload" class="payload">
          ${p.kind === "empty" ? html`<span class="muted">(empty)</span>` : html`<code class=${p.kind}>${p.display}</code>`}
          ${m.truncated ? html`<span class="muted">(first ${formatBytes(4096)} shown)</span>` : nothing}
        </td>
        <td data-label="Actions" class="actions">
          <button type="button" class="danger" ?disabled=${busy} aria-label=${`Delete retained ${m.topic}`} @click=${() => this.deleteTopic(m.topic)}>
            ${busy ? "Deleting…" : "Delete"}
          </button>
        </td>
      </tr>
    `;
  }

  override render() {
    const crumbs = this.filter === "#" ? [] : filterLevels(this.filter);
    const list = this.messages;
    return html`
      <form class="toolbar" @submit=${(e: Event) => {
        e.preventDefault();
        this.browse(this.querySelector<HTMLInputElement>("#retained-filter")?.value ?? "#");
      }}>
        <label for="retained-filter">Topic filter</label>
        <input id="retained-filter" type="text" autocomplete="off" spellcheck="false" .value=${this.filter} />
        <button type="submit">Browse</button>
      </form>
      <nav class="crumbs" aria-label="Topic path">
        <button type="button" class="link" ?disabled=${crumbs.length === 0} @click=${() => this.browse("#")}>All topics</button>
        ${crumbs.map(
          (level, i) => html`<span aria-hidden="true">/</span>
          <button type="button" class="link" ?disabled=${i === crumbs.length - 1 && this.filter.endsWith("/#")}
            @click=${() => this.browse(`${crumbs.slice(0, i + 1).join("/")}/#`)}>${level || "(empty)"}</button>`,
        )}
      </nav>
      <p class="notice" role="status" aria-live="polite">${this.notice}</p>
      ${
        list === null
          ? html`<p class="muted">Loading retained messages…</p>`
          : list.length === 0
            ? html`<p class="muted">No retained message matches <code>${this.filter}</code>.</p>`
            : html`
              <div class="table-wrap">
                <table class="responsive retained">
                  <caption class="visually-hidden">Retained messages matching ${this.filter}: ${list.length}${this.next ? " (more available)" : ""}</caption>
                  <thead>
                    <tr><th scope="col">Topic</th><th scope="col" class="num">QoS</th><th scope="col" class="num">Size</th><th scope="col">Payload</th>
                      <th scope="col"><span class="visually-hidden">Actions</span></th></tr>
                  </thead>
                  <tbody>${list.map((m) => this.renderRow(m))}</tbody>
                </table>
              </div>
              ${this.next ? html`<button type="button" class="more" @click=${this.loadMore}>Load more</button>` : nothing}
            `
      }
    `;
  }
}
customElements.define("retained-browser", RetainedBrowser);
