/** Subscriptions: filter, QoS, MQTT 5 options, a colour each; SUBACK refusals shown in words. */
import { css, html, LitElement, nothing } from "lit";
import { customElement, property, state } from "lit/decorators.js";
import { COLOURS, type Workspace } from "../workspace.js";
import { base } from "./styles.js";
import { WorkspaceController } from "./workspace-controller.js";

@customElement("subscriptions-panel")
export class SubscriptionsPanel extends LitElement {
  static override styles = [
    base,
    css`
      ul {
        list-style: none;
        margin: 0;
        padding: 0;
      }
      li {
        display: grid;
        grid-template-columns: auto 1fr auto;
        gap: 0.4rem;
        align-items: center;
        padding: 0.35rem 0.4rem;
        border-left: 4px solid var(--sub-colour);
        border-radius: 4px;
        background: var(--field);
        margin-top: 0.35rem;
      }
      li.refused {
        background: var(--error-bg);
      }
      .filter {
        font-family: var(--mono);
        overflow-wrap: anywhere;
      }
    `,
  ];
  @property({ attribute: false }) workspace?: Workspace;
  @state() private filter = "";
  @state() private qos: 0 | 1 | 2 = 0;
  @state() private nl = false;
  @state() private rap = false;
  @state() private rh: 0 | 1 | 2 = 0;
  @state() private problem = "";

  constructor() {
    super();
    new WorkspaceController(this, ["subs", "state"]);
  }

  private add(e: Event): void {
    e.preventDefault();
    const problem = this.workspace!.subscribe(this.filter.trim(), { qos: this.qos, nl: this.nl, rap: this.rap, rh: this.rh });
    this.problem = problem ?? "";
    if (!problem) this.filter = "";
  }

  override render() {
    const ws = this.workspace;
    if (!ws) return nothing;
    const v5 = ws.settings.version === 5;
    const online = ws.state.status === "connected";
    return html`
      <section class="panel" aria-labelledby="subs-h">
        <h2 id="subs-h">Subscriptions</h2>
        <form class="stack" @submit=${this.add}>
          <div class="row">
            <label class="grow">Topic filter<input data-testid="sub-filter" .value=${this.filter} @input=${(e: Event) => (this.filter = (e.target as HTMLInputElement).value)} placeholder="sensors/+/temp or #" spellcheck="false" autocomplete="off" /></label>
            <label>QoS
              <select data-testid="sub-qos" @change=${(e: Event) => (this.qos = Number((e.target as HTMLSelectElement).value) as 0 | 1 | 2)}>
                ${[0, 1, 2].map((q) => html`<option value=${q} ?selected=${this.qos === q}>${q}</option>`)}
              </select>
            </label>
            <button class="primary" type="submit" data-testid="subscribe">Subscribe</button>
          </div>
          ${
            v5
              ? html`<details>
                <summary>MQTT 5 options</summary>
                <div class="stack">
                  <label class="inline"><input type="checkbox" data-testid="sub-nl" .checked=${this.nl} @change=${(e: Event) => (this.nl = (e.target as HTMLInputElement).checked)} /> No Local (not my own messages)</label>
                  <label class="inline"><input type="checkbox" data-testid="sub-rap" .checked=${this.rap} @change=${(e: Event) => (this.rap = (e.target as HTMLInputElement).checked)} /> Retain As Published</label>
                  <label>Retain Handling
                    <select data-testid="sub-rh" @change=${(e: Event) => (this.rh = Number((e.target as HTMLSelectElement).value) as 0 | 1 | 2)}>
                      <option value="0" ?selected=${this.rh === 0}>0: send retained messages</option>
                      <option value="1" ?selected=${this.rh === 1}>1: only for a new subscription</option>
                      <option value="2" ?selected=${this.rh === 2}>2: never</option>
                    </select>
                  </label>
                </div>
              </details>`
              : nothing
          }
          ${this.problem ? html`<p class="error" role="alert">${this.problem}</p>` : nothing}
        </form>
        <ul aria-label="Current subscriptions">
          ${ws.subscriptions.map(
            (s) => html`<li class=${s.status} style="--sub-colour:${s.colour}" data-testid="sub-row" data-filter=${s.filter} data-status=${s.status}>
              <input type="color" .value=${s.colour} aria-label="Colour of ${s.filter}" list="sub-colours" @change=${(e: Event) => ws.setColour(s.id, (e.target as HTMLInputElement).value)} />
              <div>
                <div class="filter">${s.filter}</div>
                <div class="muted">
                  QoS ${s.qos}${s.nl ? " · No Local" : ""}${s.rap ? " · RAP" : ""}${s.rh ? ` · RH ${s.rh}` : ""} ·
                  <span data-testid="sub-state" class=${s.status === "refused" ? "error" : ""} role=${s.status === "refused" ? "alert" : nothing}>${stateText(s.status, online)}${s.detail ? `: ${s.detail}` : ""}</span>
                </div>
              </div>
              <button type="button" class="small" data-testid="unsubscribe" aria-label="Unsubscribe from ${s.filter}" @click=${() => ws.unsubscribe(s.id)}>Unsubscribe</button>
            </li>`,
          )}
        </ul>
        <datalist id="sub-colours">${COLOURS.map((c) => html`<option value=${c}></option>`)}</datalist>
        ${ws.subscriptions.length === 0 ? html`<p class="muted">None yet. ${online ? "" : "Subscriptions added now are made on connect."}</p>` : nothing}
      </section>
    `;
  }
}

function stateText(status: string, online: boolean): string {
  if (status === "refused") return "refused";
  if (!online) return status === "active" ? "offline: renewed on reconnect" : "made on connect";
  return status === "pending" ? "subscribing…" : status === "active" ? "granted" : "not subscribed";
}
