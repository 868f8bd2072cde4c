/**
 * The message log, newest first, virtualized: only the rows in view (plus a few) exist, so
 * 100,000 messages cost no more to draw than 20. Scrolled away from the top, it keeps what is in
 * view in place while new messages arrive above.
 */
import { css, html, LitElement, nothing } from "lit";
import { customElement, property, query } from "lit/decorators.js";
import type { LoggedMessage } from "../message-log.js";
import { type PayloadFormat, previewPayload } from "../payload-format.js";
import type { Workspace } from "../workspace.js";
import { base } from "./styles.js";
import { WorkspaceController } from "./workspace-controller.js";

export const ROW = 46;
const OVERSCAN = 6;

export function clock(time: number): string {
  const d = new Date(time);
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

@customElement("message-list")
export class MessageList extends LitElement {
  static override styles = [
    base,
    css`
      .scroller {
        position: relative;
        height: 100%;
        overflow-y: auto;
        overflow-x: hidden;
        border: 1px solid var(--border);
        border-radius: 6px;
        background: var(--field);
        contain: strict;
      }
      .spacer {
        position: relative;
        width: 100%;
      }
      .msg {
        position: absolute;
        left: 0;
        right: 0;
        height: ${ROW}px;
        padding: 0.2rem 0.5rem 0.2rem 0.6rem;
        border-left: 4px solid var(--c, var(--border));
        border-bottom: 1px solid var(--border);
        cursor: pointer;
        overflow: hidden;
        font-size: 0.8rem;
      }
      .msg.out {
        background: var(--sent-bg);
      }
      .msg[aria-selected="true"] {
        background: var(--selected);
      }
      .meta {
        display: flex;
        gap: 0.4rem;
        align-items: center;
        white-space: nowrap;
      }
      .topic {
        font-weight: 600;
        overflow: hidden;
        text-overflow: ellipsis;
        min-width: 0;
      }
      time {
        color: var(--muted);
        font-family: var(--mono);
        font-size: 0.75rem;
      }
      .preview {
        font-family: var(--mono);
        white-space: nowrap;
        overflow: hidden;
        text-overflow: ellipsis;
        color: var(--fg);
        opacity: 0.85;
      }
      .empty {
        padding: 1rem;
      }
    `,
  ];
  @property({ attribute: false }) workspace?: Workspace;
  @property() format: PayloadFormat = "text";
  /** seq of the selected message, or -1. */
  @property({ type: Number }) selected = -1;
  @query(".scroller") private scroller?: HTMLElement;
  @query(".spacer") private spacer?: HTMLElement;
  private height = 480;
  /** The scroller's scrollTop as of its last scroll event: reading it while rendering would force a layout. */
  private top = 0;
  private readonly resize = new ResizeObserver((entries) => {
    const h = entries[0]?.contentRect.height;
    if (h && Math.abs(h - this.height) > 1) {
      this.height = h;
      this.requestUpdate();
    }
  });

  constructor() {
    super();
    new WorkspaceController(this, ["messages", "subs"]);
  }

  override firstUpdated(): void {
    if (this.scroller) this.resize.observe(this.scroller);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.resize.disconnect();
  }

  override willUpdate(): void {
    const ws = this.workspace;
    if (!ws) return;
    const added = ws.addedToView;
    ws.addedToView = 0;
    const sc = this.scroller;
    if (sc && this.spacer && added > 0 && this.top > 0) {
      // Grow first, so the browser does not clamp the new position.
      this.spacer.style.height = `${ws.view.length * ROW}px`;
      sc.scrollTop = this.top += added * ROW;
    }
  }

  private select(seq: number): void {
    this.dispatchEvent(new CustomEvent<number>("select", { detail: seq, bubbles: true, composed: true }));
  }

  private key(e: KeyboardEvent): void {
    const view = this.workspace?.view;
    if (!view || view.length === 0) return;
    const page = Math.max(1, Math.floor(this.height / ROW) - 1);
    const at = this.selected >= 0 ? view.indexOf(this.selected) : -1;
    const moves: Record<string, number> = { ArrowDown: at + 1, ArrowUp: at - 1, PageDown: at + page, PageUp: at - page, Home: 0, End: view.length - 1 };
    const to = moves[e.key];
    if (to === undefined) return;
    e.preventDefault();
    const i = Math.max(0, Math.min(view.length - 1, to));
    const m = view.at(i);
    if (!m) return;
    this.select(m.seq);
    const sc = this.scroller!;
    if (i * ROW < this.top) sc.scrollTop = this.top = i * ROW;
    else if ((i + 1) * ROW > this.top + this.height) sc.scrollTop = this.top = (i + 1) * ROW - this.height;
  }

  override render() {
    const ws = this.workspace;
    if (!ws) return nothing;
    const view = ws.view;
    const total = view.length;
    const top = this.top;
    const first = Math.max(0, Math.floor(top / ROW) - OVERSCAN);
    const last = Math.min(total, Math.ceil((top + this.height) / ROW) + OVERSCAN);
    const rows: { i: number; m: LoggedMessage }[] = [];
    for (let i = first; i < last; i++) {
      const m = view.at(i);
      if (m) rows.push({ i, m });
    }
    const active = rows.some((r) => r.m.seq === this.selected) ? `m-${this.selected}` : nothing;
    return html`<div
      class="scroller"
      role="listbox"
      tabindex="0"
      aria-label="Messages, newest first: ${total}"
      aria-activedescendant=${active}
      data-testid="log-list"
      data-rows=${total}
      @scroll=${(e: Event) => {
        this.top = (e.target as HTMLElement).scrollTop;
        this.requestUpdate();
      }}
      @keydown=${this.key}
    >
      <div class="spacer" style="height:${total * ROW}px">
        ${total === 0 ? html`<p class="muted empty">No messages${view.filtered ? " match the filter" : " yet"}.</p>` : nothing}
        ${rows.map(({ i, m }) => this.row(i, m, total, ws))}
      </div>
    </div>`;
  }

  private row(i: number, m: LoggedMessage, total: number, ws: Workspace) {
    const colour = m.dir === "in" ? ws.colourOf(m.topic) : undefined;
    return html`<div
      class="msg ${m.dir}"
      id="m-${m.seq}"
      role="option"
      aria-selected=${m.seq === this.selected ? "true" : "false"}
      aria-setsize=${total}
      aria-posinset=${i + 1}
      data-testid="log-row"
      data-topic=${m.topic}
      style="top:${i * ROW}px;${colour ? `--c:${colour}` : ""}"
      @click=${() => this.select(m.seq)}
    >
      <div class="meta">
        <time>${clock(m.time)}</time>
        <span aria-label=${m.dir === "in" ? "received" : "sent"}>${m.dir === "in" ? "↓" : "↑"}</span>
        <span class="topic">${m.topic}</span>
        <span class="badge" title="QoS ${m.qos}">Q${m.qos}</span>
        ${m.retain ? html`<span class="badge" title="retained" data-testid="retain-flag">R</span>` : nothing}
        ${m.dup ? html`<span class="badge" title="duplicate">DUP</span>` : nothing}
        ${m.props ? html`<span class="badge" title="MQTT 5 properties">props</span>` : nothing}
      </div>
      <div class="preview" data-testid="log-payload">${previewPayload(m.payload, this.format)}</div>
    </div>`;
  }
}
