// Starts the real `nereid` binary on a free loopback port with a fresh data directory, and seeds
// it through the public HTTP API, for the end-to-end tests.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const PORT_LINE = /serving the UI and HTTP API at (http:\/\/127\.0\.0\.1:\d+)\//;

// `data`: an existing data directory to serve (kept on stop) instead of a fresh one.
export async function startServer(bin = process.env.NEREID_BIN, { data: existing } = {}) {
  if (!bin) throw new Error("set NEREID_BIN to the nereid binary");
  const data = existing ?? mkdtempSync(join(tmpdir(), "nereid-e2e-"));
  const proc = spawn(bin, ["server", "--data", data, "--port", "0", "--host", "127.0.0.1", "--no-access-log", "--sync", "normal"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  proc.stderr.on("data", (d) => (err += d));
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in 30 s:\n${out}\n${err}`)), 30_000);
    proc.stdout.on("data", (d) => {
      out += d;
      const m = PORT_LINE.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    proc.on("exit", (code) => reject(new Error(`server exited with ${code}:\n${out}\n${err}`)));
  });
  const token = readFileSync(join(data, "admin.token"), "utf8").trim();
  const api = async (method, path, body) => {
    const r = await fetch(url + path, {
      method,
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${text.slice(0, 300)}`);
    return JSON.parse(text);
  };
  // POST /api/v1/files with raw bytes: the file's {sha256, size}.
  const upload = async (bytes) => {
    const r = await fetch(url + "/api/v1/files", { method: "POST", headers: { Authorization: `Bearer ${token}` }, body: bytes });
    if (!r.ok) throw new Error(`upload: ${r.status} ${(await r.text()).slice(0, 300)}`);
    return r.json();
  };
  let seq = 0;
  const batch = (runId, operations) => api("POST", `/api/v1/runs/${runId}/batches`, { writerId: "e2e-seed", sequence: String(++seq), operations });
  return {
    url,
    token,
    data,
    api,
    batch,
    upload,
    stop: async ({ keep = existing !== undefined } = {}) => {
      proc.kill("SIGTERM");
      await new Promise((r) => (proc.exitCode !== null ? r() : proc.on("exit", r)));
      if (!keep) rmSync(data, { recursive: true, force: true });
    },
  };
}

/** Runs `fn` over `items` with at most `n` at a time. */
export async function pool(items, n, fn) {
  const out = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i], i);
      }
    }),
  );
  return out;
}
