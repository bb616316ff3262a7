// On a run page: the notebook checkpoint the run was started from, when the client recorded it
// (the Python client writes source_code/notebook/path and source_code/notebook/checkpoint_id;
// an offline run has only the path, which then opens the notebook's latest checkpoint).
import type { Field } from "../api/types";
import { notebookPaths } from "../data/notebookView";
import { Link } from "./Link";

export function notebookOf(fields: Field[]): { path: string; id: string | undefined } | null {
  const get = (p: string) => {
    const v = fields.find((f) => f.path === p)?.value;
    return typeof v === "string" && v ? v : undefined;
  };
  const path = get("source_code/notebook/path");
  return path ? { path, id: get("source_code/notebook/checkpoint_id") } : null;
}

export function NotebookLink(props: { project: string; fields: Field[] }) {
  const nb = notebookOf(props.fields);
  const slash = props.project.indexOf("/");
  if (!nb || slash < 0) return null;
  const href = notebookPaths.view(props.project.slice(0, slash), props.project.slice(slash + 1), nb.path, nb.id);
  return (
    <span class="small" data-testid="run-notebook">
      notebook <Link href={href}>{nb.path}</Link>
    </span>
  );
}
