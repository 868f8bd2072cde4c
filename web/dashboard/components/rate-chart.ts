/**
 * Messages per second in and out as a line chart on a canvas (no chart library). Redrawn when the
 * data or the element's size changes; the canvas has a text alternative and the latest values are
 * shown as text next to it.
 */
import { html } from "lit";
import type { Overview } from "../../../src/admin/api-types.js";
import { formatClock, formatRate, niceCeiling } from "../format.js";
import { LightElement } from "./light-element.js";

type Point = Overview["rates"][number];

export class RateChart extends LightElement {
  static override properties = { rates: { attribute: false } };
  declare rates: Point[];
  private resizeObserver: ResizeObserver | undefined;

  constructor() {
    super();
    this.rates = [];
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.resizeObserver = new ResizeObserver(() => this.draw());
    this.resizeObserver.observe(this);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.resizeObserver?.disconnect();
  }

  protected override updated(): void {
    this.draw();
  }

  private summary(): string {
    const last = this.rates.at(-1);
    if (!last) return "Messages per second: no data yet.";
    const peakIn = Math.max(...this.rates.map((p) => p.inPerSecond));
    const peakOut = Math.max(...this.rates.map((p) => p.outPerSecond));
    const minutes = Math.round((last.at - (this.rates[0]?.at ?? last.at)) / 60_000);
    return `Messages per second over the last ${minutes} minutes: now ${formatRate(last.inPerSecond)} in and ${formatRate(last.outPerSecond)} out; peak ${formatRate(peakIn)} in and ${formatRate(peakOut)} out.`;
  }

  override render() {
    const last = this.rates.at(-1);
    return html`
      <div class="chart-legend">
        <span class="key key-in">In <strong>${last ? formatRate(last.inPerSecond) : "—"}</strong></span>
        <span class="key key-out">Out <strong>${last ? formatRate(last.outPerSecond) : "—"}</strong></span>
      </div>
      <div class="chart-box"><canvas role="img" aria-label=${this.summary()}></canvas></div>
    `;
  }

  private draw(): void {
    const canvas = this.querySelector("canvas");
    const box = canvas?.parentElement;
    const ctx = canvas?.getContext("2d");
    if (!canvas || !box || !ctx) return;
    const dpr = window.devicePixelRatio || 1;
    const width = box.clientWidth;
    const height = box.clientHeight;
    if (width === 0 || height === 0) return;
    if (canvas.width !== Math.round(width * dpr) || canvas.height !== Math.round(height * dpr)) {
      canvas.width = Math.round(width * dpr);
      canvas.height = Math.round(height * dpr);
    }
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, width, height);

    const style = getComputedStyle(this);
    const color = (name: string, fallback: string) => style.getPropertyValue(name).trim() || fallback;
    const textColor = color("--muted", "#666");
    const gridColor = color("--grid", "#ddd");
    const font = `12px ${style.fontFamily || "sans-serif"}`;
    ctx.font = font;
    ctx.textBaseline = "middle";

    const points = this.rates;
    const max = niceCeiling(Math.max(0, ...points.map((p) => Math.max(p.inPerSecond, p.outPerSecond))));
    const left = Math.ceil(ctx.measureText(formatRate(max)).width) + 10;
    const right = 8;
    const top = 8;
    const bottom = 22;
    const plotW = Math.max(1, width - left - right);
    const plotH = Math.max(1, height - top - bottom);

    // Grid and y labels.
    ctx.strokeStyle = gridColor;
    ctx.fillStyle = textColor;
    ctx.lineWidth = 1;
    ctx.textAlign = "right";
    for (let i = 0; i <= 4; i++) {
      const y = Math.round(top + plotH - (plotH * i) / 4) + 0.5;
      ctx.beginPath();
      ctx.moveTo(left, y);
      ctx.lineTo(left + plotW, y);
      ctx.stroke();
      ctx.fillText(formatRate((max * i) / 4), left - 6, y);
    }

    if (points.length === 0) {
      ctx.textAlign = "center";
      ctx.fillText("No data yet", left + plotW / 2, top + plotH / 2);
      return;
    }

    const t0 = points[0]!.at;
    const t1 = points.at(-1)!.at;
    const span = Math.max(1, t1 - t0);
    const x = (at: number) => (points.length === 1 ? left + plotW : left + ((at - t0) / span) * plotW);
    const y = (v: number) => top + plotH - (Math.max(0, v) / max) * plotH;

    // x labels: first and last time.
    ctx.textBaseline = "top";
    ctx.textAlign = "left";
    ctx.fillText(formatClock(t0), left, top + plotH + 6);
    ctx.textAlign = "right";
    ctx.fillText(formatClock(t1), left + plotW, top + plotH + 6);

    const series: [keyof Point, string, number[]][] = [
      ["inPerSecond", color("--chart-in", "#2563eb"), []],
      ["outPerSecond", color("--chart-out", "#d97706"), [6, 4]],
    ];
    for (const [key, stroke, dash] of series) {
      ctx.beginPath();
      points.forEach((p, i) => {
        const px = x(p.at);
        const py = y(p[key]);
        if (i === 0) ctx.moveTo(px, py);
        else ctx.lineTo(px, py);
      });
      ctx.setLineDash(dash);
      ctx.strokeStyle = stroke;
      ctx.lineWidth = 2;
      ctx.lineJoin = "round";
      ctx.stroke();
      ctx.setLineDash([]);
      const last = points.at(-1)!;
      ctx.fillStyle = stroke;
      ctx.beginPath();
      ctx.arc(x(last.at), y(last[key]), 3, 0, Math.PI * 2);
      ctx.fill();
    }
  }
}
customElements.define("rate-chart", RateChart);
