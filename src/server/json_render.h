// Store values -> JSON for the read API. Conventions (docs/http-api.md#values):
//  - floats are JSON numbers, except NaN, Infinity and -Infinity, which are the strings "NaN",
//    "Infinity", "-Infinity" (as in the protobuf JSON mapping), so no value is lost;
//  - datetimes are ISO 8601 UTC strings with microseconds: "2026-11-28T05:10:33.123456Z";
//  - files are {"sha256", "name", "content_type", "size"}.
#pragma once

#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>

#include "store/types.h"

namespace nereid::server {

nlohmann::json FloatJson(double v);
std::string IsoTime(int64_t us);
nlohmann::json ValueJson(const store::Value& v);
nlohmann::json FileJson(const store::FileInfo& f);
nlohmann::json FieldJson(const store::Field& f);
nlohmann::json RunJson(const store::RunInfo& run);
nlohmann::json ProjectJson(const store::ProjectInfo& p);
// The body of a bucket view, written straight to text (building a json object per bucket and
// dumping it cost more than reading the buckets): {"buckets": [...], "path": path}, each bucket
// {"count", "first", "first_step", "from", "last", "last_step", "max", "mean", "min",
// "nan_count", "to"} in that (sorted) order; min, max and mean only when the bucket has a
// non-NaN value, nan_count only when non-zero. Values as FloatJson (NaN and +-Infinity as
// strings); numbers in shortest round-trip form, doubles kept JSON floats (integral ones keep
// ".0", -0.0 its sign). The path is escaped, invalid UTF-8 replaced by U+FFFD.
std::string BucketsJson(std::string_view path, std::span<const series::Bucket> buckets);

}  // namespace nereid::server
