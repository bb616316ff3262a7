import { describe, expect, it } from "vitest";
import { columnChoices } from "./fields";

describe("columnChoices", () => {
  it("offers a value column, a float series' aggregates, and each name once", () => {
    expect(
      columnChoices([
        { path: "params/lr", type: "float" },
        { path: "params/lr", type: "string" },
        { path: "logs", type: "string_series" },
        { path: "loss", type: "float_series" },
      ]),
    ).toEqual(["params/lr", "logs:count", "loss:last", "loss:min", "loss:max", "loss:count"]);
  });
});
