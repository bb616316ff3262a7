// Fetches what a chart draws for one series: buckets sized to the chart's pixel width over the
// visible step range; raw points (with exact timestamps) once the range holds no more points
// than pixels, so zooming in always ends at the real data.
import { api } from "../api/client";
import { bucketsToSeries, interpolateTimes, rawToSeries, type SeriesData } from "./series";

export type XMode = "step" | "wall" | "relative";

export interface ChartSeries extends SeriesData {
  /** x values in the chart's unit: steps, seconds since the epoch, or seconds since the first point. */
  x: number[];
}

export interface Range {
  from: number;
  to: number;
}

const RAW_LIMIT = 100_000;
/** Points sampled to place buckets on a time axis (buckets carry no timestamps). */
const TIME_SAMPLES = 9;

async function timeSamples(runId: string, path: string, first: number, last: number, signal: AbortSignal): Promise<[number, number][]> {
  const steps: number[] = [];
  for (let i = 0; i < TIME_SAMPLES; i++) steps.push(first + ((last - first) * i) / (TIME_SAMPLES - 1));
  const pages = await Promise.all(steps.map((s) => api.series(runId, path, { from: s, limit: 1 }, signal)));
  const out: [number, number][] = [];
  for (const p of pages) if (p.steps.length) out.push([p.steps[0]!, p.timestamps_us[0]!]);
  return out;
}

/**
 * One series over `range` (null: all of it) at `width` pixels. `origin_us` is the run's first
 * timestamp for relative time (computed here when not given).
 */
export async function loadSeries(
  runId: string,
  path: string,
  width: number,
  range: Range | null,
  xMode: XMode,
  signal: AbortSignal,
): Promise<ChartSeries> {
  const n = Math.max(1, Math.min(10_000, Math.round(width)));
  const b = await api.buckets(runId, path, { from: range?.from, to: range?.to, n }, signal);
  let data = bucketsToSeries(b.buckets);
  let times: number[] | null = null;
  // Few enough points to show each one: fetch them raw, which also gives exact timestamps.
  // (In step mode, buckets of one point each already are the raw points.)
  if (data.count <= n && (!data.raw || xMode !== "step")) {
    const raw = await api.series(runId, path, { from: range?.from, to: range?.to, limit: RAW_LIMIT }, signal);
    data = rawToSeries(raw.steps, raw.values);
    times = raw.timestamps_us;
  }
  let x: number[] = data.steps;
  if (xMode !== "step" && data.steps.length) {
    if (!times) {
      const samples = await timeSamples(runId, path, data.steps[0]!, data.steps[data.steps.length - 1]!, signal);
      times = interpolateTimes(samples, data.steps);
    }
    if (xMode === "wall") {
      x = times.map((t) => t / 1e6);
    } else {
      const first = await api.series(runId, path, { limit: 1 }, signal);
      const origin = first.timestamps_us[0] ?? times[0] ?? 0;
      x = times.map((t) => (t - origin) / 1e6);
    }
  }
  return { ...data, x };
}

/** Converts an x interval of the chart back to steps, through the (x, step) pairs on screen. */
export function xRangeToSteps(xs: readonly number[], steps: readonly number[], x0: number, x1: number): Range | null {
  if (xs.length === 0) return null;
  const toStep = (xv: number): number => {
    if (xv <= xs[0]!) return steps[0]!;
    for (let i = 1; i < xs.length; i++) {
      if (xv <= xs[i]!) {
        const a = xs[i - 1]!;
        const b = xs[i]!;
        const f = b === a ? 0 : (xv - a) / (b - a);
        return steps[i - 1]! + f * (steps[i]! - steps[i - 1]!);
      }
    }
    return steps[steps.length - 1]!;
  };
  const from = Math.floor(toStep(Math.min(x0, x1)));
  const to = Math.ceil(toStep(Math.max(x0, x1)));
  return to > from ? { from, to } : null;
}
