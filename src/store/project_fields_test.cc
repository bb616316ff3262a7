#include "store/project_fields.h"

#include <gtest/gtest.h>

namespace nereid::store {
namespace {

TEST(PrefixEndTest, IsTheFirstStringAfterEveryExtension) {
  EXPECT_EQ(PrefixEnd("train/lo"), "train/lp");
  EXPECT_EQ(PrefixEnd("a/"), "a0");
  EXPECT_EQ(PrefixEnd(""), "");
  // Code points, not bytes: the bound stays UTF-8.
  EXPECT_EQ(PrefixEnd("a\x7f"), "a\xc2\x80");            // U+007F -> U+0080
  EXPECT_EQ(PrefixEnd("\xc3\xa9"), "\xc3\xaa");          // é -> ê
  EXPECT_EQ(PrefixEnd("x\xdf\xbf"), "x\xe0\xa0\x80");    // U+07FF -> U+0800
  EXPECT_EQ(PrefixEnd("\xed\x9f\xbf"), "\xee\x80\x80");  // U+D7FF -> U+E000, past surrogates
  EXPECT_EQ(PrefixEnd("\xef\xbf\xbf"), "\xf0\x90\x80\x80");
  EXPECT_EQ(PrefixEnd("a\xf4\x8f\xbf\xbf"), "b");  // U+10FFFF has no successor
  EXPECT_EQ(PrefixEnd("\xf4\x8f\xbf\xbf"), "");
}

// [prefix, PrefixEnd(prefix)) holds exactly the strings that start with prefix, over strings of
// code points picked at the encodings' edges.
TEST(PrefixEndTest, RangeHoldsExactlyTheExtensions) {
  const std::vector<std::string> cps = {"\x01",
                                        "a",
                                        "\x7f",
                                        "\xc2\x80",
                                        "\xdf\xbf",
                                        "\xe0\xa0\x80",
                                        "\xed\x9f\xbf",
                                        "\xee\x80\x80",
                                        "\xef\xbf\xbf",
                                        "\xf0\x90\x80\x80",
                                        "\xf4\x8f\xbf\xbf"};
  std::vector<std::string> strings = {""};
  for (size_t begin = 0, len = 1; len <= 3; ++len) {  // every string of up to 3 code points
    const size_t end = strings.size();
    for (size_t i = begin; i < end; ++i) {
      for (const auto& c : cps) strings.push_back(strings[i] + c);
    }
    begin = end;
  }
  for (const auto& p : strings) {
    const std::string end = PrefixEnd(p);
    for (const auto& s : strings) {
      const bool in_range = s >= p && (end.empty() || s < end);
      EXPECT_EQ(in_range, s.rfind(p, 0) == 0) << "prefix " << p << " string " << s;
    }
  }
}

struct Inserts {
  std::vector<ProjectField> rows;
  FieldRegistrar::InsertFn Fn() {
    return [this](int64_t project, std::string_view path, FieldType type) {
      rows.push_back({std::to_string(project) + ":" + std::string(path), type});
      return Status();
    };
  }
};

TEST(FieldRegistrarTest, WritesEachNewRowOnceAndLearnsOnlyOnCommit) {
  KnownFields known;
  Inserts ins;
  {
    FieldRegistrar r(known, 7, ins.Fn());
    ASSERT_TRUE(r.Note("lr", FieldType::kFloat).ok());
    ASSERT_TRUE(r.Note("lr", FieldType::kFloat).ok());   // same batch: written already
    ASSERT_TRUE(r.Note("lr", FieldType::kString).ok());  // another type is another row
    // Not committed: a rolled-back batch teaches nothing.
  }
  EXPECT_EQ(ins.rows.size(), 2u);
  EXPECT_EQ(known.size(), 0u);
  {
    FieldRegistrar r(known, 7, ins.Fn());
    ASSERT_TRUE(r.Note("lr", FieldType::kFloat).ok());
    r.Commit();
  }
  EXPECT_EQ(ins.rows.size(), 3u);
  EXPECT_TRUE(known.Contains(7, "lr", FieldType::kFloat));
  EXPECT_FALSE(known.Contains(8, "lr", FieldType::kFloat));  // per project
  EXPECT_FALSE(known.Contains(7, "lr", FieldType::kString));
  {
    FieldRegistrar r(known, 7, ins.Fn());
    ASSERT_TRUE(r.Note("lr", FieldType::kFloat).ok());  // known: no SQL
    r.Commit();
  }
  EXPECT_EQ(ins.rows.size(), 3u);
  known.Clear();  // a lost transaction
  FieldRegistrar r(known, 7, ins.Fn());
  ASSERT_TRUE(r.Note("lr", FieldType::kFloat).ok());
  EXPECT_EQ(ins.rows.size(), 4u);
}

TEST(FieldRegistrarTest, AFailedInsertFailsTheNoteAndIsNotRemembered) {
  KnownFields known;
  int calls = 0;
  FieldRegistrar r(known, 1, [&](int64_t, std::string_view, FieldType) {
    ++calls;
    return Internal("disk full");
  });
  EXPECT_EQ(r.Note("a", FieldType::kInt).code(), StatusCode::kInternal);
  EXPECT_EQ(r.Note("a", FieldType::kInt).code(), StatusCode::kInternal);
  EXPECT_EQ(calls, 2);
}

TEST(KnownFieldsTest, ForgetsEverythingWhenFull) {
  KnownFields known(2);
  known.Add(1, "a", FieldType::kInt);
  known.Add(1, "b", FieldType::kInt);
  known.Add(1, "c", FieldType::kInt);
  EXPECT_EQ(known.size(), 1u);
  EXPECT_TRUE(known.Contains(1, "c", FieldType::kInt));
}

TEST(MergeFieldListTest, AddsSysFieldsUnderThePrefixInOrder) {
  FieldListQuery q;
  q.prefix = "s";
  FieldList list = MergeFieldList({{"score", FieldType::kFloat}, {"sz", FieldType::kInt}}, q);
  EXPECT_FALSE(list.truncated);
  ASSERT_EQ(list.fields.size(), 14u);  // 2 + the 12 sys/ fields
  EXPECT_EQ(list.fields[0], (ProjectField{"score", FieldType::kFloat}));
  EXPECT_EQ(list.fields[1], (ProjectField{"sys/creation_time", FieldType::kDatetime}));
  EXPECT_EQ(list.fields[12], (ProjectField{"sys/tags", FieldType::kStringSet}));
  EXPECT_EQ(list.fields[13], (ProjectField{"sz", FieldType::kInt}));

  q.prefix = "sys/s";
  list = MergeFieldList({}, q);
  ASSERT_EQ(list.fields.size(), 2u);
  EXPECT_EQ(list.fields[0].path, "sys/size");
  EXPECT_EQ(list.fields[1].path, "sys/state");
}

TEST(MergeFieldListTest, CutsAtTheLimitAndSaysSo) {
  FieldListQuery q;
  q.prefix = "p";
  q.limit = 2;
  // The backend hands over limit + 1 rows when more exist.
  FieldList list = MergeFieldList(
      {{"p/a", FieldType::kFloat}, {"p/a", FieldType::kString}, {"p/b", FieldType::kInt}}, q);
  EXPECT_TRUE(list.truncated);
  ASSERT_EQ(list.fields.size(), 2u);
  EXPECT_EQ(list.fields[1], (ProjectField{"p/a", FieldType::kString}));
  list = MergeFieldList({{"p/a", FieldType::kFloat}, {"p/b", FieldType::kInt}}, q);
  EXPECT_FALSE(list.truncated);
  // Sys fields count towards the limit.
  q.prefix = "";
  q.limit = 12;
  list = MergeFieldList({{"a", FieldType::kInt}}, q);
  EXPECT_TRUE(list.truncated);
  EXPECT_EQ(list.fields.size(), 12u);
  EXPECT_EQ(list.fields[0].path, "a");
}

TEST(ValidateFieldListQueryTest, RefusesOutOfRangeLimits) {
  FieldListQuery q;
  EXPECT_TRUE(ValidateFieldListQuery(q).ok());
  q.limit = 0;
  EXPECT_EQ(ValidateFieldListQuery(q).code(), StatusCode::kInvalidArgument);
  q.limit = kMaxFieldListLimit + 1;
  EXPECT_EQ(ValidateFieldListQuery(q).code(), StatusCode::kInvalidArgument);
  q.limit = 5;
  q.prefix = "a\xff";
  EXPECT_EQ(ValidateFieldListQuery(q).code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace nereid::store
