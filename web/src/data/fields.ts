// Field names for completion and the column picker. The API has no per-project field list yet, so
// the UI unions the fields of a few runs of the current page (the first ones, which the user
// sees), plus the sys/ fields every run has.
import { api } from "../api/client";
import type { Field } from "../api/types";
import type { KnownField } from "./completion";

export const SYS_FIELDS: KnownField[] = [
  "sys/creation_time", "sys/custom_run_id", "sys/description", "sys/failed", "sys/id",
  "sys/modification_time", "sys/name", "sys/owner", "sys/ping_time", "sys/size", "sys/state", "sys/tags",
].map((path) => ({ path, type: path.endsWith("time") ? "datetime" : path === "sys/tags" ? "string_set" : path === "sys/size" ? "int" : path === "sys/failed" ? "bool" : "string" }));

export function mergeFields(lists: readonly (readonly Field[])[]): KnownField[] {
  const byPath = new Map<string, KnownField>();
  for (const f of SYS_FIELDS) byPath.set(f.path, f);
  for (const list of lists) for (const f of list) if (!byPath.has(f.path)) byPath.set(f.path, { path: f.path, type: f.type });
  return [...byPath.values()].sort((a, b) => a.path.localeCompare(b.path));
}

export async function sampleFields(runIds: readonly string[], signal?: AbortSignal): Promise<KnownField[]> {
  const lists = await Promise.all(runIds.slice(0, 5).map((id) => api.fields(id, undefined, signal).then((r) => r.fields, () => [])));
  return mergeFields(lists);
}

/** Column names offered for a field: the value, or a series' aggregates. */
export function columnChoices(fields: readonly KnownField[]): string[] {
  const out: string[] = [];
  for (const f of fields) {
    if (f.type === "float_series") out.push(`${f.path}:last`, `${f.path}:min`, `${f.path}:max`, `${f.path}:count`);
    else if (f.type === "string_series" || f.type === "file_series") out.push(`${f.path}:count`);
    else out.push(f.path);
  }
  return out;
}
