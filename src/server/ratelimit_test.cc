#include "server/ratelimit.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace nereid::server {
namespace {

class RateLimiterTest : public ::testing::Test {
 protected:
  int64_t now_ = 1'000'000'000;
  RateLimiter limiter_{[this] { return now_; }};
};

TEST_F(RateLimiterTest, BurstThenSteadyRate) {
  RateLimit limit{60, 5};  // one per second, five at once
  for (int i = 0; i < 5; ++i) {
    RateDecision d = limiter_.Acquire(1, limit);
    ASSERT_TRUE(d.allowed) << i;
    EXPECT_EQ(d.remaining, static_cast<uint32_t>(4 - i));
    EXPECT_EQ(d.limit, 60u);
  }
  RateDecision refused = limiter_.Acquire(1, limit);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.remaining, 0u);
  EXPECT_EQ(refused.retry_after_us, 1'000'000);
  // Refused requests are not counted: after exactly retry_after, one more is allowed.
  now_ += 999'999;
  EXPECT_FALSE(limiter_.Acquire(1, limit).allowed);
  now_ += 1;
  EXPECT_TRUE(limiter_.Acquire(1, limit).allowed);
  EXPECT_FALSE(limiter_.Acquire(1, limit).allowed);
  // Steady state: one per second is sustained indefinitely.
  for (int i = 0; i < 100; ++i) {
    now_ += 1'000'000;
    ASSERT_TRUE(limiter_.Acquire(1, limit).allowed) << i;
    ASSERT_FALSE(limiter_.Acquire(1, limit).allowed) << i;
  }
}

TEST_F(RateLimiterTest, ResetIsTimeUntilFullAllowance) {
  RateLimit limit{60, 5};
  RateDecision d = limiter_.Acquire(7, limit);
  EXPECT_EQ(d.reset_us, 1'000'000);
  d = limiter_.Acquire(7, limit);
  EXPECT_EQ(d.reset_us, 2'000'000);
  now_ += 2'000'000;
  d = limiter_.Peek(7, limit);
  EXPECT_EQ(d.remaining, 5u);
  EXPECT_EQ(d.reset_us, 0);
}

TEST_F(RateLimiterTest, IdleTimeDoesNotAccumulateBeyondBurst) {
  RateLimit limit{60, 3};
  now_ += 3600'000'000;  // an hour idle
  int allowed = 0;
  while (limiter_.Acquire(2, limit).allowed) ++allowed;
  EXPECT_EQ(allowed, 3);
}

TEST_F(RateLimiterTest, PeekDoesNotCount) {
  RateLimit limit{60, 2};
  for (int i = 0; i < 10; ++i) EXPECT_EQ(limiter_.Peek(3, limit).remaining, 2u);
  EXPECT_TRUE(limiter_.Acquire(3, limit).allowed);
  EXPECT_EQ(limiter_.Peek(3, limit).remaining, 1u);
}

TEST_F(RateLimiterTest, KeysAreIndependent) {
  RateLimit limit{60, 1};
  EXPECT_TRUE(limiter_.Acquire(10, limit).allowed);
  EXPECT_FALSE(limiter_.Acquire(10, limit).allowed);
  EXPECT_TRUE(limiter_.Acquire(11, limit).allowed);
  limiter_.Reset(10);
  EXPECT_TRUE(limiter_.Acquire(10, limit).allowed);
}

TEST_F(RateLimiterTest, UnlimitedAlwaysAllows) {
  RateLimit unlimited{0, 0};
  for (int i = 0; i < 10000; ++i) ASSERT_TRUE(limiter_.Acquire(4, unlimited).allowed);
}

TEST_F(RateLimiterTest, NonDivisibleRateNeverExceedsLimit) {
  RateLimit limit{7, 1};  // 60 s / 7 is not a whole number of microseconds
  int allowed = 0;
  for (int64_t t = 0; t < 60'000'000; t += 1000) {
    now_ = 5'000'000'000 + t;
    if (limiter_.Acquire(5, limit).allowed) ++allowed;
  }
  EXPECT_EQ(allowed, 7);
}

TEST(RateLimiterConcurrency, ExactCountUnderContention) {
  std::atomic<int64_t> now{0};
  RateLimiter limiter([&] { return now.load(); });
  RateLimit limit{1000, 500};
  std::atomic<int> allowed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) {
        if (limiter.Acquire(99, limit).allowed) allowed++;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(allowed.load(), 500);  // clock frozen: exactly the burst, never more
}

}  // namespace
}  // namespace nereid::server
