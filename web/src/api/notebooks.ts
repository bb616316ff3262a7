// The notebooks endpoints (docs/http-api.md "Notebooks"), through the one HTTP client.
import type { ServerDiff } from "../data/notebookDiff";
import { getJson } from "./client";

export interface NotebookSummary {
  path: string;
  creation_time: string;
  checkpoints: number;
  last_checkpoint_time: string;
}

export interface Checkpoint {
  project: string;
  path: string;
  id: string;
  sha256: string;
  size: number;
  number: number;
  creation_time: string;
  created_by: string;
}

const enc = encodeURIComponent;
const base = (ws: string, p: string) => `/api/v1/projects/${enc(ws)}/${enc(p)}/notebooks`;

export const notebooksApi = {
  list: (ws: string, p: string, signal?: AbortSignal) => getJson<{ notebooks: NotebookSummary[] }>(base(ws, p), signal),
  /** Oldest first. */
  checkpoints: (ws: string, p: string, path: string, signal?: AbortSignal) =>
    getJson<{ path: string; checkpoints: Checkpoint[] }>(`${base(ws, p)}/checkpoints?path=${enc(path)}`, signal),
  /** The .ipynb JSON itself. */
  checkpoint: (ws: string, p: string, path: string, id: string, signal?: AbortSignal) =>
    getJson<unknown>(`${base(ws, p)}/checkpoints/${enc(id)}?path=${enc(path)}`, signal),
  diff: (ws: string, p: string, path: string, from: string, to: string, signal?: AbortSignal) =>
    getJson<ServerDiff>(`${base(ws, p)}/diff?path=${enc(path)}&from=${enc(from)}&to=${enc(to)}`, signal),
};
