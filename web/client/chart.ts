/** Numbers from payloads and a small line chart on a canvas (no chart library). */
import { utf8 } from "./payload-format.js";

/**
 * The number in a payload: plain text ("21.5"), a JSON number, or with `field` a JSON value at a
 * dotted path ("sensor.temp", "values.0"). Booleans count as 0/1. Undefined when there is none.
 */
export function numericValue(payload: Uint8Array, field = ""): number | undefined {
  if (payload.length === 0 || payload.length > 64 * 1024) return undefined;
  const text = utf8(payload).trim();
  if (field === "") {
    const n = text === "" ? NaN : Number(text);
    if (Number.isFinite(n)) return n;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  for (const key of field === "" ? [] : field.split(".")) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  if (typeof value === "boolean") return value ? 1 : 0;
  if (typeof value === "string" && value.trim() !== "") value = Number(value);
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

/** The last `capacity` points (a ring). */
export class Series {
  private times: Float64Array;
  private values: Float64Array;
  private start = 0;
  length = 0;
  /** Messages on the topic whose payload had no number. */
  skipped = 0;

  constructor(readonly capacity = 600) {
    this.times = new Float64Array(capacity);
    this.values = new Float64Array(capacity);
  }

  push(time: number, value: number): void {
    const i = (this.start + this.length) % this.capacity;
    this.times[i] = time;
    this.values[i] = value;
    if (this.length < this.capacity) this.length++;
    else this.start = (this.start + 1) % this.capacity;
  }

  /** i = 0 is the oldest. */
  point(i: number): [time: number, value: number] {
    const j = (this.start + i) % this.capacity;
    return [this.times[j]!, this.values[j]!];
  }

  range(): { min: number; max: number } | undefined {
    if (this.length === 0) return undefined;
    let min = Infinity;
    let max = -Infinity;
    for (let i = 0; i < this.length; i++) {
      const v = this.point(i)[1];
      if (v < min) min = v;
      if (v > max) max = v;
    }
    return { min, max };
  }

  last(): number | undefined {
    return this.length > 0 ? this.point(this.length - 1)[1] : undefined;
  }

  clear(): void {
    this.start = 0;
    this.length = 0;
    this.skipped = 0;
  }
}

export interface ChartColours {
  line: string;
  grid: string;
  text: string;
}

/** Draws the series into a canvas of css size w × h (the context is already scaled for the device pixel ratio). */
export function drawChart(ctx: CanvasRenderingContext2D, series: Series, w: number, h: number, colours: ChartColours): void {
  ctx.clearRect(0, 0, w, h);
  const range = series.range();
  ctx.font = "11px system-ui, sans-serif";
  ctx.fillStyle = colours.text;
  if (!range) {
    ctx.fillText("no numbers yet", 8, h / 2);
    return;
  }
  const pad = { l: 44, r: 8, t: 8, b: 16 };
  const span = range.max - range.min || Math.abs(range.max) || 1;
  const lo = range.max === range.min ? range.min - span / 2 : range.min;
  const hi = range.max === range.min ? range.max + span / 2 : range.max;
  const t0 = series.point(0)[0];
  const t1 = series.point(series.length - 1)[0];
  const x = (t: number) => pad.l + (t1 === t0 ? w - pad.l - pad.r : ((t - t0) / (t1 - t0)) * (w - pad.l - pad.r));
  const y = (v: number) => pad.t + (1 - (v - lo) / (hi - lo)) * (h - pad.t - pad.b);
  ctx.strokeStyle = colours.grid;
  ctx.lineWidth = 1;
  ctx.beginPath();
  for (const v of [lo, (lo + hi) / 2, hi]) {
    ctx.moveTo(pad.l, Math.round(y(v)) + 0.5);
    ctx.lineTo(w - pad.r, Math.round(y(v)) + 0.5);
    ctx.fillText(shortNumber(v), 2, y(v) + 4);
  }
  ctx.stroke();
  const seconds = (t1 - t0) / 1000;
  ctx.fillText(seconds > 0 ? `last ${seconds < 120 ? `${seconds.toFixed(0)} s` : `${(seconds / 60).toFixed(0)} min`}` : "", pad.l, h - 3);
  ctx.strokeStyle = colours.line;
  ctx.lineWidth = 1.5;
  ctx.beginPath();
  for (let i = 0; i < series.length; i++) {
    const [t, v] = series.point(i);
    if (i === 0) ctx.moveTo(x(t), y(v));
    else ctx.lineTo(x(t), y(v));
  }
  ctx.stroke();
  if (series.length === 1) {
    const [t, v] = series.point(0);
    ctx.fillStyle = colours.line;
    ctx.fillRect(x(t) - 2, y(v) - 2, 4, 4);
  }
}

export function shortNumber(v: number): string {
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e6 || a < 1e-3)) return v.toExponential(1);
  return Number(v.toPrecision(4)).toString();
}
