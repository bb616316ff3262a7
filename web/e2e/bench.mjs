// Browser benchmark (not a test): time from navigation to the first drawn chart of a long series,
// and the runs table's first render and scroll frame times with many runs.
//   NEREID_BIN=../build/nereid node e2e/bench.mjs [points=10000000] [runs=100000]
// Prints figures for docs/performance.md. Seeding goes through the public API and takes a while.
import { chromium } from "playwright-core";
import { pool, startServer } from "./server.mjs";

const POINTS = Number(process.argv[2] ?? 10_000_000);
const RUNS = Number(process.argv[3] ?? 100_000);

const server = await startServer();
try {
  await server.api("POST", "/api/v1/workspaces", { name: "bench" });
  await server.api("POST", "/api/v1/workspaces/bench/projects", { name: "big", key: "BIG" });
  let t = Date.now();
  const long = (await server.api("POST", "/api/v1/projects/bench/big/runs", { name: "long" })).id;
  const CHUNK = 500_000;
  for (let start = 0; start < POINTS; start += CHUNK) {
    const values = Array.from({ length: Math.min(CHUNK, POINTS - start) }, (_, k) => Math.sin((start + k) / 10_000) + ((start + k) % 1_000_003 === 0 ? 50 : 0));
    await server.batch(long, [{ path: "train/loss", appendFloats: { values } }]);
  }
  console.log(`seeded ${POINTS} points in ${Date.now() - t} ms`);
  t = Date.now();
  await pool(Array.from({ length: RUNS - 1 }, (_, i) => i), 32, (i) =>
    server.api("POST", "/api/v1/projects/bench/big/runs", { name: `r${i}`, tags: i % 7 ? [] : ["seventh"] }),
  );
  console.log(`seeded ${RUNS} runs in ${Date.now() - t} ms`);

  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
  });
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  await page.goto(server.url + "/");
  await page.evaluate((tok) => localStorage.setItem("nereid.token", tok), server.token);

  const chartTimes = [];
  for (let i = 0; i < 5; i++) {
    const t0 = Date.now();
    await page.goto(server.url + `/runs/${long}?n=${i}`);
    await page.waitForFunction(() => document.querySelector('[data-testid=chart][data-title="train/loss"]')?.__chart, null, { timeout: 60_000, polling: "raf" });
    chartTimes.push(Date.now() - t0);
  }
  console.log(`navigation to first chart of ${POINTS} points: ${chartTimes.join(", ")} ms (median ${chartTimes.sort((a, b) => a - b)[2]} ms)`);

  const t0 = Date.now();
  await page.goto(server.url + "/p/bench/big");
  await page.waitForSelector("[data-testid=run-row][data-run-id]", { timeout: 60_000 });
  console.log(`runs table with ${RUNS} runs: first rows rendered ${Date.now() - t0} ms after navigation`);
  const frames = await page.evaluate(async () => {
    const el = document.querySelector("[data-testid=runs-scroll]");
    const times = [];
    let last = performance.now();
    for (let i = 0; i < 300; i++) {
      el.scrollTop += 200;
      await new Promise((r) => requestAnimationFrame(r));
      const now = performance.now();
      times.push(now - last);
      last = now;
    }
    times.sort((a, b) => a - b);
    return { median: times[150], p95: times[285], max: times[299] };
  });
  console.log(`scroll frame time over 300 frames (200 px each): median ${frames.median.toFixed(1)} ms, p95 ${frames.p95.toFixed(1)} ms, max ${frames.max.toFixed(1)} ms`);
  await browser.close();
} finally {
  await server.stop();
}
