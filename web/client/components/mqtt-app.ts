/** The page: connections side by side as tabs (arrow keys move between them), each its own workspace. */
import { css, html, LitElement } from "lit";
import { customElement, state } from "lit/decorators.js";
import { Workspace } from "../workspace.js";
import "./connection-view.js";
import { base } from "./styles.js";

@customElement("mqtt-app")
export class MqttApp extends LitElement {
  static override styles = [
    base,
    css`
      [role="tablist"] {
        display: flex;
        flex-wrap: wrap;
        gap: 0.25rem;
        align-items: end;
        border-bottom: 1px solid var(--border);
        margin-bottom: 0.75rem;
      }
      .tab {
        display: flex;
        align-items: center;
        border: 1px solid var(--border);
        border-bottom: none;
        border-radius: 6px 6px 0 0;
        background: var(--button);
      }
      .tab.active {
        background: var(--panel);
        font-weight: 600;
      }
      .tab button {
        border: none;
        background: none;
        border-radius: 6px 6px 0 0;
      }
      .dot {
        display: inline-block;
        width: 0.5rem;
        height: 0.5rem;
        border-radius: 50%;
        margin-right: 0.35rem;
        background: var(--muted);
      }
      .dot.connected {
        background: var(--ok);
      }
      .dot.connecting,
      .dot.reconnecting {
        background: var(--warn);
      }
      .dot.failed {
        background: var(--error);
      }
    `,
  ];
  @state() private workspaces: Workspace[] = [new Workspace(location)];
  @state() private active = 0;
  private offs = new Map<Workspace, () => void>();

  override connectedCallback(): void {
    super.connectedCallback();
    this.watch(this.workspaces[0]!);
  }

  private watch(ws: Workspace): void {
    // The tab's dot and label follow the connection.
    this.offs.set(
      ws,
      ws.on(["state", "settings"], () => this.requestUpdate()),
    );
  }

  private add(): void {
    const ws = new Workspace(location);
    this.watch(ws);
    this.workspaces = [...this.workspaces, ws];
    this.show(this.workspaces.length - 1);
  }

  private close(i: number): void {
    const ws = this.workspaces[i]!;
    ws.close();
    this.offs.get(ws)?.();
    this.offs.delete(ws);
    this.workspaces = this.workspaces.filter((w) => w !== ws);
    if (this.workspaces.length === 0) this.add();
    else this.show(Math.min(this.active, this.workspaces.length - 1));
  }

  private show(i: number): void {
    this.active = i;
    for (const [k, w] of this.workspaces.entries()) w.setVisible(k === i);
  }

  private key(e: KeyboardEvent): void {
    const n = this.workspaces.length;
    const to = e.key === "ArrowRight" ? (this.active + 1) % n : e.key === "ArrowLeft" ? (this.active - 1 + n) % n : e.key === "Home" ? 0 : e.key === "End" ? n - 1 : -1;
    if (to < 0) return;
    e.preventDefault();
    this.show(to);
    void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLElement>(`#tab-${this.workspaces[to]!.id}`)?.focus());
  }

  override render() {
    return html`
      <div role="tablist" aria-label="Connections" @keydown=${this.key}>
        ${this.workspaces.map(
          (ws, i) => html`<div class="tab ${i === this.active ? "active" : ""}">
            <button
              role="tab"
              id="tab-${ws.id}"
              data-testid="tab"
              aria-selected=${i === this.active ? "true" : "false"}
              aria-controls="panel-${ws.id}"
              tabindex=${i === this.active ? 0 : -1}
              @click=${() => this.show(i)}
            >
              <span class="dot ${ws.state.status}" aria-hidden="true"></span>${ws.label}
            </button>
            <button class="small" data-testid="tab-close" aria-label="Close ${ws.label}" @click=${() => this.close(i)}>×</button>
          </div>`,
        )}
        <button type="button" class="small" data-testid="tab-add" @click=${this.add} aria-label="New connection">+ New connection</button>
      </div>
      ${this.workspaces.map((ws, i) => html`<connection-view id="panel-${ws.id}" role="tabpanel" aria-labelledby="tab-${ws.id}" .workspace=${ws} ?hidden=${i !== this.active}></connection-view>`)}
    `;
  }
}
