// Several servers on one database: the same contract as one server (src/store/README.md), while
// batches of one writer arrive at different servers and retries race each other. Instantiated
// for the backends where servers can share a database (SharedDatabaseBackends).
#include <set>
#include <thread>

#include "store_conformance/store_fixture.h"

namespace nereid::store_conformance {
namespace {
using testing::B;

class TwoServersTest : public testing::StoreTest {};

constexpr int kBatches = 90;
constexpr int kPointsPerBatch = 50;

// Batch `seq` of writer `id`: kPointsPerBatch points of "loss" at steps of its own (offset keeps
// the two writers' steps apart), value = step; and a string field that names the batch.
v1::Batch WriterBatch(const std::string& id, int seq, double offset) {
  std::vector<double> steps, values;
  for (int j = 0; j < kPointsPerBatch; ++j) {
    steps.push_back(seq * 1000.0 + offset + j);
    values.push_back(steps.back());
  }
  return B(id, static_cast<uint64_t>(seq))
      .Floats("loss", steps, values)
      .Str("last/" + id, std::to_string(seq))
      .batch;
}

// Two writers append to one series, each sending its batches alternately to the two servers;
// every third batch of writer "w" is also sent to the other server at the same moment, as a
// client retrying after a timeout would. Each point must be stored exactly once, and the tail
// chunk each server caches must follow the other server's appends.
TEST_P(TwoServersTest, RetriesOnAnotherServerApplyOnce) {
  auto second = OpenSecondServer();
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  store::Store* servers[2] = {store_.get(), second->get()};
  std::string run = NewRun();

  std::atomic<uint64_t> applied{0}, duplicates{0};
  std::atomic<int> raced_twice_applied{0};
  auto send = [&](store::Store* s, const v1::Batch& batch) -> Result<store::IngestResult> {
    auto r = s->Ingest(run, batch);
    if (r.ok()) {
      applied += r->applied_points;
      duplicates += r->duplicate ? 1 : 0;
    }
    return r;
  };
  std::thread w([&] {
    for (int seq = 1; seq <= kBatches; ++seq) {
      v1::Batch batch = WriterBatch("w", seq, 0);
      store::Store* to = servers[seq % 2];
      if (seq % 3 != 0) {
        auto r = send(to, batch);
        ASSERT_TRUE(r.ok()) << r.status().ToString();
        EXPECT_FALSE(r->duplicate) << seq;
        continue;
      }
      Result<store::IngestResult> retry = Unavailable("not sent");
      std::thread other([&] { retry = send(servers[(seq + 1) % 2], batch); });
      auto r = send(to, batch);
      other.join();
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      ASSERT_TRUE(retry.ok()) << retry.status().ToString();
      // Exactly one of the two is applied, whichever won the race.
      EXPECT_NE(r->duplicate, retry->duplicate) << seq;
      raced_twice_applied += !r->duplicate && !retry->duplicate ? 1 : 0;
    }
  });
  std::thread v([&] {
    for (int seq = 1; seq <= kBatches; ++seq) {
      auto r = send(servers[(seq + 1) % 2], WriterBatch("v", seq, 500));
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      EXPECT_FALSE(r->duplicate) << seq;
    }
  });
  w.join();
  v.join();
  const uint64_t total = 2u * kBatches * kPointsPerBatch;
  EXPECT_EQ(applied.load(), total);
  EXPECT_EQ(duplicates.load(), static_cast<uint64_t>(kBatches / 3));
  EXPECT_EQ(raced_twice_applied.load(), 0);

  // Every point once, in step order, read through either server.
  std::set<double> want;
  for (int seq = 1; seq <= kBatches; ++seq) {
    for (int j = 0; j < kPointsPerBatch; ++j) {
      want.insert(seq * 1000.0 + j);
      want.insert(seq * 1000.0 + 500 + j);
    }
  }
  for (store::Store* s : servers) {
    store::SeriesQuery q = testing::SQ(run, "loss");
    q.limit = 100000;
    auto page = s->ReadSeries(q);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    ASSERT_EQ(page->floats.size(), total);
    std::vector<double> steps;
    for (const auto& p : page->floats) {
      steps.push_back(p.step);
      EXPECT_EQ(p.value, p.step);
    }
    EXPECT_EQ(steps, std::vector<double>(want.begin(), want.end()));
    auto buckets = s->ReadBuckets(testing::BQ(run, "loss"));
    ASSERT_TRUE(buckets.ok()) << buckets.status().ToString();
    uint64_t counted = 0;
    for (const auto& b : *buckets) counted += b.count;
    EXPECT_EQ(counted, total);
    auto fields = s->GetFields(run, "");
    ASSERT_TRUE(fields.ok()) << fields.status().ToString();
    for (const auto& f : *fields) {
      if (f.path == "loss") {
        ASSERT_TRUE(f.series.has_value());
        EXPECT_EQ(f.series->count, total);
        EXPECT_EQ(f.series->last_step, *want.rbegin());
      }
      if (f.path == "last/w" || f.path == "last/v") {
        EXPECT_EQ(f.value, store::Value(std::to_string(kBatches))) << f.path;
      }
    }
  }

  // Steps the client left out continue after the highest step, whichever server appended last:
  // each server's cached tail must notice the other's appends.
  double last = *want.rbegin();
  for (int i = 0; i < 6; ++i) {
    auto r = servers[i % 2]->Ingest(
        run,
        B("auto", static_cast<uint64_t>(i + 1)).Floats("loss", {}, {static_cast<double>(i)}).batch);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
  store::SeriesQuery tail = testing::SQ(run, "loss");
  tail.step_from = last + 1;
  auto page = servers[1]->ReadSeries(tail);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->floats.size(), 6u);
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(page->floats[i].step, last + 1 + i);
    EXPECT_EQ(page->floats[i].value, i);
  }
}

INSTANTIATE_TEST_SUITE_P(SharedDatabase, TwoServersTest, testing::SharedDatabaseBackends(),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace nereid::store_conformance
