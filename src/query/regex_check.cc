#include "query/regex_check.h"

// GCC 12 reports a false -Wmaybe-uninitialized inside libstdc++'s <regex> (std::function in the
// NFA states) when built with -fsanitize=address -O2; keep the suppression to this one file.
#if defined(__GNUC__) && !defined(__clang__)  // clang (the fuzz build) has no such warning
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <regex>
#pragma GCC diagnostic pop
#else
#include <regex>
#endif

#include <fmt/format.h>

namespace nereid::query {
namespace {

// std::regex compiles recursively and expands counted repetition, so a hostile pattern could
// exhaust the stack or memory before std::regex reports anything; refuse those shapes first.
std::string ShapeProblem(std::string_view re) {
  constexpr size_t kMaxRepeat = 1000;
  size_t depth = 0;
  for (size_t i = 0; i < re.size(); ++i) {
    const char c = re[i];
    if (c == '\\') {
      // A back-reference's number reaches std::regex unbounded (signed overflow in libstdc++,
      // found by the filter fuzzer); matching never supported them.
      if (i + 1 < re.size() && re[i + 1] >= '1' && re[i + 1] <= '9') {
        return "invalid regular expression: back-references are not supported";
      }
      ++i;
    } else if (c == '(') {
      if (++depth > kMaxRegexGroups) {
        return fmt::format("the regular expression nests more than {} groups", kMaxRegexGroups);
      }
    } else if (c == ')') {
      if (depth > 0) --depth;
    } else if (c == '{') {
      size_t n = 0;
      for (size_t k = i + 1; k < re.size() && n <= kMaxRepeat; ++k) {
        if (re[k] >= '0' && re[k] <= '9') {
          n = n * 10 + static_cast<size_t>(re[k] - '0');
        } else if (re[k] != ',') {
          break;
        }
        if (re[k] == ',') n = 0;
      }
      if (n > kMaxRepeat) {
        return fmt::format("the regular expression repeats more than {} times", kMaxRepeat);
      }
    }
  }
  return {};
}

// __polynomial selects libstdc++'s breadth-first executor (and refuses back-references, which
// it cannot run). Searching is done as one whole-subject match of `[\s\S]*(?:p)[\s\S]*`: a
// regex_search would restart the executor at every position, quadratic in the subject.
constexpr auto kFlags =
    std::regex::ECMAScript | std::regex::nosubs | std::regex_constants::__polynomial;

}  // namespace

struct FilterRegex::Impl {
  std::regex re;
};

FilterRegex::FilterRegex(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
FilterRegex::~FilterRegex() = default;

std::unique_ptr<FilterRegex> FilterRegex::Compile(std::string_view pattern, std::string* problem) {
  if (std::string p = ShapeProblem(pattern); !p.empty()) {
    *problem = std::move(p);
    return nullptr;
  }
  try {
    // The pattern's own alternation stays inside the group, so `a|b` still means either.
    std::string wrapped = "[\\s\\S]*(?:";
    wrapped.append(pattern);
    wrapped += ")[\\s\\S]*";
    // Compile the bare pattern too: an unbalanced ')' in it would otherwise close our group and
    // be accepted.
    std::regex bare(pattern.begin(), pattern.end(), kFlags);
    return std::unique_ptr<FilterRegex>(
        new FilterRegex(std::make_unique<Impl>(Impl{std::regex(wrapped, kFlags)})));
  } catch (const std::regex_error& e) {
    *problem = fmt::format("invalid regular expression: {}", e.what());
    return nullptr;
  }
}

bool FilterRegex::Search(std::string_view subject) const {
  return std::regex_match(subject.begin(), subject.end(), impl_->re);
}

std::string RegexProblem(std::string_view pattern) {
  std::string problem;
  FilterRegex::Compile(pattern, &problem);
  return problem;
}

}  // namespace nereid::query
