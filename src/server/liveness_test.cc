#include "server/liveness.h"

#include <gtest/gtest.h>

namespace nereid::server {
namespace {

store::RunInfo MakeRun(store::RunState state, int64_t ping_us) {
  store::RunInfo r;
  r.state = state;
  r.ping_time_us = ping_us;
  return r;
}

TEST(Liveness, OnlyRunningRunsWithOldPingsAreNotResponding) {
  const int64_t threshold = 300'000'000;
  const int64_t now = 1'000'000'000'000;
  EXPECT_FALSE(
      IsNotResponding(MakeRun(store::RunState::kRunning, now - threshold), now, threshold));
  EXPECT_TRUE(
      IsNotResponding(MakeRun(store::RunState::kRunning, now - threshold - 1), now, threshold));
  EXPECT_FALSE(IsNotResponding(MakeRun(store::RunState::kSucceeded, 0), now, threshold));
  nlohmann::json j = {{"state", "running"}};
  ApplyLiveness(j, MakeRun(store::RunState::kRunning, 0), now, threshold);
  EXPECT_EQ(j["state"], "not responding");
}

TEST(Liveness, FilterRewrite) {
  auto expr = query::ParseFilter(
      "sys/state = \"not responding\" or (sys/state != \"running\" and params/x = 1) or "
      "sys/state = \"failed\"");
  ASSERT_TRUE(expr.ok());
  std::unique_ptr<query::Expr> e = std::move(expr).value();
  RewriteLivenessFilter(e, 5000);
  std::string text = query::ToString(*e);
  EXPECT_NE(text.find("(sys/state = \"running\" and sys/ping_time < 5000)"), std::string::npos)
      << text;
  EXPECT_NE(text.find("not (sys/state = \"running\" and sys/ping_time >= 5000)"), std::string::npos)
      << text;
  EXPECT_NE(text.find("sys/state = \"failed\""), std::string::npos) << text;
  // The text form parses back to the same tree.
  auto again = query::ParseFilter(text);
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(query::ToString(**again), text);
}

}  // namespace
}  // namespace nereid::server
