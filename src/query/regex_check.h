// Regular expressions of `field =~ "regex"` filters: checked when the filter is parsed (so a bad
// one is reported with its position instead of failing later inside a store backend), and
// compiled and matched in a way that stays safe on hostile patterns and long subjects.
//
// Thread-safety: RegexProblem is a free function over values; a FilterRegex is immutable after
// Compile and may be matched from several threads at once.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace nereid::query {

// Empty if `pattern` is a valid ECMAScript regular expression within the limits (at most
// kMaxRegexGroups nested groups, repetition counts up to 1000, no back-references); otherwise a
// message for a person ("invalid regular expression: ..."). Never throws.
std::string RegexProblem(std::string_view pattern);

inline constexpr size_t kMaxRegexGroups = 64;

// A compiled filter regex. libstdc++'s default (backtracking) std::regex executor recurses once
// per subject character and backtracks exponentially: `(a|b)*c` against a 100 KB string
// overflowed a handler thread's stack and killed the server. This one runs the breadth-first
// (Thompson NFA) executor over the whole subject in one pass, so the stack depth is bounded by
// the pattern, never by the subject, and time is linear in the subject's length.
class FilterRegex {
 public:
  // Null when `pattern` is refused, with `*problem` set to RegexProblem's message. Never throws.
  static std::unique_ptr<FilterRegex> Compile(std::string_view pattern, std::string* problem);
  ~FilterRegex();

  // True if the pattern matches anywhere in `subject` (ECMAScript search semantics).
  bool Search(std::string_view subject) const;

 private:
  struct Impl;
  explicit FilterRegex(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace nereid::query
