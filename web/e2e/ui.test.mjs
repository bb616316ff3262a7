// End to end: the embedded UI in Debian's Chromium (playwright-core) against the real server.
// Seeds a project with 1,000 runs, a run with a 1 M-point series holding one spike, and three
// runs to compare; checks the runs table (virtualised, sort, filter, completion, errors), the
// run page chart (the band holds the spike at every zoom, down to the raw point), the log view,
// compare, the run's source (commit and uncommitted changes), the trash, notebooks and usage.
// Screenshots go to $NEREID_E2E_ARTIFACTS (default: a temp dir).
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { chromium } from "playwright-core";
import { pool, startServer } from "./server.mjs";

const RUNS = 1000;
const USER = "alice";
const PASSWORD = "e2e password 123";
const SPIKE_STEP = 654_321;
const SPIKE = 1000;
const POINTS = 1_000_000;
const artifacts = process.env.NEREID_E2E_ARTIFACTS ?? join(tmpdir(), "nereid-e2e-artifacts");
mkdirSync(artifacts, { recursive: true });

let server, browser, page;

// A 2x1 PNG (red, blue): the rendered <img> must decode to exactly this size.
const PNG_2X1 = "iVBORw0KGgoAAAANSUhEUgAAAAIAAAABCAIAAAB7QOjdAAAAEElEQVR4nGP4z8DAwMDAAAAc/wH/0+G2oQAAAABJRU5ErkJggg==";
const NB_PATH = "exp/train.ipynb";
// Version 1 and 2 differ in one code cell's source and output, and 2 adds a cell. The markdown
// carries a script and an onerror handler that must never run.
function notebook(version) {
  const code = (source, outputs, n) => ({ cell_type: "code", execution_count: n, metadata: {}, source, outputs });
  const cells = [
    { cell_type: "markdown", metadata: {}, source: ["# Training notes\n", "\n", "A **learning rate** sweep.\n", "<script>window.__xss = 1</script><img src=x onerror=\"window.__xss = 2\">"] },
    code([`print(${version})\n`, "show_plot()"], [
      { output_type: "stream", name: "stdout", text: [`${version}\n`] },
      { output_type: "display_data", metadata: {}, data: { "image/png": PNG_2X1, "text/plain": ["<Figure>"] } },
    ], 1),
  ];
  if (version === 2) cells.push(code("setup()", [], 2));
  cells.push(code("raise ValueError('bad lr')", [{ output_type: "error", ename: "ValueError", evalue: "bad lr", traceback: ["\u001b[0;31mValueError\u001b[0m: bad lr"] }], 3));
  return { nbformat: 4, nbformat_minor: 5, metadata: { language_info: { name: "python" } }, cells };
}
const COMMIT = "4f2a9c1e0b7d3a5f6e8c9d0b1a2f3e4d5c6b7a89";
const DIFF = [
  "diff --git a/train.py b/train.py",
  "--- a/train.py",
  "+++ b/train.py",
  "@@ -1,2 +1,2 @@",
  " import torch",
  "-lr = 0.1",
  "+lr = 0.01",
];
const ids = {}; // name -> run id
const lr = (i) => (i + 1) * 1e-5;

async function createRun(name, tags = []) {
  const r = await server.api("POST", "/api/v1/projects/e2e/vision/runs", { name, tags });
  ids[name] = r.id;
  return r.id;
}

