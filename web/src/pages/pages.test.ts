import { describe, expect, it } from "vitest";
import type { Field, Run } from "../api/types";
import { isStale, NOT_RESPONDING_MS } from "../components/StateBadge";
import { differingParams } from "./Compare";
import { parseMetric } from "./Usage";

const run = (p: Partial<Run>): Run => ({
  id: "A-1", project: "w/p", name: "", description: "", state: "running", failed: false,
  creation_time: "2026-01-01T00:00:00.000000Z", modification_time: "2026-01-01T00:00:00.000000Z",
  ping_time: "2026-01-01T00:00:00.000000Z", owner: "admin", tags: [], size: 0, ...p,
});
const f = (path: string, value: unknown, type: Field["type"] = "float"): Field => ({ path, type, value });

describe("compare legend params", () => {
  it("lists only params that differ or are missing somewhere", () => {
    const loaded = [
      { run: run({ id: "A-1" }), fields: [f("params/lr", 0.1), f("params/bs", 32), f("params/opt", "adam", "string")] },
      { run: run({ id: "A-2" }), fields: [f("params/lr", 0.2), f("params/bs", 32)] },
    ];
    expect(differingParams(loaded)).toEqual(["params/lr", "params/opt"]);
  });
});

describe("not-responding badge", () => {
  it("flags a running run without a ping for longer than the threshold", () => {
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(isStale(run({}), now + NOT_RESPONDING_MS + 1)).toBe(true);
    expect(isStale(run({}), now + 1000)).toBe(false);
    expect(isStale(run({ state: "succeeded" }), now + NOT_RESPONDING_MS * 10)).toBe(false);
  });
});

describe("usage metrics", () => {
  it("reads a gauge from Prometheus text", () => {
    const text = "# TYPE nereid_database_bytes gauge\nnereid_database_bytes 123456\nnereid_files_bytes 7e3\n";
    expect(parseMetric(text, "nereid_database_bytes")).toBe(123456);
    expect(parseMetric(text, "nereid_files_bytes")).toBe(7000);
    expect(parseMetric(text, "nereid_missing")).toBeNull();
  });
});
