/**
 * The console's components render into the light DOM: one stylesheet (../styles.css) styles the
 * whole page, and labels, headings and ARIA references work across components.
 */
import { LitElement } from "lit";

export class LightElement extends LitElement {
  protected override createRenderRoot(): HTMLElement {
    return this;
  }

  /** Dispatches a bubbling CustomEvent from this element. */
  protected emit<T>(type: string, detail: T): void {
    this.dispatchEvent(new CustomEvent<T>(type, { detail, bubbles: true, composed: true }));
  }
}
