/** One message in full: payload in the chosen format, QoS, retain, time, MQTT 5 properties; copy, reply, chart. */
import { css, html, LitElement, nothing } from "lit";
import { customElement, property, state } from "lit/decorators.js";
import { exportedProperties, toExported } from "../export.js";
import type { LoggedMessage } from "../message-log.js";
import { formatPayload, type PayloadFormat, utf8 } from "../payload-format.js";
import { copyText } from "./copy.js";
import { base } from "./styles.js";

@customElement("message-details")
export class MessageDetails extends LitElement {
  static override styles = [
    base,
    css`
      pre {
        margin: 0;
        padding: 0.5rem;
        max-height: 16rem;
        overflow: auto;
        background: var(--field);
        border: 1px solid var(--border);
        border-radius: 6px;
        font-family: var(--mono);
        font-size: 0.8rem;
        white-space: pre-wrap;
        overflow-wrap: anywhere;
      }
      dl {
        display: grid;
        grid-template-columns: auto 1fr;
        gap: 0.15rem 0.6rem;
        margin: 0;
        font-size: 0.8rem;
      }
      dt {
        color: var(--muted);
      }
      dd {
        margin: 0;
        overflow-wrap: anywhere;
      }
    `,
  ];
  @property({ attribute: false }) message?: LoggedMessage;
  @property() format: PayloadFormat = "text";
  @state() private copied = "";

  private async copy(what: string, text: string): Promise<void> {
    this.copied = (await copyText(text)) ? `${what} copied` : "copy failed";
  }

  private emit(name: string, detail: unknown): void {
    this.dispatchEvent(new CustomEvent(name, { detail, bubbles: true, composed: true }));
  }

  override render() {
    const m = this.message;
    if (!m) return html`<p class="muted">Select a message to see it in full.</p>`;
    const shown = formatPayload(m.payload, this.format);
    const props = m.props ? exportedProperties(m.props) : undefined;
    return html`<section class="stack" aria-label="Selected message" data-testid="message-details">
      <dl>
        <dt>Topic</dt>
        <dd class="mono" data-testid="detail-topic">${m.topic}</dd>
        <dt>${m.dir === "in" ? "Received" : "Sent"}</dt>
        <dd>${new Date(m.time).toISOString()}</dd>
        <dt>QoS</dt>
        <dd>${m.qos}${m.retain ? " · retained" : ""}${m.dup ? " · duplicate" : ""} · ${m.payload.length.toLocaleString("en")} bytes</dd>
        ${props ? Object.entries(props).map(([k, v]) => html`<dt>${k}</dt><dd class="mono" data-testid="detail-prop" data-prop=${k}>${propText(v)}</dd>`) : nothing}
      </dl>
      ${shown.note ? html`<p class="muted">${shown.note}</p>` : nothing}
      <pre data-testid="detail-payload" tabindex="0" aria-label="Payload">${shown.text}</pre>
      <div class="row">
        <button type="button" class="small" @click=${() => this.copy("payload", shown.text)}>Copy payload</button>
        <button type="button" class="small" @click=${() => this.copy("topic", m.topic)}>Copy topic</button>
        <button type="button" class="small" @click=${() => this.copy("message", JSON.stringify(toExported(m), null, 2))}>Copy as JSON</button>
        <button type="button" class="small" @click=${() => this.emit("chart-topic", m.topic)}>Chart this topic</button>
        ${
          m.props?.responseTopic
            ? html`<button type="button" class="small" @click=${() => this.emit("reply", { topic: m.props!.responseTopic, correlation: m.props!.correlationData ? utf8(m.props!.correlationData) : "" })}>Reply</button>`
            : nothing
        }
        <span class="muted" role="status">${this.copied}</span>
      </div>
    </section>`;
  }
}

function propText(v: unknown): string {
  if (Array.isArray(v)) return v.map((p) => (Array.isArray(p) ? `${p[0]}=${p[1]}` : String(p))).join(", ");
  if (v !== null && typeof v === "object") {
    const o = v as { encoding?: string; payload?: string };
    return o.encoding === "utf8" ? String(o.payload) : `base64 ${o.payload}`;
  }
  return String(v);
}
