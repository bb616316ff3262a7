#include "common/metrics.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace nereid::common {
namespace {

TEST(MetricsTest, CounterWithLabelsAndHelp) {
  Metrics m;
  m.Describe("req_total", "Requests.\nSecond line \\ end");
  m.Add("req_total", {{"route", "/a"}, {"status", "200"}});
  m.Add("req_total", {{"route", "/a"}, {"status", "200"}}, 2);
  m.Add("req_total", {{"route", "/b"}, {"status", "404"}});
  std::string text = m.Render();
  EXPECT_NE(text.find("# HELP req_total Requests.\\nSecond line \\\\ end\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("# TYPE req_total counter\n"), std::string::npos) << text;
  EXPECT_NE(text.find("req_total{route=\"/a\",status=\"200\"} 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("req_total{route=\"/b\",status=\"404\"} 1\n"), std::string::npos) << text;
}

TEST(MetricsTest, LabelValuesAreEscaped) {
  Metrics m;
  m.Add("c", {{"v", "a\"b\\c\nd"}});
  EXPECT_NE(m.Render().find("c{v=\"a\\\"b\\\\c\\nd\"} 1\n"), std::string::npos) << m.Render();
}

TEST(MetricsTest, HistogramBucketsAreCumulative) {
  Metrics m;
  std::vector<double> bounds = {0.1, 1, 0.5};  // unsorted on purpose
  m.Observe("lat", {{"route", "/x"}}, 0.05, bounds);
  m.Observe("lat", {{"route", "/x"}}, 0.5, bounds);  // le is inclusive
  m.Observe("lat", {{"route", "/x"}}, 0.7, bounds);
  m.Observe("lat", {{"route", "/x"}}, 30, bounds);
  std::string text = m.Render();
  EXPECT_NE(text.find("# TYPE lat histogram\n"), std::string::npos) << text;
  EXPECT_NE(text.find("lat_bucket{route=\"/x\",le=\"0.1\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("lat_bucket{route=\"/x\",le=\"0.5\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("lat_bucket{route=\"/x\",le=\"1\"} 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("lat_bucket{route=\"/x\",le=\"+Inf\"} 4\n"), std::string::npos) << text;
  EXPECT_NE(text.find("lat_sum{route=\"/x\"} 31.25\n"), std::string::npos) << text;
  EXPECT_NE(text.find("lat_count{route=\"/x\"} 4\n"), std::string::npos) << text;
}

TEST(MetricsTest, GaugeIsReadAtScrape) {
  Metrics m;
  double v = 1.5;
  m.Describe("g", "A gauge.");
  m.Gauge("g", [&] { return v; });
  EXPECT_NE(m.Render().find("# HELP g A gauge.\n# TYPE g gauge\ng 1.5\n"), std::string::npos);
  v = 7;
  EXPECT_NE(m.Render().find("g 7\n"), std::string::npos) << m.Render();
}

TEST(MetricsTest, TypeConflictIsIgnored) {
  Metrics m;
  m.Add("x", {});
  m.Observe("x", {}, 1, {1});
  std::string text = m.Render();
  EXPECT_NE(text.find("x 1\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("x_bucket"), std::string::npos) << text;
}

TEST(MetricsTest, ConcurrentIncrementsAreNotLost) {
  Metrics m;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) {
        m.Add("n", {{"k", "v"}});
        m.Observe("h", {}, 1, {0.5, 2});
      }
    });
  }
  for (auto& t : threads) t.join();
  std::string text = m.Render();
  EXPECT_NE(text.find("n{k=\"v\"} 40000\n"), std::string::npos) << text;
  EXPECT_NE(text.find("h_count 40000\n"), std::string::npos) << text;
  EXPECT_NE(text.find("h_bucket{le=\"2\"} 40000\n"), std::string::npos) << text;
}

}  // namespace
}  // namespace nereid::common
