// The per-project field list (Store::ListProjectFields): what ingest registers, what a refused
// batch leaves behind, the migration that fills it for a database written before it existed.
#include <sqlite3.h>

#include <random>
#include <set>
#include <thread>

#include "store_conformance/store_fixture.h"
#include "store_postgres/pg.h"

namespace nereid::store_conformance {
namespace {
using store::FieldType;
using store::ProjectField;
using testing::B;
using testing::StoreTest;

class ProjectFieldsTest : public StoreTest {
 protected:
  // The list without the sys/ fields (every project has those).
  std::vector<ProjectField> Listed(std::string prefix = "", uint32_t limit = 1000,
                                   std::string project = "ws/vision",
                                   store::Store* store = nullptr) {
    store::FieldListQuery q;
    q.project = std::move(project);
    q.prefix = std::move(prefix);
    q.limit = limit;
    auto list = (store ? store : store_.get())->ListProjectFields(q);
    EXPECT_TRUE(list.ok()) << list.status().ToString();
    std::vector<ProjectField> out;
    if (!list.ok()) return out;
    for (auto& f : list->fields) {
      if (f.path.rfind("sys/", 0) != 0) out.push_back(std::move(f));
    }
    return out;
  }
  void Ingest(const std::string& run, const v1::Batch& batch) {
    auto r = store_->Ingest(run, batch);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
};

TEST_P(ProjectFieldsTest, ListsEveryPathOfEveryRunWithItsTypes) {
  std::string blob = RecordBlob('a', 10);
  std::string a = NewRun(), b = NewRun(), c = NewRun();
  Ingest(a, B("w", 1)
                .Float("params/lr", 0.1)
                .Str("params/opt", "adam")
                .Floats("train/loss", {0, 1}, {2, 1})
                .Strings("log", {0}, {"hello"})
                .File("model", blob, "m.bin")
                .batch);
  // The same path with another type in another run: listed once per type.
  Ingest(b, B("w", 1).Str("params/lr", "auto").Floats("train/loss", {0}, {3}).batch);
  Ingest(c, B("w", 1).AddStrings("params/groups", {"x"}).Time("t", 5).Bool("done", true).batch);
  B files("w", 2);
  v1::FileRef* ref = files.Op("imgs")->mutable_add_files()->add_files();
  ref->set_sha256(blob);
  ref->set_name("i.png");
  Ingest(c, files.batch);
  const std::vector<ProjectField> want = {
      {"done", FieldType::kBool},
      {"imgs", FieldType::kFileSet},
      {"log", FieldType::kStringSeries},
      {"model", FieldType::kFile},
      {"params/groups", FieldType::kStringSet},
      {"params/lr", FieldType::kFloat},
      {"params/lr", FieldType::kString},
      {"params/opt", FieldType::kString},
      {"t", FieldType::kDatetime},
      {"train/loss", FieldType::kFloatSeries},
  };
  EXPECT_EQ(Listed(), want);
  EXPECT_EQ(Listed("params/"), std::vector<ProjectField>(want.begin() + 4, want.begin() + 8));
  EXPECT_EQ(Listed("params/l"), std::vector<ProjectField>(want.begin() + 5, want.begin() + 7));
  EXPECT_EQ(Listed("params/lr"), std::vector<ProjectField>(want.begin() + 5, want.begin() + 7));
  EXPECT_TRUE(Listed("zzz").empty());

  // The sys/ fields are listed with their types, in path order with the rest.
  store::FieldListQuery q;
  q.project = "ws/vision";
  q.prefix = "s";
  auto list = store_->ListProjectFields(q);
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->fields.size(), 12u);
  EXPECT_EQ(list->fields[0], (ProjectField{"sys/creation_time", FieldType::kDatetime}));
  EXPECT_EQ(list->fields[11], (ProjectField{"sys/tags", FieldType::kStringSet}));
  EXPECT_FALSE(list->truncated);

