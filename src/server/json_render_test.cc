#include "server/json_render.h"

#include <gtest/gtest.h>

#include <bit>
#include <cfloat>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

namespace nereid::server {
namespace {

// The bucket view's document, written out: members in sorted order (as the json library dumps
// them, which clients and tests have always seen), doubles in shortest round-trip form that stay
// JSON floats (integral ones keep ".0", -0.0 keeps its sign), NaN and +-Infinity as strings, and
// min, max and mean left out of an all-NaN bucket, nan_count out of a bucket without NaN.
TEST(BucketsJson, WritesTheDocument) {
  const double kInf = std::numeric_limits<double>::infinity();
  std::vector<series::Bucket> buckets;
  series::Bucket b;
  b.step_from = 0, b.step_to = 10000, b.count = 10000, b.min = 0.05, b.max = 2.5;
  b.first = 2.5499999523162842, b.last = -0.0, b.first_step = 0, b.last_step = 9999;
  b.mean = 1.0 / 3;
  buckets.push_back(b);
  b.nan_count = 3, b.min = -kInf, b.max = kInf, b.first = std::nan(""), b.mean = DBL_MIN / 8;
  b.step_from = 1e21, b.step_to = 1.5e-7, b.last = -DBL_MAX;
  buckets.push_back(b);
  b.nan_count = b.count;  // all NaN: no min, max or mean
  buckets.push_back(b);
  b = series::Bucket{};
  b.step_from = 123456789, b.step_to = 1e20, b.count = 1;
  b.first = b.last = b.min = b.max = b.mean = -std::nan("");  // a negative NaN
  b.first_step = b.last_step = -1e-310;
  buckets.push_back(b);
  EXPECT_EQ(BucketsJson("train/\"loss\"\\é", buckets),
            R"({"buckets":[)"
            R"({"count":10000,"first":2.549999952316284,"first_step":0.0,"from":0.0,)"
            R"("last":-0.0,"last_step":9999.0,"max":2.5,"mean":0.3333333333333333,"min":0.05,)"
            R"("to":10000.0},)"
            R"({"count":10000,"first":"NaN","first_step":0.0,"from":1e+21,)"
            R"("last":-1.7976931348623157e+308,"last_step":9999.0,"max":"Infinity",)"
            R"("mean":2.781342323134e-309,"min":"-Infinity","nan_count":3,"to":1.5e-07},)"
            R"({"count":10000,"first":"NaN","first_step":0.0,"from":1e+21,)"
            R"("last":-1.7976931348623157e+308,"last_step":9999.0,"nan_count":10000,"to":1.5e-07},)"
            R"({"count":1,"first":"NaN","first_step":-1e-310,"from":123456789.0,"last":"NaN",)"
            R"("last_step":-1e-310,"max":"NaN","mean":"NaN","min":"NaN","to":1e+20})"
            R"(],"path":"train/\"loss\"\\é"})");
  EXPECT_EQ(BucketsJson("p", {}), R"({"buckets":[],"path":"p"})");
  // The path is a JSON string: control characters escaped, invalid UTF-8 replaced by U+FFFD.
  EXPECT_EQ(BucketsJson("a\n\x01\xff", {}),
            "{\"buckets\":[],\"path\":\"a\\n\\u0001\xEF\xBF\xBD\"}");
  // What the document parses to: counts are unsigned integers, steps floats.
  auto got = nlohmann::json::parse(BucketsJson("p", buckets));
  EXPECT_TRUE(got["buckets"][0]["from"].is_number_float());
  EXPECT_TRUE(got["buckets"][0]["count"].is_number_unsigned());
}

using nlohmann::json;

constexpr double kInfinity = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// What a reader of the API gets back for a value written as FloatJson writes it.
double ReadFloat(const json& j) {
  if (j.is_string()) {
    if (j == "NaN") return kNaN;
    if (j == "Infinity") return kInfinity;
    if (j == "-Infinity") return -kInfinity;
    ADD_FAILURE() << "unexpected string " << j;
    return 0;
  }
  EXPECT_TRUE(j.is_number_float()) << j;
  return j.get<double>();
}

void ExpectSameBits(double want, double got, const char* what) {
  if (std::isnan(want)) {
    EXPECT_TRUE(std::isnan(got)) << what;
  } else {
    EXPECT_EQ(std::bit_cast<uint64_t>(want), std::bit_cast<uint64_t>(got))
        << what << ": want " << want << " got " << got;
  }
}

TEST(BucketsJson, AnyValueReadsBackBitExact) {
  std::mt19937_64 rng(7);
  std::vector<double> specials = {
      0.0,  -0.0, 1.0, -1.0,      1e-310,     -5e-324, 1.7976931348623157e308,
      1e21, 1e-7, 0.1, kInfinity, -kInfinity, kNaN,    123456789.0};
  auto value = [&] {
    if (rng() % 3 == 0) return specials[rng() % specials.size()];
    return std::bit_cast<double>(rng());  // any bit pattern, NaN payloads included
  };
  std::vector<series::Bucket> buckets;
  for (int i = 0; i < 2000; ++i) {
    series::Bucket b;
    b.step_from = i * 0.37;
    b.step_to = (i + 1) * 0.37;
    b.first_step = i % 5 == 0 ? 3.0 : b.step_from + 0.01;  // an integral step too
    b.last_step = b.step_to - 1e-9;
    b.count = rng() % 4 == 0 ? 0 : rng() % 100000;
    b.nan_count = b.count == 0 ? 0 : (rng() % 3 == 0 ? b.count : rng() % (b.count + 1));
    b.min = value(), b.max = value(), b.first = value(), b.last = value(), b.mean = value();
    buckets.push_back(b);
  }
  json j = json::parse(BucketsJson("train/loss", buckets));
  EXPECT_EQ(j["path"], "train/loss");
  ASSERT_EQ(j["buckets"].size(), buckets.size());
  for (size_t i = 0; i < buckets.size(); ++i) {
    const series::Bucket& b = buckets[i];
    const json& o = j["buckets"][i];
    EXPECT_EQ(o["count"].get<uint64_t>(), b.count);
    ExpectSameBits(b.step_from, o["from"].get<double>(), "from");
    ExpectSameBits(b.step_to, o["to"].get<double>(), "to");
    ExpectSameBits(b.first_step, o["first_step"].get<double>(), "first_step");
    ExpectSameBits(b.last_step, o["last_step"].get<double>(), "last_step");
    EXPECT_TRUE(o["first_step"].is_number_float());  // 3.0 stays a float, as "3.0"
    ExpectSameBits(b.first, ReadFloat(o["first"]), "first");
    ExpectSameBits(b.last, ReadFloat(o["last"]), "last");
    if (b.count > b.nan_count) {
      ExpectSameBits(b.min, ReadFloat(o["min"]), "min");
      ExpectSameBits(b.max, ReadFloat(o["max"]), "max");
      ExpectSameBits(b.mean, ReadFloat(o["mean"]), "mean");
    } else {
      EXPECT_FALSE(o.contains("min") || o.contains("max") || o.contains("mean")) << o;
    }
    if (b.nan_count > 0) {
      EXPECT_EQ(o["nan_count"].get<uint64_t>(), b.nan_count);
    } else {
      EXPECT_FALSE(o.contains("nan_count"));
    }
  }
}

}  // namespace
}  // namespace nereid::server
