#include "client/send_period.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

namespace nereid::client {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

TEST(SendPeriodTest, StaysWithinATenthAndSpreadsOverTheWholeRange) {
  std::minstd_rand rng(42);
  const milliseconds period{5000};
  std::vector<long long> us;
  for (int i = 0; i < 10000; ++i) us.push_back(JitteredPeriod(period, rng).count());
  const auto [lo, hi] = std::minmax_element(us.begin(), us.end());
  EXPECT_GE(*lo, 4'500'000);
  EXPECT_LE(*hi, 5'500'000);
  // Uniform: both ends of the range are reached, not only values near the period.
  EXPECT_LT(*lo, 4'520'000);
  EXPECT_GT(*hi, 5'480'000);
  double mean = 0;
  for (long long v : us) mean += static_cast<double>(v) / us.size();
  EXPECT_NEAR(mean, 5'000'000, 20'000);
}

TEST(SendPeriodTest, TwoSendersStartedTogetherDriftApart) {
  // Two runs with the same period, seeded differently (as two processes are): after a few
  // periods their send instants are no longer the same.
  std::minstd_rand a(1), b(2);
  const milliseconds period{1000};
  microseconds ta{0}, tb{0};
  for (int i = 0; i < 10; ++i) {
    ta += JitteredPeriod(period, a);
    tb += JitteredPeriod(period, b);
  }
  EXPECT_GT(std::abs((ta - tb).count()), 1000);  // more than a millisecond apart
}

TEST(SendPeriodTest, ShortPeriodsStayPositive) {
  std::minstd_rand rng(7);
  for (int i = 0; i < 1000; ++i) EXPECT_GT(JitteredPeriod(milliseconds{1}, rng).count(), 0);
}

}  // namespace
}  // namespace nereid::client
