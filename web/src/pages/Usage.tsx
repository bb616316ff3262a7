// Usage: what the server exposes today. Storage figures come from /metrics (database and file
// bytes); the limits endpoint (GET /api/v1/limits: quotas and the user's rate limit) arrives with
// the accounts work, and is shown as soon as the server answers it.
import { ApiError, api } from "../api/client";
import { fmtBytes } from "../data/format";
import { useAsync } from "../data/useAsync";

export function parseMetric(text: string, name: string): number | null {
  const re = new RegExp(`^${name}(?:\\{[^}]*\\})?\\s+([0-9.eE+-]+)\\s*$`, "m");
  const m = re.exec(text);
  return m ? Number(m[1]) : null;
}

export function UsagePage() {
  const metrics = useAsync(async (signal) => (await fetch("/metrics", { signal })).text(), []);
  const limits = useAsync(
    () =>
      api.limits().then(
        (v) => ({ available: true as const, value: v }),
        (e: unknown) => {
          if (e instanceof ApiError && e.status === 404) return { available: false as const, value: null };
          throw e;
        },
      ),
    [],
  );
  const db = metrics.data ? parseMetric(metrics.data, "nereid_database_bytes") : null;
  const files = metrics.data ? parseMetric(metrics.data, "nereid_files_bytes") : null;
  return (
    <div class="page">
      <h1>Usage</h1>
      <h2>Storage on this server</h2>
      {metrics.error && <p class="error">{metrics.error.message}</p>}
      <table class="plain" data-testid="usage-storage">
        <tbody>
          <tr><td>Database</td><td>{db === null ? "—" : fmtBytes(db)}</td></tr>
          <tr><td>Files</td><td>{files === null ? "—" : fmtBytes(files)}</td></tr>
        </tbody>
      </table>
      <h2>Quotas and rate limits</h2>
      {limits.error && <p class="error">{limits.error.message}</p>}
      {limits.data && !limits.data.available && (
        <p class="muted">This server does not report quotas or rate limits yet (no <code>GET /api/v1/limits</code>).</p>
      )}
      {limits.data?.available && <pre class="mono">{JSON.stringify(limits.data.value, null, 2)}</pre>}
    </div>
  );
}
