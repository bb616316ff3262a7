// PostgreSQL only: the group-commit writer (store_postgres/writer.h) when two servers' writers
// deadlock, and when a job keeps losing. Uses a throw-away database and two Writers on it, as two
// server processes would have.
#include <gtest/gtest.h>

#include <atomic>
#include <latch>
#include <thread>

#include "store_conformance/pg_test_cluster.h"
#include "store_postgres/writer.h"

namespace nereid::store_conformance {
namespace {
using store_postgres::PgConn;
using store_postgres::PgParams;
using store_postgres::PgResult;
using store_postgres::Writer;

class PgWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto url = PgTestCluster::Get().NewDatabase();
    ASSERT_TRUE(url.ok()) << url.status().ToString();
    url_ = *url;
    auto conn = PgConn::Connect(url_);
    ASSERT_TRUE(conn.ok()) << conn.status().ToString();
    admin_ = std::move(conn).value();
    ASSERT_TRUE(admin_
                    ->ExecScript("CREATE TABLE t(id INT PRIMARY KEY, v INT NOT NULL);"
                                 "INSERT INTO t VALUES (1, 0), (2, 0)")
                    .ok());
  }
  void TearDown() override {
    admin_.reset();
    PgTestCluster::Get().DropDatabase(url_);
  }
  int64_t Value(int id) {
    auto r = admin_->Query("SELECT v FROM t WHERE id = $1", PgParams().Int(id));
    EXPECT_TRUE(r.ok());
    return r.ok() ? r->Int(0, 0) : -1;
  }
  // A job that adds 1 to row `first`, waits until the other writer holds its first row (on its
  // first attempt only), then adds 1 to row `second`.
  Writer::Job Crossing(int first, int second, std::latch& both_hold, std::atomic<int>& runs) {
    return [=, &both_hold, &runs](PgConn& c) -> Status {
      bool first_attempt = runs.fetch_add(1) == 0;
      NEREID_RETURN_IF_ERROR(
          c.Query("UPDATE t SET v = v + 1 WHERE id = $1", PgParams().Int(first)).status());
      if (first_attempt) both_hold.arrive_and_wait();
      return c.Query("UPDATE t SET v = v + 1 WHERE id = $1", PgParams().Int(second)).status();
    };
  }

  std::string url_;
  std::unique_ptr<PgConn> admin_;
};

TEST_F(PgWriterTest, DeadlockVictimRunsAgainInTheNextGroup) {
  std::atomic<int> lost{0};
  Writer a(url_, "", 16, [&] { ++lost; }), b(url_, "", 16, [&] { ++lost; });
  std::latch both_hold(2);
  std::atomic<int> runs_a{0}, runs_b{0};
  Status sa, sb;
  // Each takes one row, then wants the other's: PostgreSQL aborts one of them (40P01).
  std::thread ta([&] { sa = a.Run(1, Crossing(1, 2, both_hold, runs_a), true); });
  std::thread tb([&] { sb = b.Run(1, Crossing(2, 1, both_hold, runs_b), true); });
  ta.join();
  tb.join();
  EXPECT_TRUE(sa.ok()) << sa.ToString();
  EXPECT_TRUE(sb.ok()) << sb.ToString();
  // The victim's first attempt was rolled back to its savepoint; each job counted once.
  EXPECT_EQ(runs_a.load() + runs_b.load(), 3);
  EXPECT_EQ(Value(1), 2);
  EXPECT_EQ(Value(2), 2);
  EXPECT_EQ(lost.load(), 0);  // a victim is retried alone; its group's transaction was not lost
  EXPECT_EQ(a.Stats().batches + b.Stats().batches, 2u);
}

TEST_F(PgWriterTest, RefusedAndRetriedJobsLeaveTheirGroupIntact) {
  Writer w(url_, "", 16, [] {});
  std::atomic<int> attempts{0};
  std::vector<std::thread> threads;
  std::vector<Status> results(3);
  // A job that keeps being chosen as a deadlock victim gives up with Unavailable; a refused job
  // rolls back alone; the good job commits either way.
  threads.emplace_back([&] {
    results[0] = w.Run(
        1,
        [&](PgConn& c) -> Status {
          ++attempts;
          NEREID_RETURN_IF_ERROR(c.Query("UPDATE t SET v = v + 100 WHERE id = 1").status());
          return Unavailable("postgres: deadlock detected (SQLSTATE 40P01)");
        },
        true);
  });
  threads.emplace_back([&] {
    results[1] = w.Run(
        2,
        [](PgConn& c) -> Status {
          NEREID_RETURN_IF_ERROR(c.Query("UPDATE t SET v = v + 1000 WHERE id = 2").status());
          return TypeConflict("refused");
        },
        true);
  });
  threads.emplace_back([&] {
    results[2] = w.Run(
        3, [](PgConn& c) { return c.Query("UPDATE t SET v = v + 1 WHERE id = 2").status(); }, true);
  });
  for (auto& t : threads) t.join();
  EXPECT_EQ(results[0].code(), StatusCode::kUnavailable);
  EXPECT_EQ(attempts.load(), Writer::kMaxAttempts);
  EXPECT_EQ(results[1].code(), StatusCode::kTypeConflict);
  EXPECT_TRUE(results[2].ok()) << results[2].ToString();
  EXPECT_EQ(Value(1), 0);
  EXPECT_EQ(Value(2), 1);
  EXPECT_EQ(w.Stats().batches, 1u);
  w.Stop();
  EXPECT_EQ(w.Run(
                 1, [](PgConn&) { return Status(); }, true)
                .code(),
            StatusCode::kUnavailable);
}

}  // namespace
}  // namespace nereid::store_conformance
