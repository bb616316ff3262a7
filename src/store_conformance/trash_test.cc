// The trash (store/trash.h) on every backend: hidden from the runs table, restored, deleted
// forever with its usage and the files nothing else references, numbers never reused.
#include <fstream>
#include <thread>

#include "store_conformance/store_fixture.h"

namespace nereid::store_conformance {
namespace {

using testing::B;
using testing::StoreTest;

class TrashTest : public StoreTest {
 protected:
  std::vector<std::string> Listed(bool trashed) {
    store::ListRunsQuery q;
    q.project = "ws/vision";
    q.trashed = trashed;
    q.descending = false;
    auto page = store_->ListRuns(q);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    std::vector<std::string> ids;
    if (!page.ok()) return ids;
    for (const auto& row : page->rows) ids.push_back(row.run.id);
    EXPECT_EQ(page->total, ids.size());
    return ids;
  }
  int64_t Used() {
    auto usage = store_->Accounts()->GetWorkspaceUsage("ws");
    EXPECT_TRUE(usage.ok()) << usage.status().ToString();
    return usage.ok() ? usage->used_bytes : -1;
  }
  // A blob as the files folder holds it (BlobStore's layout: files/ab/<sha256>).
  std::filesystem::path WriteBlobFile(const std::string& sha) {
    std::filesystem::path p = dir_ / "files" / sha.substr(0, 2) / sha;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p) << "content";
    return p;
  }
};

TEST_P(TrashTest, TrashedRunsLeaveTheTableAndComeBack) {
  std::string r1 = NewRun(), r2 = NewRun(), r3 = NewRun();
  ASSERT_TRUE(store_->Ingest(r2, B("w", 1).Float("a", 1).batch).ok());
  ASSERT_TRUE(store_->TrashRuns("ws/vision", {r2, r3, r2}).ok());
  EXPECT_EQ(Listed(false), std::vector<std::string>{r1});
  EXPECT_EQ(Listed(true), (std::vector<std::string>{r2, r3}));

  // Still readable, and says it is trashed.
  auto run = store_->GetRun(r2);
  ASSERT_TRUE(run.ok());
  EXPECT_GT(run->trashed_time_us, 0);
  EXPECT_EQ(store_->GetRun(r1)->trashed_time_us, 0);
  auto fields = store_->GetFields(r2, "sys/trashed_time");
  ASSERT_TRUE(fields.ok());
  ASSERT_EQ(fields->size(), 1u);
  EXPECT_EQ(std::get<store::Datetime>((*fields)[0].value).us, run->trashed_time_us);
  EXPECT_TRUE(store_->GetFields(r1, "sys/trashed_time")->empty());

  // Trashing again keeps the first trashed time.
  ASSERT_TRUE(store_->TrashRuns("ws/vision", {r2}).ok());
  EXPECT_EQ(store_->GetRun(r2)->trashed_time_us, run->trashed_time_us);

  ASSERT_TRUE(store_->RestoreRuns("ws/vision", {r2}).ok());
  EXPECT_EQ(Listed(false), (std::vector<std::string>{r1, r2}));
  EXPECT_EQ(Listed(true), std::vector<std::string>{r3});
  EXPECT_EQ(store_->GetRun(r2)->trashed_time_us, 0);
  EXPECT_EQ(std::get<double>(store_->GetFields(r2, "a")->at(0).value), 1.0);
}

TEST_P(TrashTest, UnknownRunsChangeNothing) {
  std::string r1 = NewRun();
  ASSERT_TRUE(store_->CreateProject("ws", "audio", "AUD").ok());
  store::CreateRunRequest other;
  other.project = "ws/audio";
  std::string foreign = store_->CreateRun(other)->run.id;

  Status s = store_->TrashRuns("ws/vision", {r1, "VIS-99", foreign, "garbage"});
  ASSERT_EQ(s.code(), StatusCode::kNotFound) << s.ToString();
  EXPECT_NE(s.message().find("VIS-99"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find(foreign), std::string::npos) << s.message();
  EXPECT_EQ(s.message().find(r1 + ","), std::string::npos) << s.message();
  EXPECT_EQ(store_->GetRun(r1)->trashed_time_us, 0);  // nothing partially applied
  EXPECT_EQ(store_->TrashRuns("ws/nope", {r1}).code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->TrashRuns("ws/vision", {}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->DeleteRuns("ws/vision", {"VIS-99"}).status().code(), StatusCode::kNotFound);
}

TEST_P(TrashTest, OnlyTrashedRunsAreDeleted) {
  std::string r1 = NewRun(), r2 = NewRun();
  ASSERT_TRUE(store_->TrashRuns("ws/vision", {r1}).ok());
  auto d = store_->DeleteRuns("ws/vision", {r1, r2});
  ASSERT_EQ(d.status().code(), StatusCode::kFailedPrecondition) << d.status().ToString();
  EXPECT_NE(d.status().message().find(r2), std::string::npos);
  EXPECT_TRUE(store_->GetRun(r1).ok());  // nothing deleted
  d = store_->DeleteRuns("ws/vision", {r1});
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->deleted, std::vector<std::string>{r1});
  EXPECT_EQ(store_->GetRun(r1).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->GetFields(r1, "").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(Listed(true), std::vector<std::string>{});
  EXPECT_EQ(Listed(false), std::vector<std::string>{r2});
}

TEST_P(TrashTest, TrashedRunRefusesIngestUntilRestored) {
  std::string run = NewRun();
  ASSERT_TRUE(store_->Ingest(run, B("w", 1).Float("a", 1).batch).ok());
  ASSERT_TRUE(store_->TrashRuns("ws/vision", {run}).ok());
  auto refused = store_->Ingest(run, B("w", 2).Float("b", 2).batch);
  ASSERT_EQ(refused.status().code(), StatusCode::kFailedPrecondition)
      << refused.status().ToString();
  EXPECT_NE(refused.status().message().find("restore"), std::string::npos);
  EXPECT_NE(refused.status().message().find(run), std::string::npos);
  // A retry of a batch stored before is still acknowledged as a duplicate.
  auto dup = store_->Ingest(run, B("w", 1).Float("a", 1).batch);
  ASSERT_TRUE(dup.ok()) << dup.status().ToString();
  EXPECT_TRUE(dup->duplicate);
  EXPECT_TRUE(store_->GetFields(run, "b")->empty());

  ASSERT_TRUE(store_->RestoreRuns("ws/vision", {run}).ok());
  ASSERT_TRUE(store_->Ingest(run, B("w", 2).Float("b", 2).batch).ok());
  EXPECT_EQ(store_->GetFields(run, "b")->size(), 1u);
}

TEST_P(TrashTest, NumbersAreNotReusedButCustomIdsAre) {
  std::string r1 = NewRun(), r2 = NewRun("exp-1");
  ASSERT_EQ(r2, "VIS-2");
  ASSERT_TRUE(store_->TrashRuns("ws/vision", {r1, r2}).ok());
  // While in the trash, the custom id still names the trashed run.
  store::CreateRunRequest req;
  req.project = "ws/vision";
  req.custom_run_id = "exp-1";
  auto again = store_->CreateRun(req);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->run.id, r2);

  ASSERT_TRUE(store_->DeleteRuns("ws/vision", {r1, r2}).ok());
  EXPECT_EQ(NewRun(), "VIS-3");
  again = store_->CreateRun(req);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(again->created);
  EXPECT_EQ(again->run.id, "VIS-4");
  EXPECT_EQ(again->run.custom_run_id, "exp-1");
  Reopen();
  EXPECT_EQ(NewRun(), "VIS-5");
}

TEST_P(TrashTest, DeleteFreesUsageExactlyWhileOtherRunsIngest) {
  std::string doomed = NewRun(), kept = NewRun();
  B big("w", 1);
  big.Str("notes", std::string(5000, 'x'));
  std::vector<double> steps, values;
  for (int i = 0; i < 10000; ++i) {
    steps.push_back(i);
    values.push_back(i * 0.5);
  }
  big.Floats("loss", steps, values);
  ASSERT_TRUE(store_->Ingest(doomed, big.batch).ok());
  const int64_t doomed_bytes = store_->GetRun(doomed)->size_bytes;
  ASSERT_GT(doomed_bytes, 5000);
  ASSERT_TRUE(store_->TrashRuns("ws/vision", {doomed}).ok());
  EXPECT_EQ(Used(), doomed_bytes + store_->GetRun(kept)->size_bytes);  // the trash still counts

  // Another run keeps ingesting while the delete commits.
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (uint64_t seq = 1; !stop.load() || seq < 20; ++seq) {
      auto r = store_->Ingest(kept, B("k", seq).Floats("x", {double(seq)}, {1.0}).batch);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
    }
  });
  auto d = store_->DeleteRuns("ws/vision", {doomed});
  stop = true;
  writer.join();
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->freed_bytes, doomed_bytes);
  EXPECT_EQ(Used(), store_->GetRun(kept)->size_bytes);  // exactly what is left
  auto usage = store_->Accounts()->GetWorkspaceUsage("ws");
  ASSERT_EQ(usage->projects.size(), 1u);
  EXPECT_EQ(usage->projects[0].runs, 1);
}

