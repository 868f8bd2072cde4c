/** A live line chart of the numbers in one topic's payloads (canvas; redrawn at most once a frame). */
import { css, html, LitElement, nothing } from "lit";
import { customElement, property, query } from "lit/decorators.js";
import { drawChart, shortNumber } from "../chart.js";
import type { Workspace } from "../workspace.js";
import { base } from "./styles.js";
import { WorkspaceController } from "./workspace-controller.js";

@customElement("value-chart")
export class ValueChart extends LitElement {
  static override styles = [
    base,
    css`
      canvas {
        display: block;
        width: 100%;
        height: 140px;
        border: 1px solid var(--border);
        border-radius: 6px;
        background: var(--field);
      }
    `,
  ];
  @property({ attribute: false }) workspace?: Workspace;
  @query("canvas") private canvas?: HTMLCanvasElement;

  constructor() {
    super();
    new WorkspaceController(this, ["chart"]);
  }

  private change(e: Event): void {
    e.preventDefault();
    const data = new FormData(e.target as HTMLFormElement);
    this.workspace?.setChart(String(data.get("topic") ?? "").trim(), String(data.get("field") ?? "").trim());
  }

  override updated(): void {
    const canvas = this.canvas;
    const ws = this.workspace;
    if (!canvas || !ws) return;
    const w = canvas.clientWidth || 300;
    const h = canvas.clientHeight || 140;
    const dpr = globalThis.devicePixelRatio || 1;
    if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
      canvas.width = Math.round(w * dpr);
      canvas.height = Math.round(h * dpr);
    }
    const ctx = canvas.getContext("2d");
    if (!ctx) return;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const style = getComputedStyle(this);
    const colour = (name: string, fallback: string) => style.getPropertyValue(name).trim() || fallback;
    drawChart(ctx, ws.chart.series, w, h, { line: colour("--accent", "#2563eb"), grid: colour("--border", "#ddd"), text: colour("--muted", "#666") });
  }

  override render() {
    const ws = this.workspace;
    if (!ws) return nothing;
    const { topic, field, series } = ws.chart;
    const range = series.range();
    const last = series.last();
    return html`<section class="panel stack" aria-labelledby="chart-h">
      <h2 id="chart-h">Chart</h2>
      <form class="row" @submit=${this.change}>
        <label class="grow">Topic<input name="topic" data-testid="chart-topic" .value=${topic} placeholder="a topic with numbers" spellcheck="false" /></label>
        <label style="width:7rem">JSON field<input name="field" data-testid="chart-field" .value=${field} placeholder="e.g. temp" /></label>
        <button type="submit" class="small">Show</button>
      </form>
      <canvas role="img" aria-label=${topic ? `Values of ${topic}: ${series.length} points${last !== undefined ? `, last ${last}` : ""}` : "No topic chosen"}></canvas>
      <div class="muted" data-testid="chart-stats" data-points=${series.length}>
        ${
          topic
            ? html`${series.length} points${last !== undefined ? html` · last ${shortNumber(last)}` : nothing}${range ? html` · min ${shortNumber(range.min)} · max ${shortNumber(range.max)}` : nothing}${series.skipped > 0 ? html` · ${series.skipped} without a number` : nothing}`
            : "Choose a topic (or Chart in the tree)."
        }
      </div>
    </section>`;
  }
}
