#include "server/json_render.h"

#include <fmt/format.h>

#include <charconv>
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

namespace {

// A finite double as the shortest text that reads back to the same bits, with ".0" added to an
// integral value so that it stays a float for typed readers, as the JSON library writes it.
void AppendNumber(std::string* out, double v) {
  if (!std::isfinite(v)) {  // steps and bounds are finite; this only guards bugs, as json does
    out->append("null");
    return;
  }
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  std::string_view text(buf, static_cast<size_t>(end - buf));
  out->append(text);
  if (text.find_first_of(".e") == std::string_view::npos) out->append(".0");
}

// A value as FloatJson gives it: a number, or "NaN", "Infinity", "-Infinity" as strings.
void AppendFloat(std::string* out, double v) {
  if (std::isnan(v)) {
    out->append("\"NaN\"");
  } else if (std::isinf(v)) {
    out->append(v > 0 ? "\"Infinity\"" : "\"-Infinity\"");
  } else {
    AppendNumber(out, v);
  }
}

}  // namespace

std::string BucketsJson(std::string_view path, std::span<const series::Bucket> buckets) {
  std::string out = "{\"buckets\":[";
  out.reserve(out.size() + buckets.size() * 220 + path.size() + 32);
  char digits[24];
  for (size_t i = 0; i < buckets.size(); ++i) {
    const series::Bucket& b = buckets[i];
    if (i > 0) out.push_back(',');
    // Keys in the order the JSON library printed them (sorted), so the text is as before.
    out.append("{\"count\":");
    out.append(digits, std::to_chars(digits, digits + sizeof digits, b.count).ptr);
    out.append(",\"first\":");
    AppendFloat(&out, b.first);
    out.append(",\"first_step\":");
    AppendNumber(&out, b.first_step);
    out.append(",\"from\":");
    AppendNumber(&out, b.step_from);
    out.append(",\"last\":");
    AppendFloat(&out, b.last);
    out.append(",\"last_step\":");
    AppendNumber(&out, b.last_step);
    if (b.count > b.nan_count) {
      out.append(",\"max\":");
      AppendFloat(&out, b.max);
      out.append(",\"mean\":");
      AppendFloat(&out, b.mean);
      out.append(",\"min\":");
      AppendFloat(&out, b.min);
    }
    if (b.nan_count) {
      out.append(",\"nan_count\":");
      out.append(digits, std::to_chars(digits, digits + sizeof digits, b.nan_count).ptr);
    }
    out.append(",\"to\":");
    AppendNumber(&out, b.step_to);
    out.push_back('}');
  }
  out.append("],\"path\":");
  out.append(json(path).dump(-1, ' ', false, json::error_handler_t::replace));
  out.push_back('}');
  return out;
}

}  // namespace nereid::server
