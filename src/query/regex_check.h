// Checks the regular expression of a `field =~ "regex"` filter when the filter is parsed, so a
// bad one is reported with its position instead of failing later inside a store backend.
//
// Thread-safety: a free function over values.
#pragma once

#include <string>
#include <string_view>

namespace nereid::query {

// Empty if `pattern` is a valid ECMAScript regular expression within the limits (at most
// kMaxFilterDepth nested groups, repetition counts up to 1000); otherwise a message for a person
// ("invalid regular expression: ..."). Never throws.
std::string RegexProblem(std::string_view pattern);

}  // namespace nereid::query
