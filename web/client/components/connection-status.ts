/** The connection's state in words, announced to screen readers; a reconnect countdown. */
import { css, html, LitElement, nothing } from "lit";
import { customElement, property } from "lit/decorators.js";
import type { Workspace } from "../workspace.js";
import { base } from "./styles.js";
import { WorkspaceController } from "./workspace-controller.js";

const LABELS = { idle: "Not connected", connecting: "Connecting", connected: "Connected", reconnecting: "Reconnecting", disconnected: "Disconnected", failed: "Refused" };

@customElement("connection-status")
export class ConnectionStatus extends LitElement {
  static override styles = [
    base,
    css`
      .dot {
        display: inline-block;
        width: 0.6rem;
        height: 0.6rem;
        border-radius: 50%;
        margin-right: 0.35rem;
        background: var(--muted);
      }
      .connected .dot {
        background: var(--ok);
      }
      .connecting .dot,
      .reconnecting .dot {
        background: var(--warn);
      }
      .failed .dot {
        background: var(--error);
      }
      .detail {
        overflow-wrap: anywhere;
      }
    `,
  ];
  @property({ attribute: false }) workspace?: Workspace;
  private ticker: ReturnType<typeof setInterval> | undefined;

  constructor() {
    super();
    new WorkspaceController(this, ["state"]);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    clearInterval(this.ticker);
    this.ticker = undefined;
  }

  override updated(): void {
    const waiting = this.workspace?.state.nextRetryAt !== undefined && this.workspace.state.status === "reconnecting";
    if (waiting && this.ticker === undefined) this.ticker = setInterval(() => this.requestUpdate(), 1000);
    if (!waiting && this.ticker !== undefined) {
      clearInterval(this.ticker);
      this.ticker = undefined;
    }
  }

  override render() {
    const s = this.workspace?.state;
    if (!s) return nothing;
    const next = s.nextRetryAt !== undefined && s.status === "reconnecting" ? Math.max(0, Math.ceil((s.nextRetryAt - Date.now()) / 1000)) : undefined;
    return html`
      <div class="panel ${s.status}" data-testid="conn-status" data-status=${s.status} data-attempt=${s.attempt}>
        <div role="status" aria-live="polite">
          <strong><span class="dot" aria-hidden="true"></span>${LABELS[s.status]}${s.attempt > 0 ? `: attempt ${s.attempt}` : ""}</strong>
          <div class="detail" data-testid="conn-detail">${s.detail}</div>
        </div>
        ${next !== undefined ? html`<div class="muted" data-testid="conn-next">next attempt in ${next} s</div>` : nothing}
        ${s.status === "connected" && s.server ? html`<div class="muted">${s.server.join(" · ")}</div>` : nothing}
      </div>
    `;
  }
}
