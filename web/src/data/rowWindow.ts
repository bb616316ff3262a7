// Which rows of a long server-sorted list (the runs table) to fetch next, and how. Rows are kept
// by position, with holes: scrolling on continues a loaded stretch with the server's cursor (a
// keyset seek), while a jump far away (dragging the scrollbar to the middle of 100k runs) asks for
// the rows at that position with `offset` in one request instead of walking every page before it
// (docs/http-api.md "The runs table").

export interface RowWindow<T> {
  /** Rows by their position in the list; undefined where not loaded yet. */
  rows: (T | undefined)[];
  /** The cursor that continues the list at a position (the end of a loaded page). */
  cursors: Map<number, string>;
  /** How many rows are loaded. */
  loaded: number;
}

/** One request: by cursor when `cursor` is set, else by `offset` (= start). */
export interface RowFetch {
  start: number;
  limit: number;
  cursor: string | null;
}

export interface FetchSizes {
  /** Rows per request (the server allows 1..1000). */
  page: number;
  /**
   * Rows beyond the rendered ones (either side) that should be loaded before the user reaches
   * them; at most half the loaded rows, so a table just opened does not load its second page
   * before the user scrolls (which would delay a sort or filter applied at once).
   */
  prefetch: number;
}

export function emptyWindow<T>(): RowWindow<T> {
  return { rows: [], cursors: new Map(), loaded: 0 };
}

/** The window with `rows` placed from `start`, and `next` (if any) as the cursor after them. */
export function mergePage<T>(w: RowWindow<T>, start: number, rows: T[], next: string | null): RowWindow<T> {
  const out = w.rows.slice();
  let loaded = w.loaded;
  rows.forEach((r, i) => {
    if (out[start + i] === undefined) loaded++;
    out[start + i] = r;
  });
  const cursors = new Map(w.cursors);
  if (next) cursors.set(start + rows.length, next);
  return { rows: out, cursors, loaded };
}

/**
 * The list's length after a request for `fetch.limit` rows from `fetch.start` brought `received`
 * rows and the cursor `next`. Fewer rows than asked and no cursor mean the list ends there: runs
 * left it since the first page counted them (moved to the trash, or a filter on a changing value)
 * and the rows past its end can never be filled, so asking for them again would never stop.
 */
export function totalAfter(total: number, fetch: RowFetch, received: number, next: string | null): number {
  if (next || received >= fetch.limit) return total;
  return Math.min(total, fetch.start + received);
}

/**
 * The request that fills the most urgent missing rows around the rendered rows first..last (the
 * rendered rows themselves, then those below, then those above), or null when nothing near them
 * is missing. `total` is the list's length.
 */
export function planFetch<T>(w: RowWindow<T>, total: number, first: number, last: number, sizes: FetchSizes): RowFetch | null {
  if (total <= 0) return null;
  first = Math.max(0, Math.min(first, total - 1));
  last = Math.max(first, Math.min(last, total - 1));
  const ahead = Math.min(sizes.prefetch, Math.floor(w.loaded / 2));
  const missing = (a: number, b: number): number => {
    for (let i = a; i < b; i++) if (w.rows[i] === undefined) return i;
    return -1;
  };
  let m = missing(first, last + 1);
  if (m < 0) m = missing(last + 1, Math.min(total, last + 1 + ahead));
  if (m < 0) m = missing(Math.max(0, first - ahead), first);
  if (m < 0) return null;
  // The hole around m, looked at no further than a page either way.
  let gapStart = m;
  while (gapStart > 0 && gapStart > m - sizes.page && w.rows[gapStart - 1] === undefined) gapStart--;
  let gapEnd = m + 1;
  while (gapEnd < total && gapEnd < m + sizes.page && w.rows[gapEnd] === undefined) gapEnd++;
  const cursor = w.cursors.get(gapStart);
  if (cursor !== undefined && (gapStart === 0 || w.rows[gapStart - 1] !== undefined)) {
    return { start: gapStart, limit: Math.min(sizes.page, gapEnd - gapStart), cursor };
  }
  // A short hole that loaded rows close from below (the user scrolls up from a jump): fill it
  // with one page that ends where they begin, not with pages the size of the hole's rest.
  if (gapEnd < total && w.rows[gapEnd] !== undefined) {
    const start = Math.max(gapStart, gapEnd - sizes.page);
    return { start, limit: gapEnd - start, cursor: null };
  }
  return { start: m, limit: Math.min(sizes.page, gapEnd - m), cursor: null };
}
