// The server's cell-by-cell diff (GET …/notebooks/diff, docs/http-api.md) turned into what the
// diff page draws: runs of unchanged cells folded into one row, and for each added, removed or
// modified cell a unified line diff of its source and of its text outputs.

export type CellStatus = "unchanged" | "modified" | "added" | "removed";

export interface ServerDiffCell {
  status: CellStatus;
  from_index: number | null;
  to_index: number | null;
  cell_type: string;
  source?: { from: string | null; to: string | null };
  outputs?: { from: string[] | null; to: string[] | null };
}

export interface ServerDiff {
  path: string;
  from: string;
  to: string;
  cells: ServerDiffCell[];
  summary: Record<CellStatus, number>;
}

export interface DiffLine {
  op: " " | "-" | "+";
  text: string;
}

export type DiffRow =
  | { kind: "unchanged"; count: number; fromIndex: number | null; toIndex: number | null }
  | {
      kind: "cell";
      status: Exclude<CellStatus, "unchanged">;
      fromIndex: number | null;
      toIndex: number | null;
      cellType: string;
      source: DiffLine[] | null; // null: the source did not change
      outputs: DiffLine[] | null; // null: the text outputs did not change
    };

function splitLines(s: string): string[] {
  if (s === "") return [];
  const lines = s.split("\n");
  if (lines[lines.length - 1] === "") lines.pop(); // a final "\n" ends the last line
  return lines;
}

// Past this many line pairs the LCS table would be large; such a cell shows as all removed then
// all added, which is still correct, just less precise.
const MAX_LCS_CELLS = 4_000_000;

/** Unified line diff (LCS) of two texts; `null` on a side means the side does not exist. */
export function diffLines(from: string | null, to: string | null): DiffLine[] {
  const a = splitLines(from ?? "");
  const b = splitLines(to ?? "");
  const n = a.length;
  const m = b.length;
  if (n * m > MAX_LCS_CELLS) {
    return [...a.map((text): DiffLine => ({ op: "-", text })), ...b.map((text): DiffLine => ({ op: "+", text }))];
  }
  // lcs[i][j]: length of the LCS of a[i..] and b[j..], in one flat array.
  const w = m + 1;
  const lcs = new Uint32Array((n + 1) * w);
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i * w + j] = a[i] === b[j] ? lcs[(i + 1) * w + j + 1]! + 1 : Math.max(lcs[(i + 1) * w + j]!, lcs[i * w + j + 1]!);
    }
  }
  const out: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      out.push({ op: " ", text: a[i]! });
      i++;
      j++;
    } else if (lcs[(i + 1) * w + j]! >= lcs[i * w + j + 1]!) {
      out.push({ op: "-", text: a[i++]! });
    } else {
      out.push({ op: "+", text: b[j++]! });
    }
  }
  while (i < n) out.push({ op: "-", text: a[i++]! });
  while (j < m) out.push({ op: "+", text: b[j++]! });
  return out;
}

const joinOutputs = (o: string[] | null | undefined): string | null => (o == null ? null : o.join(""));

/** The rows of the diff page, in notebook order. */
export function diffRows(diff: Pick<ServerDiff, "cells">): DiffRow[] {
  const rows: DiffRow[] = [];
  for (const c of diff.cells) {
    if (c.status === "unchanged") {
      const last = rows[rows.length - 1];
      if (last?.kind === "unchanged") last.count++;
      else rows.push({ kind: "unchanged", count: 1, fromIndex: c.from_index, toIndex: c.to_index });
      continue;
    }
    rows.push({
      kind: "cell",
      status: c.status,
      fromIndex: c.from_index,
      toIndex: c.to_index,
      cellType: c.cell_type,
      source: c.source ? diffLines(c.source.from, c.source.to) : null,
      outputs: c.outputs ? diffLines(joinOutputs(c.outputs.from), joinOutputs(c.outputs.to)) : null,
    });
  }
  return rows;
}

export interface SplitRow {
  left: string | null; // null: no line on this side
  right: string | null;
  changed: boolean;
}

/**
 * The same diff for a side-by-side view: equal lines face each other, and each block of removed
 * lines faces the block of added lines that follows it, line by line in order.
 */
export function splitRows(lines: DiffLine[]): SplitRow[] {
  const rows: SplitRow[] = [];
  let i = 0;
  while (i < lines.length) {
    if (lines[i]!.op === " ") {
      rows.push({ left: lines[i]!.text, right: lines[i]!.text, changed: false });
      i++;
      continue;
    }
    const del: string[] = [];
    const ins: string[] = [];
    while (i < lines.length && lines[i]!.op === "-") del.push(lines[i++]!.text);
    while (i < lines.length && lines[i]!.op === "+") ins.push(lines[i++]!.text);
    for (let k = 0; k < Math.max(del.length, ins.length); k++) {
      rows.push({ left: del[k] ?? null, right: ins[k] ?? null, changed: true });
    }
  }
  return rows;
}
