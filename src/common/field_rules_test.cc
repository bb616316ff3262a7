#include "common/field_rules.h"

#include <gtest/gtest.h>

#include <string>

namespace nereid::common {
namespace {

TEST(SysWriteTest, OutsideSysEverythingGoes) {
  EXPECT_TRUE(CheckSysWrite("params/lr", SysWrite::kOther).ok());
  EXPECT_TRUE(CheckSysWrite("system/x", SysWrite::kOther).ok());  // only the sys/ folder
}

TEST(SysWriteTest, EachWritableFieldTakesItsKind) {
  EXPECT_TRUE(CheckSysWrite("sys/name", SysWrite::kString, "n").ok());
  EXPECT_TRUE(CheckSysWrite("sys/description", SysWrite::kString, "").ok());
  for (const char* state : {"running", "succeeded", "failed", "aborted"}) {
    EXPECT_TRUE(CheckSysWrite("sys/state", SysWrite::kString, state).ok()) << state;
  }
  EXPECT_TRUE(CheckSysWrite("sys/failed", SysWrite::kBool).ok());
  EXPECT_TRUE(CheckSysWrite("sys/tags", SysWrite::kStringSetChange).ok());
  EXPECT_TRUE(CheckSysWrite("sys/ping_time", SysWrite::kDatetime).ok());

  EXPECT_FALSE(CheckSysWrite("sys/name", SysWrite::kOther).ok());
  EXPECT_FALSE(CheckSysWrite("sys/state", SysWrite::kString, "done").ok());
  EXPECT_FALSE(CheckSysWrite("sys/failed", SysWrite::kString, "true").ok());
  EXPECT_FALSE(CheckSysWrite("sys/tags", SysWrite::kString, "x").ok());
  EXPECT_FALSE(CheckSysWrite("sys/ping_time", SysWrite::kOther).ok());
}

TEST(SysWriteTest, TheRestIsTheServers) {
  for (const char* path : {"sys", "sys/id", "sys/creation_time", "sys/name/x"}) {
    Status s = CheckSysWrite(path, SysWrite::kString, "x");
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << path;
    EXPECT_NE(s.message().find("is set by the server"), std::string::npos) << s.message();
  }
}

TEST(StringTest, SizeAndEncoding) {
  EXPECT_TRUE(CheckString("v", std::string(kMaxStringBytes, 'x')).ok());
  EXPECT_FALSE(CheckString("v", std::string(kMaxStringBytes + 1, 'x')).ok());
  EXPECT_TRUE(CheckString("v", "caf\xc3\xa9").ok());
  EXPECT_NE(CheckString("v", "\xc3").message().find("v is not valid UTF-8"), std::string::npos);
}

TEST(FileNameTest, PlainNamesOnly) {
  EXPECT_TRUE(CheckFileName("model.pt").ok());
  EXPECT_TRUE(CheckFileName(std::string(255, 'a')).ok());
  for (std::string bad :
       {std::string(), std::string(256, 'a'), std::string("a/b"), std::string("a\\b"),
        std::string("a\nb"), std::string("."), std::string(".."), std::string("\xff")}) {
    EXPECT_FALSE(CheckFileName(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace nereid::common
