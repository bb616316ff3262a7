#include "store_migrate/migrate_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <fstream>

#include "nereid/v1/batch.pb.h"
#include "store/blob_store.h"
#include "store_conformance/pg_test_cluster.h"
#include "store_postgres/pg.h"
#include "store_postgres/postgres_store.h"
#include "store_sqlite/sqlite_store.h"

namespace nereid::store_migrate {
namespace {

namespace fs = std::filesystem;
using store_conformance::PgTestCluster;

class MigrateStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("nereid-migrate-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    auto url = PgTestCluster::Get().NewDatabase();
    ASSERT_TRUE(url.ok()) << url.status().ToString();
    pg_url_ = *url;
    FillSqlite();
  }
  void TearDown() override {
    fs::remove_all(dir_);
    PgTestCluster::Get().DropDatabase(pg_url_);
  }

  // A store with every kind of row: catalog, fields, a series over several chunks (with NaN and
  // -0.0), string series, files, settings, users, tokens, notebooks.
  void FillSqlite() {
    store::StoreOptions options;
    options.synchronous = "normal";
    options.data_dir = (dir_ / "data").string();
    auto opened = store_sqlite::OpenSqliteStore(options, dir_ / "data");
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    auto& s = *opened;
    ASSERT_TRUE(s->CreateWorkspace("ws").ok());
    ASSERT_TRUE(s->CreateProject("ws", "vision", "VIS").ok());
    auto blobs = store::BlobStore::Open(dir_ / "data");
    ASSERT_TRUE(blobs.ok());
    auto up = (*blobs)->Begin(1 << 20);
    ASSERT_TRUE(up.ok());
    ASSERT_TRUE((*up)->Write("print('hello')\n").ok());
    auto blob = (*up)->Commit();
    ASSERT_TRUE(blob.ok());
    sha_ = blob->sha256;
    ASSERT_TRUE(s->RecordBlob(sha_, blob->size).ok());
    for (int r = 0; r < 3; ++r) {
      store::CreateRunRequest req;
      req.project = "ws/vision";
      req.name = "run\t" + std::to_string(r) + "\n\\";  // COPY's special characters
      req.tags = {"a", "b"};
      auto run = s->CreateRun(req);
      ASSERT_TRUE(run.ok());
      v1::Batch b;
      b.set_writer_id("w");
      b.set_sequence(1);
      auto* lr = b.add_operations();
      lr->set_path("params/lr");
      lr->mutable_assign()->set_float_value(-0.0);
      auto* f = b.add_operations();
      f->set_path("source");
      f->mutable_assign()->mutable_file()->set_sha256(sha_);
      f->mutable_assign()->mutable_file()->set_name("main.py");
      auto* loss = b.add_operations()->mutable_append_floats();
      b.mutable_operations(2)->set_path("train/loss");
      for (int i = 0; i < 10000; ++i) {
        loss->add_steps(i);
        loss->add_values(i % 997 == 0 ? std::nan("") : 1.0 / (i + 1));
        loss->add_timestamps_us(1000 + i);
      }
      auto* text = b.add_operations();
      text->set_path("log");
      text->mutable_append_strings()->add_values("époch 1\tdone");
      text->mutable_append_strings()->add_steps(0);
      text->mutable_append_strings()->add_timestamps_us(5);
      auto ingested = s->Ingest(run->run.id, b);
      ASSERT_TRUE(ingested.ok()) << ingested.status().ToString();
    }
    ASSERT_TRUE(s->SetSetting("k", "v").ok());
    ASSERT_TRUE(s->Accounts()->CreateUser("ada", store::UserKind::kPerson, false).ok());
    ASSERT_TRUE(s->Accounts()->CreateToken("ada", "laptop", std::string(64, 'a')).ok());
    bool created = false;
    ASSERT_TRUE(
        s->Notebooks()->AddCheckpoint("ws/vision", "nb.ipynb", sha_, 15, "ada", &created).ok());
  }

  int64_t PgCount(const std::string& table) {
    auto c = store_postgres::PgConn::Connect(pg_url_);
    EXPECT_TRUE(c.ok());
    auto r = (*c)->Query("SELECT count(*) FROM " + table);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->Int(0, 0) : -1;
  }

