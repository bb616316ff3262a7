import { describe, expect, it } from "vitest";
import { joinText, parseNotebook, parseOutput, stripAnsi } from "./notebook";
import { diffLines, diffRows, splitRows, type ServerDiffCell } from "./notebookDiff";
import { notebookPageOf, notebookPaths, parseNotebookQuery } from "./notebookView";

const PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

describe("notebook parsing", () => {
  it("joins multiline sources given as arrays or strings", () => {
    expect(joinText(["a = 1\n", "b = 2"])).toBe("a = 1\nb = 2");
    expect(joinText("x")).toBe("x");
    expect(joinText(undefined)).toBe("");
    expect(joinText(["a", 3, "b"])).toBe("ab");
  });

  it("turns cells and every kind of output into the render model", () => {
    const nb = {
      nbformat: 4,
      nbformat_minor: 5,
      metadata: { language_info: { name: "python" } },
      cells: [
        { cell_type: "markdown", metadata: {}, source: ["# Title\n", "some *text*"] },
        {
          cell_type: "code",
          execution_count: 3,
          metadata: {},
          source: "print(1)\n1 + 1",
          outputs: [
            { output_type: "stream", name: "stdout", text: ["1\n"] },
            { output_type: "execute_result", execution_count: 3, data: { "text/plain": ["2"] }, metadata: {} },
            { output_type: "display_data", data: { "image/png": PNG + "\n", "text/plain": "<Figure>" }, metadata: {} },
            { output_type: "display_data", data: { "image/jpeg": ["/9j/", "4AAQ"] }, metadata: {} },
            { output_type: "display_data", data: { "text/html": ["<b>x</b>"], "text/plain": "x" }, metadata: {} },
            { output_type: "error", ename: "ValueError", evalue: "bad", traceback: ["\u001b[0;31mValueError\u001b[0m: bad"] },
            { output_type: "display_data", data: { "application/vnd.widget+json": {} }, metadata: {} },
          ],
        },
        { cell_type: "raw", metadata: {}, source: [] },
      ],
    };
    const m = parseNotebook(nb);
    expect(m.language).toBe("python");
    expect(m.cells.map((c) => [c.index, c.type, c.source])).toEqual([
      [0, "markdown", "# Title\nsome *text*"],
      [1, "code", "print(1)\n1 + 1"],
      [2, "raw", ""],
    ]);
    expect(m.cells[1]!.executionCount).toBe(3);
    expect(m.cells[1]!.outputs).toEqual([
      { kind: "stream", name: "stdout", text: "1\n" },
      { kind: "text", text: "2", executionCount: 3 },
      { kind: "image", mime: "image/png", src: "data:image/png;base64," + PNG },
      { kind: "image", mime: "image/jpeg", src: "data:image/jpeg;base64,/9j/4AAQ" },
      { kind: "html", html: "<b>x</b>" },
      { kind: "error", ename: "ValueError", evalue: "bad", traceback: "ValueError: bad" },
      { kind: "unsupported", what: "application/vnd.widget+json" },
    ]);
    expect(m.cells[0]!.outputs).toEqual([]);
  });

  it("never puts anything but base64 into an image data URL", () => {
    const o = parseOutput({ output_type: "display_data", data: { "image/png": 'AAAA" onerror="x', "text/plain": "fig" } });
    expect(o).toEqual({ kind: "text", text: "fig", executionCount: null });
  });

  it("says what is wrong with something that is not an nbformat 4 notebook", () => {
    expect(() => parseNotebook([])).toThrow(/not a JSON object/);
    expect(() => parseNotebook({ nbformat: 3, cells: [] })).toThrow(/nbformat 3 is not supported/);
    expect(() => parseNotebook({ nbformat: 4 })).toThrow(/no 'cells'/);
    expect(parseOutput(null)).toEqual({ kind: "unsupported", what: "an output that is not an object" });
    expect(parseOutput({ output_type: "weird" })).toEqual({ kind: "unsupported", what: 'output type "weird"' });
  });

  it("strips terminal colours from tracebacks", () => {
    expect(stripAnsi("\u001b[1;32mok\u001b[0m")).toBe("ok");
  });
});

