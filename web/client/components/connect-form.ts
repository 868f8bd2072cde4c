/** The connect form: broker URL (this broker's own, on the direct ?clientId= path), id, credentials, session, will. */
import { html, LitElement, nothing } from "lit";
import { customElement, property, state } from "lit/decorators.js";
import { type ConnectSettings, generateClientId, settingsProblems, tokenUser } from "../connect-options.js";
import type { Workspace } from "../workspace.js";
import { base } from "./styles.js";
import { WorkspaceController } from "./workspace-controller.js";

type Input = HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;

@customElement("connect-form")
export class ConnectForm extends LitElement {
  static override styles = [base];
  @property({ attribute: false }) workspace?: Workspace;
  @state() private draft?: ConnectSettings;
  @state() private problems: string[] = [];
  private forWorkspace?: Workspace;

  constructor() {
    super();
    new WorkspaceController(this, ["state", "settings"]);
  }

  override willUpdate(): void {
    if (this.workspace && this.forWorkspace !== this.workspace) {
      this.forWorkspace = this.workspace;
      this.draft = structuredClone(this.workspace.settings);
    }
  }

  private set<K extends keyof ConnectSettings>(key: K, value: ConnectSettings[K]): void {
    this.draft = { ...this.draft!, [key]: value };
  }

  private setWill<K extends keyof ConnectSettings["will"]>(key: K, value: ConnectSettings["will"][K]): void {
    this.draft = { ...this.draft!, will: { ...this.draft!.will, [key]: value } };
  }

  private text = (key: "name" | "url" | "clientId" | "username" | "password" | "token") => (e: Event) => this.set(key, (e.target as Input).value);
  private int = (key: "keepalive" | "sessionExpiry") => (e: Event) => this.set(key, Number((e.target as Input).value));
  private flag = (key: "direct" | "clean" | "autoReconnect") => (e: Event) => this.set(key, (e.target as HTMLInputElement).checked);

  private submit(e: Event): void {
    e.preventDefault();
    const draft = this.draft!;
    this.problems = settingsProblems(draft);
    if (this.problems.length === 0) this.workspace!.connect(draft);
  }

