/** Asks for the admin token (once per tab); says why when it asks again. Emits `token-submit` (detail: the token). */
import { html, nothing } from "lit";
import { LightElement } from "./light-element.js";

export class TokenPrompt extends LightElement {
  static override properties = { message: { type: String } };
  declare message: string;

  constructor() {
    super();
    this.message = "";
  }

  override firstUpdated(): void {
    this.querySelector<HTMLInputElement>("#admin-token")?.focus();
  }

  private submit(e: SubmitEvent): void {
    e.preventDefault();
    const input = this.querySelector<HTMLInputElement>("#admin-token");
    const token = input?.value.trim() ?? "";
    if (token === "") {
      this.message = "Enter the admin token.";
      input?.focus();
      return;
    }
    this.emit("token-submit", token);
  }

  override render() {
    return html`
      <form class="card token-form" @submit=${this.submit} aria-labelledby="token-title" novalidate>
        <h2 id="token-title">Sign in to the console</h2>
        <p>The console needs the broker's <code>ADMIN_TOKEN</code>. It is kept in this tab only (sessionStorage) until you close it or choose “Forget token”.</p>
        ${this.message ? html`<p class="notice error" role="alert" id="token-message">${this.message}</p>` : nothing}
        <input type="text" name="username" autocomplete="username" value="admin" hidden />
        <label for="admin-token">Admin token</label>
        <input
          id="admin-token"
          name="token"
          type="password"
          autocomplete="current-password"
          spellcheck="false"
          required
          aria-describedby=${this.message ? "token-message token-hint" : "token-hint"}
        />
        <p class="hint" id="token-hint">Running locally with <code>npm start</code>? The token is in <code>.dev.vars</code>.</p>
        <button type="submit" class="primary">Open console</button>
      </form>
    `;
  }
}
customElements.define("token-prompt", TokenPrompt);