  // A limit cuts the list and says so.
  q.prefix = "";
  q.limit = 3;
  list = store_->ListProjectFields(q);
  ASSERT_TRUE(list.ok());
  EXPECT_TRUE(list->truncated);
  EXPECT_EQ(list->fields, std::vector<ProjectField>(want.begin(), want.begin() + 3));
  q.limit = 22;  // 10 + 12 sys/ fields: exactly everything
  list = store_->ListProjectFields(q);
  ASSERT_TRUE(list.ok());
  EXPECT_FALSE(list->truncated);
  EXPECT_EQ(list->fields.size(), 22u);

  q.limit = 0;
  EXPECT_EQ(store_->ListProjectFields(q).status().code(), StatusCode::kInvalidArgument);
  q.limit = 10;
  q.project = "ws/missing";
  EXPECT_EQ(store_->ListProjectFields(q).status().code(), StatusCode::kNotFound);
}

TEST_P(ProjectFieldsTest, ProjectsHaveTheirOwnLists) {
  ASSERT_TRUE(store_->CreateProject("ws", "audio", "AUD").ok());
  store::CreateRunRequest req;
  req.project = "ws/audio";
  auto other = store_->CreateRun(req);
  ASSERT_TRUE(other.ok());
  Ingest(NewRun(), B("w", 1).Float("lr", 1).batch);
  Ingest(other->run.id, B("w", 1).Int("lr", 1).Float("sr", 16000).batch);
  EXPECT_EQ(Listed(), (std::vector<ProjectField>{{"lr", FieldType::kFloat}}));
  EXPECT_EQ(Listed("", 1000, "ws/audio"),
            (std::vector<ProjectField>{{"lr", FieldType::kInt}, {"sr", FieldType::kFloat}}));
}

// A refused batch registers nothing, and the writer does not believe it did: the next batch that
// logs the path registers it. Also with the refused batch sharing a group commit with others.
TEST_P(ProjectFieldsTest, ARefusedBatchRegistersNothing) {
  std::string run = NewRun();
  Ingest(run, B("w", 1).Float("x", 1).batch);
  auto refused = store_->Ingest(run, B("w", 2).Float("fresh", 1).Str("x", "oops").batch);
  EXPECT_EQ(refused.status().code(), StatusCode::kTypeConflict);
  EXPECT_EQ(Listed(), (std::vector<ProjectField>{{"x", FieldType::kFloat}}));
  Ingest(NewRun(), B("w", 1).Float("fresh", 2).batch);
  EXPECT_EQ(Listed(),
            (std::vector<ProjectField>{{"fresh", FieldType::kFloat}, {"x", FieldType::kFloat}}));

  // Many writers at once, half of their batches refused: exactly the accepted paths are listed.
  std::vector<std::string> runs;
  for (int t = 0; t < 8; ++t) runs.push_back(NewRun());
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        B b("w", static_cast<uint64_t>(i + 1));
        b.Float("p" + std::to_string(t) + "/" + std::to_string(i), 1);
        if (i % 2 == 1) b.Str("x", "conflict").Float("x", 1);  // refused
        auto r = store_->Ingest(runs[t], b.batch);
        EXPECT_EQ(r.ok(), i % 2 == 0) << r.status().ToString();
      }
    });
  }
  for (auto& th : threads) th.join();
  std::vector<ProjectField> listed = Listed("p");
  std::set<std::string> paths;
  for (const auto& f : listed) paths.insert(f.path);
  EXPECT_EQ(listed.size(), 80u);
  for (int t = 0; t < 8; ++t) {
    for (int i = 0; i < 20; ++i) {
      std::string p = "p" + std::to_string(t) + "/" + std::to_string(i);
      EXPECT_EQ(paths.count(p), i % 2 == 0 ? 1u : 0u) << p;
    }
  }
}

