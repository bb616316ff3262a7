// Strings as long as ingest accepts (wire::kMaxStringBytes, 1 MiB) as field values and tags:
// stored, filtered, sorted and paged like short ones. PostgreSQL indexes only a prefix of them
// (store_postgres/schema.cc), so values that share a long prefix and differ after it are here too.
#include <algorithm>
#include <map>
#include <optional>

#include "query/filter.h"
#include "store_conformance/store_fixture.h"
#include "wire/validate.h"

namespace nereid::store_conformance {
namespace {
using query::Aggregate;
using query::CompareOp;
using query::Expr;
using query::FieldRef;
using testing::B;
using testing::StoreTest;

// 300 two-byte characters: longer than PostgreSQL's indexed prefix in characters and in bytes.
std::string SharedPrefix() {
  std::string s;
  for (int i = 0; i < 300; ++i) s += "\xc3\xa9";  // U+00E9
  return s;
}
// Exactly wire::kMaxStringBytes, mostly multi-byte characters.
std::string MiB(char last) {
  std::string s;
  while (s.size() + 3 <= wire::kMaxStringBytes - 1) s += "\xe2\x82\xac";  // U+20AC, 3 bytes
  s += std::string(wire::kMaxStringBytes - 1 - s.size(), 'x');
  s += last;
  return s;
}

std::unique_ptr<Expr> Cmp(std::string path, CompareOp op, std::string lit) {
  auto e = std::make_unique<Expr>();
  e->kind = Expr::Kind::kCompare;
  e->field = {std::move(path), Aggregate::kNone};
  e->op = op;
  e->literal = std::move(lit);
  return e;
}

// Run numbers of every page of `q`, with `limit` runs a page.
std::vector<int64_t> Numbers(store::Store& store, store::ListRunsQuery q) {
  std::vector<int64_t> out;
  for (int guard = 0; guard < 50; ++guard) {
    auto page = store.ListRuns(q);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    if (!page.ok()) break;
    for (auto& row : page->rows) out.push_back(std::stoll(row.run.id.substr(4)));
    if (page->next_cursor.empty()) break;
    q.cursor = page->next_cursor;
  }
  return out;
}

bool Holds(CompareOp op, const std::string& a, const std::string& b) {
  switch (op) {
    case CompareOp::kEq:
      return a == b;
    case CompareOp::kNe:
      return a != b;
    case CompareOp::kLt:
      return a < b;
    case CompareOp::kLe:
      return a <= b;
    case CompareOp::kGt:
      return a > b;
    case CompareOp::kGe:
      return a >= b;
    default:
      return false;
  }
}

TEST_P(StoreTest, LongStringFieldsFilterSortAndPage) {
  const std::string pre = SharedPrefix();
  const std::string ascii(600, 'x');
  // Run n+1 gets values[n]; std::string compares as unsigned bytes, as both backends must.
  const std::vector<std::string> values = {MiB('b'),   MiB('a'),    std::string(3000, 'm'),
                                           pre + "b",  pre,         pre + "a",
                                           pre + "ab", ascii + "2", ascii + "1",
                                           "a",        "\xc3\xa9"};
  std::map<int64_t, std::string> by_run;
  for (size_t i = 0; i < values.size(); ++i) {
    std::string run = NewRun();
    // The last one is a string series whose last value is the long one.
    B b("w", 1);
    if (i + 1 == values.size()) {
      b.Strings("params/s", {0, 1}, {"short", values[i]});
    } else {
      b.Str("params/s", values[i]);
    }
    auto r = store_->Ingest(run, b.batch);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    by_run[static_cast<int64_t>(i + 1)] = values[i];
  }
  NewRun();  // without the field: never matches, sorts last
  const int64_t missing = static_cast<int64_t>(values.size() + 1);

  // Read back whole, as a field and as a runs-table cell.
  auto fields = store_->GetFields("VIS-1", "params");
  ASSERT_TRUE(fields.ok()) << fields.status().ToString();
  ASSERT_EQ(fields->size(), 1u);
  EXPECT_EQ((*fields)[0].value, store::Value(values[0]));
  store::ListRunsQuery cells;
  cells.project = "ws/vision";
  cells.columns = {{"params/s", Aggregate::kNone}};
  cells.sort = {"sys/id", Aggregate::kNone};
  cells.descending = false;
  auto page = store_->ListRuns(cells);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->rows.size(), values.size() + 1);
  for (size_t i = 0; i < values.size(); ++i) {
    EXPECT_EQ(page->rows[i].cells[0], store::Value(values[i])) << "run " << i + 1;
  }

