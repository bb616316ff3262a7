import { describe, expect, it } from "vitest";
import { rowsToDraw } from "./drawRange";

const m = { still: 2, ahead: 5, behind: 1 };
const span = (xs: number[]) => [xs[0], xs[xs.length - 1], xs.length];

describe("rowsToDraw", () => {
  it("draws the same margin either side while the list is still", () => {
    expect(span(rowsToDraw(10, 20, 100, null, m))).toEqual([8, 22, 15]);
  });
  it("draws more rows ahead of a scroll than behind it, both ways", () => {
    expect(span(rowsToDraw(10, 20, 100, "forward", m))).toEqual([9, 25, 17]);
    expect(span(rowsToDraw(10, 20, 100, "backward", m))).toEqual([5, 21, 17]);
  });
  it("stays within the list and gives every index once, in order", () => {
    expect(rowsToDraw(0, 3, 5, "forward", m)).toEqual([0, 1, 2, 3, 4]);
    expect(rowsToDraw(1, 2, 3, "backward", m)).toEqual([0, 1, 2]);
    expect(rowsToDraw(0, 0, 1, null, m)).toEqual([0]);
  });
});
