#include "store_sqlite/writer_sequences.h"

#include <gtest/gtest.h>

namespace nereid::store_sqlite {
namespace {

TEST(WriterSequences, KeysByRunAndWriter) {
  WriterSequences w;
  EXPECT_FALSE(w.Find(1, "a"));
  w.Set(1, "a", 5);
  w.Set(2, "a", 7);
  w.Set(1, "ab", 9);
  EXPECT_EQ(w.Find(1, "a"), 5u);
  EXPECT_EQ(w.Find(2, "a"), 7u);
  EXPECT_EQ(w.Find(1, "ab"), 9u);
  EXPECT_FALSE(w.Find(1, "b"));
  // A run id whose bytes end like the start of a writer id does not collide.
  w.Set(256, "", 3);
  EXPECT_FALSE(w.Find(1, std::string("\x01", 1)));
  w.Set(1, "a", 6);
  EXPECT_EQ(w.Find(1, "a"), 6u);
}

TEST(WriterSequences, ForgetRunDropsOnlyThatRun) {
  WriterSequences w;
  w.Set(1, "a", 1);
  w.Set(1, "b", 2);
  w.Set(2, "a", 3);
  w.ForgetRun(1);
  EXPECT_FALSE(w.Find(1, "a"));
  EXPECT_FALSE(w.Find(1, "b"));
  EXPECT_EQ(w.Find(2, "a"), 3u);
  w.Clear();
  EXPECT_FALSE(w.Find(2, "a"));
}

TEST(WriterSequences, BoundEmptiesRatherThanGrows) {
  WriterSequences w(3);
  w.Set(1, "a", 1);
  w.Set(2, "a", 1);
  w.Set(3, "a", 1);
  w.Set(3, "a", 2);  // an update of a present key keeps the rest
  EXPECT_EQ(w.size(), 3u);
  EXPECT_EQ(w.Find(1, "a"), 1u);
  w.Set(4, "a", 1);  // a fourth key empties it first
  EXPECT_EQ(w.size(), 1u);
  EXPECT_FALSE(w.Find(1, "a"));
  EXPECT_EQ(w.Find(4, "a"), 1u);
}

}  // namespace
}  // namespace nereid::store_sqlite
