// Field names for completion and the column picker: the project's field list from the server
// (GET /projects/{ws}/{p}/fields, docs/http-api.md), which covers every run of the project, not
// only those on screen. A path logged with two types in different runs comes once per type.
import { api } from "../api/client";
import type { KnownField } from "./completion";

/** What the server lists for every project, so the table has names before the list arrives. */
export const SYS_FIELDS: KnownField[] = [
  "sys/creation_time", "sys/custom_run_id", "sys/description", "sys/failed", "sys/id",
  "sys/modification_time", "sys/name", "sys/owner", "sys/ping_time", "sys/size", "sys/state", "sys/tags",
].map((path) => ({ path, type: path.endsWith("time") ? "datetime" : path === "sys/tags" ? "string_set" : path === "sys/size" ? "int" : path === "sys/failed" ? "bool" : "string" }));

/** At most this many names are fetched; a project with more offers the first ones by path. */
export const FIELD_LIST_LIMIT = 10000;

export async function projectFields(ws: string, project: string, signal?: AbortSignal): Promise<{ fields: KnownField[]; truncated: boolean }> {
  const r = await api.projectFields(ws, project, { limit: FIELD_LIST_LIMIT }, signal);
  return { fields: r.fields.map((f) => ({ path: f.path, type: f.type })), truncated: r.truncated };
}

/** Column names offered for the fields: the value, or a series' aggregates; each name once. */
export function columnChoices(fields: readonly KnownField[]): string[] {
  const out = new Set<string>();
  for (const f of fields) {
    if (f.type === "float_series") for (const a of ["last", "min", "max", "count"]) out.add(`${f.path}:${a}`);
    else if (f.type === "string_series" || f.type === "file_series") out.add(`${f.path}:count`);
    else out.add(f.path);
  }
  return [...out];
}
