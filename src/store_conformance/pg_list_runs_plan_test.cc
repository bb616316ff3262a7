// PostgreSQL only: the runs table on a populated database uses its indexes. A few thousand runs
// are written straight into the tables (far faster than through Ingest), the statistics are
// gathered, and the plans of the main query shapes are checked and printed:
//   store_conformance_test --gtest_filter='PgListRunsPlan*'
// prints them (EXPLAIN ANALYZE, costs and timings off); src/store_postgres/README.md quotes them.
// The same data also checks the pages against the order the generator implies.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "store_conformance/pg_test_cluster.h"
#include "store_postgres/list_runs.h"
#include "store_postgres/postgres_store.h"

namespace nereid::store_conformance {
namespace {
using query::Aggregate;
using query::CompareOp;
using store_postgres::PgConn;

constexpr int kRuns = 4000;   // in the project listed
constexpr int kOther = 1000;  // in another project, so the project condition must select

// The generator, in SQL and in C++: runs without loss are every 10th; lr is (g % 100) / 1000.
double Loss(int g) { return static_cast<double>((g * 7919) % 1000) / 1000; }
bool HasLoss(int g) { return g % 10 != 0; }

class PgListRunsPlan : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto url = PgTestCluster::Get().NewDatabase();
    ASSERT_TRUE(url.ok()) << url.status().ToString();
    url_ = *url;
    store::StoreOptions options;
    options.url = url_;
    data_dir_ = std::filesystem::temp_directory_path() /
                ("nereid-plan-test-" + std::to_string(::getpid()));
    options.data_dir = data_dir_.string();
    auto opened = store_postgres::OpenPostgresStore(options);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = opened->release();
    ASSERT_TRUE(store_->CreateWorkspace("ws").ok());
    ASSERT_TRUE(store_->CreateProject("ws", "big", "BIG").ok());
    ASSERT_TRUE(store_->CreateProject("ws", "other", "OTH").ok());
    auto conn = PgConn::Connect(url_);
    ASSERT_TRUE(conn.ok()) << conn.status().ToString();
    conn_ = conn->release();
    Status s = conn_->ExecScript(R"sql(
      CREATE TEMP TABLE sizes(key TEXT, n INT);
      INSERT INTO sizes VALUES ('BIG', )sql" + std::to_string(kRuns) + R"sql(), ('OTH', )sql" +
                                 std::to_string(kOther) + R"sql();
      INSERT INTO runs(project_id, number, name, created_us, modified_us, ping_us)
        SELECT p.id, g, 'run-' || g, 1000000::bigint * g, 1000000::bigint * g, 1000000::bigint * g
        FROM projects p JOIN sizes z ON z.key = p.key, generate_series(1, z.n) g;
      UPDATE projects p SET next_run_number = z.n + 1 FROM sizes z WHERE z.key = p.key;
      INSERT INTO fields(run_id, path, type, num)
        SELECT id, 'params/lr', 0, (number % 100) / 1000.0 FROM runs;
      INSERT INTO series(run_id, path, type, count, first_step, last_step, last_ts, last, min, max)
        SELECT id, 'train/loss', 8, 100, 0, 99, 5, ((number * 7919) % 1000) / 1000.0, 0, 1
        FROM runs WHERE number % 10 <> 0;
      INSERT INTO fields(run_id, path, type, int)
        SELECT run_id, path, 8, id FROM series;
      INSERT INTO fields(run_id, path, type, text)
        SELECT id, 'params/opt', 3, 'opt-' || lpad((number % 100)::text, 3, '0') FROM runs;
      ANALYZE;
    )sql");
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  static void TearDownTestSuite() {
    delete conn_;
    delete store_;
    if (!url_.empty()) PgTestCluster::Get().DropDatabase(url_);
    std::filesystem::remove_all(data_dir_);
  }

