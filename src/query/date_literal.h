// Dates written as strings in filters (`sys/creation_time > "2024-05-01"`): the forms a datetime
// field is compared with. Shared by the store backends so both read a date the same way.
//
// Thread-safety: a free function over values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace nereid::query {

// "2024-05-01", "2024-05-01T12:30", "2024-05-01 12:30:15.5", with an optional trailing "Z"; always
// UTC. Returns microseconds since the Unix epoch, or nullopt when `s` is not one of these forms
// (or names an impossible month, day, hour, minute or second).
std::optional<int64_t> ParseDateLiteralUs(const std::string& s);

}  // namespace nereid::query
