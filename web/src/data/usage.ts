// The usage page's figures (GET /api/v1/limits and GET /api/v1/workspaces/{ws}/usage,
// docs/http-api.md "Rate limits" and "Storage quotas") turned into what it shows.
import { fmtBytes } from "./format";

export interface RateState {
  requests_per_minute: number;
  burst: number;
  source: string; // "user", "workspace NAME", "server default", "server admin"
  unlimited: boolean;
  remaining?: number;
  reset_s?: number;
}

export interface WorkspaceUsage {
  workspace: string;
  used_bytes: number;
  quota_bytes: number | null;
  projects: { project: string; runs: number; used_bytes: number }[];
}

export interface QuotaShare {
  fraction: number | null; // used / quota, capped at 1; null without a quota
  label: string;
  level: "ok" | "warn" | "full";
}

/** At 90 % a workspace is close to its quota: batches that grow it will soon be refused (507). */
export const QUOTA_WARN = 0.9;

export function quotaShare(used: number, quota: number | null): QuotaShare {
  if (quota === null) return { fraction: null, label: `${fmtBytes(used)} (no quota)`, level: "ok" };
  const raw = quota > 0 ? used / quota : used > 0 ? Infinity : 0;
  const fraction = Math.min(1, raw);
  const pct = raw === Infinity ? "" : ` (${(raw * 100).toFixed(raw < 0.1 ? 1 : 0)} %)`;
  return {
    fraction,
    label: `${fmtBytes(used)} of ${fmtBytes(quota)}${pct}`,
    level: raw >= 1 ? "full" : raw >= QUOTA_WARN ? "warn" : "ok",
  };
}

function sourceText(source: string): string {
  if (source === "user") return "set for you";
  if (source === "server default") return "the server's default";
  if (source.startsWith("workspace ")) return `from ${source}`;
  return source;
}

/** "60 requests per minute, burst 5 (set for you)" or "unlimited (server admin)". */
export function rateLimitText(r: RateState): string {
  if (r.unlimited) return `unlimited (${sourceText(r.source)})`;
  return `${r.requests_per_minute.toLocaleString("en-US")} requests per minute, burst ${r.burst.toLocaleString("en-US")} (${sourceText(r.source)})`;
}

/** "195 of 200 requests available now; all again in 3 s", or null when unlimited. */
export function rateUseText(r: RateState): string | null {
  if (r.unlimited || r.remaining === undefined) return null;
  const burst = Math.max(1, r.burst);
  const again = r.reset_s ? `; all again in ${r.reset_s} s` : "";
  return `${r.remaining.toLocaleString("en-US")} of ${burst.toLocaleString("en-US")} requests available now${again}`;
}
