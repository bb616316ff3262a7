import { describe, expect, it } from "vitest";
import type { Bucket } from "../api/types";
import { alignSeries, bucketsToSeries, ema, interpolateTimes, positiveOnly, rawToSeries } from "./series";

function bucket(p: Partial<Bucket> & Pick<Bucket, "first_step" | "last_step" | "count" | "min" | "max">): Bucket {
  return { from: p.first_step, to: p.last_step, mean: 0, first: 0, last: 0, ...p };
}

describe("bucketsToSeries", () => {
  it("keeps each bucket's min and max as the band, so a spike inside a bucket is drawn", () => {
    const s = bucketsToSeries([
      bucket({ first_step: 0, last_step: 99, count: 100, min: 0.5, max: 1.5, mean: 1 }),
      bucket({ first_step: 100, last_step: 199, count: 100, min: 0.4, max: 1000, mean: 10.9 }),
    ]);
    expect(s.steps).toEqual([49.5, 149.5]);
    expect(s.line).toEqual([1, 10.9]);
    expect(s.min).toEqual([0.5, 0.4]);
    expect(s.max).toEqual([1.5, 1000]);
    expect(s.raw).toBe(false);
    expect(s.count).toBe(200);
  });

  it("puts single-point buckets at their step with the exact value and flags raw", () => {
    const s = bucketsToSeries([
      bucket({ first_step: 7, last_step: 7, count: 1, min: 2, max: 2, mean: 2, first: 2 }),
      bucket({ first_step: 9, last_step: 9, count: 1, min: 3, max: 3, mean: 3, first: 3 }),
    ]);
    expect(s.steps).toEqual([7, 9]);
    expect(s.line).toEqual([2, 3]);
    expect(s.raw).toBe(true);
  });

  it("turns all-NaN and infinite buckets into gaps rather than numbers", () => {
    const s = bucketsToSeries([
      bucket({ first_step: 0, last_step: 1, count: 2, min: "NaN", max: "NaN", mean: "NaN", nan_count: 2 }),
      bucket({ first_step: 2, last_step: 3, count: 2, min: "-Infinity", max: 4, mean: "-Infinity" }),
    ]);
    expect(s.line).toEqual([null, null]);
    expect(s.min).toEqual([null, null]);
    expect(s.max).toEqual([null, 4]);
  });

  it("skips empty buckets", () => {
    expect(bucketsToSeries([bucket({ first_step: 0, last_step: 0, count: 0, min: 0, max: 0 })]).steps).toEqual([]);
  });
});

describe("rawToSeries", () => {
  it("gives a zero-width band and maps NaN to a gap", () => {
    const s = rawToSeries([0, 1, 2], [1, "NaN", 3]);
    expect(s.line).toEqual([1, null, 3]);
    expect(s.min).toEqual(s.line);
    expect(s.max).toEqual(s.line);
    expect(s.raw).toBe(true);
  });
});

describe("ema", () => {
  it("is the identity at weight 0", () => {
    expect(ema([1, 2, 3], 0)).toEqual([1, 2, 3]);
  });

  it("debiases, so a constant series stays constant from the first point", () => {
    for (const v of ema([5, 5, 5, 5], 0.9)) expect(v).toBeCloseTo(5, 12);
  });

  it("matches the hand-computed debiased average and keeps gaps", () => {
    const out = ema([1, null, 3], 0.5);
    expect(out[0]).toBeCloseTo(1, 12);
    expect(out[1]).toBeNull();
    // last = 0.5*0.5 + 0.5*3 = 1.75; debias by 1 - 0.5^2 = 0.75
    expect(out[2]).toBeCloseTo(1.75 / 0.75, 12);
  });
});

describe("positiveOnly", () => {
  it("drops values a log axis cannot draw", () => {
    expect(positiveOnly([1, 0, -2, null, 0.5])).toEqual([1, null, null, null, 0.5]);
  });
});

describe("alignSeries", () => {
  it("joins runs on the union of x with nulls where a run has no point", () => {
    const r = alignSeries(
      [
        [0, 2],
        [1, 2],
      ],
      [
        [10, 12],
        [21, 22],
      ],
    );
    expect(r.x).toEqual([0, 1, 2]);
    expect(r.ys).toEqual([
      [10, null, 12],
      [null, 21, 22],
    ]);
  });
});

describe("interpolateTimes", () => {
  it("interpolates between samples and extrapolates along the end segments", () => {
    const t = interpolateTimes(
      [
        [0, 1000],
        [10, 2000],
        [20, 4000],
      ],
      [0, 5, 10, 15, 20, 30],
    );
    expect(t).toEqual([1000, 1500, 2000, 3000, 4000, 6000]);
  });
});
