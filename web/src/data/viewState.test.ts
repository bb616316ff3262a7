import { describe, expect, it } from "vitest";
import { chartViewToSearch, compareToSearch, DEFAULT_VIEW, parseChartView, parseCompare, parseView, toggleSort, viewToSearch } from "./viewState";

describe("runs view in the URL", () => {
  it("round-trips a full view, including characters that need escaping", () => {
    const v = { filter: 'train/loss:last < 0.3 and sys/tags contains "a&b=c"', sort: "params/lr", order: "asc" as const, columns: ["params/lr", "train/loss:min"], trash: false };
    const s = viewToSearch(v);
    expect(parseView(s)).toEqual(v);
  });

  it("leaves defaults out so the plain link stays plain", () => {
    expect(viewToSearch(DEFAULT_VIEW)).toBe("");
    expect(parseView("")).toEqual(DEFAULT_VIEW);
  });

  it("ignores a bad order and duplicate or empty columns", () => {
    expect(parseView("?order=sideways&cols=a,,a,b")).toEqual({ ...DEFAULT_VIEW, columns: ["a", "b"] });
  });

  it("drops a column whose path contains a comma instead of splitting it", () => {
    expect(viewToSearch({ ...DEFAULT_VIEW, columns: ["a,b", "c"] })).toBe("?cols=c");
  });

  it("keeps the trash view in the URL with the rest of the view", () => {
    const s = viewToSearch({ ...DEFAULT_VIEW, filter: "a = 1", trash: true });
    expect(s).toBe("?filter=a+%3D+1&trash=1");
    expect(parseView(s)).toEqual({ ...DEFAULT_VIEW, filter: "a = 1", trash: true });
    expect(parseView("?trash=yes").trash).toBe(false);
  });

  it("sorts a new column descending and flips the current one", () => {
    const v = toggleSort(DEFAULT_VIEW, "params/lr");
    expect([v.sort, v.order]).toEqual(["params/lr", "desc"]);
    expect(toggleSort(v, "params/lr").order).toBe("asc");
  });
});

describe("compare and chart options in the URL", () => {
  it("keeps at most 50 distinct runs", () => {
    const ids = Array.from({ length: 60 }, (_, i) => `R-${i}`);
    const parsed = parseCompare(compareToSearch([...ids, "R-1"], "train/loss"));
    expect(parsed.runs).toHaveLength(50);
    expect(parsed.path).toBe("train/loss");
  });

  it("round-trips chart options and keeps the other parameters", () => {
    const s = chartViewToSearch("?runs=A,B", { xMode: "wall", logY: true, smoothing: 0.9 });
    expect(parseChartView(s)).toEqual({ xMode: "wall", logY: true, smoothing: 0.9 });
    expect(parseCompare(s).runs).toEqual(["A", "B"]);
    expect(chartViewToSearch(s, { xMode: "step", logY: false, smoothing: 0 })).toBe("?runs=A%2CB");
  });
});
