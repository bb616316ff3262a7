#include "store/sys_fields.h"

#include <gtest/gtest.h>

namespace nereid::store {
namespace {

TEST(SysFieldsTest, ReportsEveryRunAttributeSortedByPath) {
  RunInfo run;
  run.id = "VIS-3";
  run.name = "baseline";
  run.state = RunState::kFailed;
  run.failed = true;
  run.creation_time_us = 10;
  run.modification_time_us = 20;
  run.ping_time_us = 30;
  run.tags = {"a", "b"};
  run.size_bytes = 99;
  std::vector<Field> fields = SysFields(run);
  ASSERT_EQ(fields.size(), 11u);  // no custom_run_id
  for (size_t i = 1; i < fields.size(); ++i) EXPECT_LT(fields[i - 1].path, fields[i].path);
  EXPECT_EQ(SysField(run, "sys/id")->value, Value(std::string("VIS-3")));
  EXPECT_EQ(SysField(run, "sys/state")->value, Value(std::string("failed")));
  EXPECT_EQ(SysField(run, "sys/failed")->value, Value(true));
  EXPECT_EQ(SysField(run, "sys/ping_time")->value, Value(Datetime{30}));
  EXPECT_EQ(SysField(run, "sys/tags")->value, Value(StringSet{"a", "b"}));
  EXPECT_EQ(SysField(run, "sys/size")->value, Value(int64_t{99}));
  EXPECT_FALSE(SysField(run, "sys/custom_run_id").has_value());
  EXPECT_FALSE(SysField(run, "sys/bogus").has_value());
  run.custom_run_id = "abc";
  EXPECT_EQ(SysFields(run).size(), 12u);
  EXPECT_TRUE(IsSysFieldPath("sys/custom_run_id"));
  EXPECT_FALSE(IsSysFieldPath("params/lr"));
}

TEST(TypesTest, NamesRoundTrip) {
  EXPECT_EQ(FieldTypeName(FieldType::kStringSet), "string_set");
  EXPECT_TRUE(IsSeries(FieldType::kFileSeries));
  EXPECT_FALSE(IsSeries(FieldType::kFile));
  for (auto s : {RunState::kRunning, RunState::kSucceeded, RunState::kFailed, RunState::kAborted}) {
    EXPECT_EQ(ParseRunState(RunStateName(s)), s);
  }
  EXPECT_FALSE(ParseRunState("done").has_value());
}

}  // namespace
}  // namespace nereid::store
