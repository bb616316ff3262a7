// Splits a Chromium trace (browser.startTracing) of the page's renderer into time by kind of work:
// the renderer main thread's style, layout, paint and so on, the compositor thread, and the raster
// workers. For the benchmark (bench.mjs), which divides the sums by the frames it traced.
//
// Trace events nest (a forced layout inside a script call, a paint inside the main frame's
// update); each kind is given its self time (its events' time minus that of the events of any kind
// nested in them), so the kinds add up to no more than the thread's time.

// Trace event name → kind. Events not named here count only towards their thread's task time.
const KINDS = new Map([
  ["FunctionCall", "script"],
  ["EvaluateScript", "script"],
  ["v8.compile", "script"],
  ["FireAnimationFrame", "script"],
  ["EventDispatch", "script"],
  ["TimerFire", "script"],
  ["MajorGC", "gc"],
  ["MinorGC", "gc"],
  ["V8.GC_SCAVENGER", "gc"],
  ["UpdateLayoutTree", "style"],
  ["ScheduleStyleRecalculation", "style"],
  ["Layout", "layout"],
  ["PrePaint", "prepaint"],
  ["Paint", "paint"],
  ["PaintImage", "paint"],
  ["Layerize", "layerize"],
  ["UpdateLayer", "layerize"],
  ["HitTest", "hit test"],
  ["ScrollLayer", "scroll"],
  ["Commit", "commit"],
  ["RasterTask", "raster"],
  ["ImageDecodeTask", "raster"],
]);

// The top-level task events of a thread: their total is the thread's busy time.
const TASKS = new Set(["ThreadControllerImpl::RunTask", "RunTask"]);

/**
 * `trace`: the trace's JSON text or buffer. `pid`: the renderer's process id (null: the process
 * whose main thread ran the most layout, i.e. the page's).
 * Returns { main, compositor, raster, pid }, each { task, taskCpu, kinds: {kind: ms}, cpu: {kind: ms} }:
 * wall time (`dur`) and CPU time (`tdur`) apart. The raster workers are the thread pool's (where
 * Chromium rasters without a GPU), so their task time also holds other work (e.g. V8's background
 * GC): read their `raster` kind.
 */
export function splitTrace(trace, pid = null) {
  const events = JSON.parse(String(trace)).traceEvents ?? [];
  const threadName = new Map();
  for (const e of events) if (e.ph === "M" && e.name === "thread_name") threadName.set(`${e.pid}:${e.tid}`, e.args.name);
  if (pid === null) {
    const layoutByPid = new Map();
    for (const e of events) if (e.name === "Layout" && e.dur) layoutByPid.set(e.pid, (layoutByPid.get(e.pid) ?? 0) + e.dur);
    pid = [...layoutByPid].sort((a, b) => b[1] - a[1])[0]?.[0];
  }
  // Complete events ('X') and begin/end pairs ('B'/'E') of that process, per thread.
  const byThread = new Map();
  const open = new Map();
  for (const e of events) {
    if (e.pid !== pid) continue;
    const key = e.tid;
    if (e.ph === "X" && e.dur !== undefined) {
      if (!byThread.has(key)) byThread.set(key, []);
      byThread.get(key).push({ name: e.name, ts: e.ts, dur: e.dur, tdur: e.tdur });
    } else if (e.ph === "B") {
      if (!open.has(key)) open.set(key, []);
      open.get(key).push(e);
    } else if (e.ph === "E") {
      const b = open.get(key)?.pop();
      if (!b) continue;
      if (!byThread.has(key)) byThread.set(key, []);
      byThread.get(key).push({ name: b.name, ts: b.ts, dur: e.ts - b.ts, tdur: b.tts !== undefined && e.tts !== undefined ? e.tts - b.tts : undefined });
    }
  }
  const sum = () => ({ task: 0, taskCpu: 0, kinds: {}, cpu: {} });
  const out = { pid, main: sum(), compositor: sum(), raster: sum() };
  for (const [tid, list] of byThread) {
    const name = threadName.get(`${pid}:${tid}`) ?? "";
    const into = name === "CrRendererMain" ? out.main : name === "Compositor" ? out.compositor : /^(CompositorTileWorker|ThreadPoolForegroundWorker)/.test(name) ? out.raster : null;
    if (!into) continue;
    list.sort((a, b) => a.ts - b.ts || b.dur - a.dur);
    // Self time per kind: walk the events in start order with a stack of the open ones of a kind.
    const stack = [];
    const addSelf = (ev, key, amount) => {
      into[key][ev.kind] = (into[key][ev.kind] ?? 0) + amount / 1000;
    };
    const close = (ev) => {
      addSelf(ev, "kinds", ev.dur - ev.childDur);
      if (ev.tdur !== undefined) addSelf(ev, "cpu", ev.tdur - ev.childCpu);
    };
    let taskEnd = -1;
    for (const ev of list) {
      // Top-level tasks only: one nested in another is already within its time.
      if (TASKS.has(ev.name) && ev.ts >= taskEnd) {
        into.task += ev.dur / 1000;
        into.taskCpu += (ev.tdur ?? 0) / 1000;
        taskEnd = ev.ts + ev.dur;
      }
      const kind = KINDS.get(ev.name);
      if (!kind) continue;
      while (stack.length && stack[stack.length - 1].ts + stack[stack.length - 1].dur <= ev.ts) close(stack.pop());
      const parent = stack[stack.length - 1];
      if (parent) {
        parent.childDur += ev.dur;
        parent.childCpu += ev.tdur ?? 0;
      }
      stack.push({ ...ev, kind, childDur: 0, childCpu: 0 });
    }
    while (stack.length) close(stack.pop());
  }
  return out;
}

/** "style 1.2, layout 0.4, …" per frame, largest first, kinds under 0.05 ms left out. */
export function perFrameText(kinds, frames) {
  return Object.entries(kinds)
    .map(([k, v]) => [k, v / frames])
    .filter(([, v]) => v >= 0.05)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v.toFixed(2)}`)
    .join(", ");
}