// The list equals the union of the runs' own fields, over runs that each log a random subset of
// paths with random types (reopening midway, so the writer relearns what is registered).
TEST_P(ProjectFieldsTest, EqualsTheUnionOfTheRunsFields) {
  std::mt19937 rng(7);
  std::set<std::pair<std::string, int>> expected;
  for (int i = 0; i < 60; ++i) {
    if (i == 30) Reopen();
    std::string run = NewRun();
    B b("w", 1);
    for (int k = 0; k < 6; ++k) {
      std::string path = "m/" + std::to_string(rng() % 15);
      bool dup = false;
      for (const auto& op : b.batch.operations()) dup = dup || op.path() == path;
      if (dup) continue;
      switch (rng() % 3) {
        case 0:
          b.Float(path, 1);
          break;
        case 1:
          b.Str(path, "s");
          break;
        default:
          b.Floats(path, {0}, {1});
      }
    }
    Ingest(run, b.batch);
    auto fields = store_->GetFields(run, "m");
    ASSERT_TRUE(fields.ok());
    for (const auto& f : *fields) expected.insert({f.path, static_cast<int>(f.type)});
  }
  std::set<std::pair<std::string, int>> listed;
  for (const auto& f : Listed()) listed.insert({f.path, static_cast<int>(f.type)});
  EXPECT_EQ(listed, expected);
}

// A database written before the list existed (schema version 1) gets it filled from its runs'
// fields when a server opens it.
TEST_P(ProjectFieldsTest, TheMigrationFillsTheListFromExistingRuns) {
  std::string a = NewRun(), b = NewRun();
  Ingest(a, B("w", 1).Float("lr", 0.1).Floats("loss", {0}, {1}).batch);
  Ingest(b, B("w", 1).Str("lr", "auto").AddStrings("groups", {"g"}).batch);
  store_.reset();
  // Back to version 1: no project_fields table, and none of version 3 (the trash) either.
  if (GetParam() == "postgres") {
    auto conn = store_postgres::PgConn::Connect(pg_url_);
    ASSERT_TRUE(conn.ok()) << conn.status().ToString();
    ASSERT_TRUE((*conn)
                    ->ExecScript("DROP TABLE project_fields; DROP TABLE run_blobs; "
                                 "ALTER TABLE runs DROP COLUMN trashed_us; "
                                 "DELETE FROM schema_migrations WHERE version >= 2")
                    .ok());
  } else {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir_ / "nereid.db").c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db,
                           "DROP TABLE project_fields; DROP TABLE run_blobs; "
                           "ALTER TABLE runs DROP COLUMN trashed_us; "
                           "UPDATE meta SET value = '1' WHERE key = 'schema_version'",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  Open();
  EXPECT_EQ(Listed(), (std::vector<ProjectField>{{"groups", FieldType::kStringSet},
                                                 {"loss", FieldType::kFloatSeries},
                                                 {"lr", FieldType::kFloat},
                                                 {"lr", FieldType::kString}}));
  // And ingest keeps it from there.
  Ingest(a, B("w", 2).Float("new", 1).batch);
  EXPECT_EQ(Listed("n"), (std::vector<ProjectField>{{"new", FieldType::kFloat}}));
}

INSTANTIATE_TEST_SUITE_P(Backends, ProjectFieldsTest, testing::Backends(),
                         [](const auto& info) { return info.param; });

// Two servers on one database registering the same new paths at once: each path listed once,
// seen by both.
class SharedProjectFieldsTest : public ProjectFieldsTest {};

TEST_P(SharedProjectFieldsTest, TwoServersRegisterTheSamePaths) {
  auto second = OpenSecondServer();
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  std::vector<std::string> runs;
  for (int i = 0; i < 8; ++i) runs.push_back(NewRun());
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      store::Store* s = i % 2 ? second->get() : store_.get();
      for (int k = 0; k < 10; ++k) {
        B b("w", static_cast<uint64_t>(k + 1));
        for (int j = 0; j < 10; ++j) b.Float("shared/" + std::to_string((j + k + i) % 25), 1);
        auto r = s->Ingest(runs[i], b.batch);
        EXPECT_TRUE(r.ok()) << r.status().ToString();
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(Listed("shared/").size(), 25u);
  EXPECT_EQ(Listed("shared/", 1000, "ws/vision", second->get()).size(), 25u);
}

INSTANTIATE_TEST_SUITE_P(SharedDatabase, SharedProjectFieldsTest, testing::SharedDatabaseBackends(),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace nereid::store_conformance
