// Browser benchmark (not a test): the runs table of a big project (first rows, a filter, a sort by
// a series column, scroll frame times) and the time from navigation to the first drawn chart of a
// long series, in headless Chromium against the real server.
//   NEREID_BIN=../build/nereid node e2e/bench.mjs [points=10000000] [runs=100000]
// Prints figures for docs/performance.md.
//
// The long series goes through the public API (its chunks are what the chart reads). The other
// runs are written straight into the SQLite store while the server is stopped, as
// bench/runs_table_bench.py does (creating 100k runs through the API takes longer than a
// session): the rows ingest would leave for them — runs, params fields, series summaries
// (last/min/max/count, which is all the runs table reads of a series), the series' field rows,
// the project's field list and tags. Their series have no chunks (no page here opens those runs)
// and their size is left at 0 (nothing measured reads it).
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { extname, join } from "node:path";
import { chromium } from "playwright-core";
import { perFrameText, splitTrace } from "./frametrace.mjs";
import { startServer } from "./server.mjs";

const POINTS = Number(process.argv[2] ?? 10_000_000);
const RUNS = Number(process.argv[3] ?? 100_000);
const FRAMES = 400;
// NEREID_BENCH_SCROLL_ONLY=1: only the scroll of the runs table (its frame times and trace).
const SCROLL_ONLY = Boolean(process.env.NEREID_BENCH_SCROLL_ONLY);
// NEREID_BENCH_SCROLL_PX=N: how far the scroll moves each frame (default 200 px, a fast flick).
const SCROLL_PX = Number(process.env.NEREID_BENCH_SCROLL_PX ?? 200);
const COLS = "params/lr,params/opt,params/batch,train/loss:last,train/loss:min,val/acc:max";

// The runs 2..RUNS of project BIG (run 1 is the long one), made between 3 days and 1 day ago.
function seedSql(n) {
  const base = (Date.now() - 3 * 86400_000) * 1000;
  return `
WITH RECURSIVE ints(g) AS (SELECT 2 UNION ALL SELECT g + 1 FROM ints WHERE g < ${n})
INSERT INTO runs(project_id, number, name, state, failed, created_us, modified_us, ping_us, owner)
  SELECT p.id, g, 'sweep-' || g, CASE WHEN g % 50 = 0 THEN 'running' ELSE 'inactive' END, g % 97 = 0,
         ${base} + g * 1000000, ${base} + g * 1000000 + 3600000000, ${base} + g * 1000000 + 3600000000,
         'bench'
  FROM projects p, ints WHERE p.key = 'BIG';
UPDATE projects SET next_run_number = ${n} + 1 WHERE key = 'BIG';
CREATE TEMP TABLE big AS SELECT r.id, r.number FROM runs r JOIN projects p ON p.id = r.project_id
  WHERE p.key = 'BIG' AND r.number > 1;
INSERT INTO fields(run_id, path, type, num, bytes) SELECT id, 'params/lr', 0, ((number * 37) % 1000) / 10000.0, 0 FROM big;
INSERT INTO fields(run_id, path, type, num, int, bytes) SELECT id, 'params/batch', 1, 32 << (number % 4), 32 << (number % 4), 0 FROM big;
INSERT INTO fields(run_id, path, type, text, bytes)
  SELECT id, 'params/opt', 3, CASE number % 3 WHEN 0 THEN 'adam' WHEN 1 THEN 'sgd' ELSE 'adamw' END, 0 FROM big;
INSERT INTO series(run_id, path, type, count, first_step, last_step, last_ts, last, min, max)
  SELECT id, 'train/loss', 8, 1000, 0, 999, ${base} + number * 1000000 + 3600000000,
         0.05 + ((number * 7919) % 1000) / 1000.0, 0.04 + ((number * 7919) % 1000) / 1000.0, 2.3 FROM big;
INSERT INTO series(run_id, path, type, count, first_step, last_step, last_ts, last, min, max)
  SELECT id, 'val/acc', 8, 100, 0, 990, ${base} + number * 1000000 + 3600000000,
         ((number * 104729) % 1000) / 1000.0, 0.1, ((number * 104729) % 1000) / 1000.0 FROM big WHERE number % 10 <> 0;
INSERT INTO fields(run_id, path, type, int) SELECT s.run_id, s.path, 8, s.id FROM series s JOIN big b ON b.id = s.run_id;
INSERT INTO run_tags(run_id, tag) SELECT id, 'seventh' FROM big WHERE number % 7 = 0;
INSERT INTO run_tags(run_id, tag) SELECT id, 'baseline' FROM big WHERE number % 11 = 0;
INSERT OR IGNORE INTO project_fields(project_id, path, type)
  SELECT DISTINCT r.project_id, f.path, f.type FROM fields f JOIN runs r ON r.id = f.run_id;
ANALYZE;
`;
}

