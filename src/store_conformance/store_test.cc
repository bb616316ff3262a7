#include <sqlite3.h>

#include <cmath>
#include <set>
#include <thread>

#include "store_conformance/store_fixture.h"
#include "store_postgres/pg.h"

namespace nereid::store_conformance {
namespace {
using store::FieldType;
using store::Value;
using testing::B;
using testing::StoreTest;

std::map<std::string, store::Field> FieldMap(store::Store& s, const std::string& run,
                                             const std::string& prefix = "") {
  auto fields = s.GetFields(run, prefix);
  EXPECT_TRUE(fields.ok()) << fields.status().ToString();
  std::map<std::string, store::Field> out;
  if (fields.ok()) {
    for (auto& f : *fields) out[f.path] = f;
  }
  return out;
}

TEST_P(StoreTest, CatalogAndRunNumbersNeverReused) {
  EXPECT_EQ(store_->CreateWorkspace("ws").status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(store_->CreateProject("ws", "other", "VIS").status().code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(store_->CreateProject("nope", "p", "NOP").status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(store_->CreateProject("ws", "audio", "AUD").ok());
  auto projects = store_->ListProjects("ws");
  ASSERT_TRUE(projects.ok());
  ASSERT_EQ(projects->size(), 2u);
  EXPECT_EQ((*projects)[0].name, "audio");

  EXPECT_EQ(NewRun(), "VIS-1");
  EXPECT_EQ(NewRun(), "VIS-2");
  store::CreateRunRequest bad;
  bad.project = "ws/missing";
  EXPECT_EQ(store_->CreateRun(bad).status().code(), StatusCode::kNotFound);
  Reopen();
  EXPECT_EQ(NewRun(), "VIS-3");
  auto project = store_->GetProject("ws/vision");
  ASSERT_TRUE(project.ok());
  EXPECT_EQ(project->run_count, 3);
  EXPECT_EQ(store_->GetRun("VIS-9").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->GetRun("garbage").status().code(), StatusCode::kNotFound);
}

TEST_P(StoreTest, CustomRunIdReturnsTheSameRunFromManyThreads) {
  std::vector<std::thread> threads;
  std::vector<std::string> ids(8);
  std::atomic<int> created{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      store::CreateRunRequest req;
      req.project = "ws/vision";
      req.custom_run_id = "exp-1";
      auto r = store_->CreateRun(req);
      ASSERT_TRUE(r.ok());
      ids[i] = r->run.id;
      created += r->created ? 1 : 0;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(created.load(), 1);
  for (auto& id : ids) EXPECT_EQ(id, ids[0]);
  EXPECT_EQ(NewRun("exp-2"), "VIS-2");
  auto run = store_->GetRun("VIS-1");
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->custom_run_id, "exp-1");
}

TEST_P(StoreTest, EveryFieldTypeRoundTrips) {
  std::string run = NewRun();
  std::string sha = RecordBlob('a', 100);
  B b("w", 1);
  b.Float("params/lr", 0.01).Int("params/epochs", 12).Bool("params/aug", true);
  b.Str("params/optim/name", "adam").Time("data/when", 123456).StrSet("data/sets", {"b", "a", "b"});
  b.File("model", sha, "model.pt").Float("params/nan", std::nan(""));
  b.Str("sys/name", "baseline").AddStrings("sys/tags", {"x", "y"}).Time("sys/ping_time", 77);
  auto r = store_->Ingest(run, b.batch);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->duplicate);
  auto f = FieldMap(*store_, run);
  EXPECT_EQ(f["params/lr"].value, Value(0.01));
  EXPECT_EQ(f["params/epochs"].type, FieldType::kInt);
  EXPECT_EQ(f["params/epochs"].value, Value(int64_t{12}));
  EXPECT_EQ(f["params/aug"].value, Value(true));
  EXPECT_EQ(f["params/optim/name"].value, Value(std::string("adam")));
  EXPECT_EQ(f["data/when"].value, Value(store::Datetime{123456}));
  EXPECT_EQ(f["data/sets"].value, Value(store::StringSet{"a", "b"}));
  EXPECT_TRUE(std::isnan(std::get<double>(f["params/nan"].value)));
  store::FileInfo file{sha, "model.pt", "text/plain", 100};
  EXPECT_EQ(f["model"].value, Value(file));
  EXPECT_EQ(f["sys/name"].value, Value(std::string("baseline")));
  EXPECT_EQ(f["sys/tags"].value, Value(store::StringSet{"x", "y"}));
  EXPECT_EQ(f["sys/ping_time"].value, Value(store::Datetime{77}));
  auto file_back = store_->GetFile(run, "model", std::nullopt);
  ASSERT_TRUE(file_back.ok());
  EXPECT_EQ(*file_back, file);

  // Prefixes select a subtree, with or without the trailing slash; "params/o" is not a subtree.
  auto params = FieldMap(*store_, run, "params/");
  EXPECT_EQ(params.size(), 5u);
  EXPECT_EQ(FieldMap(*store_, run, "params/optim").size(), 1u);
  EXPECT_EQ(FieldMap(*store_, run, "params/o").size(), 0u);
  EXPECT_EQ(FieldMap(*store_, run, "sys").size(), 11u);

  // int into a float field is widened; the run's size grew.
  ASSERT_TRUE(store_->Ingest(run, B("w", 2).Int("params/lr", 3).batch).ok());
  EXPECT_EQ(FieldMap(*store_, run)["params/lr"].value, Value(3.0));
  EXPECT_GT(store_->GetRun(run)->size_bytes, 100);

  auto unknown = store_->Ingest(run, B("w", 3).File("other", std::string(64, 'f'), "x").batch);
  EXPECT_EQ(unknown.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(unknown.status().message().find("was not uploaded"), std::string::npos);
  EXPECT_EQ(store_->Ingest("VIS-99", B("w", 1).batch).status().code(), StatusCode::kNotFound);
}

// Values far larger than a database page (PostgreSQL cannot index them: no B-tree on raw text).
TEST_P(StoreTest, MegabyteStringsRoundTrip) {
  std::string run = NewRun();
  std::string big(1 << 20, 'x');
  for (size_t i = 0; i < big.size(); i += 7) big[i] = static_cast<char>('a' + i % 26);
  B b("w", 1);
  b.Str("notes/big", big).StrSet("notes/set", {big, "small"}).Strings("log", {}, {big});
  auto r = store_->Ingest(run, b.batch);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto f = FieldMap(*store_, run, "notes");
  EXPECT_EQ(f["notes/big"].value, Value(big));
  EXPECT_EQ(f["notes/set"].value, Value(store::StringSet{big, "small"}));
  auto page = store_->ReadSeries(testing::SQ(run, "log"));
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->strings.size(), 1u);
  EXPECT_EQ(page->strings[0].value, big);
}

TEST_P(StoreTest, StringSetsAddAndRemove) {
  std::string run = NewRun();
  ASSERT_TRUE(store_->Ingest(run, B("w", 1).AddStrings("labels", {"b", "a"}).batch).ok());
  ASSERT_TRUE(store_
                  ->Ingest(run, B("w", 2)
                                    .AddStrings("labels", {"c", "a"})
                                    .RemoveStrings("labels", {"b"})
                                    .RemoveStrings("sys/tags", {"none"})
                                    .batch)
                  .ok());
  EXPECT_EQ(FieldMap(*store_, run)["labels"].value, Value(store::StringSet{"a", "c"}));
  ASSERT_TRUE(store_->Ingest(run, B("w", 3).StrSet("labels", {"z"}).batch).ok());
  EXPECT_EQ(FieldMap(*store_, run)["labels"].value, Value(store::StringSet{"z"}));
}

TEST_P(StoreTest, TypeConflictRefusesTheWholeBatch) {
  std::string run = NewRun();
  ASSERT_TRUE(store_->Ingest(run, B("w", 1).Float("params/lr", 0.1).batch).ok());
  B bad("w", 2);
  bad.Float("params/momentum", 0.9).Floats("loss", {}, {1, 2}).Str("params/lr", "fast");
  auto r = store_->Ingest(run, bad.batch);
  EXPECT_EQ(r.status().code(), StatusCode::kTypeConflict);
  EXPECT_EQ(r.status().message(), "field 'params/lr' is a float; cannot assign a string");
  auto f = FieldMap(*store_, run);
  EXPECT_EQ(f["params/lr"].value, Value(0.1));
  EXPECT_EQ(f.count("params/momentum"), 0u);
  EXPECT_EQ(f.count("loss"), 0u);
  // The series cache was rolled back too: a later append starts from an empty series.
  ASSERT_TRUE(store_->Ingest(run, B("w", 2).Floats("loss", {}, {5}).batch).ok());
  auto page = store_->ReadSeries(testing::SQ(run, "loss"));
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->floats.size(), 1u);
  EXPECT_EQ(page->floats[0].step, 0);
  EXPECT_EQ(page->floats[0].value, 5);
  EXPECT_EQ(store_->Ingest(run, B("w", 3).Float("loss", 1).batch).status().code(),
            StatusCode::kTypeConflict);
  EXPECT_EQ(store_->Ingest(run, B("w", 3).Strings("loss", {}, {"x"}).batch).status().code(),
            StatusCode::kTypeConflict);
}

TEST_P(StoreTest, DuplicateBatchesApplyOnce) {
  std::string run = NewRun();
  v1::Batch batch = B("w", 5).Floats("loss", {}, {1, 2, 3}).batch;
  auto first = store_->Ingest(run, batch);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->applied_points, 3u);
  auto again = store_->Ingest(run, batch);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(again->applied_points, 0u);
  auto lower = store_->Ingest(run, B("w", 4).Floats("loss", {}, {9}).batch);
  ASSERT_TRUE(lower.ok());
  EXPECT_TRUE(lower->duplicate);
  // Another writer on the same run has its own sequence.
  auto other = store_->Ingest(run, B("v", 1).Floats("loss", {}, {4}).batch);
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(other->duplicate);
  EXPECT_EQ(FieldMap(*store_, run)["loss"].series->count, 4u);
  // A refused batch does not consume its sequence.
  ASSERT_FALSE(store_->Ingest(run, B("v", 2).Str("loss", "x").batch).ok());
  auto retry = store_->Ingest(run, B("v", 2).Floats("loss", {}, {5}).batch);
  ASSERT_TRUE(retry.ok());
  EXPECT_FALSE(retry->duplicate);
}

TEST_P(StoreTest, ConcurrentIngestIsGroupCommitted) {
  std::vector<std::string> runs = {NewRun(), NewRun()};
  constexpr int kThreads = 8, kBatches = 40;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 1; i <= kBatches; ++i) {
        B b("writer-" + std::to_string(t), static_cast<uint64_t>(i));
        b.Floats("t" + std::to_string(t), {static_cast<double>(i)}, {static_cast<double>(t)});
        auto r = store_->Ingest(runs[t % 2], b.batch);
        ASSERT_TRUE(r.ok()) << r.status().ToString();
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) {
    auto page = store_->ReadSeries(testing::SQ(runs[t % 2], "t" + std::to_string(t)));
    ASSERT_TRUE(page.ok());
    EXPECT_EQ(page->floats.size(), static_cast<size_t>(kBatches));
  }
  store::StoreStats stats = store_->Stats();
  EXPECT_EQ(stats.batches, static_cast<uint64_t>(kThreads * kBatches));
  EXPECT_LT(stats.commits, stats.batches);  // jobs shared commits
  uint64_t grouped = 0;
  for (size_t i = 1; i < stats.group_size_hist.size(); ++i) grouped += stats.group_size_hist[i];
  EXPECT_GT(grouped, 0u);
  EXPECT_GT(stats.database_bytes, 0u);
}

// A database written by a newer Nereid (a higher schema version) is refused at open, with both
// versions named, and left as it was.
TEST_P(StoreTest, ANewerSchemaIsRefused) {
  store_.reset();
  if (GetParam() == "postgres") {
    auto conn = store_postgres::PgConn::Connect(pg_url_);
    ASSERT_TRUE(conn.ok()) << conn.status().ToString();
    ASSERT_TRUE((*conn)->ExecScript("INSERT INTO schema_migrations VALUES (999, 0)").ok());
  } else {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir_ / "nereid.db").c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "UPDATE meta SET value = '999' WHERE key = 'schema_version'",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  Result<std::unique_ptr<store::Store>> opened =
      GetParam() == "postgres" ? store_postgres::OpenPostgresStore(Options())
                               : store_sqlite::OpenSqliteStore(Options(), dir_);
  ASSERT_FALSE(opened.ok());
  EXPECT_NE(opened.status().message().find("schema version 999 is newer"), std::string::npos)
      << opened.status().ToString();
  EXPECT_NE(opened.status().message().find("upgrade Nereid"), std::string::npos);
}

TEST_P(StoreTest, ReopenSeesEverything) {
  std::string run = NewRun("keep");
  std::vector<double> values;
  for (int i = 0; i < 5000; ++i) values.push_back(i * 0.5);
  ASSERT_TRUE(store_->Ingest(run, B("w", 1).Floats("loss", {}, values).Str("p", "v").batch).ok());
  ASSERT_TRUE(store_->SetSetting("admin", "hash").ok());
  Reopen();
  auto f = FieldMap(*store_, run);
  EXPECT_EQ(f["p"].value, Value(std::string("v")));
  ASSERT_TRUE(f["loss"].series.has_value());
  EXPECT_EQ(f["loss"].series->count, 5000u);
  EXPECT_EQ(f["loss"].series->last, 2499.5);
  EXPECT_EQ(f["loss"].series->last_step, 4999);
  // Appending after reopen continues the series (tail reloaded from the database).
  ASSERT_TRUE(store_->Ingest(run, B("w", 2).Floats("loss", {}, {7}).batch).ok());
  store::SeriesQuery q = testing::SQ(run, "loss");
  q.step_from = 4998;
  auto page = store_->ReadSeries(q);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->floats.size(), 3u);
  EXPECT_EQ(page->floats[2].step, 5000);
  EXPECT_EQ(*store_->GetSetting("admin"), std::optional<std::string>("hash"));
  EXPECT_EQ(*store_->GetSetting("other"), std::nullopt);
  EXPECT_EQ(store_->Ingest(run, B("w", 2).batch)->duplicate, true);
}

