#include "server/json_render.h"

#include <fmt/format.h>

#include <cmath>
#include <ctime>

namespace nereid::server {

using nlohmann::json;

json FloatJson(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  return v;
}

std::string IsoTime(int64_t us) {
  int64_t secs = us >= 0 ? us / 1000000 : -((-us + 999999) / 1000000);
  int64_t frac = us - secs * 1000000;
  std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}

json FileJson(const store::FileInfo& f) {
  return {
      {"sha256", f.sha256}, {"name", f.name}, {"content_type", f.content_type}, {"size", f.size}};
}

json ValueJson(const store::Value& v) {
  struct Visitor {
    json operator()(std::monostate) const { return nullptr; }
    json operator()(double d) const { return FloatJson(d); }
    json operator()(int64_t i) const { return i; }
    json operator()(bool b) const { return b; }
    json operator()(const std::string& s) const { return s; }
    json operator()(const store::Datetime& d) const { return IsoTime(d.us); }
    json operator()(const store::StringSet& s) const { return s; }
    json operator()(const store::FileInfo& f) const { return FileJson(f); }
    json operator()(const store::FileSet& fs) const {
      json a = json::array();
      for (const auto& f : fs) a.push_back(FileJson(f));
      return a;
    }
  };
  return std::visit(Visitor{}, v);
}

json FieldJson(const store::Field& f) {
  json j = {{"path", f.path}, {"type", store::FieldTypeName(f.type)}};
  if (!f.series) {
    j["value"] = ValueJson(f.value);
    return j;
  }
  const auto& s = *f.series;
  j["count"] = s.count;
  if (s.count > 0) {
    j["last_step"] = s.last_step;
    j["last_time"] = IsoTime(s.last_timestamp_us);
  }
  if (f.type == store::FieldType::kFloatSeries && s.count > 0) {
    j["last"] = FloatJson(s.last);
    if (s.has_min_max) {
      j["min"] = FloatJson(s.min);
      j["max"] = FloatJson(s.max);
    }
  } else if (f.type == store::FieldType::kStringSeries && s.count > 0) {
    j["last"] = s.last_string;
  } else if (f.type == store::FieldType::kFileSeries && s.last_file) {
    j["last"] = FileJson(*s.last_file);
  }
  return j;
}

json RunJson(const store::RunInfo& r) {
  json j = {{"id", r.id},
          {"project", r.project},
          {"custom_run_id", r.custom_run_id},
          {"name", r.name},
          {"description", r.description},
          {"state", store::RunStateName(r.state)},
          {"failed", r.failed},
          {"creation_time", IsoTime(r.creation_time_us)},
          {"modification_time", IsoTime(r.modification_time_us)},
          {"ping_time", IsoTime(r.ping_time_us)},
          {"owner", r.owner},
          {"tags", r.tags},
          {"size", r.size_bytes},
          {"trashed", r.trashed_time_us != 0}};
  j["trashed_time"] = r.trashed_time_us != 0 ? json(IsoTime(r.trashed_time_us)) : json(nullptr);
  return j;
}

json ProjectJson(const store::ProjectInfo& p) {
  return {{"workspace", p.workspace},
          {"name", p.name},
          {"key", p.key},
          {"creation_time", IsoTime(p.creation_time_us)},
          {"run_count", p.run_count}};
}

json BucketJson(const series::Bucket& b) {
  json j = {{"from", b.step_from},       {"to", b.step_to},
            {"count", b.count},          {"first", FloatJson(b.first)},
            {"last", FloatJson(b.last)}, {"first_step", b.first_step},
            {"last_step", b.last_step}};
  if (b.count > b.nan_count) {
    j["min"] = FloatJson(b.min);
    j["max"] = FloatJson(b.max);
    j["mean"] = FloatJson(b.mean);
  }
  if (b.nan_count) j["nan_count"] = b.nan_count;
  return j;
}

}  // namespace nereid::server
