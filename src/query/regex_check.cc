#include "query/regex_check.h"

// GCC 12 reports a false -Wmaybe-uninitialized inside libstdc++'s <regex> (std::function in the
// NFA states) when built with -fsanitize=address -O2; keep the suppression to this one file.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <regex>
#pragma GCC diagnostic pop

#include <fmt/format.h>

#include "query/filter.h"

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
      ++i;
    } else if (c == '(') {
      if (++depth > kMaxFilterDepth) {
        return fmt::format("the regular expression nests more than {} groups", kMaxFilterDepth);
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

}  // namespace

std::string RegexProblem(std::string_view pattern) {
  if (std::string problem = ShapeProblem(pattern); !problem.empty()) return problem;
  try {
    std::regex re(pattern.begin(), pattern.end(), std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    return fmt::format("invalid regular expression: {}", e.what());
  }
  return {};
}

}  // namespace nereid::query
