// API URLs built in one place, with no imports from the app: the early request script inlined
// into index.html (src/early/main.ts) must ask for byte-for-byte the URL the runs table will ask
// for, or the app cannot reuse its answer.

export type Query = Record<string, string | number | undefined | null>;

/** `?k=v&...` of the set, non-empty parameters, in the object's order; "" when none. */
export function qs(params: Query): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "") p.set(k, String(v));
  const s = p.toString();
  return s ? "?" + s : "";
}

export interface RunsQuery {
  filter?: string;
  sort?: string;
  order?: string;
  columns?: string;
  limit?: number;
  cursor?: string | null;
  offset?: number | null;
  trashed?: "true" | null;
}

export function runsUrl(ws: string, project: string, p: RunsQuery): string {
  const enc = encodeURIComponent;
  // Fixed key order (not the caller's), so that equal queries give equal URLs.
  const ordered: Query = {
    filter: p.filter,
    sort: p.sort,
    order: p.order,
    columns: p.columns,
    limit: p.limit,
    cursor: p.cursor,
    offset: p.offset,
    trashed: p.trashed,
  };
  return `/api/v1/projects/${enc(ws)}/${enc(project)}/runs${qs(ordered)}`;
}
