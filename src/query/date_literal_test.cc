#include "query/date_literal.h"

#include <gtest/gtest.h>

namespace nereid::query {
namespace {

TEST(DateLiteral, AcceptsDatesTimesAndFractions) {
  EXPECT_EQ(ParseDateLiteralUs("1970-01-01"), 0);
  EXPECT_EQ(ParseDateLiteralUs("1970-01-02"), int64_t{86'400'000'000});
  EXPECT_EQ(ParseDateLiteralUs("2024-05-01"), int64_t{1'714'521'600'000'000});
  EXPECT_EQ(ParseDateLiteralUs("2024-05-01T12:30"), int64_t{1'714'566'600'000'000});
  EXPECT_EQ(ParseDateLiteralUs("2024-05-01 12:30:15.5Z"), int64_t{1'714'566'615'500'000});
  EXPECT_EQ(ParseDateLiteralUs("1969-12-31T23:59"), int64_t{-60'000'000});
}

TEST(DateLiteral, RefusesOtherText) {
  for (const char* s : {"", "n/a", "2024-5-01", "2024-13-01", "2024-05-32", "2024-05-01T25:00",
                        "2024-05-01T12", "2024-05-01+02:00", "2024-05-01T12:30:15 UTC"}) {
    EXPECT_EQ(ParseDateLiteralUs(s), std::nullopt) << s;
  }
}

}  // namespace
}  // namespace nereid::query
