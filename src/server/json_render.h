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
nlohmann::json BucketJson(const series::Bucket& b);
// The body of a bucket view, {"buckets": [BucketJson...], "path": path}, written straight to
// text: building a json object per bucket and dumping it cost more than reading the buckets.
// Same members as BucketJson; numbers in shortest round-trip form (integral doubles keep ".0").
std::string BucketsJson(std::string_view path, std::span<const series::Bucket> buckets);

}  // namespace nereid::server
