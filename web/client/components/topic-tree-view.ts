/** The topic tree: every topic seen, its message count and last value; virtualized; filter, chart, show in the log. */
import { css, html, LitElement, nothing } from "lit";
import { customElement, property, query, state } from "lit/decorators.js";
import { previewPayload } from "../payload-format.js";
import type { TreeRow } from "../topic-tree.js";
import type { Workspace } from "../workspace.js";
import { clock } from "./message-list.js";
import { base } from "./styles.js";
import { WorkspaceController } from "./workspace-controller.js";

const ROW = 28;

@customElement("topic-tree-view")
export class TopicTreeView extends LitElement {
  static override styles = [
    base,
    css`
      .scroller {
        position: relative;
        height: var(--tree-height, 22rem);
        overflow: auto;
        border: 1px solid var(--border);
        border-radius: 6px;
        background: var(--field);
        contain: strict;
      }
      .node {
        position: absolute;
        left: 0;
        right: 0;
        height: ${ROW}px;
        display: flex;
        align-items: center;
        gap: 0.3rem;
        white-space: nowrap;
        font-size: 0.8rem;
        border-bottom: 1px solid var(--border);
      }
      .toggle {
        width: 1.4rem;
        padding: 0;
        border: none;
        background: none;
      }
      .spacer {
        display: inline-block;
        width: 1.4rem;
      }
      .name {
        border: none;
        background: none;
        padding: 0 0.15rem;
        font-family: var(--mono);
        font-weight: 600;
      }
      .count {
        color: var(--muted);
        font-variant-numeric: tabular-nums;
      }
      .value {
        flex: 1;
        min-width: 0;
        overflow: hidden;
        text-overflow: ellipsis;
        font-family: var(--mono);
      }
    `,
  ];
  @property({ attribute: false }) workspace?: Workspace;
  @state() private filter = "";
  @state() private collapsed = new Set<string>();
  @query(".scroller") private scroller?: HTMLElement;
  private rows: TreeRow[] = [];
  private height = 352;
  /** scrollTop as of the last scroll event (reading it while rendering would force a layout). */
  private top = 0;

  constructor() {
    super();
    new WorkspaceController(this, ["tree"]);
  }

  override willUpdate(): void {
    if (this.workspace) this.rows = this.workspace.tree.rows(this.collapsed, this.filter);
  }

  override firstUpdated(): void {
    if (this.scroller) this.height = this.scroller.clientHeight || this.height;
  }

  private scrolled = (e: Event): void => {
    this.top = (e.target as HTMLElement).scrollTop;
    this.requestUpdate();
  };

  private toggle(path: string): void {
    const next = new Set(this.collapsed);
    if (next.has(path)) next.delete(path);
    else next.add(path);
    this.collapsed = next;
  }

  private emit(name: string, topic: string): void {
    this.dispatchEvent(new CustomEvent(name, { detail: topic, bubbles: true, composed: true }));
  }

  override render() {
    const ws = this.workspace;
    if (!ws) return nothing;
    const tree = ws.tree;
    const top = this.top;
    const first = Math.max(0, Math.floor(top / ROW) - 5);
    const last = Math.min(this.rows.length, Math.ceil((top + this.height) / ROW) + 5);
    return html`<section class="panel stack" aria-labelledby="tree-h">
      <div class="row" style="justify-content:space-between">
        <h2 id="tree-h">Topic tree</h2>
        <span class="muted" data-testid="tree-summary">${tree.topics.toLocaleString("en")} topics · ${tree.root.total.toLocaleString("en")} messages${tree.overflow > 0 ? ` · ${tree.overflow} not shown (tree full)` : ""}</span>
      </div>
      <div class="row">
        <label class="grow">Find a topic<input data-testid="tree-filter" type="search" .value=${this.filter} @input=${(e: Event) => (this.filter = (e.target as HTMLInputElement).value)} /></label>
        <button type="button" class="small" @click=${() => (this.collapsed = new Set())}>Expand all</button>
        <button type="button" class="small" @click=${() => (this.collapsed = new Set(tree.innerPaths()))}>Collapse all</button>
        <button type="button" class="small" @click=${() => ws.clearTree()}>Clear</button>
      </div>
      <div class="scroller" role="tree" aria-label="Topics" data-testid="topic-tree" @scroll=${this.scrolled}>
        <div style="position:relative;height:${this.rows.length * ROW}px">
          ${this.rows.length === 0 ? html`<p class="muted" style="padding:0.5rem">Topics appear here as messages arrive.</p>` : nothing}
          ${this.rows.slice(first, last).map((r, k) => this.row(r, first + k))}
        </div>
      </div>
    </section>`;
  }

  private row(r: TreeRow, i: number) {
    const n = r.node;
    const last = n.last;
    return html`<div
      class="node"
      role="treeitem"
      aria-level=${n.depth + 1}
      aria-expanded=${r.expandable ? String(r.expanded) : nothing}
      data-testid="tree-row"
      data-topic=${n.path}
      data-own=${n.own}
      data-total=${n.total}
      style="top:${i * ROW}px;padding-left:${n.depth * 0.9}rem"
    >
      ${
        r.expandable
          ? html`<button type="button" class="toggle" aria-label="${r.expanded ? "Collapse" : "Expand"} ${n.path}" @click=${() => this.toggle(n.path)}>${r.expanded ? "▾" : "▸"}</button>`
          : html`<span class="spacer"></span>`
      }
      <button type="button" class="name" title="Show ${n.path} in the log" @click=${() => this.emit("filter-topic", r.expandable && n.own === 0 ? `${n.path}/#` : n.path)}>${n.name === "" ? "(empty)" : n.name}</button>
      <span class="count" title="${n.own} messages to this topic, ${n.total} with the topics below">${n.own > 0 ? n.own.toLocaleString("en") : ""}${r.expandable ? ` (${n.total.toLocaleString("en")})` : ""}</span>
      ${
        last
          ? html`<span class="value" title="last at ${clock(last.time)}${last.retain ? ", retained" : ""}">${last.retain ? "R " : ""}${previewPayload(last.payload, "text", 60)}</span>
            <button type="button" class="small" aria-label="Chart ${n.path}" @click=${() => this.emit("chart-topic", n.path)}>Chart</button>`
          : nothing
      }
    </div>`;
  }
}
