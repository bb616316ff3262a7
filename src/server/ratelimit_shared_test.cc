// Two servers' limiters on one PostgreSQL database (store::RateShare): together they admit about
// one user's limit, within the bound of src/store_postgres/README.md, where on their own they
// would admit it twice. A fake clock drives both limiters and the shared state, so the test is
// deterministic; the database is real (a throw-away cluster, see store_conformance).
#include <gtest/gtest.h>

#include "server/ratelimit.h"
#include "store_conformance/pg_test_cluster.h"
#include "store_postgres/postgres_store.h"
#include "store_postgres/rate_share.h"

namespace nereid::server {
namespace {

using store_conformance::PgTestCluster;
using store_postgres::PgRateShare;

constexpr int64_t kMs = 1000;
constexpr RateLimit kLimit{600, 5};  // one request per 100 ms, five at once
constexpr int64_t kInterval = 100 * kMs;

class SharedRateLimitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto url = PgTestCluster::Get().NewDatabase();
    ASSERT_TRUE(url.ok()) << url.status().ToString();
    url_ = *url;
    store::StoreOptions options;
    options.url = url_;
    options.data_dir = ::testing::TempDir() + "/nereid-ratelimit-shared";
    auto store = store_postgres::OpenPostgresStore(options);  // applies the schema
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    ASSERT_NE((*store)->RateSharing(), nullptr);
  }
  void TearDown() override {
    if (!url_.empty()) PgTestCluster::Get().DropDatabase(url_);
  }

  struct Server {
    Server(const std::string& url, int64_t* now)
        : share(url, [now] { return *now; }), limiter([now] { return *now; }) {
      limiter.ShareThrough(&share, RateLimiter::kRequestSpace);
    }
    PgRateShare share;  // a server's own connection
    RateLimiter limiter;
  };

  // Runs `seconds` of simulated time in 1 ms steps. Each step, every server in `busy` receives one
  // request of user 1 (clients far above the limit). Server i syncs every `period` ms, offset by
  // i * period / 2 so that the two are not in step. Returns the requests admitted.
  int64_t Run(std::vector<Server*> servers, std::vector<Server*> busy, int seconds,
              int period_ms) {
    int64_t admitted = 0;
    for (int64_t ms = 0; ms < seconds * 1000; ++ms, now_ += kMs) {
      for (Server* s : busy) admitted += s->limiter.Acquire(1, kLimit).allowed ? 1 : 0;
      for (size_t i = 0; i < servers.size(); ++i) {
        if ((ms + static_cast<int64_t>(i) * period_ms / 2) % period_ms == 0) {
          Status st = servers[i]->limiter.Sync();
          EXPECT_TRUE(st.ok()) << st.ToString();
        }
      }
    }
    return admitted;
  }

  // What one exact limiter admits of the same traffic (burst + one per interval after the first).
  static int64_t Exact(int seconds) {
    int64_t t = 0;
    RateLimiter alone([&t] { return t; });
    int64_t admitted = 0;
    for (int ms = 0; ms < seconds * 1000; ++ms, t += kMs) {
      admitted += alone.Acquire(1, kLimit).allowed ? 1 : 0;
    }
    return admitted;
  }

  std::string url_;
  int64_t now_ = 1'700'000'000'000'000;
};

TEST_F(SharedRateLimitTest, TwoServersTogetherStayWithinTheBound) {
  Server a(url_, &now_), b(url_, &now_);
  constexpr int kSeconds = 10;
  constexpr int kPeriodMs = 200;
  const int64_t admitted = Run({&a, &b}, {&a, &b}, kSeconds, kPeriodMs);
  // One exact limiter: 5 + 99. Unshared, two servers admit twice that.
  const int64_t exact = Exact(kSeconds);
  ASSERT_EQ(exact, 104);
  // README bound for N servers: exact + (N - 1) * (burst + rate * D), D = 2 periods (the exchanges
  // here take no simulated time).
  const int64_t bound = exact + 1 * (kLimit.burst + 2 * kPeriodMs * kMs / kInterval);
  EXPECT_LE(admitted, bound);
  // Charges are composed GCRA updates (rate_share.h): sharing is not stricter than the limit.
  EXPECT_GE(admitted, exact - kPeriodMs * kMs / kInterval);
  std::printf("two servers admitted %lld (exact %lld, bound %lld, unshared ~%lld)\n",
              static_cast<long long>(admitted), static_cast<long long>(exact),
              static_cast<long long>(bound), static_cast<long long>(2 * exact));
}

