// Test helpers for the SQLite store tests: a store in a fresh temp dir with a fake clock, and a
// small batch builder.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>

#include "nereid/v1/batch.pb.h"
#include "store_sqlite/sqlite_store.h"

namespace nereid::store_sqlite::testing {

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("nereid-store-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    Open();
    ASSERT_TRUE(store_->CreateWorkspace("ws").ok());
    ASSERT_TRUE(store_->CreateProject("ws", "vision", "VIS").ok());
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Open() {
    store::StoreOptions options;
    options.synchronous = "normal";  // tests do not need power-loss durability
    options.now_us = [this] { return clock_.fetch_add(1); };
    auto opened = OpenSqliteStore(options, dir_);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(opened).value();
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

  std::filesystem::path dir_;
  std::atomic<int64_t> clock_{1'700'000'000'000'000};
  std::unique_ptr<store::Store> store_;
};

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

}  // namespace nereid::store_sqlite::testing