function runSql(db, sql) {
  const py = "import sqlite3, sys\ndb = sqlite3.connect(sys.argv[1])\ndb.executescript(sys.stdin.read())\ndb.commit()\n";
  const r = spawnSync(process.env.PYTHON ?? "/usr/bin/python3", ["-c", py, db], { input: sql, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`seeding SQL failed: ${r.stderr}`);
}

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { median: q(0.5), p95: q(0.95), max: s[s.length - 1] };
};
// How long the page's last request of a first page of runs took (resource timing: request start
// to last byte).
const runsRequestMs = (page) =>
  page.evaluate(() => {
    const e = performance.getEntriesByType("resource").filter((r) => r.name.includes("/runs?") && !r.name.includes("cursor=") && !r.name.includes("offset=")).pop();
    return e ? e.responseEnd - e.requestStart : NaN;
  });
const ms = (x) => `${x.toFixed(1)} ms`;

// Scrolls the runs table by SCROLL_PX (200) px an animation frame, `frames` times: each frame's time (rAF to
// rAF) and how many frames had rows on screen still waiting for their page (drawn as "…").
const scrollFrames = (page, frames) =>
  page.evaluate(async ([frames, step]) => {
    const el = document.querySelector("[data-testid=runs-scroll]");
    const times = [];
    let blank = 0;
    // The least, over the frames, of how far the drawn rows reach below the screen (the header
    // and each row are 32 px; after the first frames, once the scroll has a direction).
    let ahead = Infinity;
    let last = performance.now();
    for (let i = 0; i < frames; i++) {
      el.scrollTop += step;
      await new Promise((r) => requestAnimationFrame(r));
      const now = performance.now();
      times.push(now - last);
      last = now;
      if (document.querySelector("[data-testid=run-row]:not([data-run-id])")) blank++;
      let end = -1;
      for (const r of document.querySelectorAll("[data-testid=run-row][data-index]")) end = Math.max(end, Number(r.dataset.index));
      if (i >= 5 && el.scrollTop + el.clientHeight < el.scrollHeight) ahead = Math.min(ahead, 32 + (end + 1) * 32 - (el.scrollTop + el.clientHeight));
    }
    return { times, blank, top: el.scrollTop, ahead };
  }, [frames, SCROLL_PX]);