  fs::path dir_;
  std::string pg_url_;
  std::string sha_;
};

TEST_F(MigrateStoreTest, CopiesEveryTableAndVerifiesIt) {
  MigrateOptions options;
  options.sqlite_dir = dir_ / "data";
  options.postgres_url = pg_url_;
  options.files_to = dir_ / "shared-files";
  std::vector<std::string> lines;
  options.progress = [&](const std::string& l) { lines.push_back(l); };
  auto report = MigrateSqliteToPostgres(options);
  ASSERT_TRUE(report.ok()) << report.status().ToString();

  std::map<std::string, int64_t> rows;
  for (const TableCopy& t : report->tables) {
    rows[t.table] = t.rows;
    EXPECT_EQ(t.sha256.size(), 64u);
    EXPECT_EQ(PgCount(t.table), t.rows) << t.table;
  }
  EXPECT_EQ(rows["runs"], 3);
  EXPECT_EQ(rows["run_tags"], 6);
  EXPECT_EQ(rows["users"], 1);
  EXPECT_EQ(rows["tokens"], 1);
  EXPECT_EQ(rows["notebook_checkpoints"], 1);
  EXPECT_EQ(rows["writers"], 3);
  EXPECT_GE(rows["chunk_data"], 3 * 2);  // 10,000 points are several chunks per run
  EXPECT_EQ(rows["chunk_data"], rows["chunks"]);
  EXPECT_EQ(report->files_copied, 1);
  auto shared = store::BlobStore::OpenFolder(dir_ / "shared-files", /*shared=*/true);
  ASSERT_TRUE(shared.ok());
  EXPECT_TRUE((*shared)->Exists(sha_));
  EXPECT_FALSE(lines.empty());

  // Identity sequences continue after the copied rows: new rows do not collide, and run
  // numbers continue from the project's counter.
  store::StoreOptions po;
  po.url = pg_url_;
  po.files_dir = (dir_ / "shared-files").string();
  auto pg = store_postgres::OpenPostgresStore(po);
  ASSERT_TRUE(pg.ok()) << pg.status().ToString();
  EXPECT_TRUE((*pg)->CreateWorkspace("second").ok());
  store::CreateRunRequest req;
  req.project = "ws/vision";
  auto run = (*pg)->CreateRun(req);
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  EXPECT_EQ(run->run.id, "VIS-4");
  auto first = (*pg)->GetRun("VIS-1");
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->name, "run\t0\n\\");
  EXPECT_EQ(first->tags, (store::StringSet{"a", "b"}));
  auto user = (*pg)->Accounts();
  if (user != nullptr) {
    auto ada = user->GetUser("ada");
    ASSERT_TRUE(ada.ok());
    EXPECT_EQ(ada->name, "ada");
  }
}

// Bits of a double, so NaN equals NaN and -0.0 differs from 0.0.
uint64_t Bits(double d) {
  uint64_t b;
  std::memcpy(&b, &d, sizeof b);
  return b;
}

TEST_F(MigrateStoreTest, TheCopyReadsBackIdenticallyThroughTheStore) {
  MigrateOptions options;
  options.sqlite_dir = dir_ / "data";
  options.postgres_url = pg_url_;
  ASSERT_TRUE(MigrateSqliteToPostgres(options).ok());
  store::StoreOptions so;
  so.data_dir = (dir_ / "data").string();
  auto sqlite = store_sqlite::OpenSqliteStore(so, dir_ / "data");
  ASSERT_TRUE(sqlite.ok());
  store::StoreOptions po = so;
  po.url = pg_url_;
  auto pg = store_postgres::OpenPostgresStore(po);
  ASSERT_TRUE(pg.ok()) << pg.status().ToString();
  for (const char* run : {"VIS-1", "VIS-2", "VIS-3"}) {
    auto a = (*sqlite)->GetFields(run, "");
    auto b = (*pg)->GetFields(run, "");
    ASSERT_TRUE(a.ok() && b.ok());
    ASSERT_EQ(a->size(), b->size());
    for (size_t i = 0; i < a->size(); ++i) {
      const store::Field& x = (*a)[i];
      const store::Field& y = (*b)[i];
      EXPECT_EQ(x.path, y.path);
      EXPECT_EQ(x.type, y.type) << x.path;
      EXPECT_EQ(x.value.index(), y.value.index()) << x.path;
      if (auto* d = std::get_if<double>(&x.value)) {
        EXPECT_EQ(Bits(*d), Bits(std::get<double>(y.value))) << x.path;
      }
      ASSERT_EQ(x.series.has_value(), y.series.has_value()) << x.path;
      if (x.series) {
        EXPECT_EQ(x.series->count, y.series->count) << x.path;
        EXPECT_EQ(Bits(x.series->last), Bits(y.series->last)) << x.path;
        EXPECT_EQ(Bits(x.series->min), Bits(y.series->min)) << x.path;
        EXPECT_EQ(x.series->last_string, y.series->last_string) << x.path;
      }
    }
    store::SeriesQuery q;
    q.run_id = run;
    q.path = "train/loss";
    q.limit = 100000;
    auto pa = (*sqlite)->ReadSeries(q);
    auto pb = (*pg)->ReadSeries(q);
    ASSERT_TRUE(pa.ok() && pb.ok()) << pb.status().ToString();
    ASSERT_EQ(pa->floats.size(), 10000u);
    ASSERT_EQ(pa->floats.size(), pb->floats.size());
    for (size_t i = 0; i < pa->floats.size(); ++i) {
      ASSERT_EQ(Bits(pa->floats[i].value), Bits(pb->floats[i].value)) << i;
      ASSERT_EQ(pa->floats[i].step, pb->floats[i].step) << i;
      ASSERT_EQ(pa->floats[i].timestamp_us, pb->floats[i].timestamp_us) << i;
    }
  }
}

TEST_F(MigrateStoreTest, RefusesATargetThatIsNotEmpty) {
  MigrateOptions options;
  options.sqlite_dir = dir_ / "data";
  options.postgres_url = pg_url_;
  ASSERT_TRUE(MigrateSqliteToPostgres(options).ok());
  auto again = MigrateSqliteToPostgres(options);
  EXPECT_EQ(again.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(again.status().message().find("not empty"), std::string::npos);
  EXPECT_EQ(PgCount("runs"), 3);  // nothing copied twice
}

TEST_F(MigrateStoreTest, MissingSourceIsAClearError) {
  MigrateOptions options;
  options.sqlite_dir = dir_ / "nowhere";
  options.postgres_url = pg_url_;
  auto r = MigrateSqliteToPostgres(options);
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find("nereid.db"), std::string::npos);
}

}  // namespace
}  // namespace nereid::store_migrate
