// The one place the UI talks HTTP: JSON GETs and POSTs with the auth provider's headers, errors
// turned into ApiError carrying the server's code and message (which names a filter's position).
import { auth } from "../auth/session";
import { takeEarly } from "./early";
import type { Bucket, Field, FieldType, FileRef, Project, Run, RunsPage, SeriesPage, Workspace } from "./types";
import { qs } from "./urls";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

type Listener = (message: string) => void;
const unauthListeners = new Set<Listener>();
/** Called on every 401 (with the server's message) so the app can show the login page. */
export function onUnauthenticated(l: Listener): () => void {
  unauthListeners.add(l);
  return () => unauthListeners.delete(l);
}

async function request(method: string, url: string, body?: unknown, signal?: AbortSignal): Promise<Response> {
  const headers: Record<string, string> = { ...auth.headers() };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const init: RequestInit = { method, headers };
  if (body !== undefined) init.body = JSON.stringify(body);
  if (signal) init.signal = signal;
  // The runs table's first page may already be on its way (index.html's early request).
  const early = method === "GET" && body === undefined ? await takeEarly(url) : undefined;
  const r = early ?? (await fetch(url, init));
  if (!r.ok) {
    let code = "http_" + r.status;
    let message = `${method} ${url}: HTTP ${r.status}`;
    try {
      const j = (await r.json()) as { error?: { code?: string; message?: string } };
      if (j.error?.code) code = j.error.code;
      if (j.error?.message) message = j.error.message;
    } catch {
      /* not JSON: keep the generic message */
    }
    if (r.status === 401) {
      auth.clear();
      unauthListeners.forEach((l) => l(message));
    }
    throw new ApiError(r.status, code, message);
  }
  return r;
}

export async function getJson<T>(url: string, signal?: AbortSignal): Promise<T> {
  return (await (await request("GET", url, undefined, signal)).json()) as T;
}

export async function postJson<T>(url: string, body: unknown): Promise<T> {
  return (await (await request("POST", url, body)).json()) as T;
}

export async function getBlob(url: string, signal?: AbortSignal): Promise<Blob> {
  return (await request("GET", url, undefined, signal)).blob();
}

const enc = encodeURIComponent;

export const api = {
  workspaces: () => getJson<{ workspaces: Workspace[] }>("/api/v1/workspaces"),
  projects: (ws: string) => getJson<{ projects: Project[] }>(`/api/v1/workspaces/${enc(ws)}/projects`),
  /** A page of runs; the URL comes from data/runsQuery.ts (shared with the early request). */
  runsAt: (url: string, signal?: AbortSignal) => getJson<RunsPage>(url, signal),
  projectFields: (ws: string, project: string, p: { prefix?: string; limit?: number }, signal?: AbortSignal) =>
    getJson<{ fields: { path: string; type: FieldType }[]; truncated: boolean }>(
      `/api/v1/projects/${enc(ws)}/${enc(project)}/fields${qs(p)}`,
      signal,
    ),
  /** The trash (docs/http-api.md "The trash"): all or nothing per request. */
  changeRuns: (ws: string, project: string, action: "trash" | "restore" | "delete", runs: string[]) =>
    postJson<{ trashed?: string[]; restored?: string[]; deleted?: string[]; freed_bytes?: number }>(
      `/api/v1/projects/${enc(ws)}/${enc(project)}/runs/${action}`,
      { runs },
    ),
  run: (id: string, signal?: AbortSignal) => getJson<Run>(`/api/v1/runs/${enc(id)}`, signal),
  fields: (id: string, prefix?: string, signal?: AbortSignal) =>
    getJson<{ run_id: string; fields: Field[] }>(`/api/v1/runs/${enc(id)}/fields${qs({ prefix })}`, signal),
  buckets: (id: string, path: string, p: { from?: number; to?: number; n: number }, signal?: AbortSignal) =>
    getJson<{ path: string; buckets: Bucket[] }>(
      `/api/v1/runs/${enc(id)}/series/buckets${qs({ path, from: p.from, to: p.to, n: p.n })}`,
      signal,
    ),
  series: <V = number>(
    id: string,
    path: string,
    p: { from?: number; to?: number; limit?: number; cursor?: string | null },
    signal?: AbortSignal,
  ) => getJson<SeriesPage<V>>(`/api/v1/runs/${enc(id)}/series${qs({ path, ...p })}`, signal),
  fileUrl: (id: string, path: string, step?: number) => `/api/v1/runs/${enc(id)}/file${qs({ path, step })}`,
  batch: (id: string, body: unknown) => postJson<{ sequence: number; duplicate: boolean }>(`/api/v1/runs/${enc(id)}/batches`, body),
  limits: () => getJson<unknown>("/api/v1/limits"),
};

export type { FileRef };