// Scrolls `page`'s table FRAMES frames and prints its frame times, main-thread time per frame
// (Chromium's Performance domain), the rows in the DOM, and then TRACED more frames under a
// Chromium trace split by kind of work (kept in `traceFile` when given).
async function measureScroll(browser, page, label, traceFile) {
  // Main-thread time by kind over the scroll (Chromium's Performance domain), per frame.
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Performance.enable");
  const metrics = async () => Object.fromEntries((await cdp.send("Performance.getMetrics")).metrics.map((m) => [m.name, m.value]));
  const m0 = await metrics();
  const scroll = await scrollFrames(page, FRAMES);
  const m1 = await metrics();
  const perFrame = (k) => (((m1[k] - m0[k]) * 1000) / FRAMES).toFixed(1);
  const sf = stats(scroll.times);
  console.log(`${label}: scroll frame time over ${FRAMES} frames (${SCROLL_PX} px each, to row ${Math.round(scroll.top / 32)}): median ${ms(sf.median)}, p95 ${ms(sf.p95)}, max ${ms(sf.max)}; frames with unloaded rows on screen: ${scroll.blank}`);
  console.log(`  main thread per frame: tasks ${perFrame("TaskDuration")} ms, of which script ${perFrame("ScriptDuration")} ms, layout ${perFrame("LayoutDuration")} ms, style ${perFrame("RecalcStyleDuration")} ms`);

  // What the rows cost: how many are in the DOM and the elements in each.
  const dom = await page.evaluate(() => {
    const rows = [...document.querySelectorAll("[data-testid=run-row]")];
    const el = document.querySelector("[data-testid=runs-scroll]");
    return { rows: rows.length, perRow: rows.length ? rows[0].querySelectorAll("*").length + 1 : 0, onScreen: Math.ceil(el.clientHeight / 32) };
  });
  console.log(`  rows in the DOM ${dom.rows} (${dom.onScreen} fit the screen), ${dom.perRow} elements each; drawn rows reach at least ${scroll.ahead} px below the screen while scrolling`);
  // The same scroll again under a Chromium trace (which slows it: its frame times are not the
  // figures above), split per frame into the kinds of work on the renderer's threads.
  const TRACED = 150;
  await browser.startTracing(page, {
    categories: ["devtools.timeline", "disabled-by-default-devtools.timeline", "toplevel", "blink", "cc", "v8"],
  });
  await scrollFrames(page, TRACED);
  const trace = await browser.stopTracing();
  if (traceFile) writeFileSync(traceFile, trace);
  const split = splitTrace(trace);
  const f = (x) => (x / TRACED).toFixed(2);
  // CPU time (the trace's thread time): on this shared VM wall time is mostly waiting for a core.
  console.log(`  traced (${TRACED} frames), CPU per frame: renderer main thread ${f(split.main.taskCpu)} ms (wall ${f(split.main.task)} ms): ${perFrameText(split.main.cpu, TRACED)}`);
  console.log(`    compositor thread ${f(split.compositor.taskCpu)} ms; raster ${f(split.raster.cpu.raster ?? 0)} ms (wall ${f(split.raster.kinds.raster ?? 0)} ms)`);

  // A wheel scroll as a user makes it: Chromium's synthesized mouse-wheel gesture (the input path
  // of a real wheel, which the compositor thread scrolls on its own when the scroller can be
  // composited, while the main thread draws the rows coming in), at the same speed (SCROLL_PX a
  // frame at 60 Hz) for as many frames, counted by Chromium's own frame reporter (the figures
  // behind DevTools' dropped frames): presented whole, presented with the main thread's part late
  // (the compositor moved the rows already drawn), dropped; and frames shown with content still
  // missing (not yet recorded or rastered).
  await page.evaluate(async () => {
    document.querySelector("[data-testid=runs-scroll]").scrollTop = 0;
    for (let i = 0; i < 10; i++) await new Promise((r) => requestAnimationFrame(r));
  });
  const box = await page.$eval("[data-testid=runs-scroll]", (el) => {
    const r = el.getBoundingClientRect();
    return { x: r.left + r.width / 2, y: r.top + r.height / 2 };
  });
  await browser.startTracing(page, { categories: ["cc", "benchmark", "disabled-by-default-devtools.timeline.frame"] });
  await cdp.send("Input.synthesizeScrollGesture", {
    ...box,
    yDistance: -SCROLL_PX * FRAMES,
    speed: SCROLL_PX * 60,
    gestureSourceType: "mouse",
    preventFling: true,
  });
  const frames = countFrames(await browser.stopTracing());
  console.log(
    `  wheel gesture (${SCROLL_PX * 60} px/s, ${SCROLL_PX * FRAMES} px): ${frames.all} frames: ${frames.whole} presented whole, ${frames.partial} with the main thread's part a frame late, ` +
      `${frames.dropped} dropped (${((100 * frames.dropped) / Math.max(1, frames.all)).toFixed(1)} %); ${frames.missing} shown with content missing`,
  );
  // The rows drawn below the screen cover the main thread's lag up to scroll.ahead px; a frame
  // further behind may show a strip without its rows.
  const behind = (n) => frames.behind.filter((b) => b >= n).length;
  const short = frames.behind.filter((b) => b * SCROLL_PX > scroll.ahead).length;
  console.log(
    `    frames the main thread's rows were 1 / 2 / 3+ frames behind: ${behind(1) - behind(2)} / ${behind(2) - behind(3)} / ${behind(3)}; longest ${Math.max(0, ...frames.behind)}; ` +
      `further behind than the rows drawn ahead reach (${scroll.ahead} px), so possibly showing a strip without rows: ${short}`,
  );
  await cdp.detach();
}

