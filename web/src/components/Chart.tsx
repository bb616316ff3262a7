// A chart of one or more float series (one run's series, or the same path from several runs):
// per series a line and a min–max band from the bucket endpoint sized to the chart's width, so
// every spike stays visible; drag to zoom (re-queried down to raw points), double-click to reset;
// x by step, wall time or relative time; log y; EMA smoothing with the raw line faint behind.
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import uPlot from "uplot";
import { loadSeries, xRangeToSteps, type ChartSeries, type Range, type XMode } from "../data/chartData";
import { alignSeries, ema, positiveOnly } from "../data/series";

export interface SeriesRef {
  runId: string;
  path: string;
  label: string;
}

export interface ChartOptions {
  xMode: XMode;
  logY: boolean;
  smoothing: number; // EMA weight, 0 = off
}

export const PALETTE = [
  "#2857c5", "#d9480f", "#2b8a3e", "#862e9c", "#c92a2a", "#0b7285", "#e67700", "#5c940d", "#a61e4d", "#364fc7",
];

export function colorOf(i: number): string {
  return PALETTE[i % PALETTE.length]!;
}

function alpha(hex: string, a: number): string {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255},${(n >> 8) & 255},${n & 255},${a})`;
}

const exact = (_u: uPlot, v: number | null) => (v === null || v === undefined ? "—" : String(v));

/** What the chart last drew, for tests and debugging (element property `__chart`). */
export interface DrawnChart {
  series: ChartSeries[];
  range: Range | null;
}

export function Chart(props: {
  title: string;
  series: SeriesRef[];
  options: ChartOptions;
  version?: number;
  height?: number;
  colors?: string[];
}) {
  const box = useRef<HTMLDivElement>(null);
  const plotRef = useRef<uPlot | null>(null);
  const [width, setWidth] = useState(0);
  const [visible, setVisible] = useState(false);
  const [range, setRange] = useState<Range | null>(null);
  const [loaded, setLoaded] = useState<ChartSeries[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const height = props.height ?? 220;
  const { xMode, logY, smoothing } = props.options;
  const key = props.series.map((s) => s.runId + "\u0000" + s.path).join("\u0001");

  // Fetch only charts on screen, sized to their width (a run may have hundreds of series).
  // Layout effects here: each step (measure, fetch, draw) would otherwise wait for a frame.
  useLayoutEffect(() => {
    const el = box.current!;
    const io = new IntersectionObserver((es) => es.some((e) => e.isIntersecting) && setVisible(true), { rootMargin: "200px" });
    io.observe(el);
    // A chart already on screen fetches now: the observer's first report comes a frame later,
    // which would delay the page's first chart by that frame.
    const r = el.getBoundingClientRect();
    if (r.bottom > -200 && r.top < window.innerHeight + 200) setVisible(true);
    let t: ReturnType<typeof setTimeout> | undefined;
    const ro = new ResizeObserver(() => {
      clearTimeout(t);
      t = setTimeout(() => setWidth(plotWidth(el)), 100);
    });
    ro.observe(el);
    setWidth(plotWidth(el));
    return () => {
      io.disconnect();
      ro.disconnect();
      clearTimeout(t);
    };
  }, []);

  useLayoutEffect(() => setRange(null), [key, xMode]);

  useLayoutEffect(() => {
    if (!visible || width <= 0) return;
    const ctl = new AbortController();
    Promise.all(props.series.map((s) => loadSeries(s.runId, s.path, width, range, xMode, ctl.signal))).then(
      (d) => {
        if (ctl.signal.aborted) return;
        setLoaded(d);
        setError(null);
      },
      (e: Error) => !ctl.signal.aborted && setError(e.message),
    );
    return () => ctl.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [visible, width, key, range, xMode, props.version]);

  // Draw (re-created on data or option change: cheap next to the fetch, and keeps one code path).
  useLayoutEffect(() => {
    const el = box.current;
    if (!el || !loaded || width <= 0) return;
    const single = loaded.length === 1;
    const { x, ys } = alignAll(loaded);
    const series: uPlot.Series[] = [{ label: xMode === "step" ? "step" : xMode === "wall" ? "time" : "seconds", value: xMode === "wall" ? (_u, v) => (v == null ? "—" : new Date(v * 1000).toISOString()) : exact }];
    const data: (number | null)[][] = [x];
    const bands: uPlot.Band[] = [];
    const bandEdges = new Set<number>(); // series indices of min/max/raw lines
    const fix = (v: (number | null)[]) => (logY ? positiveOnly(v) : v);
    loaded.forEach((s, i) => {
      const c = props.colors?.[i] ?? colorOf(i);
      const label = props.series[i]!.label;
      const [lo, hi, line] = [ys[i * 3]!, ys[i * 3 + 1]!, ys[i * 3 + 2]!];
      const base = data.length;
      bandEdges.add(base).add(base + 1);
      data.push(fix(lo), fix(hi));
      series.push(
        { label: `${label} min`, stroke: alpha(c, 0.25), width: 1, points: { show: false }, value: exact, show: !s.raw },
        { label: `${label} max`, stroke: alpha(c, 0.25), width: 1, points: { show: false }, value: exact, show: !s.raw },
      );
      if (!s.raw) bands.push({ series: [base + 1, base], fill: alpha(c, single ? 0.18 : 0.08) });
      if (smoothing > 0) {
        bandEdges.add(data.length);
        data.push(fix(line));
        series.push({ label: `${label} raw`, stroke: alpha(c, 0.25), width: 1, points: { show: false }, value: exact });
        data.push(fix(ema(line, smoothing)));
        series.push({ label: `${label} (EMA)`, stroke: c, width: 1.5, points: { show: false }, value: exact });
      } else {
        data.push(fix(line));
        series.push({ label, stroke: c, width: 1.5, points: { show: s.raw && s.count < width / 4 ? true : false, size: 4 }, value: exact });
      }
    });
    const opts: uPlot.Options = {
      width,
      height,
      series,
      bands,
      legend: { show: true, live: true },
      scales: { x: { time: xMode === "wall" }, y: logY ? { distr: 3 } : {} },
      axes: [{ stroke: "#6b7385", grid: { stroke: "#eef0f3" } }, { stroke: "#6b7385", grid: { stroke: "#eef0f3" }, size: 60 }],
      cursor: { drag: { x: true, y: false, setScale: false } },
      hooks: {
        setSelect: [
          (u) => {
            if (u.select.width < 3) return;
            const x0 = u.posToVal(u.select.left, "x");
            const x1 = u.posToVal(u.select.left + u.select.width, "x");
            const all = loaded.flatMap((s) => s.x.map((xv, i) => [xv, s.steps[i]!] as const)).sort((a, b) => a[0] - b[0]);
            const r = xRangeToSteps(all.map((p) => p[0]), all.map((p) => p[1]), x0, x1);
            u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
            if (r) setRange(r);
          },
        ],
      },
    };
    plotRef.current?.destroy();
    const plot = new uPlot(opts, data as uPlot.AlignedData, el.querySelector<HTMLElement>(".plot")!);
    plotRef.current = plot;
    // Overlaid runs: the legend lists each run's line only (its band edges would triple it).
    if (!single) {
      plot.root.querySelectorAll<HTMLElement>(".u-legend .u-series").forEach((row, i) => {
        if (bandEdges.has(i)) row.style.display = "none";
      });
    }
    (el as unknown as { __chart: DrawnChart }).__chart = { series: loaded, range };
    const reset = () => setRange(null);
    plot.over.addEventListener("dblclick", reset);
    return () => plot.over.removeEventListener("dblclick", reset);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [loaded, width, logY, smoothing]);

  useEffect(() => () => plotRef.current?.destroy(), []);

  const count = loaded?.reduce((a, s) => a + s.count, 0) ?? 0;
  const raw = loaded?.every((s) => s.raw) ?? false;
  return (
    <div class="chart" ref={box} data-testid="chart" data-title={props.title} data-loaded={loaded ? "1" : "0"}>
      <div class="chart-head">
        <span class="chart-title mono">{props.title}</span>
        {loaded && (
          <span class="muted small">
            {count.toLocaleString()} points{raw ? " (raw)" : ` in ${loaded[0]?.steps.length ?? 0} buckets`}
            {range && (
              <>
                {" · "}steps {range.from}–{range.to}{" "}
                <button class="link" onClick={() => setRange(null)}>reset zoom</button>
              </>
            )}
          </span>
        )}
      </div>
      {error && <p class="error">{error}</p>}
      <div class="plot" style={{ minHeight: height + "px" }} />
    </div>
  );
}

/** The box's content width (uPlot draws exactly this many CSS pixels; one bucket per pixel). */
function plotWidth(el: HTMLElement): number {
  const cs = getComputedStyle(el);
  return Math.max(0, Math.floor(el.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight)));
}

function alignAll(loaded: ChartSeries[]): { x: number[]; ys: (number | null)[][] } {
  const xs: number[][] = [];
  const ys: (number | null)[][] = [];
  for (const s of loaded) {
    xs.push(s.x, s.x, s.x);
    ys.push(s.min, s.max, s.line);
  }
  return alignSeries(xs, ys);
}