TEST_P(StoreTest, FilesAndBlobs) {
  std::string run = NewRun();
  EXPECT_EQ(store_->BlobSize(std::string(64, 'c')).status().code(), StatusCode::kNotFound);
  std::string a = RecordBlob('a', 10), b = RecordBlob('b', 20);
  ASSERT_TRUE(store_->RecordBlob(a, 10).ok());  // idempotent
  EXPECT_EQ(*store_->BlobSize(b), 20);
  B batch("w", 1);
  v1::FilePoints* pts = batch.Op("images")->mutable_append_files();
  for (auto [step, sha] : {std::pair{1.0, a}, {2.0, b}, {2.0, a}}) {
    pts->add_steps(step);
    pts->add_timestamps_us(1);
    auto* ref = pts->add_files();
    ref->set_sha256(sha);
    ref->set_name("img.png");
  }
  ASSERT_TRUE(store_->Ingest(run, batch.batch).ok());
  EXPECT_EQ(store_->GetFile(run, "images", 1.0)->sha256, a);
  EXPECT_EQ(store_->GetFile(run, "images", 2.0)->sha256, a);  // the last to arrive at step 2
  EXPECT_EQ(store_->GetFile(run, "images", std::nullopt)->sha256, a);
  EXPECT_EQ(store_->GetFile(run, "images", 3.0).status().code(), StatusCode::kNotFound);
  auto page = store_->ReadSeries(testing::SQ(run, "images"));
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->files.size(), 3u);
  EXPECT_EQ(page->files[1].sha256, b);
  EXPECT_EQ(page->files[1].size, 20);
  EXPECT_EQ(page->files[1].content_type, "application/octet-stream");
  EXPECT_EQ(page->file_steps[2].first, 2.0);
}