// Frames of a trace by the state Chromium's frame reporter gave them (PipelineReporter events; a
// frame can have several reporters, e.g. its compositor part and a main-thread part begun earlier:
// a frame counts as presented if any of its reporters presented it, whole if one presented it
// whole), counting only frames that had something to update.
function countFrames(trace) {
  const rank = { STATE_PRESENTED_ALL: 3, STATE_PRESENTED_PARTIAL: 2, STATE_DROPPED: 1 };
  const frames = new Map(); // frame_sequence -> { state, missing }
  for (const e of JSON.parse(String(trace)).traceEvents ?? []) {
    if (e.name !== "PipelineReporter" || e.ph !== "b") continue;
    const r = e.args?.frame_reporter ?? e.args?.chrome_frame_reporter;
    if (!r || !rank[r.state]) continue;
    const f = frames.get(r.frame_sequence) ?? { state: 0, missing: false };
    f.state = Math.max(f.state, rank[r.state]);
    f.missing ||= Boolean(r.has_missing_content || r.checkerboarded_needs_raster || r.checkerboarded_needs_record);
    frames.set(r.frame_sequence, f);
  }
  // `behind`: for each frame, how many frames in a row (this one included) went without the main
  // thread's update; the rows the compositor shows are then that many frames' scrolling old.
  const out = { all: frames.size, whole: 0, partial: 0, dropped: 0, missing: 0, behind: [] };
  let streak = 0;
  for (const [, f] of [...frames].sort((a, b) => a[0] - b[0])) {
    if (f.state === 3) out.whole++;
    else if (f.state === 2) out.partial++;
    else out.dropped++;
    if (f.missing) out.missing++;
    streak = f.state === 3 ? 0 : streak + 1;
    out.behind.push(streak);
  }
  return out;
}

