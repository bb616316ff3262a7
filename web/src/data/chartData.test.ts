import { describe, expect, it } from "vitest";
import { xRangeToSteps } from "./chartData";

describe("xRangeToSteps", () => {
  it("maps a step-axis selection to the whole steps it covers", () => {
    expect(xRangeToSteps([0, 10, 20], [0, 10, 20], 2.5, 7.5)).toEqual({ from: 2, to: 8 });
  });

  it("maps a time-axis selection back through the (time, step) pairs", () => {
    // steps 0, 100, 200 logged at t = 1000 s, 1010 s, 1030 s
    expect(xRangeToSteps([1000, 1010, 1030], [0, 100, 200], 1005, 1020)).toEqual({ from: 50, to: 150 });
  });

  it("clamps to the data and refuses an empty range", () => {
    expect(xRangeToSteps([0, 10], [0, 10], -5, 50)).toEqual({ from: 0, to: 10 });
    expect(xRangeToSteps([0, 10], [0, 10], 3, 3)).toBeNull();
    expect(xRangeToSteps([], [], 0, 1)).toBeNull();
  });
});