  // The plans of the count and of each group of the page, printed for the README.
  static std::vector<std::string> Plans(const store::ListRunsQuery& q, const char* title) {
    auto plans = store_postgres::ExplainListRuns(*conn_, q, "ANALYZE, COSTS OFF, TIMING OFF");
    EXPECT_TRUE(plans.ok()) << plans.status().ToString();
    if (!plans.ok()) return {};
    std::printf("=== %s\n", title);
    for (const std::string& p : *plans) std::printf("%s---\n", p.c_str());
    return *plans;
  }

  static store::ListRunsQuery Query() {
    store::ListRunsQuery q;
    q.project = "ws/big";
    q.limit = 50;
    return q;
  }

  static std::vector<int64_t> Numbers(const store::RunPage& page) {
    std::vector<int64_t> out;
    for (const auto& row : page.rows) out.push_back(std::stoll(row.run.id.substr(4)));
    return out;
  }

  static inline std::string url_;
  static inline std::filesystem::path data_dir_;
  static inline store::Store* store_ = nullptr;
  static inline PgConn* conn_ = nullptr;
};

TEST_F(PgListRunsPlan, DefaultSortWalksTheCreationIndex) {
  store::ListRunsQuery q = Query();
  std::vector<std::string> plans = Plans(q, "default sort (sys/creation_time desc)");
  ASSERT_EQ(plans.size(), 2u);  // count, one group
  EXPECT_NE(plans[1].find("Index Scan Backward using runs_created"), std::string::npos);
  EXPECT_EQ(plans[1].find("Sort"), std::string::npos) << "the index gives the order";

  auto page = store_->ListRuns(q);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_EQ(page->total, static_cast<uint64_t>(kRuns));
  std::vector<int64_t> want;
  for (int g = kRuns; g > kRuns - 50; --g) want.push_back(g);
  EXPECT_EQ(Numbers(*page), want);
  q.cursor = page->next_cursor;
  // A later page starts inside the index (the keyset is an index condition), not by skipping.
  plans = Plans(q, "default sort, next page");
  ASSERT_EQ(plans.size(), 2u);
  EXPECT_NE(plans[1].find("Index Cond: ((project_id = '1'::bigint) AND (ROW(created_us, number) <"),
            std::string::npos);
  page = store_->ListRuns(q);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_EQ(Numbers(*page).front(), kRuns - 50);
}

TEST_F(PgListRunsPlan, SortBySeriesLastWalksTheSeriesIndex) {
  store::ListRunsQuery q = Query();
  q.sort = {"train/loss", Aggregate::kLast};
  std::vector<std::string> plans = Plans(q, "sort by train/loss:last desc");
  ASSERT_EQ(plans.size(), 3u);  // count, runs with a loss, runs without
  EXPECT_NE(plans[1].find("series_path_last"), std::string::npos);
  EXPECT_EQ(plans[1].find("Seq Scan"), std::string::npos);

  // Every page, against the generator's order: loss descending, ties by number descending,
  // runs without a loss last.
  std::vector<int> order;
  for (int g = 1; g <= kRuns; ++g) order.push_back(g);
  std::sort(order.begin(), order.end(), [](int a, int b) {
    if (HasLoss(a) != HasLoss(b)) return HasLoss(a);
    if (HasLoss(a) && Loss(a) != Loss(b)) return Loss(a) > Loss(b);
    return a > b;
  });
  std::vector<int64_t> got;
  q.limit = 700;
  for (int guard = 0; guard < 20; ++guard) {
    auto page = store_->ListRuns(q);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    std::vector<int64_t> n = Numbers(*page);
    got.insert(got.end(), n.begin(), n.end());
    if (page->next_cursor.empty()) break;
    q.cursor = page->next_cursor;
  }
  EXPECT_EQ(got, std::vector<int64_t>(order.begin(), order.end()));

  // A later page starts inside the index at the cursor's key.
  q.limit = 50;
  q.cursor.clear();
  auto page = store_->ListRuns(q);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  q.cursor = page->next_cursor;
  plans = Plans(q, "sort by train/loss:last desc, next page");
  ASSERT_EQ(plans.size(), 3u);
  EXPECT_NE(plans[1].find("Index Cond: ((path = 'train/loss'::text) AND (last IS NOT NULL) AND "
                          "(last <= "),
            std::string::npos);
}

TEST_F(PgListRunsPlan, FilterOnAParamWithTheDefaultSort) {
  auto filter = std::make_unique<query::Expr>();
  filter->field = {"params/lr", Aggregate::kNone};
  filter->op = CompareOp::kLt;
  filter->literal = 0.01;  // lr 0.000 .. 0.009: 10 of every 100 runs
  store::ListRunsQuery q = Query();
  q.filter = filter.get();
  std::vector<std::string> plans = Plans(q, "filter params/lr < 0.01, default sort");
  ASSERT_EQ(plans.size(), 2u);
  EXPECT_NE(plans[0].find("fields_path_num"), std::string::npos);
  EXPECT_NE(plans[1].find("fields_path_num"), std::string::npos);
  EXPECT_NE(plans[1].find("runs_created"), std::string::npos);

  auto page = store_->ListRuns(q);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_EQ(page->total, static_cast<uint64_t>(kRuns / 10));
  std::vector<int64_t> want;
  for (int g = kRuns; want.size() < 50; --g) {
    if (g % 100 < 10) want.push_back(g);
  }
  EXPECT_EQ(Numbers(*page), want);
}

// fields_path_text holds a prefix of each string (schema.cc); string comparisons still use it.
TEST_F(PgListRunsPlan, TextFilterUsesThePrefixIndex) {
  for (CompareOp op : {CompareOp::kEq, CompareOp::kLt}) {
    auto filter = std::make_unique<query::Expr>();
    filter->field = {"params/opt", Aggregate::kNone};
    filter->op = op;
    filter->literal = std::string(op == CompareOp::kEq ? "opt-007" : "opt-002");
    store::ListRunsQuery q = Query();
    q.filter = filter.get();
    std::vector<std::string> plans =
        Plans(q, op == CompareOp::kEq ? "filter params/opt = 'opt-007'"
                                      : "filter params/opt < 'opt-002'");
    ASSERT_EQ(plans.size(), 2u);
    EXPECT_NE(plans[0].find("fields_path_text"), std::string::npos);
    EXPECT_NE(plans[0].find("\"left\"(text, 256)"), std::string::npos);
    auto page = store_->ListRuns(q);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    EXPECT_EQ(page->total, static_cast<uint64_t>(op == CompareOp::kEq ? kRuns / 100 : kRuns / 50));
  }
}

// Infinite keys survive the cursor (JSON has no infinity).
TEST_F(PgListRunsPlan, InfiniteKeysPageThrough) {
  Status s = conn_->ExecScript(R"sql(
    UPDATE series k SET last = CASE r.number WHEN 1 THEN 'Infinity'::float8
                                             WHEN 2 THEN 'Infinity'::float8
                                             ELSE '-Infinity'::float8 END
    FROM runs r JOIN projects p ON p.id = r.project_id
    WHERE k.run_id = r.id AND p.key = 'OTH' AND r.number IN (1, 2, 3);
  )sql");
  ASSERT_TRUE(s.ok()) << s.ToString();
  store::ListRunsQuery q;
  q.project = "ws/other";
  q.sort = {"train/loss", Aggregate::kLast};
  q.limit = 3;
  auto whole = store_->ListRuns(q);
  ASSERT_TRUE(whole.ok()) << whole.status().ToString();
  ASSERT_EQ(Numbers(*whole).size(), 3u);
  EXPECT_EQ(Numbers(*whole)[0], 2);  // infinite loss, ties by number descending
  EXPECT_EQ(Numbers(*whole)[1], 1);
  q.limit = 1;  // the same three, a page each: the cursor carries an infinite key
  std::vector<int64_t> paged;
  for (int i = 0; i < 3; ++i) {
    auto page = store_->ListRuns(q);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    paged.push_back(Numbers(*page).front());
    q.cursor = page->next_cursor;
  }
  EXPECT_EQ(paged, Numbers(*whole));
  q.descending = false;
  q.cursor.clear();
  auto page = store_->ListRuns(q);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_EQ(Numbers(*page), std::vector<int64_t>{3});
  q.cursor = page->next_cursor;
  page = store_->ListRuns(q);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_EQ(page->rows.size(), 1u);
}

// Array parameters arrive element for element, quotes, backslashes, commas and braces included.
TEST_F(PgListRunsPlan, ArrayParametersRoundTrip) {
  const std::vector<std::string> texts = {"a\"b", "c\\d", "", "e,f", "{g}", "NULL", " h "};
  store_postgres::Sql q;
  q << "SELECT t FROM unnest(";
  q.Texts(texts) << ") WITH ORDINALITY AS u(t, i) ORDER BY i";
  store_postgres::PgParams params;
  const std::string text = q.Finish(&params);
  auto r = conn_->Query(text, params);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  std::vector<std::string> back;
  for (int i = 0; i < r->rows(); ++i) {
    EXPECT_FALSE(r->IsNull(i, 0));
    back.push_back(r->Text(i, 0));
  }
  EXPECT_EQ(back, texts);
}

// In a database whose default collation is not byte order (ICU en-US: "a" < "B" < "b"), text
// still filters and sorts in byte order, as on SQLite, and tags still come back in byte order.
TEST(PgListRunsLocale, TextIsByteOrderInAnIcuDatabase) {
  auto admin_url = PgTestCluster::Get().AdminUrl();
  ASSERT_TRUE(admin_url.ok()) << admin_url.status().ToString();
  auto admin = PgConn::Connect(*admin_url);
  ASSERT_TRUE(admin.ok()) << admin.status().ToString();
  const std::string name = "nereid_test_icu_" + std::to_string(::getpid());
  Status created = (*admin)->ExecScript("CREATE DATABASE " + name +
                                        " TEMPLATE template0 LOCALE_PROVIDER icu "
                                        "ICU_LOCALE 'en-US' LOCALE 'C'");
  // Debian's PostgreSQL is built with ICU; a server without it cannot run this check, and that
  // is a failure of the test environment, not a pass.
  ASSERT_TRUE(created.ok()) << "cannot create an ICU database: " << created.ToString();
  const std::string url = WithDatabase(*admin_url, name);
  const auto data_dir = std::filesystem::temp_directory_path() / name;
  {
    store::StoreOptions options;
    options.url = url;
    options.data_dir = data_dir.string();
    auto store = store_postgres::OpenPostgresStore(options);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store::Store& s = **store;
    ASSERT_TRUE(s.CreateWorkspace("ws").ok());
    ASSERT_TRUE(s.CreateProject("ws", "p", "P").ok());
    for (const char* run_name : {"b", "B", "a", "A"}) {
      store::CreateRunRequest req;
      req.project = "ws/p";
      req.name = run_name;
      req.tags = {"b", "B", "a"};
      ASSERT_TRUE(s.CreateRun(req).ok());
    }
    store::ListRunsQuery q;
    q.project = "ws/p";
    q.sort = {"sys/name", Aggregate::kNone};
    q.descending = false;
    q.columns = {{"sys/name", Aggregate::kNone}};
    auto page = s.ListRuns(q);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    std::vector<std::string> names;
    for (const auto& row : page->rows) names.push_back(std::get<std::string>(row.cells[0]));
    EXPECT_EQ(names, (std::vector<std::string>{"A", "B", "a", "b"}));
    ASSERT_FALSE(page->rows.empty());
    EXPECT_EQ(page->rows[0].run.tags, (store::StringSet{"B", "a", "b"}));
    auto lower = std::make_unique<query::Expr>();
    lower->field = {"sys/name", Aggregate::kNone};
    lower->op = CompareOp::kGe;
    lower->literal = std::string("a");
    q.filter = lower.get();
    page = s.ListRuns(q);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    EXPECT_EQ(page->total, 2u);  // "a" and "b"; ICU would add "B"
  }
  PgTestCluster::Get().DropDatabase(url);
  std::filesystem::remove_all(data_dir);
}

}  // namespace
}  // namespace nereid::store_conformance
