// The runs-table filter language: parsing text into an expression tree.
// Grammar and examples: docs/filter-language.md. The store backends translate the tree into their
// own query language (SQL); this library knows nothing of storage.
//
//   (params/lr < 0.01 or sys/tags contains "resnet") and train/loss:last < 0.3
//     and not sys/state = "failed"
//
// Thread-safety: free functions over values.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "nereid/status.h"

namespace nereid::query {

// Which number of a series a reference means; kNone for atoms and sys fields.
enum class Aggregate { kNone, kLast, kMin, kMax, kCount };

// "train/loss:last" -> {path "train/loss", kLast}. "sys/state" -> {"sys/state", kNone}.
struct FieldRef {
  std::string path;
  Aggregate aggregate = Aggregate::kNone;
  bool operator==(const FieldRef&) const = default;
};

// A literal on the right of a comparison: number, "string" (JSON-style escapes), true/false.
using Literal = std::variant<double, std::string, bool>;

enum class CompareOp { kEq, kNe, kLt, kLe, kGt, kGe, kMatches /* =~ "regex" */, kContains };

struct Expr {
  enum class Kind { kAnd, kOr, kNot, kCompare, kExists };
  Kind kind = Kind::kCompare;
  std::vector<std::unique_ptr<Expr>> children;  // kAnd/kOr: 2+, kNot: 1
  FieldRef field;                               // kCompare, kExists
  CompareOp op = CompareOp::kEq;                // kCompare
  Literal literal;                              // kCompare
  size_t position = 0;                          // offset in the source text, for error messages
};

// Limits that keep a hostile filter from exhausting the server.
inline constexpr size_t kMaxFilterLength = 16 * 1024;
// 16, not more: the SQLite backend turns each level into nested SQL, and SQLite's parser stack
// overflowed ("parser stack overflow", a 500) at 30 levels (15 of `(a or not (`) and at 23 of
// `(a and (` (tests/test_hostile_input.py checks every shape at this limit).
inline constexpr size_t kMaxFilterDepth = 16;

// Parses a filter. Empty (or all-space) text means "no filter" and returns nullptr.
// On error: InvalidArgument whose message names the position, e.g.
//   "filter: at position 17: expected a value after '<', found 'and'".
Result<std::unique_ptr<Expr>> ParseFilter(std::string_view text);

// Parses a field reference as used by sort and columns: "params/lr", "train/loss:last".
Result<FieldRef> ParseFieldRef(std::string_view text);

// Text form of a tree, fully parenthesised; parsing it again gives an equal tree (used in tests
// and logs).
std::string ToString(const Expr& expr);

}  // namespace nereid::query