  // Every comparison with every value (and some between them) as the literal.
  std::vector<std::string> literals = values;
  literals.push_back(pre + "aa");
  literals.push_back(pre.substr(0, 512));
  literals.push_back(MiB('c'));
  for (CompareOp op : {CompareOp::kEq, CompareOp::kNe, CompareOp::kLt, CompareOp::kLe,
                       CompareOp::kGt, CompareOp::kGe}) {
    for (size_t l = 0; l < literals.size(); ++l) {
      std::vector<int64_t> want;
      for (const auto& [n, v] : by_run) {
        if (Holds(op, v, literals[l])) want.push_back(n);
      }
      auto filter = Cmp("params/s", op, literals[l]);
      store::ListRunsQuery q;
      q.project = "ws/vision";
      q.filter = filter.get();
      q.sort = {"sys/id", Aggregate::kNone};
      q.descending = false;
      // Paged, except with the 1 MiB literals: those are bound several times in each of a page's
      // queries (~70 ms a page on PostgreSQL), and paging by sys/id does not depend on them.
      q.limit = literals[l].size() > 64 * 1024 ? 100 : 3;
      EXPECT_EQ(Numbers(*store_, q), want) << "op " << static_cast<int>(op) << ", literal " << l
                                           << " (" << literals[l].size() << " bytes)";
    }
  }

  // Sorted by the value (ties by number, missing last), paged both ways. Pages of 3 end on
  // values of at most 3000 bytes: a cursor holds the last key whole, and store::DecodeCursor
  // refuses one over 64 KiB, so a page that ends on a longer value cannot be continued (on either
  // backend; a limit of the cursor format, not of the storage).
  std::vector<int64_t> ascending;
  for (const auto& [n, v] : by_run) ascending.push_back(n);
  std::stable_sort(ascending.begin(), ascending.end(),
                   [&](int64_t a, int64_t b) { return by_run[a] < by_run[b]; });
  std::vector<int64_t> descending(ascending.rbegin(), ascending.rend());
  ascending.push_back(missing);
  descending.push_back(missing);
  store::ListRunsQuery sorted;
  sorted.project = "ws/vision";
  sorted.sort = {"params/s", Aggregate::kNone};
  sorted.limit = 3;
  sorted.descending = false;
  EXPECT_EQ(Numbers(*store_, sorted), ascending);
  sorted.descending = true;
  EXPECT_EQ(Numbers(*store_, sorted), descending);
}

TEST_P(StoreTest, LongTagsStoredFilteredAndRemoved) {
  const std::string pre = SharedPrefix();
  const std::string big = MiB('t');
  const std::string mid(3000, 'k');
  const std::string pa = pre + "a", pb = pre + "b";
  auto tags_of = [&](const std::string& run) {
    auto info = store_->GetRun(run);
    EXPECT_TRUE(info.ok()) << info.status().ToString();
    return info.ok() ? info->tags : store::StringSet{};
  };
  auto sorted = [](store::StringSet s) {
    std::sort(s.begin(), s.end());
    return s;
  };

  // VIS-1: tags given at creation, one twice.
  store::CreateRunRequest req;
  req.project = "ws/vision";
  req.tags = {big, mid, pa, pb, big};
  auto created = store_->CreateRun(req);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(created->run.tags, sorted({big, mid, pa, pb}));

  // VIS-2: added by ingest, the long one again in a later batch; VIS-3: assigned as a set.
  const std::string run2 = NewRun(), run3 = NewRun();
  ASSERT_TRUE(store_->Ingest(run2, B("w", 1).AddStrings("sys/tags", {big, pa}).batch).ok());
  ASSERT_TRUE(store_->Ingest(run2, B("w", 2).AddStrings("sys/tags", {big}).batch).ok());
  EXPECT_EQ(tags_of(run2), sorted({big, pa}));
  ASSERT_TRUE(store_->Ingest(run3, B("w", 1).StrSet("sys/tags", {pb, mid, mid}).batch).ok());
  EXPECT_EQ(tags_of(run3), sorted({mid, pb}));

  auto tagged = [&](const std::string& tag) {
    auto filter = Cmp("sys/tags", CompareOp::kContains, tag);
    store::ListRunsQuery q;
    q.project = "ws/vision";
    q.filter = filter.get();
    q.sort = {"sys/id", Aggregate::kNone};
    q.descending = false;
    q.limit = 1;
    return Numbers(*store_, q);
  };
  EXPECT_EQ(tagged(big), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(tagged(mid), (std::vector<int64_t>{1, 3}));
  EXPECT_EQ(tagged(pa), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(tagged(pb), (std::vector<int64_t>{1, 3}));
  EXPECT_EQ(tagged(pre), (std::vector<int64_t>{}));
  EXPECT_EQ(tagged(MiB('u')), (std::vector<int64_t>{}));

  // Removing one long tag keeps the one that shares its prefix.
  ASSERT_TRUE(
      store_->Ingest(created->run.id, B("w", 1).RemoveStrings("sys/tags", {pb, big}).batch).ok());
  EXPECT_EQ(tags_of(created->run.id), sorted({mid, pa}));
  EXPECT_EQ(tagged(big), (std::vector<int64_t>{2}));
  EXPECT_EQ(tagged(pa), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(tagged(pb), (std::vector<int64_t>{3}));
}

// StoreTest is instantiated for every backend in store_test.cc.

}  // namespace
}  // namespace nereid::store_conformance
