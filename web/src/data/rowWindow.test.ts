import { describe, expect, it } from "vitest";
import { emptyWindow, mergePage, planFetch, totalAfter, type RowWindow } from "./rowWindow";

const SIZES = { page: 500, prefetch: 300 };
const TOTAL = 100_000;
const rows = (start: number, n: number) => Array.from({ length: n }, (_, i) => start + i);

// The table after its first page: rows 0..99 and the cursor that continues at 100.
function opened(): RowWindow<number> {
  return mergePage(emptyWindow<number>(), 0, rows(0, 100), "c100");
}

describe("row window", () => {
  it("places a page's rows by position and keeps the cursor after them", () => {
    const w = mergePage(opened(), 50_000, rows(50_000, 500), "c50500");
    expect(w.loaded).toBe(600);
    expect(w.rows[99]).toBe(99);
    expect(w.rows[100]).toBeUndefined();
    expect(w.rows[50_000]).toBe(50_000);
    expect(w.rows[50_499]).toBe(50_499);
    expect(w.cursors.get(100)).toBe("c100");
    expect(w.cursors.get(50_500)).toBe("c50500");
    // Rows loaded twice are counted once.
    expect(mergePage(w, 50_400, rows(50_400, 200), null).loaded).toBe(700);
  });

  it("does not load the second page of a table just opened before the user scrolls", () => {
    expect(planFetch(opened(), TOTAL, 0, 48, SIZES)).toBeNull();
  });

  it("continues by cursor when scrolling on near the loaded rows' end", () => {
    expect(planFetch(opened(), TOTAL, 30, 60, SIZES)).toEqual({ start: 100, limit: 500, cursor: "c100" });
    const w = mergePage(opened(), 100, rows(100, 500), "c600");
    expect(planFetch(w, TOTAL, 200, 230, SIZES)).toBeNull();
    expect(planFetch(w, TOTAL, 280, 310, SIZES)).toEqual({ start: 600, limit: 500, cursor: "c600" });
  });

  it("jumps far away with one offset request for the rows on screen", () => {
    expect(planFetch(opened(), TOTAL, 50_000, 50_048, SIZES)).toEqual({ start: 50_000, limit: 500, cursor: null });
  });

  it("after a jump, fills the rows above with one page ending where the loaded ones begin", () => {
    let w = mergePage(opened(), 50_000, rows(50_000, 500), "c50500");
    // Scrolled up a little: the rows on screen above 50,000 come first.
    expect(planFetch(w, TOTAL, 49_990, 50_038, SIZES)).toEqual({ start: 49_500, limit: 500, cursor: null });
    // Nothing missing on screen or below: the rows above are prefetched the same way.
    expect(planFetch(w, TOTAL, 50_000, 50_048, SIZES)).toEqual({ start: 49_500, limit: 500, cursor: null });
    // A hole shorter than a page between two loaded stretches is filled exactly.
    w = mergePage(w, 49_000, rows(49_000, 800), "c49800");
    expect(planFetch(w, TOTAL, 49_900, 49_948, SIZES)).toEqual({ start: 49_800, limit: 200, cursor: "c49800" });
  });

  it("continues a jumped-to stretch by its cursor", () => {
    const w = mergePage(mergePage(opened(), 50_000, rows(50_000, 500), "c50500"), 49_500, rows(49_500, 500), "c50000");
    expect(planFetch(w, TOTAL, 50_300, 50_348, SIZES)).toEqual({ start: 50_500, limit: 500, cursor: "c50500" });
  });

  it("stops at the list's end and asks nothing of an empty list", () => {
    const w = mergePage(emptyWindow<number>(), 0, rows(0, 100), "c100");
    expect(planFetch(w, 130, 60, 129, SIZES)).toEqual({ start: 100, limit: 30, cursor: "c100" });
    expect(planFetch(opened(), TOTAL, 99_990, 100_020, SIZES)).toEqual({ start: 99_990, limit: 10, cursor: null });
    expect(planFetch(emptyWindow<number>(), 0, 0, 10, SIZES)).toBeNull();
  });

  it("ends the list where a short last page says it ends, so its holes are not asked for again", () => {
    const far = { start: 99_900, limit: 500, cursor: null };
    // Runs left the list since the first page: the page at its end comes back short.
    expect(totalAfter(TOTAL, far, 40, null)).toBe(99_940);
    expect(totalAfter(TOTAL, far, 0, null)).toBe(99_900);
    let w = mergePage(opened(), 99_900, rows(99_900, 40), null);
    expect(planFetch(w, totalAfter(TOTAL, far, 40, null), 99_900, 99_939, SIZES)).toEqual({ start: 99_400, limit: 500, cursor: null });
    w = mergePage(w, 99_400, rows(99_400, 500), "c99900");
    expect(planFetch(w, 99_940, 99_900, 99_939, SIZES)).toBeNull();
    // A full page, or one with a cursor, says nothing about the end.
    expect(totalAfter(TOTAL, far, 500, "c")).toBe(TOTAL);
    expect(totalAfter(TOTAL, { start: 0, limit: 100, cursor: null }, 100, null)).toBe(TOTAL);
    // A list that grew keeps the first page's count.
    expect(totalAfter(100, { start: 80, limit: 500, cursor: "c80" }, 30, null)).toBe(100);
  });
});
