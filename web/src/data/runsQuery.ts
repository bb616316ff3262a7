// The runs table's requests as a function of its view: the table (pages/Runs.tsx) and the early
// request in index.html (src/early/main.ts) both use it, so the first page they ask for is the
// same URL.
import { runsUrl } from "../api/urls";
import type { RunsView } from "./viewState";

/** Rows in the first page: small, so the first rows come back quickly (docs/performance.md). */
export const FIRST_PAGE = 100;

/** A later page: `limit` rows by `cursor`, or from `offset` when there is no cursor. */
export interface PageAt {
  limit: number;
  cursor: string | null;
  start: number;
}

export function runsPageUrl(ws: string, project: string, view: RunsView, at: PageAt | null): string {
  return runsUrl(ws, project, {
    filter: view.filter,
    sort: view.sort,
    order: view.order,
    columns: view.columns.join(","),
    limit: at ? at.limit : FIRST_PAGE,
    cursor: at?.cursor,
    offset: at && !at.cursor ? at.start : null,
    trashed: view.trash ? "true" : null,
  });
}
