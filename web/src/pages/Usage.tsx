// Usage: the signed-in user's request rate and what is left of it (GET /api/v1/limits), storage
// used against the quota of each workspace the user can see, per project
// (GET /api/v1/workspaces/{ws}/usage), and the server's own database and file bytes (/metrics).
import { ApiError, api, getJson } from "../api/client";
import { Link } from "../components/Link";
import { fmtBytes } from "../data/format";
import { quotaShare, rateLimitText, rateUseText, type RateState, type WorkspaceUsage } from "../data/usage";
import { useAsync } from "../data/useAsync";
import { paths } from "../router";
import "./usage.css";

export function parseMetric(text: string, name: string): number | null {
  const re = new RegExp(`^${name}(?:\\{[^}]*\\})?\\s+([0-9.eE+-]+)\\s*$`, "m");
  const m = re.exec(text);
  return m ? Number(m[1]) : null;
}

type WorkspaceRow = { workspace: string; usage: WorkspaceUsage | null; error: string | null };

function QuotaBar(props: { used: number; quota: number | null }) {
  const q = quotaShare(props.used, props.quota);
  return (
    <span class="quota">
      {q.fraction !== null && (
        <span class={`quota-bar ${q.level}`} role="meter" aria-valuenow={Math.round(q.fraction * 100)} aria-valuemin={0} aria-valuemax={100}>
          <span style={{ width: `${(q.fraction * 100).toFixed(1)}%` }} />
        </span>
      )}
      <span data-testid="quota-label">{q.label}</span>
    </span>
  );
}

export function UsagePage() {
  const limits = useAsync((signal) => getJson<{ user: string; rate_limit: RateState }>("/api/v1/limits", signal), []);
  const workspaces = useAsync(async (signal): Promise<WorkspaceRow[]> => {
    const { workspaces: ws } = await api.workspaces();
    // A user with only project roles may not read the workspace's usage (403): say so per row.
    return Promise.all(
      ws.map((w) =>
        getJson<WorkspaceUsage>(`/api/v1/workspaces/${encodeURIComponent(w.name)}/usage`, signal).then(
          (usage): WorkspaceRow => ({ workspace: w.name, usage, error: null }),
          (e: unknown): WorkspaceRow => {
            if (e instanceof ApiError && e.status === 403) return { workspace: w.name, usage: null, error: "needs a role in the workspace" };
            throw e;
          },
        ),
      ),
    );
  }, []);
  const metrics = useAsync(async (signal) => {
    const r = await fetch("/metrics", { signal });
    return r.ok ? r.text() : null;
  }, []);
  const db = metrics.data ? parseMetric(metrics.data, "nereid_database_bytes") : null;
  const files = metrics.data ? parseMetric(metrics.data, "nereid_files_bytes") : null;
  const rate = limits.data?.rate_limit;

  return (
    <div class="page">
      <h1>Usage</h1>

      <h2>Your request rate</h2>
      {limits.error && <p class="error">{limits.error.message}</p>}
      {rate && (
        <div data-testid="usage-rate">
          <p>
            <b>{limits.data!.user}</b>: {rateLimitText(rate)}
          </p>
          {rateUseText(rate) && (
            <p>
              {!rate.unlimited && rate.remaining !== undefined && <QuotaBarRemaining remaining={rate.remaining} burst={rate.burst} />}{" "}
              {rateUseText(rate)}
            </p>
          )}
          <p class="hint">Over the limit, requests get HTTP 429 with Retry-After; clients wait and retry.</p>
        </div>
      )}

      <h2>Storage by workspace</h2>
      {workspaces.error && <p class="error">{workspaces.error.message}</p>}
      {workspaces.data && workspaces.data.length === 0 && <p class="muted">You have no workspace.</p>}
      {workspaces.data && workspaces.data.length > 0 && (
        <table class="plain usage" data-testid="usage-workspaces">
          <thead>
            <tr><th>Workspace / project</th><th>Runs</th><th>Used</th></tr>
          </thead>
          <tbody>
            {workspaces.data.map((w) => [
              <tr key={w.workspace} class="ws-row" data-workspace={w.workspace}>
                <td><b>{w.workspace}</b></td>
                <td class="num">{w.usage ? w.usage.projects.reduce((n, p) => n + p.runs, 0).toLocaleString("en-US") : ""}</td>
                <td>{w.usage ? <QuotaBar used={w.usage.used_bytes} quota={w.usage.quota_bytes} /> : <span class="muted">{w.error}</span>}</td>
              </tr>,
              ...(w.usage?.projects ?? []).map((p) => {
                const name = p.project.includes("/") ? p.project.slice(p.project.indexOf("/") + 1) : p.project;
                return (
                  <tr key={`${w.workspace}/${p.project}`} class="project-row" data-project={p.project}>
                    <td class="indent"><Link href={paths.runs(w.workspace, name)}>{name}</Link></td>
                    <td class="num">{p.runs.toLocaleString("en-US")}</td>
                    <td class="num">{fmtBytes(p.used_bytes)}</td>
                  </tr>
                );
              }),
            ])}
          </tbody>
        </table>
      )}
      <p class="hint">
        A batch that would take a workspace past its quota is refused whole (HTTP 507) and kept in the client's spool until
        the quota is raised (<code>nereid admin limits quota WORKSPACE BYTES</code>).
      </p>

      {metrics.data && (
        <>
          <h2>Storage on this server</h2>
          <table class="plain" data-testid="usage-storage">
            <tbody>
              <tr><td>Database</td><td>{db === null ? "—" : fmtBytes(db)}</td></tr>
              <tr><td>Files</td><td>{files === null ? "—" : fmtBytes(files)}</td></tr>
            </tbody>
          </table>
        </>
      )}
    </div>
  );
}

function QuotaBarRemaining(props: { remaining: number; burst: number }) {
  const f = Math.max(0, Math.min(1, props.remaining / Math.max(1, props.burst)));
  return (
    <span class={`quota-bar ${f < 0.1 ? "full" : "ok"}`} role="meter" aria-valuenow={Math.round(f * 100)} aria-valuemin={0} aria-valuemax={100}>
      <span style={{ width: `${(f * 100).toFixed(1)}%` }} />
    </span>
  );
}