TEST_F(SharedRateLimitTest, RetryAfterHoldsWhenAnEarlierExchangeWasSlow) {
  // The exchange publishing the burst reaches the database 300 ms after it was sent (a loaded
  // machine or database), so the shared state holds this server's own admissions 300 ms later
  // than they were; a later, quick exchange brings that echo back while the server is charging
  // nothing. A client that waited exactly the Retry-After it was given must still be admitted.
  int64_t stall = 0;
  PgRateShare share(url_, [this, &stall] {
    now_ += stall;  // the statement starts late; the limiter's clock moves on with it
    stall = 0;
    return now_;
  });
  constexpr RateLimit kPerSecond{60, 5};  // Retry-After 1 s, longer than the stall
  RateLimiter limiter([this] { return now_; });
  limiter.ShareThrough(&share, RateLimiter::kRequestSpace);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(limiter.Acquire(1, kPerSecond).allowed) << i;
  const RateDecision refused = limiter.Acquire(1, kPerSecond);
  ASSERT_FALSE(refused.allowed);
  const int64_t due = now_ + refused.retry_after_us;
  stall = 300 * kMs;
  ASSERT_TRUE(limiter.Sync().ok());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(limiter.Sync().ok());  // quick ones, nothing charged
  ASSERT_LT(now_, due);
  now_ = due;
  EXPECT_TRUE(limiter.Acquire(1, kPerSecond).allowed);
}

TEST_F(SharedRateLimitTest, UnsharedServersWouldAdmitTwice) {
  // The control for the test above: the same traffic without Sync.
  RateLimiter a([this] { return now_; }), b([this] { return now_; });
  int64_t admitted = 0;
  for (int ms = 0; ms < 10'000; ++ms, now_ += kMs) {
    admitted += a.Acquire(1, kLimit).allowed ? 1 : 0;
    admitted += b.Acquire(1, kLimit).allowed ? 1 : 0;
  }
  EXPECT_EQ(admitted, 2 * Exact(10));
}

TEST_F(SharedRateLimitTest, OneBusyServerKeepsItsFullRate) {
  Server a(url_, &now_), b(url_, &now_);
  const int64_t admitted = Run({&a, &b}, {&a}, 10, 200);
  EXPECT_LE(admitted, Exact(10));
  EXPECT_GE(admitted, Exact(10) - 2);  // late charging: at most rate * period stricter
  // The idle server learned the user's debt: no allowance left there either, before any request
  // of its own. Other users are untouched.
  ASSERT_TRUE(a.limiter.Sync().ok());
  ASSERT_TRUE(b.limiter.Sync().ok());
  EXPECT_LE(b.limiter.Peek(1, kLimit).remaining, 1u);
  EXPECT_EQ(b.limiter.Peek(2, kLimit).remaining, 5u);
}

TEST_F(SharedRateLimitTest, StateDrainsWhenIdle) {
  Server a(url_, &now_), b(url_, &now_);
  Run({&a, &b}, {&a, &b}, 2, 200);
  // A server that is charging the key keeps its own state while the shared one is within one
  // echo tolerance (100 ms: one request at this rate) of it, so it may admit one more.
  int extra = 0;
  while (extra < 5 && a.limiter.Acquire(1, kLimit).allowed) ++extra;
  EXPECT_LE(extra, 1);
  ASSERT_TRUE(a.limiter.Sync().ok());  // publish the last admissions
  ASSERT_TRUE(b.limiter.Sync().ok());
  now_ += 10'000 * kMs;  // long idle: every allowance is full again
  ASSERT_TRUE(a.limiter.Sync().ok());
  ASSERT_TRUE(b.limiter.Sync().ok());
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(b.limiter.Acquire(1, kLimit).allowed) << i;
  EXPECT_FALSE(b.limiter.Acquire(1, kLimit).allowed);
}

TEST_F(SharedRateLimitTest, UnreachableDatabaseFallsBackToLocalLimits) {
  PgRateShare nowhere("postgresql://127.0.0.1:1/none?connect_timeout=1", [this] { return now_; });
  RateLimiter limiter([this] { return now_; });
  limiter.ShareThrough(&nowhere, RateLimiter::kRequestSpace);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(limiter.Acquire(1, kLimit).allowed);
  EXPECT_EQ(limiter.Sync().code(), StatusCode::kUnavailable);
  // The local view is kept (the failed sync did not forget the charges).
  EXPECT_FALSE(limiter.Acquire(1, kLimit).allowed);
  now_ += kInterval;
  EXPECT_TRUE(limiter.Acquire(1, kLimit).allowed);
}

}  // namespace
}  // namespace nereid::server