describe("notebook diff model", () => {
  it("diffs lines with the longest common subsequence", () => {
    expect(diffLines("a\nb\nc\n", "a\nx\nc\n")).toEqual([
      { op: " ", text: "a" },
      { op: "-", text: "b" },
      { op: "+", text: "x" },
      { op: " ", text: "c" },
    ]);
    expect(diffLines(null, "new()")).toEqual([{ op: "+", text: "new()" }]);
    expect(diffLines("gone", null)).toEqual([{ op: "-", text: "gone" }]);
    expect(diffLines("", "")).toEqual([]);
  });

  it("folds unchanged cells and diffs sources and text outputs of the others", () => {
    const cells: ServerDiffCell[] = [
      { status: "unchanged", from_index: 0, to_index: 0, cell_type: "markdown" },
      { status: "unchanged", from_index: 1, to_index: 1, cell_type: "code" },
      { status: "added", from_index: null, to_index: 2, cell_type: "code", source: { from: null, to: "setup()" }, outputs: { from: null, to: [] } },
      { status: "modified", from_index: 2, to_index: 3, cell_type: "code", outputs: { from: ["1\n"], to: ["2\n"] } },
      { status: "modified", from_index: 3, to_index: 4, cell_type: "code", source: { from: "old()", to: "new()" } },
      { status: "removed", from_index: 4, to_index: null, cell_type: "markdown", source: { from: "bye", to: null } },
      { status: "unchanged", from_index: 5, to_index: 5, cell_type: "code" },
    ];
    const rows = diffRows({ cells });
    expect(rows.map((r) => (r.kind === "unchanged" ? `=${r.count}` : r.status))).toEqual(["=2", "added", "modified", "modified", "removed", "=1"]);
    expect(rows[1]).toMatchObject({ source: [{ op: "+", text: "setup()" }], outputs: [] });
    expect(rows[2]).toMatchObject({ source: null, outputs: [{ op: "-", text: "1" }, { op: "+", text: "2" }] });
    expect(rows[3]).toMatchObject({ fromIndex: 3, toIndex: 4, source: [{ op: "-", text: "old()" }, { op: "+", text: "new()" }], outputs: null });
    expect(rows[4]).toMatchObject({ source: [{ op: "-", text: "bye" }], outputs: null });
  });
});

describe("side-by-side diff", () => {
  it("faces equal lines, and each removed block with the added block after it", () => {
    const lines = diffLines("a\nb\nc\nd\n", "a\nB1\nB2\nd\ne\n");
    expect(splitRows(lines)).toEqual([
      { left: "a", right: "a", changed: false },
      { left: "b", right: "B1", changed: true },
      { left: "c", right: "B2", changed: true },
      { left: "d", right: "d", changed: false },
      { left: null, right: "e", changed: true },
    ]);
    expect(splitRows(diffLines("x\ny\n", null))).toEqual([
      { left: "x", right: null, changed: true },
      { left: "y", right: null, changed: true },
    ]);
  });
});

describe("notebook URL state", () => {
  it("builds and reads the URLs of every notebook page", () => {
    expect(notebookPaths.list("w s", "p")).toBe("/p/w%20s/p/notebooks");
    expect(notebookPaths.checkpoints("w", "p", "exp/train.ipynb")).toBe("/p/w/p/notebooks/checkpoints?path=exp%2Ftrain.ipynb");
    expect(notebookPaths.view("w", "p", "a.ipynb")).toBe("/p/w/p/notebooks/view?path=a.ipynb");
    const diff = notebookPaths.diff("w", "p", "a b.ipynb", "f1", "f2");
    expect(diff).toBe("/p/w/p/notebooks/diff?path=a+b.ipynb&from=f1&to=f2");
    expect(parseNotebookQuery(diff.slice(diff.indexOf("?")))).toEqual({ path: "a b.ipynb", id: "", from: "f1", to: "f2", layout: "unified" });
    const split = notebookPaths.diff("w", "p", "a.ipynb", "f1", "f2", "split");
    expect(split).toBe("/p/w/p/notebooks/diff?path=a.ipynb&from=f1&to=f2&layout=split");
    expect(parseNotebookQuery(split.slice(split.indexOf("?"))).layout).toBe("split");
    expect(parseNotebookQuery("?layout=sideways").layout).toBe("unified");
    expect(parseNotebookQuery("?path=x&id=abc")).toMatchObject({ path: "x", id: "abc" });
  });

  it("names the page from the segments after /notebooks", () => {
    expect(notebookPageOf([])).toBe("list");
    expect(notebookPageOf(["view"])).toBe("view");
    expect(notebookPageOf(["diff"])).toBe("diff");
    expect(notebookPageOf(["checkpoints"])).toBe("checkpoints");
    expect(notebookPageOf(["list"])).toBeNull();
    expect(notebookPageOf(["view", "x"])).toBeNull();
  });
});

describe("run page notebook link", () => {
  it("reads the checkpoint the Python client recorded, or only the path", async () => {
    const { notebookOf } = await import("../components/NotebookLink");
    const f = (path: string, value: unknown) => ({ path, type: "string" as const, value });
    expect(notebookOf([f("source_code/notebook/path", "exp/a.ipynb"), f("source_code/notebook/checkpoint_id", "abc")])).toEqual({ path: "exp/a.ipynb", id: "abc" });
    expect(notebookOf([f("source_code/notebook/path", "a.ipynb")])).toEqual({ path: "a.ipynb", id: undefined });
    expect(notebookOf([f("params/x", "1")])).toBeNull();
  });
});