  override render() {
    const d = this.draft;
    const ws = this.workspace;
    if (!d || !ws) return nothing;
    const status = ws.state.status;
    const live = status === "connected" || status === "connecting" || status === "reconnecting";
    const v5 = d.version === 5;
    const user = d.auth === "token" && d.username === "" ? tokenUser(d.token) : undefined;
    return html`
      <form class="panel stack" @submit=${this.submit} aria-label="Connection settings">
        <details ?open=${!live}>
          <summary><h2 style="display:inline">Connection</h2> <span class="muted">${d.clientId || "(id from the broker)"} · MQTT ${v5 ? "5.0" : "3.1.1"}</span></summary>
          <div class="stack">
            <label>Name (tab label)<input data-testid="conn-name" .value=${d.name} @input=${this.text("name")} placeholder=${d.clientId} /></label>
            <label>Broker URL<input data-testid="conn-url" type="url" required .value=${d.url} @input=${this.text("url")} autocomplete="url" /></label>
            <label class="inline"><input type="checkbox" data-testid="conn-direct" .checked=${d.direct} @change=${this.flag("direct")} /> Direct path (append ?clientId=, one hop less)</label>
            <div class="row">
              <label class="grow">Client ID<input data-testid="conn-client-id" .value=${d.clientId} @input=${this.text("clientId")} autocomplete="off" spellcheck="false" /></label>
              <button type="button" @click=${() => this.set("clientId", generateClientId())}>New id</button>
            </div>
            <div class="grid2">
              <label>MQTT version
                <select data-testid="conn-version" .value=${String(d.version)} @change=${(e: Event) => this.set("version", (e.target as Input).value === "4" ? 4 : 5)}>
                  <option value="5" ?selected=${v5}>5.0</option>
                  <option value="4" ?selected=${!v5}>3.1.1</option>
                </select>
              </label>
              <label>Keepalive (s)<input data-testid="conn-keepalive" type="number" min="0" max="65535" .value=${String(d.keepalive)} @input=${this.int("keepalive")} /></label>
            </div>
            <div class="grid2">
              <label class="inline"><input type="checkbox" data-testid="conn-clean" .checked=${d.clean} @change=${this.flag("clean")} /> ${v5 ? "Clean start" : "Clean session"}</label>
              <label class="inline"><input type="checkbox" data-testid="conn-reconnect" .checked=${d.autoReconnect} @change=${this.flag("autoReconnect")} /> Reconnect</label>
            </div>
            ${
              v5
                ? html`<label>Session expiry (s, 0 = ends with the connection)<input data-testid="conn-session-expiry" type="number" min="0" .value=${String(d.sessionExpiry)} @input=${this.int("sessionExpiry")} /></label>`
                : html`<p class="muted">MQTT 3.1.1: with Clean session off the broker keeps the session for its maximum (7 days by default).</p>`
            }
            <label>Authentication
              <select data-testid="conn-auth" .value=${d.auth} @change=${(e: Event) => this.set("auth", (e.target as Input).value as ConnectSettings["auth"])}>
                <option value="none" ?selected=${d.auth === "none"}>None (anonymous)</option>
                <option value="password" ?selected=${d.auth === "password"}>User name and password</option>
                <option value="token" ?selected=${d.auth === "token"}>Token (JWT)</option>
              </select>
            </label>
            ${
              d.auth === "password"
                ? html`<div class="grid2">
                  <label>User name<input data-testid="conn-username" .value=${d.username} @input=${this.text("username")} autocomplete="username" /></label>
                  <label>Password<input data-testid="conn-password" type="password" .value=${d.password} @input=${this.text("password")} autocomplete="current-password" /></label>
                </div>`
                : nothing
            }
            ${
              d.auth === "token"
                ? html`<label>Token (JWT)<textarea data-testid="conn-token" rows="3" .value=${d.token} @input=${this.text("token")} spellcheck="false"></textarea></label>
                  <label>User name (optional: the token's subject)<input data-testid="conn-username" .value=${d.username} @input=${this.text("username")} placeholder=${user ?? ""} /></label>
                  <p class="muted">${v5 ? "Sent as Authentication Method JWT with the token as Authentication Data." : "Sent as the password, with the user name."}</p>`
                : nothing
            }
            <details>
              <summary>Last will${d.will.enabled ? `: ${d.will.topic}` : ""}</summary>
              <div class="stack">
                <label class="inline"><input type="checkbox" data-testid="will-enabled" .checked=${d.will.enabled} @change=${(e: Event) => this.setWill("enabled", (e.target as HTMLInputElement).checked)} /> Send a will</label>
                <label>Will topic<input data-testid="will-topic" .value=${d.will.topic} @input=${(e: Event) => this.setWill("topic", (e.target as Input).value)} /></label>
                <div class="grid2">
                  <label>Will QoS
                    <select data-testid="will-qos" .value=${String(d.will.qos)} @change=${(e: Event) => this.setWill("qos", Number((e.target as Input).value) as 0 | 1 | 2)}>
                      ${[0, 1, 2].map((q) => html`<option value=${q} ?selected=${d.will.qos === q}>${q}</option>`)}
                    </select>
                  </label>
                  ${v5 ? html`<label>Will delay (s)<input type="number" min="0" .value=${String(d.will.delay)} @input=${(e: Event) => this.setWill("delay", Number((e.target as Input).value))} /></label>` : nothing}
                </div>
                <label class="inline"><input type="checkbox" data-testid="will-retain" .checked=${d.will.retain} @change=${(e: Event) => this.setWill("retain", (e.target as HTMLInputElement).checked)} /> Retain the will</label>
                <label>Will payload<textarea data-testid="will-payload" rows="2" .value=${d.will.payload} @input=${(e: Event) => this.setWill("payload", (e.target as Input).value)}></textarea></label>
              </div>
            </details>
          </div>
        </details>
        ${this.problems.length > 0 ? html`<ul class="error" role="alert">${this.problems.map((p) => html`<li>${p}</li>`)}</ul>` : nothing}
        <div class="row">
          <button class="primary" type="submit" data-testid="connect">${live ? "Reconnect with these settings" : "Connect"}</button>
          <button type="button" data-testid="disconnect" ?disabled=${!live} @click=${() => ws.conn.disconnect()}>Disconnect</button>
        </div>
      </form>
    `;
  }
}
