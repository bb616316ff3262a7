#include <cmath>
#include <functional>
#include <limits>
#include <random>
#include <set>

#include "query/filter.h"
#include "store_conformance/store_fixture.h"

namespace nereid::store_conformance {
namespace {
using query::Aggregate;
using query::CompareOp;
using query::Expr;
using query::FieldRef;
using testing::B;
using testing::StoreTest;

std::unique_ptr<Expr> Cmp(std::string path, CompareOp op, query::Literal lit,
                          Aggregate agg = Aggregate::kNone) {
  auto e = std::make_unique<Expr>();
  e->kind = Expr::Kind::kCompare;
  e->field = {std::move(path), agg};
  e->op = op;
  e->literal = std::move(lit);
  return e;
}
std::unique_ptr<Expr> Node(Expr::Kind kind, std::unique_ptr<Expr> a, std::unique_ptr<Expr> b = {}) {
  auto e = std::make_unique<Expr>();
  e->kind = kind;
  e->children.push_back(std::move(a));
  if (b) e->children.push_back(std::move(b));
  return e;
}
std::unique_ptr<Expr> Exists(std::string path) {
  auto e = std::make_unique<Expr>();
  e->kind = Expr::Kind::kExists;
  e->field = {std::move(path), Aggregate::kNone};
  return e;
}

struct Model {
  int64_t number = 0;
  std::optional<double> lr;
  std::optional<std::string> lr_text;  // params/lr written as a string in some runs
  std::optional<std::string> opt;
  std::optional<double> loss;
  bool resnet = false;
};

class ListRunsTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    std::mt19937 rng(3);
    const std::vector<std::string> opts = {"adam", "sgd", "adamw"};
    for (int i = 1; i <= 240; ++i) {
      Model m;
      m.number = i;
      B b("w", 1);
      b.Str("sys/name", "run-" + std::to_string(i));
      if (i % 11 == 0) {
        m.lr_text = "n/a";
        b.Str("params/lr", "n/a");
      } else if (i % 7 != 0) {
        m.lr = static_cast<double>(rng() % 20) * 0.05;
        b.Float("params/lr", *m.lr);
      }
      if (i % 5 != 0) {
        m.opt = opts[rng() % 3];
        b.Str("params/opt", *m.opt);
      }
      if (i % 3 != 0) {
        m.loss = static_cast<double>(rng() % 1000) / 1000;
        b.Floats("loss", {0, 1}, {9, *m.loss});
      }
      if (i % 4 == 0) {
        m.resnet = true;
        b.AddStrings("sys/tags", {"resnet"});
      }
      std::string id = NewRun();
      ASSERT_TRUE(store_->Ingest(id, b.batch).ok());
      models_.push_back(m);
    }
  }

  // All pages of a query, as run numbers.
  std::vector<int64_t> All(store::ListRunsQuery q, uint64_t* total = nullptr) {
    std::vector<int64_t> out;
    q.project = "ws/vision";
    q.limit = 37;
    for (int guard = 0; guard < 100; ++guard) {
      auto page = store_->ListRuns(q);
      EXPECT_TRUE(page.ok()) << page.status().ToString();
      if (!page.ok()) break;
      if (total && page->total) *total = *page->total;
      for (auto& row : page->rows) out.push_back(std::stoll(row.run.id.substr(4)));
      if (page->next_cursor.empty()) break;
      q.cursor = page->next_cursor;
    }
    return out;
  }

  std::vector<int64_t> Brute(const std::function<bool(const Model&)>& pred) {
    std::vector<int64_t> out;
    for (auto& m : models_) {
      if (pred(m)) out.push_back(m.number);
    }
    std::reverse(out.begin(), out.end());  // default sort: creation time, newest first
    return out;
  }

  std::vector<Model> models_;
};

