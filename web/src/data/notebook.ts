// An .ipynb (nbformat 4) turned into what the notebook page draws. Pure code: no DOM, so the
// parsing is unit-tested. Notebooks are untrusted input: markdown and HTML are sanitised where
// they are drawn (components/NotebookCells.tsx); here every value is type-checked and anything
// unexpected becomes an "unsupported" output rather than an exception.

export type CellOutput =
  | { kind: "stream"; name: string; text: string }
  | { kind: "text"; text: string; executionCount: number | null }
  | { kind: "image"; mime: "image/png" | "image/jpeg"; src: string }
  | { kind: "html"; html: string }
  | { kind: "error"; ename: string; evalue: string; traceback: string }
  | { kind: "unsupported"; what: string };

export interface NotebookCell {
  index: number;
  type: "code" | "markdown" | "raw";
  source: string;
  executionCount: number | null;
  outputs: CellOutput[];
}

export interface NotebookModel {
  language: string;
  cells: NotebookCell[];
}

/** nbformat's multiline strings: a string, or an array of lines that already end in "\n". */
export function joinText(v: unknown): string {
  if (typeof v === "string") return v;
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === "string").join("");
  return "";
}

// Tracebacks carry terminal colours (ESC [ ... m); drawn as text they would be noise.
const ANSI = /\u001b\[[0-9;?]*[A-Za-z]/g;
export function stripAnsi(s: string): string {
  return s.replace(ANSI, "");
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

const IMAGE_MIMES = ["image/png", "image/jpeg"] as const;

/** One output of a code cell. Rich outputs pick the best type this page can draw safely. */
export function parseOutput(o: unknown): CellOutput {
  if (!isObject(o)) return { kind: "unsupported", what: "an output that is not an object" };
  const type = o["output_type"];
  if (type === "stream") {
    return { kind: "stream", name: typeof o["name"] === "string" ? o["name"] : "stdout", text: joinText(o["text"]) };
  }
  if (type === "error") {
    const tb = Array.isArray(o["traceback"]) ? (o["traceback"] as unknown[]).filter((x): x is string => typeof x === "string") : [];
    return {
      kind: "error",
      ename: typeof o["ename"] === "string" ? o["ename"] : "Error",
      evalue: typeof o["evalue"] === "string" ? o["evalue"] : "",
      traceback: stripAnsi(tb.join("\n")),
    };
  }
  if (type === "execute_result" || type === "display_data") {
    const data = isObject(o["data"]) ? o["data"] : {};
    for (const mime of IMAGE_MIMES) {
      const b64 = joinText(data[mime]).replace(/\s+/g, "");
      // Base64 only: anything else could smuggle characters into the data URL.
      if (b64 && /^[A-Za-z0-9+/]+=*$/.test(b64)) return { kind: "image", mime, src: `data:${mime};base64,${b64}` };
    }
    if (data["text/html"] !== undefined) return { kind: "html", html: joinText(data["text/html"]) };
    if (data["text/plain"] !== undefined) {
      const n = o["execution_count"];
      return { kind: "text", text: joinText(data["text/plain"]), executionCount: typeof n === "number" ? n : null };
    }
    const mimes = Object.keys(data);
    return { kind: "unsupported", what: mimes.length ? mimes.join(", ") : "an empty output" };
  }
  return { kind: "unsupported", what: `output type ${JSON.stringify(type)}` };
}

/**
 * Parses a notebook (the JSON of GET …/notebooks/checkpoints/{id}). Throws an Error that says
 * what is wrong for something that is not an nbformat 4 notebook (the server checks uploads the
 * same way, so this is for a truncated or foreign body).
 */
export function parseNotebook(nb: unknown): NotebookModel {
  if (!isObject(nb)) throw new Error("the checkpoint is not a JSON object");
  if (nb["nbformat"] !== 4) throw new Error(`nbformat ${JSON.stringify(nb["nbformat"])} is not supported (only 4)`);
  if (!Array.isArray(nb["cells"])) throw new Error("the notebook has no 'cells' list");
  const meta = isObject(nb["metadata"]) ? nb["metadata"] : {};
  const langInfo = isObject(meta["language_info"]) ? meta["language_info"] : {};
  const kernel = isObject(meta["kernelspec"]) ? meta["kernelspec"] : {};
  const language =
    typeof langInfo["name"] === "string" ? langInfo["name"] : typeof kernel["language"] === "string" ? kernel["language"] : "python";
  const cells = (nb["cells"] as unknown[]).map((c, index): NotebookCell => {
    const cell = isObject(c) ? c : {};
    const t = cell["cell_type"];
    const type = t === "markdown" || t === "raw" ? t : "code";
    const n = cell["execution_count"];
    return {
      index,
      type,
      source: joinText(cell["source"]),
      executionCount: type === "code" && typeof n === "number" ? n : null,
      outputs: type === "code" && Array.isArray(cell["outputs"]) ? (cell["outputs"] as unknown[]).map(parseOutput) : [],
    };
  });
  return { language, cells };
}