TEST_P(TrashTest, ConcurrentIngestIntoTheDeletedRunIsAllOrNothing) {
  std::string run = NewRun(), other = NewRun();
  ASSERT_TRUE(store_->Ingest(other, B("w", 1).Str("s", std::string(300, 'o')).batch).ok());
  std::atomic<bool> stop{false};
  std::atomic<int> stored{0}, refused{0};
  std::thread writer([&] {
    for (uint64_t seq = 1; !stop.load(); ++seq) {
      auto r = store_->Ingest(run, B("w", seq).Str("s" + std::to_string(seq), "v").batch);
      if (r.ok()) {
        ++stored;
      } else {
        EXPECT_TRUE(r.status().code() == StatusCode::kFailedPrecondition ||
                    r.status().code() == StatusCode::kNotFound)
            << r.status().ToString();
        ++refused;
        if (r.status().code() == StatusCode::kNotFound) return;
      }
    }
  });
  while (stored.load() < 5) std::this_thread::yield();
  ASSERT_TRUE(store_->TrashRuns("ws/vision", {run}).ok());
  ASSERT_TRUE(store_->DeleteRuns("ws/vision", {run}).ok());
  stop = true;
  writer.join();
  EXPECT_GE(stored.load(), 5);
  EXPECT_EQ(store_->GetRun(run).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(Used(), store_->GetRun(other)->size_bytes);
}

TEST_P(TrashTest, SharedBlobIsKeptUntilTheLastReferenceGoes) {
  std::string a = NewRun(), b = NewRun(), c = NewRun();
  std::string shared = RecordBlob('a', 7), own = RecordBlob('b', 7), nb = RecordBlob('c', 7);
  auto shared_file = WriteBlobFile(shared), own_file = WriteBlobFile(own);
  auto nb_file = WriteBlobFile(nb);
  ASSERT_TRUE(store_->Ingest(a, B("w", 1).File("f", shared, "x").File("g", own, "y").batch).ok());
  // b references the shared blob from a file series.
  B series("w", 1);
  v1::FilePoints* pts = series.Op("images")->mutable_append_files();
  pts->add_steps(1);
  pts->add_timestamps_us(1);
  pts->add_files()->set_sha256(shared);
  ASSERT_TRUE(store_->Ingest(b, series.batch).ok());
  // c references a blob a notebook checkpoint also holds.
  ASSERT_TRUE(store_->Ingest(c, B("w", 1).File("nb", nb, "n.ipynb").batch).ok());
  bool created = false;
  ASSERT_TRUE(
      store_->Notebooks()->AddCheckpoint("ws/vision", "n.ipynb", nb, 7, "alice", &created).ok());

  ASSERT_TRUE(store_->TrashRuns("ws/vision", {a, b, c}).ok());
  auto d = store_->DeleteRuns("ws/vision", {a});
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->removed_files, 1u);
  EXPECT_FALSE(std::filesystem::exists(own_file));
  EXPECT_EQ(store_->BlobSize(own).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(std::filesystem::exists(shared_file));  // b still references it
  EXPECT_EQ(*store_->BlobSize(shared), 7);
  EXPECT_EQ(store_->GetFile(b, "images", std::nullopt)->sha256, shared);

  d = store_->DeleteRuns("ws/vision", {b, c});
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->removed_files, 1u);
  EXPECT_FALSE(std::filesystem::exists(shared_file));
  EXPECT_EQ(store_->BlobSize(shared).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(std::filesystem::exists(nb_file));  // the checkpoint still holds it
  EXPECT_EQ(*store_->BlobSize(nb), 7);

  // The same content uploaded again is usable again.
  ASSERT_TRUE(store_->RecordBlob(shared, 7).ok());
  std::string fresh = NewRun();
  EXPECT_TRUE(store_->Ingest(fresh, B("w", 1).File("f", shared, "x").batch).ok());
}

INSTANTIATE_TEST_SUITE_P(Backends, TrashTest, testing::Backends());

}  // namespace
}  // namespace nereid::store_conformance
