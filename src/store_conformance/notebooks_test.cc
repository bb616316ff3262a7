// The notebooks part of the storage contract (store/notebooks.h), on every backend.
#include <set>
#include <thread>

#include "store/notebooks.h"
#include "store_conformance/store_fixture.h"

namespace nereid::store_conformance {
namespace {

class NotebooksTest : public testing::StoreTest {
 protected:
  store::NotebookStore& N() { return *store_->Notebooks(); }
  Result<store::CheckpointInfo> Add(const std::string& path, char fill, bool* created,
                                    const std::string& project = "ws/vision") {
    return N().AddCheckpoint(project, path, std::string(64, fill), 100 + fill, "bob", created);
  }
};

TEST_P(NotebooksTest, CheckpointsAreNumberedAndDeduplicated) {
  bool created = false;
  auto c1 = Add("exp/train.ipynb", 'a', &created);
  ASSERT_TRUE(c1.ok()) << c1.status().ToString();
  EXPECT_TRUE(created);
  EXPECT_EQ(c1->number, 1);
  EXPECT_EQ(c1->project, "ws/vision");
  EXPECT_EQ(c1->path, "exp/train.ipynb");
  EXPECT_EQ(c1->size, 100 + 'a');
  EXPECT_EQ(c1->created_by, "bob");
  auto c2 = Add("exp/train.ipynb", 'b', &created);
  ASSERT_TRUE(c2.ok());
  EXPECT_TRUE(created);
  EXPECT_EQ(c2->number, 2);
  EXPECT_GT(c2->creation_time_us, c1->creation_time_us);

  // Content the notebook already has: that checkpoint, not a new one.
  auto again = Add("exp/train.ipynb", 'a', &created);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(created);
  EXPECT_EQ(again->number, 1);
  EXPECT_EQ(again->creation_time_us, c1->creation_time_us);
  // The same content in another notebook is a checkpoint of that notebook.
  auto other = Add("Analysis.ipynb", 'a', &created);
  ASSERT_TRUE(other.ok());
  EXPECT_TRUE(created);
  EXPECT_EQ(other->number, 1);

  auto list = N().ListNotebooks("ws/vision");
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].path, "Analysis.ipynb");  // byte order
  EXPECT_EQ((*list)[0].checkpoints, 1);
  EXPECT_EQ((*list)[1].path, "exp/train.ipynb");
  EXPECT_EQ((*list)[1].checkpoints, 2);
  EXPECT_EQ((*list)[1].creation_time_us, c1->creation_time_us);
  EXPECT_EQ((*list)[1].last_checkpoint_time_us, c2->creation_time_us);

  auto checkpoints = N().ListCheckpoints("ws/vision", "exp/train.ipynb");
  ASSERT_TRUE(checkpoints.ok());
  ASSERT_EQ(checkpoints->size(), 2u);
  EXPECT_EQ((*checkpoints)[0].sha256, std::string(64, 'a'));  // oldest first
  EXPECT_EQ((*checkpoints)[1].sha256, std::string(64, 'b'));
  EXPECT_EQ((*checkpoints)[1].number, 2);

  auto got = N().GetCheckpoint("ws/vision", "exp/train.ipynb", std::string(64, 'b'));
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->number, 2);
  EXPECT_EQ(got->created_by, "bob");

  Reopen();
  EXPECT_EQ(N().ListCheckpoints("ws/vision", "exp/train.ipynb")->size(), 2u);
  auto third = Add("exp/train.ipynb", 'c', &created);
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third->number, 3);
}

TEST_P(NotebooksTest, NotFound) {
  bool created = false;
  ASSERT_TRUE(Add("a.ipynb", 'a', &created).ok());
  EXPECT_EQ(Add("a.ipynb", 'b', &created, "ws/nope").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(N().ListNotebooks("ws/nope").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(N().ListCheckpoints("ws/vision", "b.ipynb").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(N().GetCheckpoint("ws/vision", "b.ipynb", std::string(64, 'a')).status().code(),
            StatusCode::kNotFound);
  auto missing = N().GetCheckpoint("ws/vision", "a.ipynb", std::string(64, 'f'));
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("a.ipynb"), std::string::npos);
  ASSERT_TRUE(store_->CreateProject("ws", "empty", "EMP").ok());
  auto none = N().ListNotebooks("ws/empty");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

// Uploads from many threads (on PostgreSQL also from a second store, i.e. another server):
// distinct content gets the numbers 1..n once each; identical content one checkpoint.
TEST_P(NotebooksTest, ConcurrentUploadsNumberWithoutGaps) {
  std::unique_ptr<store::Store> second;
  if (GetParam() == "postgres") {
    auto opened = store_postgres::OpenPostgresStore(Options());
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    second = std::move(opened).value();
  }
  constexpr int kThreads = 8;
  std::vector<std::thread> threads;
  std::atomic<int> created_same{0};
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      store::NotebookStore& n =
          second && i % 2 == 1 ? *second->Notebooks() : *store_->Notebooks();
      bool created = false;
      auto r = n.AddCheckpoint("ws/vision", "nb.ipynb", std::string(64, 'a' + i), 10, "bob",
                               &created);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      auto same = n.AddCheckpoint("ws/vision", "same.ipynb", std::string(64, 'f'), 10, "bob",
                                  &created);
      ASSERT_TRUE(same.ok()) << same.status().ToString();
      EXPECT_EQ(same->number, 1);
      if (created) ++created_same;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(created_same.load(), 1);
  auto checkpoints = N().ListCheckpoints("ws/vision", "nb.ipynb");
  ASSERT_TRUE(checkpoints.ok());
  ASSERT_EQ(checkpoints->size(), static_cast<size_t>(kThreads));
  std::set<std::string> shas;
  for (int i = 0; i < kThreads; ++i) {
    EXPECT_EQ((*checkpoints)[i].number, i + 1);
    shas.insert((*checkpoints)[i].sha256);
  }
  EXPECT_EQ(shas.size(), static_cast<size_t>(kThreads));
}

INSTANTIATE_TEST_SUITE_P(Backends, NotebooksTest, testing::Backends(),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace nereid::store_conformance