before(async () => {
  server = await startServer();
  await server.api("POST", "/api/v1/workspaces", { name: "e2e" });
  await server.api("POST", "/api/v1/workspaces/e2e/projects", { name: "vision", key: "VIS" });
  // The user the browser signs in as: a password, and admin of the workspace (not of the server).
  await server.api("POST", "/api/v1/users", { name: USER, kind: "user" });
  await server.api("PUT", `/api/v1/users/${USER}/password`, { password: PASSWORD });
  await server.api("PUT", `/api/v1/workspaces/e2e/members/${USER}`, { role: "admin" });
  await server.api("PUT", "/api/v1/workspaces/e2e/limits", { quota_bytes: 1024 ** 3 });
  const t0 = Date.now();
  await pool(Array.from({ length: RUNS }, (_, i) => i), 16, async (i) => {
    const id = await createRun(`run-${i}`, i % 100 === 0 ? ["hundred"] : []);
    await server.batch(id, [
      { path: "params/lr", assign: { floatValue: lr(i) } },
      { path: "params/optimizer", assign: { stringValue: i % 2 ? "adam" : "sgd" } },
      { path: "train/loss", appendFloats: { values: [2, 1, 1 / (i + 1)] } },
      // Only the first run (at the bottom of the newest-first table) has this field.
      ...(i === 0 ? [{ path: "params/only_in_first_run", assign: { floatValue: 1 } }] : []),
    ]);
  });
  // One run with a 1 M-point series: a gentle curve with one spike, and a stdout log.
  const spiky = await createRun("spiky");
  for (let start = 0; start < POINTS; start += 250_000) {
    const values = Array.from({ length: 250_000 }, (_, k) => {
      const s = start + k;
      return s === SPIKE_STEP ? SPIKE : 1 + 0.1 * Math.sin(s / 5000);
    });
    await server.batch(spiky, [{ path: "train/loss", appendFloats: { values } }]);
  }
  await server.batch(spiky, [
    { path: "logs/stdout", appendStrings: { values: Array.from({ length: 50 }, (_, k) => `epoch ${k} done`) } },
    { path: "sys/state", assign: { stringValue: "succeeded" } },
  ]);
  // Three runs to compare.
  for (let k = 0; k < 3; k++) {
    const id = await createRun(`cmp-${k}`, ["compare"]);
    await server.batch(id, [
      { path: "params/width", assign: { floatValue: 64 * (k + 1) } },
      { path: "val/acc", appendFloats: { values: Array.from({ length: 200 }, (_, s) => (k + 1) * 0.1 + s / 1000) } },
    ]);
  }
  // A notebook with two checkpoints; the first is also the one run cmp-0 was started from.
  const cps = [];
  for (const version of [1, 2]) {
    const cp = await server.api("POST", `/api/v1/projects/e2e/vision/notebooks/checkpoints?path=${encodeURIComponent(NB_PATH)}`, notebook(version));
    cps.push(cp.id);
  }
  ids.checkpoints = cps;
  await server.batch(ids["cmp-0"], [
    { path: "source_code/notebook/path", assign: { stringValue: NB_PATH } },
    { path: "source_code/notebook/checkpoint_id", assign: { stringValue: cps[0] } },
  ]);
  // Run cmp-1 was started from a commit with uncommitted changes; its remote address carries a
  // token the page must never show.
  const diffText = DIFF.join("\n") + "\n";
  const diff = await server.upload(diffText);
  await server.batch(ids["cmp-1"], [
    { path: "source_code/git/commit", assign: { stringValue: COMMIT } },
    { path: "source_code/git/branch", assign: { stringValue: "lr-sweep" } },
    { path: "source_code/git/detached", assign: { boolValue: false } },
    { path: "source_code/git/dirty", assign: { boolValue: true } },
    { path: "source_code/git/message", assign: { stringValue: "Sweep the learning rate\n\nThree widths." } },
    { path: "source_code/git/author", assign: { stringValue: "Ada Lovelace" } },
    { path: "source_code/git/remote_url", assign: { stringValue: "https://ghp_e2eSecret@github.com/acme/vision.git" } },
    { path: "source_code/diff", assign: { file: { sha256: diff.sha256, name: "diff.patch", contentType: "text/x-diff" } } },
  ]);
  console.log(`# seeded ${RUNS + 4} runs and ${POINTS} points in ${Date.now() - t0} ms`);
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.setDefaultTimeout(30_000);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function shot(name) {
  await page.screenshot({ path: join(artifacts, `${name}.png`) });
}

const firstRowId = () => page.$eval("[data-testid=run-row]", (el) => el.getAttribute("data-run-id"));

async function signIn(user, password) {
  await page.fill("input[name=user]", user);
  await page.fill("input[name=password]", password);
  const answered = page.waitForResponse((r) => r.url().endsWith("/api/v1/login"));
  await page.click("button[type=submit]");
  const r = await answered;
  await page.waitForSelector("button[type=submit]:not([disabled]), header.top");
  return r.status();
}

test("the token prompt stays reachable from the login page for users without a password", async () => {
  await page.goto(server.url + "/");
  await page.click("[data-testid=use-token]");
  await page.fill("input[name=token]", server.token);
  await page.click("button[type=submit]");
  await page.waitForSelector("text=vision");
  await page.click("button:has-text('Sign out')");
  await page.waitForSelector("input[name=user]");
  // Signing out forgot the token: a reload asks again.
  await page.reload();
  await page.waitForSelector("input[name=user]");
});

test("signing in with a password sets a session that survives a reload; projects are listed", async () => {
  await signIn(USER, "not the password");
  assert.equal(await page.textContent("[data-testid=login-error]"), "wrong user name or password");
  await signIn(USER, PASSWORD);
  await page.waitForSelector("text=vision");
  assert.equal(await page.textContent("[data-testid=signed-in-as]"), USER);
  const cookie = (await page.context().cookies()).find((c) => c.name === "nereid_session");
  assert.ok(cookie?.httpOnly && cookie.sameSite === "Strict", "an HttpOnly SameSite=Strict session cookie");
  await page.reload();
  await page.waitForSelector("text=vision");
  await shot("projects");
});

test("a write made through the session cookie carries the CSRF token (a tag added on the run page)", async () => {
  const id = ids["cmp-1"];
  await page.goto(server.url + `/runs/${id}`);
  await page.click(".run-head button[title='add a tag']");
  await page.keyboard.type("via-session");
  const answered = page.waitForResponse((r) => r.url().endsWith(`/runs/${id}/batches`));
  await page.keyboard.press("Enter");
  const status = (await answered).status();
  assert.ok(status >= 200 && status < 300, `the server accepted the batch (a missing X-CSRF-Token is a 403), got ${status}`);
  const run = await server.api("GET", `/api/v1/runs/${id}`);
  assert.ok(run.tags.includes("via-session"), JSON.stringify(run.tags));
});

test("the runs table renders 1,004 runs virtualised and loads pages as it scrolls", async () => {
  await page.goto(server.url + "/p/e2e/vision");
  await page.waitForSelector("[data-testid=run-row][data-run-id]");
  assert.equal(await page.textContent("[data-testid=total]"), "1,004 runs");
  const rendered = await page.$$eval("[data-testid=run-row]", (r) => r.length);
  assert.ok(rendered > 10 && rendered < 120, `only visible rows are in the DOM, got ${rendered}`);
  await shot("runs-table");
  // Jumping to the end fetches the rows there by position (offset), not every page before them,
  // and renders the list's last row (the oldest run, as the API's own last page has it).
  const whole = await server.api("GET", "/api/v1/projects/e2e/vision/runs?limit=1000");
  const rest = await server.api("GET", `/api/v1/projects/e2e/vision/runs?limit=1000&cursor=${encodeURIComponent(whole.next_cursor)}`);
  const lastId = rest.runs[rest.runs.length - 1].id;
  await page.$eval("[data-testid=runs-scroll]", (el) => (el.scrollTop = el.scrollHeight));
  await page.waitForFunction(
    ([total, id]) => {
      const rows = [...document.querySelectorAll("[data-testid=run-row]")];
      const last = rows.find((r) => r.dataset.index === String(total - 1));
      return last && last.getAttribute("data-run-id") === id && rows.every((r) => r.getAttribute("data-run-id"));
    },
    [RUNS + 4, lastId],
  );
  // The DOM holds the drawn rows in slot order, not the table's: to assistive technology each row
  // says its place (aria-rowindex, the header being row 1), and the drawn rows are a contiguous
  // stretch of the table ending at its last row.
  const a11y = await page.evaluate(() => {
    const table = document.querySelector("[data-testid=runs-scroll]");
    const rows = [...document.querySelectorAll("[data-testid=run-row]")];
    return {
      role: table.getAttribute("role"),
      count: table.getAttribute("aria-rowcount"),
      places: rows.map((r) => [Number(r.getAttribute("aria-rowindex")), Number(r.dataset.index), r.getAttribute("role")]),
      cells: rows[0].querySelectorAll(":scope > [role=cell]").length,
      headers: document.querySelectorAll("[role=columnheader]").length,
    };
  });
  assert.equal(a11y.role, "table");
  assert.equal(a11y.count, String(RUNS + 4 + 1));
  for (const [place, index, role] of a11y.places) {
    assert.equal(role, "row");
    assert.equal(place, index + 2, `row ${index} says it is table row ${place}`);
  }
  const places = a11y.places.map((p) => p[0]).sort((a, b) => a - b);
  assert.equal(places[places.length - 1], RUNS + 4 + 1);
  assert.equal(places[places.length - 1] - places[0] + 1, places.length, `contiguous: ${places.join(",")}`);
  assert.equal(a11y.cells, a11y.headers, "a cell under every column header");
  const requests = await page.evaluate(() => performance.getEntriesByType("resource").map((e) => e.name).filter((n) => n.includes("/runs?")));
  assert.ok(requests.some((n) => n.includes("offset=")), requests.join("\n"));
  assert.ok(!requests.some((n) => n.includes("cursor=")), `no page walked by cursor to reach the end:\n${requests.join("\n")}`);
  await shot("runs-table-end");
});

test("index.html starts the runs table's first page before the bundle runs; the table uses it, not a second request", async () => {
  const firstPages = [];
  const onRequest = (r) => {
    const u = r.url();
    if (u.includes("/runs?") && !u.includes("cursor=") && !u.includes("offset=")) firstPages.push(u);
  };
  page.on("request", onRequest);
  try {
    // The project's field list is asked for once the first page has been handled: by then a
    // second request for the first page would have been sent.
    const fieldsAsked = page.waitForResponse((r) => r.url().includes("/projects/e2e/vision/fields"));
    await page.goto(server.url + "/p/e2e/vision?cols=params/lr&order=asc&sort=params/lr");
    await fieldsAsked;
    await page.waitForSelector("[data-testid=run-row][data-run-id]");
    assert.equal(await firstRowId(), ids["run-0"], "the early page is the view in the URL (lowest lr first)");
    assert.equal(firstPages.length, 1, firstPages.join("\n"));
    assert.ok(firstPages[0].includes("sort=params%2Flr&order=asc&columns=params%2Flr&limit=100"), firstPages[0]);
    // Started by the inline script (the list exists) and taken by the app (now empty).
    assert.deepEqual(await page.evaluate(() => window.__nereidEarly?.map((e) => e.url)), []);
    // Other pages start nothing early.
    await page.goto(server.url + "/usage");
    await page.waitForSelector("main");
    assert.equal(await page.evaluate(() => window.__nereidEarly), undefined);
  } finally {
    page.off("request", onRequest);
  }
});

test("clicking a column header sorts by it on the server, both ways", async () => {
  await page.goto(server.url + "/p/e2e/vision?cols=params/lr");
  await page.waitForSelector("[data-testid=run-row][data-run-id]");
  await page.click('[data-sort="params/lr"] .label');
  await page.waitForURL(/sort=params%2Flr/);
  await page.waitForFunction((id) => document.querySelector("[data-testid=run-row]")?.getAttribute("data-run-id") === id, ids[`run-${RUNS - 1}`]);
  const sortOf = () => page.$eval('[data-sort="params/lr"]', (h) => h.getAttribute("aria-sort"));
  assert.equal(await sortOf(), "descending");
  await page.click('[data-sort="params/lr"] .label');
  await page.waitForURL(/order=asc/);
  await page.waitForFunction((id) => document.querySelector("[data-testid=run-row]")?.getAttribute("data-run-id") === id, ids["run-0"]);
  assert.equal(await firstRowId(), ids["run-0"]);
  assert.equal(await sortOf(), "ascending");
  assert.equal(await page.$eval('[data-sort="sys/name"]', (h) => h.getAttribute("aria-sort")), null, "only the sorted column says it is sorted");
  await shot("runs-sorted");
});

test("the filter is applied by the server, completes field names and shows errors at their position", async () => {
  await page.goto(server.url + "/p/e2e/vision");
  await page.waitForSelector("[data-testid=run-row][data-run-id]");
  const box = page.locator("input[name=filter]");
  await box.click();
  await box.pressSequentially("params/l");
  await page.waitForSelector(".completions li:has-text('params/lr')");
  await box.press("Tab");
  assert.equal(await box.inputValue(), "params/lr");
  await box.pressSequentially(" < 0.000495");
  // Completion knows the project's every field, also one of a run far below the first page.
  const firstPage = await page.$$eval("[data-testid=run-row][data-run-id]", (rows) => rows.map((r) => r.getAttribute("data-run-id")));
  assert.ok(!firstPage.includes(ids["run-0"]));
  await box.fill("params/only");
  await page.waitForSelector(".completions li:has-text('params/only_in_first_run')");
  await box.fill("params/lr < 0.000495");
  await box.press("Enter");
  const expected = Array.from({ length: RUNS }, (_, i) => lr(i)).filter((v) => v < 0.000495).length;
  await page.waitForFunction((n) => document.querySelector("[data-testid=total]")?.textContent === `${n} runs`, expected);
  assert.match(page.url(), /filter=params%2Flr\+%3C\+0\.000495/);
  await shot("runs-filtered");

  await box.fill("params/lr < and");
  await box.press("Escape");
  await box.press("Enter");
  const alert = page.locator("[role=alert]");
  await alert.waitFor();
  const text = await alert.textContent();
  assert.match(text, /at position 12/);
  // The caret line puts '^' under byte 12 of the filter.
  const caret = await page.textContent(".filter-error pre.caret");
  assert.equal(caret.split("\n")[1].indexOf("^"), 12);
  await shot("runs-filter-error");
});

async function chartState(title) {
  return page.$eval(`[data-testid=chart][data-title="${title}"]`, (el) => {
    const c = el.__chart;
    if (!c) return null;
    const s = c.series[0];
    const peak = Math.max(...s.max.filter((v) => v !== null));
    const i = s.steps.indexOf(654321);
    return { count: s.count, raw: s.raw, peak, range: c.range, xmin: s.x[0], xmax: s.x[s.x.length - 1], spikeValue: i >= 0 ? s.line[i] : null, n: s.steps.length };
  });
}

test("a 1 M-point series is drawn with a band that holds the spike at every zoom, down to raw points", async () => {
  await page.goto(server.url + `/runs/${ids.spiky}`);
  await page.waitForFunction(() => document.querySelector('[data-testid=chart][data-title="train/loss"]')?.__chart);
  let st = await chartState("train/loss");
  assert.equal(st.count, POINTS);
  assert.equal(st.raw, false);
  assert.ok(st.n <= 2000, `one bucket per pixel, got ${st.n}`);
  assert.equal(st.peak, SPIKE, "the band reaches the spike");
  await shot("run-chart");

  for (let zoom = 1; zoom <= 6 && !st.raw; zoom++) {
    const over = await page.locator('[data-testid=chart][data-title="train/loss"] .u-over').boundingBox();
    const frac = (SPIKE_STEP - st.xmin) / (st.xmax - st.xmin);
    const x = over.x + frac * over.width;
    const y = over.y + over.height / 2;
    await page.mouse.move(x - over.width * 0.03, y);
    await page.mouse.down();
    await page.mouse.move(x + over.width * 0.03, y, { steps: 5 });
    await page.mouse.up();
    const before = st.range;
    await page.waitForFunction(
      (prev) => {
        const c = document.querySelector('[data-testid=chart][data-title="train/loss"]').__chart;
        return c.range && JSON.stringify(c.range) !== JSON.stringify(prev);
      },
      before,
    );
    st = await chartState("train/loss");
    assert.ok(st.range.from <= SPIKE_STEP && SPIKE_STEP <= st.range.to, `zoom ${zoom} keeps the spike in ${JSON.stringify(st.range)}`);
    assert.equal(st.peak, SPIKE, `zoom ${zoom}: the band still reaches the spike`);
  }
  assert.equal(st.raw, true, "zooming in reaches the raw points");
  assert.equal(st.spikeValue, SPIKE, "the raw spike point is on the line");
  await shot("run-chart-zoomed");
});

test("the stdout log is shown and searchable", async () => {
  const log = page.locator('[data-testid=text-log][data-path="logs/stdout"]');
  await log.locator("text=epoch 49 done").waitFor();
  await log.locator("input[name=log-search]").fill("epoch 4");
  // "epoch 4" matches epoch 4 and 40..49.
  await log.locator("text=11 of 50 lines").waitFor();
  await shot("run-log");
});

test("compare overlays the same series from three selected runs", async () => {
  await page.goto(server.url + "/p/e2e/vision?filter=" + encodeURIComponent('sys/tags contains "compare"'));
  await page.waitForFunction(() => document.querySelector("[data-testid=total]")?.textContent === "3 runs");
  for (let k = 0; k < 3; k++) await page.check(`input[aria-label="select ${ids[`cmp-${k}`]}"]`);
  await page.click("button:has-text('Compare 3')");
  await page.waitForURL(/\/compare\?runs=/);
  await page.waitForFunction(() => document.querySelector('[data-testid=chart][data-title="val/acc"]')?.__chart?.series.length === 3);
  const legend = await page.$$eval("[data-testid=compare-legend] tbody tr", (rows) => rows.map((r) => r.textContent));
  assert.equal(legend.length, 3);
  for (let k = 0; k < 3; k++) assert.ok(legend.some((t) => t.includes(`cmp-${k}`) && t.includes(String(64 * (k + 1)))));
  const counts = await page.$eval('[data-testid=chart][data-title="val/acc"]', (el) => el.__chart.series.map((s) => s.count));
  assert.deepEqual(counts, [200, 200, 200]);
  await shot("compare");
});

test("the run page shows the commit a run came from, linked to its host, and its uncommitted changes", async () => {
  await page.goto(server.url + `/runs/${ids["cmp-1"]}`);
  const commit = page.locator("[data-testid=run-source] [data-testid=source-commit]");
  await commit.waitFor();
  assert.equal(await commit.textContent(), COMMIT.slice(0, 12));
  assert.equal(await commit.getAttribute("href"), `https://github.com/acme/vision/commit/${COMMIT}`);
  const source = await page.textContent("[data-testid=run-source]");
  for (const text of ["lr-sweep", "uncommitted changes", "Sweep the learning rate", "Ada Lovelace", "https://github.com/acme/vision.git"]) {
    assert.ok(source.includes(text), `"${text}" in the Source section: ${source}`);
  }
  assert.ok(!(await page.textContent("body")).includes("ghp_e2eSecret"), "the remote's token is not shown");
  await page.click("[data-testid=source-diff-toggle]");
  await page.waitForSelector("[data-testid=source-diff]");
  const lines = await page.$$eval("[data-testid=source-diff] > div", (els) => els.map((e) => [e.className, e.textContent]));
  assert.deepEqual(lines, [
    ["diff-file", DIFF[0]], ["diff-file", DIFF[1]], ["diff-file", DIFF[2]], ["diff-hunk", DIFF[3]],
    ["diff-context", DIFF[4]], ["diff-del", DIFF[5]], ["diff-add", DIFF[6]],
  ]);
  assert.equal((await page.textContent("[data-testid=source-diff-stats]")).trim(), "1 file, +1 −1");
  await shot("run-source");
  // A run that recorded no source has no Source section.
  await page.goto(server.url + `/runs/${ids["cmp-2"]}`);
  await page.waitForSelector("text=Fields");
  assert.equal(await page.locator("[data-testid=run-source]").count(), 0);
});

test("checked runs move to the trash, come back with Restore and leave with Delete forever", async () => {
  const a = await createRun("trash-a", ["trashme"]);
  const b = await createRun("trash-b", ["trashme"]);
  const filter = "?filter=" + encodeURIComponent('sys/tags contains "trashme"');
  const total = (text) => page.waitForFunction((t) => document.querySelector("[data-testid=total]")?.textContent === t, text);
  await page.goto(server.url + "/p/e2e/vision" + filter);
  await total("2 runs");
  await page.check(`input[aria-label="select ${a}"]`);
  await page.check(`input[aria-label="select ${b}"]`);
  await page.click("button:has-text('Move to trash')");
  await total("0 runs");
  await page.click("[data-testid=trash-toggle]");
  await page.waitForURL(/trash=1/);
  await total("2 runs in the trash");
  await shot("trash");
  await page.check(`input[aria-label="select ${a}"]`);
  await page.click("button:has-text('Restore 1')");
  await total("1 runs in the trash");
  await page.check(`input[aria-label="select ${b}"]`);
  page.once("dialog", (d) => void d.accept());
  await page.click("button:has-text('Delete forever 1')");
  await total("0 runs in the trash");
  await page.click("[data-testid=trash-toggle]");
  await total("1 runs");
  assert.equal(await firstRowId(), a);
  const gone = await fetch(server.url + `/api/v1/runs/${b}`, { headers: { Authorization: `Bearer ${server.token}` } });
  assert.equal(gone.status, 404);
});

test("notebooks: the list, a rendered checkpoint, and a diff of two checkpoints", async () => {
  await page.goto(server.url + "/p/e2e/vision");
  await page.click("a:has-text('Notebooks')");
  await page.waitForURL(/\/p\/e2e\/vision\/notebooks$/);
  const row = page.locator(`[data-testid=notebooks] tr[data-path="${NB_PATH}"]`);
  assert.match(await row.textContent(), /exp\/train\.ipynb2/);
  await row.locator(`a:has-text("${NB_PATH}")`).click();
  // The latest checkpoint: markdown rendered and sanitised, code, stream, image, error.
  await page.waitForSelector("[data-testid=notebook]");
  assert.equal(await page.textContent("[data-testid=nb-markdown] h1"), "Training notes");
  assert.equal(await page.textContent("[data-testid=nb-markdown] strong"), "learning rate");
  assert.equal(await page.$$eval("[data-testid=nb-markdown] script", (s) => s.length), 0);
  assert.match(await page.textContent("[data-testid=nb-source] >> nth=0"), /print\(2\)/);
  await page.waitForFunction(() => document.querySelector("[data-testid=nb-image]")?.naturalWidth === 2);
  assert.match(await page.textContent("[data-testid=nb-error]"), /^ValueError: bad lr$/);
  assert.equal(await page.evaluate(() => window.__xss), undefined, "no script from the notebook ran");
  await shot("notebook-view");

  await page.click("a:has-text('all checkpoints')");
  await page.waitForSelector("[data-testid=checkpoints] tr[data-number='1']");
  await page.click("[data-testid=diff-selected]");
  await page.waitForURL(/\/notebooks\/diff\?/);
  await page.waitForSelector("[data-testid=diff-summary]");
  assert.equal(await page.textContent("[data-testid=diff-summary]"), "1 modified, 1 added, 0 removed, 2 unchanged");
  const cells = await page.$$eval("[data-testid=diff-cell]", (els) => els.map((e) => [e.dataset.status, e.querySelector(".nb-diff-lines")?.innerText]));
  assert.deepEqual(cells.map((c) => c[0]), ["modified", "added"]);
  assert.match(cells[0][1], /^- print\(1\)\n\+ print\(2\)\n {2}show_plot\(\)/);
  await shot("notebook-diff");
  await page.check("input[name=split]");
  await page.waitForURL(/layout=split/);
  const pairs = await page.$eval("[data-testid=diff-split]", (t) => [...t.rows].map((r) => [...r.cells].map((c) => c.textContent)));
  assert.deepEqual(pairs, [["print(1)", "print(2)"], ["show_plot()", "show_plot()"]]);
  await shot("notebook-diff-split");

  // The run started from checkpoint 1 links to it.
  await page.goto(server.url + `/runs/${ids["cmp-0"]}`);
  await page.click("[data-testid=run-notebook] a");
  await page.waitForSelector("[data-testid=checkpoint-info]");
  assert.match(await page.textContent("[data-testid=nb-source] >> nth=0"), /print\(1\)/);
  assert.equal(new URL(page.url()).searchParams.get("id"), ids.checkpoints[0]);
});

test("the usage page shows the workspace's storage against its quota and the user's rate limit", async () => {
  await page.goto(server.url + "/");
  await page.click("a:has-text('Usage')");
  const ws = page.locator("[data-testid=usage-workspaces] tr[data-workspace=e2e]");
  await ws.waitFor();
  const expected = await server.api("GET", "/api/v1/workspaces/e2e/usage");
  assert.ok(expected.used_bytes > 0);
  assert.match(await ws.locator("[data-testid=quota-label]").textContent(), /^[\d.]+ (B|KiB|MiB) of 1\.0 GiB \([\d.]+ %\)$/);
  const project = page.locator("[data-testid=usage-workspaces] tr.project-row").filter({ hasText: "vision" });
  // The count the server reports (other tests add and delete runs of this project).
  const runs = expected.projects.find((p) => p.project === "e2e/vision").runs;
  assert.ok(runs >= 1004);
  assert.match(await project.textContent(), new RegExp("vision" + runs.toLocaleString("en-US")));
  const rate = await page.textContent("[data-testid=usage-rate]");
  assert.match(rate, /alice: 1,000 requests per minute, burst 200 \(the server's default\)/);
  assert.match(rate, /\d+ of 200 requests available now/);
  await shot("usage");
});

test("a lost session brings the login back at the same URL, and signing in returns there", async () => {
  await page.goto(server.url + "/p/e2e/vision");
  await page.waitForSelector("[data-testid=run-row][data-run-id]");
  await page.context().clearCookies(); // as if the session expired
  await page.click("a:has-text('Usage')");
  await page.waitForSelector("[data-testid=login-error]");
  assert.match(await page.textContent("[data-testid=login-error]"), /Signed out by the server/);
  assert.equal(new URL(page.url()).pathname, "/usage");
  await signIn(USER, PASSWORD);
  await page.waitForSelector("[data-testid=usage-rate]");
});

test("throttled login attempts show the server's message", async () => {
  await page.click("button:has-text('Sign out')");
  await page.waitForSelector("input[name=user]");
  // 5 attempts per name at once, then one per 6 s (src/server/api_login.cc).
  // A wrong password costs an argon2id hash, which on a loaded machine can take over a second:
  // the sixth attempt may come after a refill, so keep trying (bounded) until the refusal.
  const statuses = [];
  while (statuses.length < 10 && statuses.at(-1) !== 429) {
    statuses.push(await signIn("mallory", "guess number " + statuses.length));
  }
  assert.deepEqual(statuses.slice(0, 5), [401, 401, 401, 401, 401]);
  assert.equal(statuses.at(-1), 429, `statuses: ${statuses}`);
  assert.match(await page.textContent("[data-testid=login-error]"), /too many login attempts for user 'mallory'; retry in \d+ s/);
  await shot("login-throttled");
});
