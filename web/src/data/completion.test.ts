import { describe, expect, it } from "vitest";
import { applyCompletion, byteOffsetToIndex, complete, errorPosition, quoteField, type KnownField } from "./completion";

const fields: KnownField[] = [
  { path: "params/lr", type: "float" },
  { path: "params/optimizer", type: "string" },
  { path: "train/loss", type: "float_series" },
  { path: "val loss", type: "float_series" },
  { path: "sys/tags", type: "string_set" },
];

describe("complete", () => {
  it("offers fields that start with the typed word, series with :last", () => {
    const text = "par";
    expect(complete(text, 3, fields).map((c) => c.insert)).toEqual(["params/lr", "params/optimizer"]);
    expect(complete("train", 5, fields).map((c) => c.insert)).toEqual(["train/loss:last"]);
  });

  it("completes the word under the cursor in the middle of an expression", () => {
    const text = "params/lr < 0.1 and tra";
    const [c] = complete(text, text.length, fields);
    expect(applyCompletion(text, c!)).toEqual({ text: "params/lr < 0.1 and train/loss:last", cursor: 35 });
  });

  it("offers aggregates after a series path and a colon", () => {
    expect(complete("train/loss:m", 12, fields).map((c) => c.insert)).toEqual(["train/loss:min", "train/loss:max"]);
    expect(complete("params/lr:", 10, fields)).toEqual([]);
  });

  it("puts paths that need it in backticks", () => {
    expect(complete("val", 3, fields).map((c) => c.insert)).toEqual(["`val loss`:last"]);
    expect(quoteField("and")).toBe("`and`");
    expect(quoteField("a`b")).toBe("`a\\`b`");
  });

  it("stays quiet inside string literals and on keywords", () => {
    expect(complete('sys/tags contains "par', 22, fields)).toEqual([]);
    expect(complete("params/lr < 1 and", 17, fields)).toEqual([]);
  });
});

describe("a path logged with several types (the project's field list names each)", () => {
  const mixed: KnownField[] = [
    { path: "lr", type: "float" },
    { path: "lr", type: "string" },
    { path: "lr", type: "float_series" },
    { path: "lrx", type: "int" },
  ];
  it("is offered once per distinct completion", () => {
    expect(complete("l", 1, mixed).map((c) => c.insert)).toEqual(["lr", "lr:last", "lrx"]);
  });
  it("takes aggregates when any of its types is a series", () => {
    expect(complete("lr:c", 4, mixed).map((c) => c.insert)).toEqual(["lr:count"]);
    expect(complete("lrx:", 4, mixed)).toEqual([]);
  });
});

describe("server error positions", () => {
  it("reads the position from the server's message", () => {
    expect(errorPosition("filter: at position 12: expected a value after '<', found 'and'")).toBe(12);
    expect(errorPosition("no position here")).toBeNull();
  });

  it("maps UTF-8 byte offsets to string indices", () => {
    const text = 'sys/name = "é" and x';
    // 'é' is 2 bytes in UTF-8: the byte after the closing quote is 15, the string index 14.
    expect(byteOffsetToIndex(text, 15)).toBe(14);
    expect(byteOffsetToIndex("😀 a", 5)).toBe(3);
    expect(byteOffsetToIndex("ab", 99)).toBe(2);
  });
});
