// Which rows of a virtualised list to draw: the visible ones, and more of them in the direction
// of a scroll than behind it (pages/Runs.tsx explains the numbers).

export interface DrawMargins {
  /** Rows beyond the visible ones either side while the list is still. */
  still: number;
  /** Rows beyond the visible ones in the direction of a scroll. */
  ahead: number;
  /** Rows beyond the visible ones behind a scroll. */
  behind: number;
}

/**
 * The indexes to draw for the visible rows `start..end` (inclusive) of a list of `count` rows,
 * given the scroll's direction ("forward" = towards the end; null = still).
 */
export function rowsToDraw(start: number, end: number, count: number, direction: "forward" | "backward" | null, m: DrawMargins): number[] {
  const before = direction === "forward" ? m.behind : direction === "backward" ? m.ahead : m.still;
  const after = direction === "forward" ? m.ahead : direction === "backward" ? m.behind : m.still;
  const out: number[] = [];
  const last = Math.min(end + after, count - 1);
  for (let i = Math.max(0, start - before); i <= last; i++) out.push(i);
  return out;
}
