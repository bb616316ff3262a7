// Field-name completion for the filter box (docs/filter-language.md). Works on the text before
// the cursor: finds the word being typed, and offers field paths (series with an aggregate
// suffix) or, after "path:", the aggregate names.
import type { FieldType } from "../api/types";

export interface KnownField {
  path: string;
  type: FieldType;
}

export interface Completion {
  /** text that replaces [from, to) */
  insert: string;
  label: string;
  from: number;
  to: number;
}

export const AGGREGATES = ["last", "min", "max", "count"] as const;
const KEYWORDS = new Set(["and", "or", "not", "exists", "contains", "matches", "true", "false"]);
const BARE = /^[A-Za-z0-9_./@+-]+$/;
const WORD_CHAR = /[A-Za-z0-9_./@+\-:]/;

/** A path as written in a filter: bare when it can be, else in backticks. */
export function quoteField(path: string): string {
  if (BARE.test(path) && !KEYWORDS.has(path.toLowerCase())) return path;
  return "`" + path.replace(/\\/g, "\\\\").replace(/`/g, "\\`") + "`";
}

function isSeries(t: FieldType): boolean {
  return t === "float_series" || t === "string_series" || t === "file_series";
}

/** True when `pos` lies inside a double-quoted string or a backtick path of `text`. */
function insideLiteral(text: string, pos: number): boolean {
  let quote: string | null = null;
  for (let i = 0; i < pos; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === "\\") i++;
      else if (c === quote) quote = null;
    } else if (c === '"' || c === "`") {
      quote = c;
    }
  }
  return quote !== null;
}

export function complete(text: string, cursor: number, fields: readonly KnownField[], max = 12): Completion[] {
  if (insideLiteral(text, cursor)) return [];
  let from = cursor;
  while (from > 0 && WORD_CHAR.test(text[from - 1]!)) from--;
  let to = cursor;
  while (to < text.length && WORD_CHAR.test(text[to]!)) to++;
  const word = text.slice(from, cursor);
  if (word.length === 0) return [];
  const colon = word.indexOf(":");
  if (colon >= 0) {
    const path = word.slice(0, colon);
    const agg = word.slice(colon + 1).toLowerCase();
    // A path may be listed once per type it was logged with; any series type takes aggregates.
    if (!fields.some((k) => k.path === path && isSeries(k.type))) return [];
    return AGGREGATES.filter((a) => a.startsWith(agg)).map((a) => ({
      insert: `${path}:${a}`,
      label: `${path}:${a}`,
      from,
      to,
    }));
  }
  const lower = word.toLowerCase();
  if (KEYWORDS.has(lower)) return [];
  const starts: KnownField[] = [];
  const contains: KnownField[] = [];
  for (const f of fields) {
    const p = f.path.toLowerCase();
    if (p.startsWith(lower)) starts.push(f);
    else if (p.includes(lower)) contains.push(f);
  }
  const out: Completion[] = [];
  const seen = new Set<string>();
  for (const f of [...starts, ...contains]) {
    if (out.length >= max) break;
    if (f.path === word) continue;
    const q = quoteField(f.path);
    const c = isSeries(f.type) ? { insert: `${q}:last`, label: `${f.path}:last`, from, to } : { insert: q, label: f.path, from, to };
    // A path logged as a float in one run and a string in another is one completion.
    if (seen.has(c.insert)) continue;
    seen.add(c.insert);
    out.push(c);
  }
  return out;
}

/** Applies a completion; returns the new text and cursor. */
export function applyCompletion(text: string, c: Completion): { text: string; cursor: number } {
  const next = text.slice(0, c.from) + c.insert + text.slice(c.to);
  return { text: next, cursor: c.from + c.insert.length };
}

/** The 0-based byte offset a server filter error names ("filter: at position 12: ..."), if any. */
export function errorPosition(message: string): number | null {
  const m = /at position (\d+)/.exec(message);
  return m ? Number(m[1]) : null;
}

/**
 * The server counts positions in UTF-8 bytes; the input box counts UTF-16 code units. Converts a
 * byte offset in `text` to a string index (clamped to the text's length).
 */
export function byteOffsetToIndex(text: string, byteOffset: number): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    if (bytes >= byteOffset) return i;
    const c = text.codePointAt(i)!;
    bytes += c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
    if (c >= 0x10000) i++;
  }
  return text.length;
}