TEST_P(ListRunsTest, FiltersMatchBruteForce) {
  struct Case {
    std::unique_ptr<Expr> filter;
    std::function<bool(const Model&)> pred;
  };
  std::vector<Case> cases;
  cases.push_back(
      {Cmp("params/lr", CompareOp::kLt, 0.5), [](const Model& m) { return m.lr && *m.lr < 0.5; }});
  cases.push_back(
      {Node(Expr::Kind::kOr,
            Node(Expr::Kind::kAnd, Cmp("params/lr", CompareOp::kGe, 0.2),
                 Cmp("params/opt", CompareOp::kEq, std::string("adam"))),
            Cmp("sys/tags", CompareOp::kContains, std::string("resnet"))),
       [](const Model& m) { return (m.lr && *m.lr >= 0.2 && m.opt == "adam") || m.resnet; }});
  cases.push_back({Node(Expr::Kind::kNot, Cmp("params/lr", CompareOp::kLt, 0.5)),
                   [](const Model& m) { return !(m.lr && *m.lr < 0.5); }});
  cases.push_back({Node(Expr::Kind::kAnd, Cmp("loss", CompareOp::kGt, 0.3, Aggregate::kLast),
                        Cmp("params/opt", CompareOp::kMatches, std::string("^adam"))),
                   [](const Model& m) {
                     return m.loss && *m.loss > 0.3 && m.opt && m.opt->rfind("adam", 0) == 0;
                   }});
  cases.push_back({Exists("params/lr"), [](const Model& m) { return m.lr || m.lr_text; }});
  cases.push_back({Cmp("params/lr", CompareOp::kEq, std::string("n/a")),
                   [](const Model& m) { return m.lr_text.has_value(); }});
  cases.push_back({Cmp("params/lr", CompareOp::kNe, 0.25),
                   [](const Model& m) { return m.lr && *m.lr != 0.25; }});
  cases.push_back({Cmp("loss", CompareOp::kLe, 0.5),  // a bare float series path means :last
                   [](const Model& m) { return m.loss && *m.loss <= 0.5; }});
  cases.push_back({Cmp("loss", CompareOp::kEq, 2.0, Aggregate::kCount),
                   [](const Model& m) { return m.loss.has_value(); }});
  cases.push_back({Cmp("loss", CompareOp::kEq, 9.0, Aggregate::kMax),
                   [](const Model& m) { return m.loss.has_value(); }});
  cases.push_back({Cmp("sys/name", CompareOp::kEq, std::string("run-5")),
                   [](const Model& m) { return m.number == 5; }});
  cases.push_back({Cmp("sys/id", CompareOp::kLe, std::string("VIS-10")),
                   [](const Model& m) { return m.number <= 10; }});
  cases.push_back({Cmp("params/opt", CompareOp::kLt, 1.0), [](const Model&) { return false; }});
  cases.push_back({Node(Expr::Kind::kNot, Cmp("params/opt", CompareOp::kEq, std::string("sgd"))),
                   [](const Model& m) { return m.opt != "sgd"; }});
  for (size_t i = 0; i < cases.size(); ++i) {
    store::ListRunsQuery q;
    q.filter = cases[i].filter.get();
    uint64_t total = 0;
    std::vector<int64_t> want = Brute(cases[i].pred);
    EXPECT_EQ(All(q, &total), want) << "case " << i;
    EXPECT_EQ(total, want.size()) << "case " << i;
  }
  auto bad = Cmp("params/opt", CompareOp::kMatches, std::string("(unclosed"));
  store::ListRunsQuery q;
  q.project = "ws/vision";
  q.filter = bad.get();
  EXPECT_EQ(store_->ListRuns(q).status().code(), StatusCode::kInvalidArgument);
  q.filter = nullptr;
  q.project = "ws/none";
  EXPECT_EQ(store_->ListRuns(q).status().code(), StatusCode::kNotFound);
}

TEST_P(ListRunsTest, SortMissingLastAndCursorPages) {
  using Key = std::optional<std::variant<double, std::string>>;  // numbers sort before text
  auto lr_key = [](const Model& m) -> Key {
    if (m.lr) return *m.lr;
    if (m.lr_text) return *m.lr_text;
    return std::nullopt;
  };
  auto loss_key = [](const Model& m) -> Key { return m.loss ? Key(*m.loss) : std::nullopt; };
  for (auto [field, key] : {std::pair{FieldRef{"params/lr", Aggregate::kNone}, +lr_key},
                            {FieldRef{"loss", Aggregate::kLast}, +loss_key},
                            {FieldRef{"loss", Aggregate::kNone}, +loss_key}}) {
    for (bool desc : {false, true}) {
      std::vector<Model> sorted = models_;
      std::stable_sort(sorted.begin(), sorted.end(), [&](const Model& a, const Model& b) {
        Key ka = key(a), kb = key(b);
        if (ka.has_value() != kb.has_value()) return ka.has_value();
        if (ka && *ka != *kb) return desc ? *ka > *kb : *ka < *kb;
        return desc ? a.number > b.number : a.number < b.number;
      });
      std::vector<int64_t> want;
      for (auto& m : sorted) want.push_back(m.number);
      store::ListRunsQuery q;
      q.sort = field;
      q.descending = desc;
      EXPECT_EQ(All(q), want) << field.path << " desc=" << desc;
    }
  }
}

