// Shapes of the server's JSON (docs/http-api.md). Floats may be the strings "NaN", "Infinity",
// "-Infinity" (the protobuf JSON mapping); `num` turns them into numbers.

export type JsonFloat = number | "NaN" | "Infinity" | "-Infinity";

export interface FileRef {
  sha256: string;
  name: string;
  content_type: string;
  size: number;
}

export interface Run {
  id: string;
  project: string;
  custom_run_id?: string;
  name: string;
  description: string;
  state: "running" | "succeeded" | "failed" | "aborted" | string;
  failed: boolean;
  creation_time: string;
  modification_time: string;
  ping_time: string;
  owner: string;
  tags: string[];
  size: number;
  trashed?: boolean;
  trashed_time?: string | null;
  columns?: Record<string, unknown>;
}

export interface RunsPage {
  runs: Run[];
  /** Only in the first page (no cursor, no offset): keep it for the later pages. */
  total?: number;
  next_cursor: string | null;
}

export type FieldType =
  | "float"
  | "int"
  | "bool"
  | "string"
  | "datetime"
  | "string_set"
  | "file"
  | "file_set"
  | "float_series"
  | "string_series"
  | "file_series";

export interface Field {
  path: string;
  type: FieldType;
  value?: unknown;
  count?: number;
  last_step?: number;
  last_time?: string;
  last?: JsonFloat | string | FileRef;
  min?: JsonFloat;
  max?: JsonFloat;
}

export interface Bucket {
  from: number;
  to: number;
  count: number;
  min: JsonFloat;
  max: JsonFloat;
  mean: JsonFloat;
  first: JsonFloat;
  last: JsonFloat;
  first_step: number;
  last_step: number;
  nan_count?: number;
}

export interface SeriesPage<V = JsonFloat> {
  path: string;
  type: FieldType;
  steps: number[];
  timestamps_us: number[];
  values: V[];
  next_cursor: string | null;
}

export interface Workspace {
  name: string;
}

export interface Project {
  workspace: string;
  name: string;
  key: string;
  creation_time?: string;
  run_count?: number;
}

export function num(v: unknown): number {
  if (typeof v === "number") return v;
  if (v === "NaN") return NaN;
  if (v === "Infinity") return Infinity;
  if (v === "-Infinity") return -Infinity;
  return NaN;
}
