// The storage test suite's fixture: every test runs once per backend (SQLite in a fresh temp
// dir; PostgreSQL in a fresh database of a throw-away cluster), with a fake clock, plus a small
// batch builder.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>

#include "nereid/v1/batch.pb.h"
#include "store_conformance/pg_test_cluster.h"
#include "store_postgres/postgres_store.h"
#include "store_sqlite/sqlite_store.h"

namespace nereid::store_conformance::testing {

// Parameter: "sqlite" or "postgres".
class StoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("nereid-store-" + std::to_string(::getpid()) + "-" + GetParam() + "-" +
            std::to_string(next_dir_++));
    std::filesystem::remove_all(dir_);
    if (GetParam() == "postgres") {
      auto url = PgTestCluster::Get().NewDatabase();
      ASSERT_TRUE(url.ok()) << url.status().ToString();
      pg_url_ = *url;
    }
    Open();
    ASSERT_TRUE(store_->CreateWorkspace("ws").ok());
    ASSERT_TRUE(store_->CreateProject("ws", "vision", "VIS").ok());
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
    if (!pg_url_.empty()) PgTestCluster::Get().DropDatabase(pg_url_);
  }
  store::StoreOptions Options() {
    store::StoreOptions options;
    options.synchronous = "normal";  // tests do not need power-loss durability
    options.now_us = [this] { return clock_.fetch_add(1); };
    options.data_dir = dir_.string();
    options.url = GetParam() == "postgres" ? pg_url_ : "sqlite:" + dir_.string();
    return options;
  }
  void Open() {
    Result<std::unique_ptr<store::Store>> opened =
        GetParam() == "postgres" ? store_postgres::OpenPostgresStore(Options())
                                 : store_sqlite::OpenSqliteStore(Options(), dir_);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(opened).value();
  }
  // A second store on this test's database, as a second server process would open it (its own
  // writer, connections and caches). Only for backends in SharedDatabaseBackends(): a SQLite
  // database belongs to one server process (its writer caches tail chunks without re-checking).
  Result<std::unique_ptr<store::Store>> OpenSecondServer() {
    if (GetParam() != "postgres") {
      return InvalidArgument("backend '" + GetParam() + "' serves one database from one process");
    }
    return store_postgres::OpenPostgresStore(Options());
  }
  void Reopen() {
    store_.reset();
    Open();
  }
  std::string NewRun(std::string custom = "") {
    store::CreateRunRequest req;
    req.project = "ws/vision";
    req.custom_run_id = std::move(custom);
    auto r = store_->CreateRun(req);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->run.id : "";
  }
  std::string RecordBlob(char fill, int64_t size) {
    std::string sha(64, fill);
    EXPECT_TRUE(store_->RecordBlob(sha, size).ok());
    return sha;
  }

  static inline std::atomic<int> next_dir_{0};
  std::filesystem::path dir_;
  std::string pg_url_;  // this test's database, postgres only
  std::atomic<int64_t> clock_{1'700'000'000'000'000};
  std::unique_ptr<store::Store> store_;
};

// Every backend the suite runs against.
inline auto Backends() {
  return ::testing::Values(std::string("sqlite"), std::string("postgres"));
}
// Backends where several servers may share one database (StoreTest::OpenSecondServer).
inline auto SharedDatabaseBackends() {
  return ::testing::Values(std::string("postgres"));
}

inline store::SeriesQuery SQ(std::string run, std::string path) {
  store::SeriesQuery q;
  q.run_id = std::move(run);
  q.path = std::move(path);
  return q;
}
inline store::BucketQuery BQ(std::string run, std::string path) {
  store::BucketQuery q;
  q.run_id = std::move(run);
  q.path = std::move(path);
  return q;
}

// Builds a batch: B("w", 1).Float("a", 1.5).Floats("loss", {0, 1}, {0.5, 0.4}).batch
struct B {
  B(std::string writer, uint64_t seq) {
    batch.set_writer_id(std::move(writer));
    batch.set_sequence(seq);
  }
  v1::Operation* Op(const std::string& path) {
    v1::Operation* op = batch.add_operations();
    op->set_path(path);
    return op;
  }
  B& Float(const std::string& p, double v) {
    return Set(p, [&](v1::Value* x) { x->set_float_value(v); });
  }
  B& Int(const std::string& p, int64_t v) {
    return Set(p, [&](v1::Value* x) { x->set_int_value(v); });
  }
  B& Bool(const std::string& p, bool v) {
    return Set(p, [&](v1::Value* x) { x->set_bool_value(v); });
  }
  B& Str(const std::string& p, const std::string& v) {
    return Set(p, [&](v1::Value* x) { x->set_string_value(v); });
  }
  B& Time(const std::string& p, int64_t us) {
    return Set(p, [&](v1::Value* x) { x->set_datetime_us(us); });
  }
  B& StrSet(const std::string& p, std::vector<std::string> v) {
    return Set(p, [&](v1::Value* x) {
      for (auto& s : v) x->mutable_string_set()->add_values(s);
    });
  }
  B& File(const std::string& p, const std::string& sha, const std::string& name) {
    return Set(p, [&](v1::Value* x) {
      x->mutable_file()->set_sha256(sha);
      x->mutable_file()->set_name(name);
      x->mutable_file()->set_content_type("text/plain");
    });
  }
  B& AddStrings(const std::string& p, std::vector<std::string> v) {
    for (auto& s : v) Op(p)->mutable_add_strings()->add_values(s);
    return *this;
  }
  B& RemoveStrings(const std::string& p, std::vector<std::string> v) {
    for (auto& s : v) Op(p)->mutable_remove_strings()->add_values(s);
    return *this;
  }
  B& Floats(const std::string& p, std::vector<double> steps, std::vector<double> values) {
    v1::FloatPoints* pts = Op(p)->mutable_append_floats();
    for (double s : steps) pts->add_steps(s);
    for (size_t i = 0; i < values.size(); ++i) {
      pts->add_values(values[i]);
      pts->add_timestamps_us(1000 + static_cast<int64_t>(i));
    }
    return *this;
  }
  B& Strings(const std::string& p, std::vector<double> steps, std::vector<std::string> values) {
    v1::StringPoints* pts = Op(p)->mutable_append_strings();
    for (double s : steps) pts->add_steps(s);
    for (auto& v : values) {
      pts->add_values(v);
      pts->add_timestamps_us(5);
    }
    return *this;
  }
  template <typename F>
  B& Set(const std::string& p, F f) {
    f(Op(p)->mutable_assign());
    return *this;
  }
  v1::Batch batch;
};

}  // namespace nereid::store_conformance::testing