TEST_P(ListRunsTest, ColumnsAndStableCursor) {
  store::ListRunsQuery q;
  q.project = "ws/vision";
  q.sort = {"sys/id", Aggregate::kNone};
  q.descending = false;
  q.limit = 3;
  q.columns = {{"params/lr", Aggregate::kNone}, {"loss", Aggregate::kLast},
               {"loss", Aggregate::kCount},     {"sys/name", Aggregate::kNone},
               {"missing", Aggregate::kNone},   {"loss", Aggregate::kNone}};
  auto page = store_->ListRuns(q);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->rows.size(), 3u);
  EXPECT_EQ(page->total, 240u);
  const store::RunRow& row = page->rows[0];  // VIS-1
  EXPECT_EQ(row.run.id, "VIS-1");
  ASSERT_EQ(row.cells.size(), 6u);
  EXPECT_EQ(row.cells[0], store::Cell(*models_[0].lr));
  EXPECT_EQ(row.cells[1], store::Cell(*models_[0].loss));
  EXPECT_EQ(row.cells[2], store::Cell(int64_t{2}));
  EXPECT_EQ(row.cells[3], store::Cell(std::string("run-1")));
  EXPECT_EQ(row.cells[4], store::Cell());
  EXPECT_EQ(row.cells[5], store::Cell(*models_[0].loss));
  // New runs inserted after the cursor was issued do not shift the pages already seen.
  q.cursor = page->next_cursor;
  NewRun();
  auto next = store_->ListRuns(q);
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->rows[0].run.id, "VIS-4");
  EXPECT_EQ(next->total, 241u);
  q.sort = {"params/lr", Aggregate::kNone};
  EXPECT_EQ(store_->ListRuns(q).status().code(), StatusCode::kInvalidArgument);
}

// Position paging: a page at any offset is the slice of the whole list (as cursor pages give it)
// that starts there, across ties and across the groups of a sort by a field of mixed types, with
// and without a filter; its next_cursor continues from its last row.
TEST_P(ListRunsTest, OffsetPagesAreSlicesOfTheList) {
  auto adam = Cmp("params/opt", CompareOp::kEq, std::string("adam"));
  for (const Expr* filter : std::vector<const Expr*>{nullptr, adam.get()}) {
    for (auto [field, desc] : {std::pair{FieldRef{"sys/creation_time", Aggregate::kNone}, true},
                               {FieldRef{"sys/state", Aggregate::kNone}, false},
                               {FieldRef{"params/lr", Aggregate::kNone}, false},
                               {FieldRef{"params/lr", Aggregate::kNone}, true},
                               {FieldRef{"loss", Aggregate::kLast}, true}}) {
      store::ListRunsQuery q;
      q.filter = filter;
      q.sort = field;
      q.descending = desc;
      const std::vector<int64_t> whole = All(q);
      ASSERT_GT(whole.size(), 40u);
      q.project = "ws/vision";
      q.limit = 37;
      q.count_total = false;
      std::vector<uint64_t> offsets = {whole.size() - 1, whole.size(), whole.size() + 3};
      for (uint64_t o = 0; o < whole.size(); o += 13) offsets.push_back(o);
      for (uint64_t offset : offsets) {
        const std::string what = field.path + " desc=" + std::to_string(desc) +
                                 " filter=" + std::to_string(filter != nullptr) +
                                 " offset=" + std::to_string(offset);
        q.offset = offset;
        q.cursor.clear();
        auto page = store_->ListRuns(q);
        ASSERT_TRUE(page.ok()) << what << ": " << page.status().ToString();
        EXPECT_FALSE(page->total.has_value()) << what;
        std::vector<int64_t> got;
        for (auto& row : page->rows) got.push_back(std::stoll(row.run.id.substr(4)));
        const size_t from = std::min<size_t>(offset, whole.size());
        const size_t to = std::min<size_t>(from + q.limit, whole.size());
        EXPECT_EQ(got, std::vector<int64_t>(whole.begin() + from, whole.begin() + to)) << what;
        EXPECT_EQ(page->next_cursor.empty(), to == whole.size()) << what;
        if (page->next_cursor.empty()) continue;
        q.offset = 0;
        q.cursor = page->next_cursor;
        auto next = store_->ListRuns(q);
        ASSERT_TRUE(next.ok()) << what << ": " << next.status().ToString();
        ASSERT_FALSE(next->rows.empty()) << what;
        EXPECT_EQ(next->rows[0].run.id, "VIS-" + std::to_string(whole[to])) << what;
      }
    }
  }
}