TEST_P(StoreTest, RegistryAndClose) {
  store_sqlite::Register();
  store_postgres::Register();
  store::StoreOptions options = Options();
  std::string second_db;
  if (GetParam() == "postgres") {
    auto url = PgTestCluster::Get().NewDatabase();
    ASSERT_TRUE(url.ok()) << url.status().ToString();
    options.url = second_db = *url;
  } else {
    options.url = "sqlite:" + (dir_ / "second").string();
  }
  {
    auto second = store::OpenStore(options);
    ASSERT_TRUE(second.ok()) << second.status().ToString();
    EXPECT_TRUE((*second)->CreateWorkspace("w2").ok());
    // The second store is a separate database: the first does not see its workspace.
    auto workspaces = store_->ListWorkspaces();
    ASSERT_TRUE(workspaces.ok());
    EXPECT_EQ(workspaces->size(), 1u);
  }
  if (!second_db.empty()) PgTestCluster::Get().DropDatabase(second_db);
  options.url = "nosuch://x";
  EXPECT_EQ(store::OpenStore(options).status().code(), StatusCode::kInvalidArgument);
  store_->Close();
  EXPECT_EQ(store_->GetRun("VIS-1").status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(store_->CreateWorkspace("x").status().code(), StatusCode::kUnavailable);
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreTest, testing::Backends(),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace nereid::store_conformance
