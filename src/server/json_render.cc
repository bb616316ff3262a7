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

// A double as FloatJson renders it: a number, or "NaN", "Infinity", "-Infinity".
void AppendFloat(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "\"NaN\"";
    return;
  }
  if (std::isinf(v)) {
    out += v > 0 ? "\"Infinity\"" : "\"-Infinity\"";
    return;
  }
  char buf[32];
  // Shortest round trip; 32 bytes hold any double, so it cannot fail.
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  (void)ec;
  std::string_view text(buf, static_cast<size_t>(end - buf));
  out += text;
  // Keep a double a JSON float, as the json library writes it ("2.0", not "2").
  if (text.find_first_of(".e") == std::string_view::npos) out += ".0";
}

void AppendUint(std::string& out, uint64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  (void)ec;
  out.append(buf, static_cast<size_t>(end - buf));
}

}  // namespace

std::string BucketsJson(std::string_view path, std::span<const series::Bucket> buckets) {
  std::string out;
  out.reserve(64 + buckets.size() * 240);
  out += "{\"buckets\":[";
  // Members in sorted order, as the json library dumped them before this was written by hand.
  for (size_t i = 0; i < buckets.size(); ++i) {
    const series::Bucket& b = buckets[i];
    out += i ? ",{\"count\":" : "{\"count\":";
    AppendUint(out, b.count);
    out += ",\"first\":";
    AppendFloat(out, b.first);
    out += ",\"first_step\":";
    AppendFloat(out, b.first_step);
    out += ",\"from\":";
    AppendFloat(out, b.step_from);
    out += ",\"last\":";
    AppendFloat(out, b.last);
    out += ",\"last_step\":";
    AppendFloat(out, b.last_step);
    if (b.count > b.nan_count) {
      out += ",\"max\":";
      AppendFloat(out, b.max);
      out += ",\"mean\":";
      AppendFloat(out, b.mean);
      out += ",\"min\":";
      AppendFloat(out, b.min);
    }
    if (b.nan_count) {
      out += ",\"nan_count\":";
      AppendUint(out, b.nan_count);
    }
    out += ",\"to\":";
    AppendFloat(out, b.step_to);
    out += '}';
  }
  out += "],\"path\":";
  out += json(std::string(path)).dump(-1, ' ', false, json::error_handler_t::replace);
  out += '}';
  return out;
}

}  // namespace nereid::server