TEST_P(ListRunsTest, TotalOnlyWhenAskedAndOffsetBounds) {
  store::ListRunsQuery q;
  q.project = "ws/vision";
  q.limit = 10;
  auto page = store_->ListRuns(q);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->total, std::optional<uint64_t>(240));
  q.count_total = false;
  q.cursor = page->next_cursor;
  auto next = store_->ListRuns(q);
  ASSERT_TRUE(next.ok());
  EXPECT_FALSE(next->total.has_value());
  EXPECT_EQ(next->rows.size(), 10u);
  q.offset = 5;  // with a cursor
  EXPECT_EQ(store_->ListRuns(q).status().code(), StatusCode::kInvalidArgument);
  q.cursor.clear();
  q.offset = store::kMaxRunsOffset;
  auto far = store_->ListRuns(q);
  ASSERT_TRUE(far.ok()) << far.status().ToString();
  EXPECT_TRUE(far->rows.empty());
  EXPECT_TRUE(far->next_cursor.empty());
  q.offset = store::kMaxRunsOffset + 1;
  EXPECT_EQ(store_->ListRuns(q).status().code(), StatusCode::kInvalidArgument);
}

// Sorts by a series' min and max (walked along the series index on SQLite): ties broken by run
// number, infinite values (which JSON cursors carry as strings) and runs whose series has only
// NaN or that lack it (missing: last either way), page by page of 3 and at every offset.
TEST_P(StoreTest, SeriesSummarySortsPageThroughTiesAndInfinities) {
  const double inf = std::numeric_limits<double>::infinity();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  // Per run number 1..: the values of its "acc" series (none when empty).
  const std::vector<std::vector<double>> values = {
      {0.5, 0.7}, {0.5, 0.9}, {}, {inf, 1}, {-inf, 0.2}, {nan},       {0.2, 0.5},
      {0.5, 0.7}, {1, inf},   {}, {0.3},    {0.5},       {-inf, inf}, {0.7, 0.2}};
  for (size_t i = 0; i < values.size(); ++i) {
    std::string id = NewRun();
    if (values[i].empty()) continue;
    std::vector<double> steps;
    for (size_t k = 0; k < values[i].size(); ++k) steps.push_back(static_cast<double>(k));
    B b("w", 1);
    b.Floats("acc", steps, values[i]);
    ASSERT_TRUE(store_->Ingest(id, b.batch).ok());
  }
  for (Aggregate agg : {Aggregate::kMin, Aggregate::kMax, Aggregate::kLast}) {
    for (bool desc : {false, true}) {
      std::vector<std::pair<std::optional<double>, int64_t>> model;
      for (size_t i = 0; i < values.size(); ++i) {
        std::optional<double> k;
        for (double v : values[i]) {
          if (std::isnan(v)) continue;
          if (agg == Aggregate::kLast)
            k = v;
          else if (!k || (agg == Aggregate::kMin ? v < *k : v > *k))
            k = v;
        }
        if (agg == Aggregate::kLast && !values[i].empty() && std::isnan(values[i].back())) k = {};
        model.emplace_back(k, static_cast<int64_t>(i + 1));
      }
      std::stable_sort(model.begin(), model.end(), [&](const auto& a, const auto& b) {
        if (a.first.has_value() != b.first.has_value()) return a.first.has_value();
        if (a.first && *a.first != *b.first)
          return desc ? *a.first > *b.first : *a.first < *b.first;
        return desc ? a.second > b.second : a.second < b.second;
      });
      std::vector<int64_t> want;
      for (auto& [k, n] : model) want.push_back(n);
      const std::string what =
          "agg=" + std::to_string(static_cast<int>(agg)) + " desc=" + std::to_string(desc);
      store::ListRunsQuery q;
      q.project = "ws/vision";
      q.sort = {"acc", agg};
      q.descending = desc;
      q.limit = 3;
      std::vector<int64_t> got;
      for (int guard = 0; guard < 20; ++guard) {
        auto page = store_->ListRuns(q);
        ASSERT_TRUE(page.ok()) << what << ": " << page.status().ToString();
        for (auto& row : page->rows) got.push_back(std::stoll(row.run.id.substr(4)));
        if (page->next_cursor.empty()) break;
        q.cursor = page->next_cursor;
      }
      EXPECT_EQ(got, want) << what;
      q.cursor.clear();
      for (uint64_t offset = 1; offset <= want.size(); ++offset) {
        q.offset = offset;
        auto page = store_->ListRuns(q);
        ASSERT_TRUE(page.ok()) << what << ": " << page.status().ToString();
        std::vector<int64_t> slice;
        for (auto& row : page->rows) slice.push_back(std::stoll(row.run.id.substr(4)));
        const size_t to = std::min<size_t>(offset + 3, want.size());
        EXPECT_EQ(slice, std::vector<int64_t>(want.begin() + offset, want.begin() + to))
            << what << " offset=" << offset;
      }
      q.offset = 0;
    }
  }
}

