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
// The body of GET /series/buckets: {"path": ..., "buckets": [{...}, ...]}, each bucket's keys as
// docs/http-api.md lists them. Written straight into one string: a chart asks for a thousand
// buckets or more, and building them as a JSON tree and then printing it took about a quarter of
// the request (docs/performance.md).
std::string BucketsJson(std::string_view path, std::span<const series::Bucket> buckets);

}  // namespace nereid::server