// NEREID_BENCH_DATA=DIR keeps the seeded data directory in DIR and reuses it when it exists, so
// that measuring again skips the seeding (the run with the long series is then found by name).
const keepDir = process.env.NEREID_BENCH_DATA;
let server;
let long;
if (keepDir && existsSync(join(keepDir, "nereid.db"))) {
  server = await startServer(undefined, { data: keepDir });
  const page = await server.api("GET", "/api/v1/projects/bench/big/runs?limit=1&filter=" + encodeURIComponent('sys/name = "long"'));
  long = page.runs[0].id;
} else {
  server = await startServer();
  await server.api("POST", "/api/v1/workspaces", { name: "bench" });
  await server.api("POST", "/api/v1/workspaces/bench/projects", { name: "big", key: "BIG" });
  let t = Date.now();
  long = (await server.api("POST", "/api/v1/projects/bench/big/runs", { name: "long" })).id;
  const CHUNK = 500_000;
  for (let start = 0; start < POINTS; start += CHUNK) {
    const values = Array.from({ length: Math.min(CHUNK, POINTS - start) }, (_, k) => Math.sin((start + k) / 10_000) + ((start + k) % 1_000_003 === 0 ? 50 : 0));
    await server.batch(long, [{ path: "train/loss", appendFloats: { values } }]);
  }
  console.log(`seeded ${POINTS} points through the API in ${Date.now() - t} ms`);
  await server.stop({ keep: true });
  t = Date.now();
  runSql(join(server.data, "nereid.db"), seedSql(RUNS));
  console.log(`seeded ${RUNS - 1} more runs with SQL in ${Date.now() - t} ms`);
  if (keepDir) {
    mkdirSync(keepDir, { recursive: true });
    for (const f of readdirSync(server.data)) renameSync(join(server.data, f), join(keepDir, f));
    rmSync(server.data, { recursive: true, force: true });
  }
  server = await startServer(undefined, { data: keepDir ?? server.data });
}
// The machine is shared: every figure is read against the load it was taken under.
const load = () => loadavg().map((x) => x.toFixed(2)).join(", ");
console.log(`load average at start: ${load()}`);
try {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
  });
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  // NEREID_WEB_DIST=DIR: the page gets the UI's files from DIR (a `vite build --outDir DIR`)
  // instead of the server's embedded copy, and the API from the server: to compare two builds of
  // the UI without rebuilding the server. Paths without a file there get index.html, as from the
  // server.
  const dist = process.env.NEREID_WEB_DIST;
  if (dist) {
    const types = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml" };
    await page.route(server.url + "/**", (route) => {
      const path = new URL(route.request().url()).pathname;
      if (path.startsWith("/api/")) return route.continue();
      const file = join(dist, path);
      const found = path !== "/" && existsSync(file) && statSync(file).isFile() ? file : join(dist, "index.html");
      return route.fulfill({ path: found, contentType: types[extname(found)] ?? "application/octet-stream" });
    });
  }
  // In-page times, from navigation start to the first animation frame in which the rows (or the
  // chart) exist, i.e. the frame that paints them. The harness's own figure (Date.now around
  // goto + waitForFunction) also holds Playwright's work in each new document (compiling its
  // injected script, waiting for the load event, its polling), 100-400 ms on this loaded VM.
  await page.addInitScript(() => {
    const tick = () => {
      if (!window.__firstRowAt && document.querySelector("[data-testid=run-row][data-run-id]")) window.__firstRowAt = performance.now();
      if (!window.__firstChartAt && document.querySelector('[data-testid=chart][data-title="train/loss"]')?.__chart) window.__firstChartAt = performance.now();
      if (!window.__firstRowAt || !window.__firstChartAt) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
  await page.goto(server.url + "/");
  await page.evaluate((tok) => localStorage.setItem("nereid.token", tok), server.token);
  const waitFirstRow = (id) =>
    page.waitForFunction((id) => document.querySelector("[data-testid=run-row]")?.getAttribute("data-run-id") === id, id, { timeout: 120_000, polling: "raf" });
  const expectFirst = async (q) => (await server.api("GET", `/api/v1/projects/bench/big/runs?limit=1&${q}`)).runs[0].id;

  // --- runs table ---
  const tableUrl = server.url + "/p/bench/big?cols=" + encodeURIComponent(COLS);
  const newest = await expectFirst("");
  if (!SCROLL_ONLY) {
    const firstRows = [];
    const firstRowsInPage = [];
    const firstPageMs = [];
    for (let i = 0; i < 5; i++) {
      await page.goto("about:blank");
      const t0 = Date.now();
      await page.goto(tableUrl);
      await waitFirstRow(newest);
      firstRows.push(Date.now() - t0);
      firstRowsInPage.push(Math.round(await page.evaluate(() => window.__firstRowAt)));
      firstPageMs.push(await runsRequestMs(page));
    }
    console.log(`runs table, ${RUNS} runs, ${COLS.split(",").length} field columns: navigation → first rows ${firstRows.join(", ")} ms (median ${stats(firstRows).median} ms; its runs request ${stats(firstPageMs).median.toFixed(0)} ms)`);
    console.log(`  in the page (navigation start → first frame with rows): ${firstRowsInPage.join(", ")} ms (median ${stats(firstRowsInPage).median} ms)`);

    const filterTimes = [];
    const filterReq = [];
    const lowLr = await expectFirst("filter=" + encodeURIComponent("params/lr < 0.01"));
    for (let i = 0; i < 3; i++) {
      await page.goto(tableUrl);
      await waitFirstRow(newest);
      const box = page.locator("input[name=filter]");
      await box.fill("params/lr < 0.01");
      await box.press("Escape");
      const t0 = Date.now();
      await box.press("Enter");
      await waitFirstRow(lowLr);
      filterTimes.push(Date.now() - t0);
      filterReq.push(await runsRequestMs(page));
    }
    console.log(`filter params/lr < 0.01 (10% of runs) → rows shown: ${filterTimes.join(", ")} ms (median ${stats(filterTimes).median} ms; its runs request ${stats(filterReq).median.toFixed(0)} ms)`);

    const sortTimes = [];
    const sortReq = [];
    const bestLoss = await expectFirst("sort=train/loss:last&order=desc");
    for (let i = 0; i < 3; i++) {
      await page.goto(tableUrl);
      await waitFirstRow(newest);
      const t0 = Date.now();
      await page.click('[data-sort="train/loss:last"] .label');
      await waitFirstRow(bestLoss);
      sortTimes.push(Date.now() - t0);
      sortReq.push(await runsRequestMs(page));
    }
    console.log(`sort by train/loss:last (all runs) → rows shown: ${sortTimes.join(", ")} ms (median ${stats(sortTimes).median} ms; its runs request ${stats(sortReq).median.toFixed(0)} ms)`);
  }

  await page.goto(tableUrl);
  await waitFirstRow(newest);
  await measureScroll(browser, page, "runs table", process.env.NEREID_BENCH_TRACE);

  if (!SCROLL_ONLY) {
    // Dragging the scrollbar to the middle of the table: time until those rows are filled.
    const jump = await page.evaluate(async () => {
      const el = document.querySelector("[data-testid=runs-scroll]");
      const t0 = performance.now();
      el.scrollTop = el.scrollHeight / 2;
      for (;;) {
        await new Promise((r) => requestAnimationFrame(r));
        const rows = [...document.querySelectorAll("[data-testid=run-row]")];
        const r = el.getBoundingClientRect();
        const onScreen = rows.filter((x) => {
          const b = x.getBoundingClientRect();
          return b.bottom > r.top && b.top < r.bottom;
        });
        if (onScreen.length && onScreen.every((x) => x.hasAttribute("data-run-id"))) return performance.now() - t0;
        if (performance.now() - t0 > 120_000) return -1;
      }
    });
    console.log(`jump to the middle of the table → rows filled: ${jump < 0 ? "> 120 s" : ms(jump)}`);

    // --- chart ---
    const chartTimes = [];
    const chartInPage = [];
    const bucketMs = [];
    for (let i = 0; i < 5; i++) {
      await page.goto("about:blank");
      const t0 = Date.now();
      await page.goto(server.url + `/runs/${long}?n=${i}`);
      await page.waitForFunction(() => document.querySelector('[data-testid=chart][data-title="train/loss"]')?.__chart, null, { timeout: 60_000, polling: "raf" });
      chartTimes.push(Date.now() - t0);
      chartInPage.push(Math.round(await page.evaluate(() => window.__firstChartAt)));
      bucketMs.push(await page.evaluate(() => {
        const e = performance.getEntriesByType("resource").filter((r) => r.name.includes("/series/buckets")).pop();
        return e ? e.responseEnd - e.requestStart : NaN;
      }));
    }
    console.log(`navigation → first chart of ${POINTS} points: ${chartTimes.join(", ")} ms (median ${stats(chartTimes).median} ms; its bucket request ${stats(bucketMs).median.toFixed(0)} ms)`);
    console.log(`  in the page (navigation start → first frame with the chart): ${chartInPage.join(", ")} ms (median ${stats(chartInPage).median} ms)`);
  }

  // The reference: the same scroll of a plain DOM table of the same shape (e2e/plaintable.html),
  // in a page of the same size, so that the runs table's figures can be read against what the
  // browser itself costs on this machine in the same minutes.
  const ref = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  await ref.setContent(readFileSync(new URL("./plaintable.html", import.meta.url), "utf8"));
  await ref.waitForSelector("[data-testid=run-row]");
  await measureScroll(browser, ref, "reference (plain DOM table, e2e/plaintable.html)", process.env.NEREID_BENCH_TRACE && process.env.NEREID_BENCH_TRACE + ".reference");
  await ref.close();

  await browser.close();
  console.log(`load average at end: ${load()}`);
} finally {
  await server.stop({ keep: Boolean(keepDir) });
}