// Needs no ingest: names, custom ids and tags come with CreateRun. Regular expressions follow
// ECMAScript (query::FilterRegex) on every backend -- PostgreSQL's own `~` would read `\b` as a
// backspace and let `.` match a newline -- and text sorts in byte order, whatever the locale.
TEST_P(StoreTest, RunsTableRegexTextOrderAndMissingCustomIds) {
  const std::vector<std::pair<std::string, std::string>> runs = {
      {"a foo", "x-1"}, {"afoo", ""},  {"a\nb", "x-3"},    {"a-b", ""},
      {"Zeta", "y-5"},  {"alpha", ""}, {"\xc3\x9f", "x-7"}};  // U+00DF, after every ASCII byte
  for (const auto& [name, custom] : runs) {
    store::CreateRunRequest req;
    req.project = "ws/vision";
    req.name = name;
    req.custom_run_id = custom;
    if (name.size() < 3) req.tags = {"short"};
    ASSERT_TRUE(store_->CreateRun(req).ok());
  }
  auto numbers = [&](const Expr* filter, FieldRef sort, bool desc, uint32_t limit) {
    store::ListRunsQuery q;
    q.project = "ws/vision";
    q.filter = filter;
    q.sort = std::move(sort);
    q.descending = desc;
    q.limit = limit;
    std::vector<int64_t> out;
    for (int guard = 0; guard < 20; ++guard) {
      auto page = store_->ListRuns(q);
      EXPECT_TRUE(page.ok()) << page.status().ToString();
      if (!page.ok()) break;
      for (auto& row : page->rows) out.push_back(std::stoll(row.run.id.substr(4)));
      if (page->next_cursor.empty()) break;
      q.cursor = page->next_cursor;
    }
    return out;
  };
  const FieldRef by_number{"sys/id", Aggregate::kNone};
  auto re = [](std::string pattern) {
    return Cmp("sys/name", CompareOp::kMatches, std::move(pattern));
  };
  EXPECT_EQ(numbers(re("\\bfoo").get(), by_number, false, 10), (std::vector<int64_t>{1}));
  EXPECT_EQ(numbers(re("a.b").get(), by_number, false, 10), (std::vector<int64_t>{4}));
  EXPECT_EQ(numbers(re("^a").get(), by_number, false, 2), (std::vector<int64_t>{1, 2, 3, 4, 6}));
  auto not_x =
      Node(Expr::Kind::kNot, Cmp("sys/custom_run_id", CompareOp::kMatches, std::string("^x")));
  EXPECT_EQ(numbers(not_x.get(), by_number, false, 10), (std::vector<int64_t>{2, 4, 5, 6}));
  auto id_re = Cmp("sys/id", CompareOp::kMatches, std::string("^VIS-[2-4]$"));
  EXPECT_EQ(numbers(id_re.get(), by_number, true, 10), (std::vector<int64_t>{4, 3, 2}));
  auto before_b = Cmp("sys/name", CompareOp::kLt, std::string("b"));
  EXPECT_EQ(numbers(before_b.get(), by_number, false, 10),
            (std::vector<int64_t>{1, 2, 3, 4, 5, 6}));
  auto tagged = Cmp("sys/tags", CompareOp::kContains, std::string("short"));
  EXPECT_EQ(numbers(tagged.get(), by_number, false, 10), (std::vector<int64_t>{7}));

  // Byte order: "Zeta" < "a\nb" < "a foo" < "a-b" < "afoo" < "alpha" < "\xc3\x9f".
  const FieldRef by_name{"sys/name", Aggregate::kNone};
  EXPECT_EQ(numbers(nullptr, by_name, false, 3), (std::vector<int64_t>{5, 3, 1, 4, 2, 6, 7}));
  EXPECT_EQ(numbers(nullptr, by_name, true, 3), (std::vector<int64_t>{7, 6, 2, 4, 1, 3, 5}));
  // Runs without a custom id sort last both ways (by number), also across a page boundary.
  const FieldRef by_custom{"sys/custom_run_id", Aggregate::kNone};
  EXPECT_EQ(numbers(nullptr, by_custom, false, 3), (std::vector<int64_t>{1, 3, 7, 5, 2, 4, 6}));
  EXPECT_EQ(numbers(nullptr, by_custom, true, 3), (std::vector<int64_t>{5, 7, 3, 1, 6, 4, 2}));
  EXPECT_EQ(numbers(nullptr, {"sys/tags", Aggregate::kNone}, true, 4),
            (std::vector<int64_t>{7, 6, 5, 4, 3, 2, 1}));
}

