#include "server/json_render.h"

#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <limits>
#include <vector>

namespace nereid::server {
namespace {

// The hand-written bucket view must be the document BucketJson builds, value for value, and
// keep doubles as JSON floats.
TEST(BucketsJson, EqualsTheJsonLibrarysDocument) {
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
  std::string text = BucketsJson("train/\"loss\"\\é", buckets);
  nlohmann::json want = nlohmann::json::array();
  for (const auto& x : buckets) want.push_back(BucketJson(x));
  nlohmann::json doc = {{"path", "train/\"loss\"\\é"}, {"buckets", want}};
  auto got = nlohmann::json::parse(text);
  EXPECT_EQ(got, doc) << text;
  EXPECT_EQ(got.dump(), doc.dump());
  EXPECT_TRUE(got["buckets"][0]["from"].is_number_float()) << text;
  EXPECT_TRUE(got["buckets"][0]["count"].is_number_unsigned()) << text;
  EXPECT_FALSE(got["buckets"][2].contains("min"));
  EXPECT_EQ(BucketsJson("p", {}), R"({"buckets":[],"path":"p"})");
}

}  // namespace
}  // namespace nereid::server
