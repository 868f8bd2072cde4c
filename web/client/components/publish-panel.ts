/** Publish: topic, QoS, retain, payload (text, JSON, hex, base64), MQTT 5 properties; recent publishes to repeat. */
import { css, html, LitElement, nothing } from "lit";
import { customElement, property, state } from "lit/decorators.js";
import { PAYLOAD_FORMATS, type PayloadFormat } from "../payload-format.js";
import { NO_PROPS, type PublishProps } from "../publish-options.js";
import type { PublishRecord, PublishRequest, Workspace } from "../workspace.js";
import { base } from "./styles.js";
import { WorkspaceController } from "./workspace-controller.js";

@customElement("publish-panel")
export class PublishPanel extends LitElement {
  static override styles = [
    base,
    css`
      ol {
        list-style: none;
        margin: 0;
        padding: 0;
        max-height: 14rem;
        overflow: auto;
      }
      li {
        display: flex;
        gap: 0.35rem;
        align-items: center;
        padding: 0.25rem 0;
        border-top: 1px solid var(--border);
      }
      li .what {
        flex: 1;
        min-width: 0;
        overflow: hidden;
        text-overflow: ellipsis;
        white-space: nowrap;
        font-family: var(--mono);
        font-size: 0.8rem;
      }
    `,
  ];
  @property({ attribute: false }) workspace?: Workspace;
  @state() private req: PublishRequest = { topic: "", input: "", format: "text", qos: 0, retain: false, props: { ...NO_PROPS } };
  @state() private outcome?: { ok: boolean; text: string };

  constructor() {
    super();
    new WorkspaceController(this, ["history", "state"]);
  }

  /** Fills the form (e.g. to answer a message's Response Topic). */
  load(req: Partial<PublishRequest>): void {
    this.req = { ...this.req, ...structuredClone(req), props: { ...this.req.props, ...req.props } };
  }

  private set<K extends keyof PublishRequest>(key: K, value: PublishRequest[K]): void {
    this.req = { ...this.req, [key]: value };
  }

  private setProp<K extends keyof PublishProps>(key: K, value: PublishProps[K]): void {
    this.req = { ...this.req, props: { ...this.req.props, [key]: value } };
  }

  private async send(req: PublishRequest): Promise<void> {
    this.outcome = { ok: true, text: "publishing…" };
    this.outcome = await this.workspace!.publish(req);
  }

  override render() {
    const ws = this.workspace;
    if (!ws) return nothing;
    const r = this.req;
    const v5 = ws.settings.version === 5;
    const online = ws.state.status === "connected";
    const value = (e: Event) => (e.target as HTMLInputElement).value;
    return html`
      <section class="panel" aria-labelledby="pub-h">
        <h2 id="pub-h">Publish</h2>
        <form
          class="stack"
          @submit=${(e: Event) => {
            e.preventDefault();
            void this.send(this.req);
          }}
        >
          <label>Topic<input data-testid="pub-topic" .value=${r.topic} @input=${(e: Event) => this.set("topic", value(e))} spellcheck="false" autocomplete="off" /></label>
          <div class="row">
            <label>QoS
              <select data-testid="pub-qos" @change=${(e: Event) => this.set("qos", Number(value(e)) as 0 | 1 | 2)}>
                ${[0, 1, 2].map((q) => html`<option value=${q} ?selected=${r.qos === q}>${q}</option>`)}
              </select>
            </label>
            <label>Payload as
              <select data-testid="pub-format" @change=${(e: Event) => this.set("format", value(e) as PayloadFormat)}>
                ${PAYLOAD_FORMATS.map((f) => html`<option value=${f} ?selected=${r.format === f}>${f}</option>`)}
              </select>
            </label>
            <label class="inline"><input type="checkbox" data-testid="pub-retain" .checked=${r.retain} @change=${(e: Event) => this.set("retain", (e.target as HTMLInputElement).checked)} /> Retain</label>
          </div>
          <label>Payload<textarea data-testid="pub-payload" rows="3" .value=${r.input} @input=${(e: Event) => this.set("input", value(e))} spellcheck="false"></textarea></label>
          ${
            v5
              ? html`<details>
                <summary>MQTT 5 properties</summary>
                <div class="stack">
                  <div class="grid2">
                    <label>Content type<input data-testid="pub-content-type" .value=${r.props.contentType} @input=${(e: Event) => this.setProp("contentType", value(e))} placeholder="application/json" /></label>
                    <label>Message expiry (s)<input data-testid="pub-expiry" type="number" min="0" .value=${r.props.messageExpiry} @input=${(e: Event) => this.setProp("messageExpiry", value(e))} /></label>
                  </div>
                  <label class="inline"><input type="checkbox" .checked=${r.props.utf8} @change=${(e: Event) => this.setProp("utf8", (e.target as HTMLInputElement).checked)} /> Payload format: UTF-8 text</label>
                  <label>Response topic<input data-testid="pub-response-topic" .value=${r.props.responseTopic} @input=${(e: Event) => this.setProp("responseTopic", value(e))} /></label>
                  <label>Correlation data (text)<input data-testid="pub-correlation" .value=${r.props.correlationData} @input=${(e: Event) => this.setProp("correlationData", value(e))} /></label>
                  <label>User properties (key=value, one a line)<textarea data-testid="pub-user-props" rows="2" .value=${r.props.userProperties} @input=${(e: Event) => this.setProp("userProperties", value(e))}></textarea></label>
                </div>
              </details>`
              : nothing
          }
          <div class="row">
            <button class="primary" type="submit" data-testid="publish" ?disabled=${!online}>Publish</button>
            <span data-testid="pub-outcome" class=${this.outcome?.ok ? "ok" : "error"} role="status">${this.outcome?.text ?? ""}</span>
          </div>
        </form>
        ${
          ws.history.length > 0
            ? html`<details open>
              <summary>Recent publishes (${ws.history.length})</summary>
              <ol aria-label="Recent publishes">${ws.history.map((h) => this.historyRow(h, online))}</ol>
            </details>`
            : nothing
        }
      </section>
    `;
  }

  private historyRow(h: PublishRecord, online: boolean) {
    const { time: _time, result: _result, ...req } = h;
    return html`<li data-testid="history-row">
      <span class="what" title="${h.topic} ${h.input}">${h.topic} <span class="muted">${h.input.slice(0, 80)}</span></span>
      <span class="badge" title="QoS">Q${h.qos}</span>${h.retain ? html`<span class="badge" title="retained">R</span>` : nothing}
      <button type="button" class="small" aria-label="Edit: ${h.topic}" @click=${() => this.load(req)}>Edit</button>
      <button type="button" class="small" aria-label="Publish again: ${h.topic}" ?disabled=${!online} @click=${() => this.send(req)}>Repeat</button>
    </li>`;
  }
}