// Every value type in filters, sorts and cells, with the answers written out, so both backends
// are held to the same results (the brute-force tests above cover floats, strings and series).
TEST_P(StoreTest, RunsTableEveryValueType) {
  const int64_t day = 86'400'000'000;
  std::string sha = RecordBlob('e', 42);
  for (int i = 1; i <= 4; ++i) {
    B b("w", 1);
    b.Bool("flag", i % 2 == 0).Time("when", i * day);  // 1970-01-02 .. 1970-01-05
    if (i != 4)
      b.StrSet("sets", i == 1 ? std::vector<std::string>{"x", "y"} : std::vector<std::string>{"y"});
    b.Strings("notes", {0, 1}, {"first", "note-" + std::to_string(5 - i)});
    b.Floats("acc", {0, 1, 2}, {0.5, i * 0.1, 0.2});
    if (i == 3) b.File("model", sha, "m.pt").Bool("sys/failed", true);
    std::string id = NewRun();
    ASSERT_TRUE(store_->Ingest(id, b.batch).ok());
  }
  NewRun();  // VIS-5 has nothing but sys/ fields
  auto list = [&](const Expr* filter, FieldRef sort = {"sys/id", Aggregate::kNone},
                  bool desc = false) {
    store::ListRunsQuery q;
    q.project = "ws/vision";
    q.filter = filter;
    q.sort = std::move(sort);
    q.descending = desc;
    q.limit = 2;
    std::vector<int64_t> out;
    for (int guard = 0; guard < 10; ++guard) {
      auto page = store_->ListRuns(q);
      EXPECT_TRUE(page.ok()) << page.status().ToString();
      if (!page.ok()) break;
      for (auto& row : page->rows) out.push_back(std::stoll(row.run.id.substr(4)));
      if (page->next_cursor.empty()) break;
      q.cursor = page->next_cursor;
    }
    return out;
  };
  using V = std::vector<int64_t>;
  EXPECT_EQ(list(Cmp("flag", CompareOp::kEq, true).get()), (V{2, 4}));
  EXPECT_EQ(list(Cmp("flag", CompareOp::kEq, 1.0).get()), V{});  // a bool is not a number
  EXPECT_EQ(list(Cmp("sys/failed", CompareOp::kEq, true).get()), V{3});
  EXPECT_EQ(list(Node(Expr::Kind::kNot, Cmp("sys/failed", CompareOp::kEq, true)).get()),
            (V{1, 2, 4, 5}));
  EXPECT_EQ(list(Cmp("when", CompareOp::kGe, std::string("1970-01-04")).get()), (V{3, 4}));
  EXPECT_EQ(list(Cmp("when", CompareOp::kLt, 2.5 * static_cast<double>(day)).get()), (V{1, 2}));
  EXPECT_EQ(list(Cmp("sets", CompareOp::kContains, std::string("x")).get()), V{1});
  EXPECT_EQ(list(Cmp("sets", CompareOp::kContains, std::string("y")).get()), (V{1, 2, 3}));
  EXPECT_EQ(list(Cmp("notes", CompareOp::kMatches, std::string("-[34]$")).get()), (V{1, 2}));
  EXPECT_EQ(list(Cmp("notes", CompareOp::kGe, std::string("note-3")).get()), (V{1, 2}));
  EXPECT_EQ(list(Cmp("acc", CompareOp::kGe, 0.45, Aggregate::kMax).get()), (V{1, 2, 3, 4}));
  EXPECT_EQ(list(Cmp("acc", CompareOp::kLt, 0.15, Aggregate::kMin).get()), V{1});
  EXPECT_EQ(list(Exists("model").get()), V{3});
  EXPECT_EQ(list(Cmp("sys/creation_time", CompareOp::kGt, std::string("2000-01-01")).get()),
            (V{1, 2, 3, 4, 5}));
  EXPECT_EQ(list(Cmp("sys/size", CompareOp::kGt, 0.0).get()), (V{1, 2, 3, 4}));
  EXPECT_EQ(list(Cmp("sys/size", CompareOp::kGt, 0.5).get()), (V{1, 2, 3, 4}));
  EXPECT_EQ(list(nullptr, {"sys/size", Aggregate::kNone}, true).front(), 3);  // the file counts
  auto not_a_date = Cmp("sys/creation_time", CompareOp::kGt, std::string("soon"));
  store::ListRunsQuery bad;
  bad.project = "ws/vision";
  bad.filter = not_a_date.get();
  EXPECT_EQ(store_->ListRuns(bad).status().code(), StatusCode::kInvalidArgument);

  // Sorts: bools as 0/1, datetimes, string series by their last value, sets and files as missing.
  EXPECT_EQ(list(nullptr, {"flag", Aggregate::kNone}), (V{1, 3, 2, 4, 5}));
  EXPECT_EQ(list(nullptr, {"when", Aggregate::kNone}, true), (V{4, 3, 2, 1, 5}));
  EXPECT_EQ(list(nullptr, {"notes", Aggregate::kNone}), (V{4, 3, 2, 1, 5}));
  EXPECT_EQ(list(nullptr, {"notes", Aggregate::kCount}, true), (V{4, 3, 2, 1, 5}));
  EXPECT_EQ(list(nullptr, {"sets", Aggregate::kNone}, true), (V{5, 4, 3, 2, 1}));
  EXPECT_EQ(list(nullptr, {"acc", Aggregate::kMin}), (V{1, 2, 3, 4, 5}));
  EXPECT_EQ(list(nullptr, {"sys/failed", Aggregate::kNone}, true), (V{3, 5, 4, 2, 1}));

  store::ListRunsQuery q;
  q.project = "ws/vision";
  q.sort = {"sys/id", Aggregate::kNone};
  q.descending = false;
  q.columns = {
      {"flag", Aggregate::kNone},     {"when", Aggregate::kNone},      {"sets", Aggregate::kNone},
      {"notes", Aggregate::kNone},    {"notes", Aggregate::kMin},      {"acc", Aggregate::kMin},
      {"acc", Aggregate::kMax},       {"model", Aggregate::kNone},     {"flag", Aggregate::kLast},
      {"sys/tags", Aggregate::kNone}, {"sys/failed", Aggregate::kNone}};
  auto page = store_->ListRuns(q);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->rows.size(), 5u);
  const std::vector<store::Cell>& c = page->rows[2].cells;  // VIS-3
  ASSERT_EQ(c.size(), 11u);
  EXPECT_EQ(c[0], store::Cell(false));
  EXPECT_EQ(c[1], store::Cell(store::Datetime{3 * day}));
  EXPECT_EQ(c[2], store::Cell(store::StringSet{"y"}));
  EXPECT_EQ(c[3], store::Cell(std::string("note-2")));
  EXPECT_EQ(c[4], store::Cell());  // a string series has no min
  EXPECT_EQ(c[5], store::Cell(0.2));
  EXPECT_EQ(c[6], store::Cell(0.5));
  EXPECT_EQ(c[7], store::Cell(store::FileInfo{sha, "m.pt", "text/plain", 42}));
  EXPECT_EQ(c[8], store::Cell());  // an aggregate of a non-series
  EXPECT_EQ(c[9], store::Cell(store::StringSet{}));
  EXPECT_EQ(c[10], store::Cell(true));
  for (const store::Cell& cell :
       std::vector<store::Cell>(page->rows[4].cells.begin(), page->rows[4].cells.begin() + 9)) {
    EXPECT_EQ(cell, store::Cell());  // VIS-5 has none of them
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, ListRunsTest, testing::Backends(),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace nereid::store_conformance
