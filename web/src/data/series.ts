// Turns the server's buckets (count/min/max/mean/first/last per step range) and raw points into
// the column arrays uPlot draws: x, the line, and a min–max band. Every bucket keeps its own min
// and max, so a spike inside any bucket widens the band there and can never be hidden by
// downsampling, at any zoom.
import type { Bucket, JsonFloat } from "../api/types";
import { num } from "../api/types";

export interface SeriesData {
  /** x positions in steps, ascending. */
  steps: number[];
  /** the line: the bucket mean (the exact value when a bucket holds one point). */
  line: (number | null)[];
  /** lower and upper edge of the band; equal to the line for single-point buckets. */
  min: (number | null)[];
  max: (number | null)[];
  /** true when every point is a raw point (no bucket merged two or more). */
  raw: boolean;
  /** points represented (sum of bucket counts). */
  count: number;
}

function finite(v: JsonFloat | number): number | null {
  const n = num(v);
  return Number.isFinite(n) ? n : null;
}

/**
 * One x position per bucket, at the middle of the steps it actually holds. A bucket whose values
 * were all NaN (or infinite) becomes a gap (null) rather than a fake value.
 */
export function bucketsToSeries(buckets: readonly Bucket[]): SeriesData {
  const out: SeriesData = { steps: [], line: [], min: [], max: [], raw: true, count: 0 };
  for (const b of buckets) {
    if (b.count <= 0) continue;
    out.count += b.count;
    if (b.count > 1) out.raw = false;
    const x = b.count === 1 ? b.first_step : (b.first_step + b.last_step) / 2;
    const lo = finite(b.min);
    const hi = finite(b.max);
    let mid = finite(b.mean);
    if (mid === null && b.count === 1) mid = finite(b.first);
    out.steps.push(x);
    out.line.push(mid);
    out.min.push(lo);
    out.max.push(hi);
  }
  return out;
}

/** Raw points (steps ascending, possibly repeated) as SeriesData with a zero-width band. */
export function rawToSeries(steps: readonly number[], values: readonly JsonFloat[]): SeriesData {
  const out: SeriesData = { steps: [], line: [], min: [], max: [], raw: true, count: steps.length };
  for (let i = 0; i < steps.length; i++) {
    const v = finite(values[i] ?? "NaN");
    out.steps.push(steps[i]!);
    out.line.push(v);
    out.min.push(v);
    out.max.push(v);
  }
  return out;
}

/**
 * Exponential moving average with TensorBoard's debiasing (so the first points are not pulled
 * towards 0). `weight` 0 returns the input; nulls stay gaps and do not reset the average.
 */
export function ema(values: readonly (number | null)[], weight: number): (number | null)[] {
  if (weight <= 0) return values.slice();
  const w = Math.min(weight, 0.999);
  const out: (number | null)[] = new Array(values.length);
  let last = 0;
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || v === undefined || !Number.isFinite(v)) {
      out[i] = null;
      continue;
    }
    last = last * w + (1 - w) * v;
    n++;
    out[i] = last / (1 - Math.pow(w, n));
  }
  return out;
}

/** For log scales: values that are not > 0 cannot be drawn and become gaps. */
export function positiveOnly(values: readonly (number | null)[]): (number | null)[] {
  return values.map((v) => (v !== null && v > 0 ? v : null));
}

/**
 * Joins several runs' series on a common x axis for an overlaid chart (uPlot wants one x array):
 * the union of x values, each run's line null where it has no point.
 */
export function alignSeries(xs: readonly (readonly number[])[], ys: readonly (readonly (number | null)[])[]): {
  x: number[];
  ys: (number | null)[][];
} {
  const all = new Set<number>();
  for (const x of xs) for (const v of x) all.add(v);
  const x = [...all].sort((a, b) => a - b);
  const index = new Map<number, number>();
  x.forEach((v, i) => index.set(v, i));
  const out = ys.map((y, k) => {
    const col: (number | null)[] = new Array(x.length).fill(null);
    const xk = xs[k]!;
    for (let i = 0; i < xk.length; i++) col[index.get(xk[i]!)!] = y[i] ?? null;
    return col;
  });
  return { x, ys: out };
}

/**
 * Maps steps to wall time by piecewise-linear interpolation between sampled (step, time) pairs,
 * used when the chart shows buckets (which carry no timestamps) on a time axis. Raw views use
 * the exact timestamps instead.
 */
export function interpolateTimes(samples: readonly [number, number][], steps: readonly number[]): number[] {
  const s = [...samples].sort((a, b) => a[0] - b[0]);
  if (s.length === 0) return steps.map(() => NaN);
  if (s.length === 1) return steps.map(() => s[0]![1]);
  let j = 0;
  return steps.map((x) => {
    while (j > 0 && x < s[j]![0]) j--;
    while (j < s.length - 2 && x > s[j + 1]![0]) j++;
    const [x0, t0] = s[j]!;
    const [x1, t1] = s[j + 1]!;
    if (x1 === x0) return t0;
    return t0 + ((x - x0) / (x1 - x0)) * (t1 - t0);
  });
}
