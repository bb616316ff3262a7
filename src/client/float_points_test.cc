// The multi-point record (kFloatPoints): its payload codec, the batch it becomes, and how readers
// treat it torn or corrupt. Spool mechanics shared with other records are in spool_test.cc.
#include "client/float_points.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <vector>

#include "client/crc32c.h"
#include "client/records.h"
#include "client/spool_reader.h"
#include "client/spool_writer.h"
#include "client/writer_dir.h"

namespace nereid::client {
namespace {

namespace fs = std::filesystem;

uint64_t Bits(double d) {
  uint64_t b;
  std::memcpy(&b, &d, 8);
  return b;
}

TEST(FloatPointsCodec, RoundTripsEveryShape) {
  const double values[3] = {1.5, -0.0, std::numeric_limits<double>::quiet_NaN()};
  const double steps[3] = {1, 2, 3};
  const int64_t times[3] = {10, 20, 30};
  for (int shape = 0; shape < 4; ++shape) {
    const double* st = shape & 1 ? steps : nullptr;
    const int64_t* ts = shape & 2 ? times : nullptr;
    std::string p = EncodeFloatPoints("train/loss", values, st, ts, 3, 99);
    ASSERT_EQ(p.size(), FloatPointsPayloadBytes(3, st, ts, 10));
    uint8_t flags = (st ? kFlagHasStep : 0) | (ts ? kFlagPerPointTime : 0);
    FloatPointsView v;
    ASSERT_TRUE(DecodeFloatPoints(p, flags, &v));
    EXPECT_EQ(v.n, 3u);
    EXPECT_EQ(v.path, "train/loss");
    EXPECT_EQ(std::memcmp(v.values, values, 24), 0);
    EXPECT_EQ(v.steps != nullptr, st != nullptr);
    if (st) {
      EXPECT_EQ(std::memcmp(v.steps, steps, 24), 0);
    }
    EXPECT_EQ(v.per_point_time, ts != nullptr);
    int64_t t0;
    std::memcpy(&t0, v.times, 8);
    EXPECT_EQ(t0, ts ? 10 : 99);
  }
}

TEST(FloatPointsCodec, RefusesZeroCountAndShortPayloads) {
  const double values[2] = {1, 2};
  const double steps[2] = {3, 4};
  std::string p = EncodeFloatPoints("x", values, steps, nullptr, 2, 0);
  FloatPointsView v;
  ASSERT_TRUE(DecodeFloatPoints(p, kFlagHasStep, &v));
  // The path may be empty (the server refuses it, with a message), but the arrays must be whole.
  std::string no_path = p.substr(0, p.size() - 1);
  EXPECT_TRUE(DecodeFloatPoints(no_path, kFlagHasStep, &v));
  EXPECT_FALSE(DecodeFloatPoints(no_path.substr(0, no_path.size() - 1), kFlagHasStep, &v));
  // Read with per-point times, the same bytes are too short.
  EXPECT_FALSE(DecodeFloatPoints(no_path, kFlagHasStep | kFlagPerPointTime, &v));
  std::string zero = p;
  std::memset(zero.data(), 0, 4);
  EXPECT_FALSE(DecodeFloatPoints(zero, kFlagHasStep, &v));
  // A count near 2^32 must not wrap the size arithmetic into "fits".
  std::string huge = p;
  std::memset(huge.data(), 0xff, 4);
  EXPECT_FALSE(DecodeFloatPoints(huge, kFlagHasStep | kFlagPerPointTime, &v));
  EXPECT_FALSE(DecodeFloatPoints(std::string_view("\x01\x00", 2), 0, &v));
  BatchBuilder b;
  EXPECT_FALSE(b.Add(SpoolRecord{RecordType::kFloatPoints, 0, zero}));
  EXPECT_TRUE(b.empty());
}

// Values, steps and times reach the batch bit for bit, merged with single-point records of the
// same path in the order they were logged.
TEST(FloatPointsBatch, MergesWithSinglePointRecordsBitExact) {
  const double values[4] = {std::numeric_limits<double>::quiet_NaN(),
                            std::numeric_limits<double>::infinity(),
                            -std::numeric_limits<double>::infinity(), -0.0};
  const double steps[4] = {2, 3, 4, 5};
  const int64_t times[4] = {7, 8, 9, 10};
  std::string one;
  double v1 = 0.25, s1 = 1;
  int64_t t1 = 6;
  one.append(reinterpret_cast<const char*>(&v1), 8);
  one.append(reinterpret_cast<const char*>(&s1), 8);
  one.append(reinterpret_cast<const char*>(&t1), 8);
  one += "a";
  std::string many = EncodeFloatPoints("a", values, steps, times, 4, 0);
  std::string no_step = EncodeFloatPoints("a", values, nullptr, nullptr, 2, 42);
  BatchBuilder b;
  ASSERT_TRUE(b.Add(SpoolRecord{RecordType::kFloatPoint, kFlagHasStep, one}));
  ASSERT_TRUE(b.Add(SpoolRecord{RecordType::kFloatPoints, kFlagHasStep | kFlagPerPointTime, many}));
  ASSERT_TRUE(b.Add(SpoolRecord{RecordType::kFloatPoints, 0, no_step}));
  EXPECT_EQ(b.records(), 7u);  // entries: points, not records
  v1::Batch batch = b.Take();
  ASSERT_EQ(batch.operations_size(), 2);  // without steps the points need an op of their own
  const v1::FloatPoints& p = batch.operations(0).append_floats();
  ASSERT_EQ(p.values_size(), 5);
  ASSERT_EQ(p.steps_size(), 5);
  ASSERT_EQ(p.timestamps_us_size(), 5);
  EXPECT_EQ(p.values(0), 0.25);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(Bits(p.values(i + 1)), Bits(values[i])) << i;
    EXPECT_EQ(p.steps(i + 1), steps[i]);
    EXPECT_EQ(p.timestamps_us(i + 1), times[i]);
  }
  const v1::FloatPoints& q = batch.operations(1).append_floats();
  ASSERT_EQ(q.values_size(), 2);
  EXPECT_EQ(q.steps_size(), 0);
  EXPECT_EQ(q.timestamps_us(0), 42);
  EXPECT_EQ(q.timestamps_us(1), 42);
}

class FloatPointsSpoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("nereid-fp-" + NewWriterId());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Reads the folder (recovered unless `live`) into one batch; returns the values of path "x".
  std::vector<double> ReadValues(bool live, uint64_t* skipped = nullptr,
                                 uint64_t* records = nullptr) {
    SpoolReader r(dir_, live);
    Position pos;
    SpoolRecord rec;
    BatchBuilder b;
    uint64_t n = 0;
    while (r.Next(&pos, &rec)) {
      EXPECT_TRUE(b.Add(rec));
      ++n;
    }
    if (skipped) *skipped = r.skipped_bytes();
    if (records) *records = n;
    std::vector<double> out;
    const v1::Batch batch = b.Take();
    for (const auto& op : batch.operations()) {
      if (op.path() == "x") out.insert(out.end(), op.append_floats().values().begin(),
                                       op.append_floats().values().end());
    }
    return out;
  }

  // Overwrites bytes of segment 1 as a crash or bad disk would leave them.
  void Poke(uint64_t offset, const void* bytes, size_t n) {
    FILE* f = std::fopen(SegmentPath(dir_, 1).c_str(), "r+b");
    ASSERT_NE(f, nullptr);
    std::fseek(f, static_cast<long>(offset), SEEK_SET);
    std::fwrite(bytes, 1, n, f);
    std::fclose(f);
  }

  std::string dir_;
};

TEST_F(FloatPointsSpoolTest, LargeExtendIsFewRecordsAcrossSegments) {
  auto w = SpoolWriter::Open(dir_, 1 << 20, 1ull << 30);
  ASSERT_TRUE(w.ok());
  std::vector<double> v(300000), st(300000);
  for (size_t i = 0; i < v.size(); ++i) v[i] = st[i] = static_cast<double>(i);
  ASSERT_EQ((*w)->AppendFloats("x", v.data(), st.data(), nullptr, v.size(), 5), v.size());
  EXPECT_EQ((*w)->written(), v.size());  // entries: points
  uint64_t skipped = 0, records = 0;
  std::vector<double> got = ReadValues(false, &skipped, &records);
  EXPECT_EQ(got, v);
  EXPECT_EQ(skipped, 0u);
  // 1 MiB segments bound a record to 16 KiB: 1,022 points with steps; 300k points need 294.
  EXPECT_EQ(records, (v.size() + 1021) / 1022);
  EXPECT_GE(ListSegments(dir_).size(), 5u);
  EXPECT_EQ(ReadValues(true), v);
}

// A multi-point record is published by one CRC store: torn or corrupt, all of its points are
// skipped and none is misread; the records around it are intact.
TEST_F(FloatPointsSpoolTest, TornOrCorruptRecordLosesExactlyItsPoints) {
  auto w = SpoolWriter::Open(dir_, 64 << 10, 1ull << 30);
  ASSERT_TRUE(w.ok());
  std::vector<double> v(50);
  std::vector<Position> starts;
  for (int r = 0; r < 5; ++r) {
    for (int i = 0; i < 50; ++i) v[i] = r * 50 + i;
    starts.push_back((*w)->Frontier());
    ASSERT_EQ((*w)->AppendFloats("x", v.data(), nullptr, nullptr, 50, 0), 50u);
  }
  const uint64_t span = starts[1].offset - starts[0].offset;
  ASSERT_EQ(span, RecordSpan(FloatPointsPayloadBytes(50, false, false, 1)));  // one record each
  uint32_t zero = 0;
  Poke(starts[1].offset, &zero, 4);  // record 1: killed before its CRC was stored
  char bad = 0x55;
  Poke(starts[3].offset + kRecordHeaderBytes + 4 + 8 * 17, &bad, 1);  // record 3: a value flipped
  uint64_t skipped = 0;
  std::vector<double> got = ReadValues(false, &skipped);
  std::vector<double> want;
  for (int r : {0, 2, 4}) {
    for (int i = 0; i < 50; ++i) want.push_back(r * 50 + i);
  }
  EXPECT_EQ(got, want);
  EXPECT_EQ(skipped, 2 * span);
  // The live reader waits at the unpublished record instead of skipping it.
  EXPECT_EQ(ReadValues(true).size(), 50u);
}

// A length that runs past the segment (a torn header) or a count larger than the payload holds
// never makes a reader run off the end; the record is skipped.
TEST_F(FloatPointsSpoolTest, LyingLengthOrCountIsNeverMisread) {
  auto w = SpoolWriter::Open(dir_, 64 << 10, 1ull << 30);
  ASSERT_TRUE(w.ok());
  std::vector<double> v = {1, 2, 3};
  Position a = (*w)->Frontier();
  ASSERT_EQ((*w)->AppendFloats("x", v.data(), nullptr, nullptr, 3, 0), 3u);
  Position b = (*w)->Frontier();
  ASSERT_EQ((*w)->AppendFloats("x", v.data(), nullptr, nullptr, 3, 0), 3u);
  ASSERT_EQ((*w)->AppendFloats("x", v.data(), nullptr, nullptr, 3, 0), 3u);
  uint32_t huge = 1u << 30;
  Poke(a.offset + 4, &huge, 4);  // record a's length: far past the segment
  // Record b claims 1,000 points but holds 3; give it a CRC that matches, as a writer bug would.
  uint32_t count = 1000;
  Poke(b.offset + kRecordHeaderBytes, &count, 4);
  std::string rec(b.offset - a.offset, '\0');
  FILE* f = std::fopen(SegmentPath(dir_, 1).c_str(), "rb");
  ASSERT_NE(f, nullptr);
  std::fseek(f, static_cast<long>(b.offset), SEEK_SET);
  ASSERT_EQ(std::fread(rec.data(), 1, rec.size(), f), rec.size());
  std::fclose(f);
  uint32_t len;
  std::memcpy(&len, rec.data() + 4, 4);
  uint32_t crc = MaskCrc(Crc32c(rec.data() + 4, kRecordHeaderBytes - 4 + len));
  Poke(b.offset, &crc, 4);
  SpoolReader r(dir_, false);
  Position pos;
  SpoolRecord out;
  BatchBuilder builder;
  int refused = 0;
  while (r.Next(&pos, &out)) refused += builder.Add(out) ? 0 : 1;
  EXPECT_EQ(refused, 1);  // b: its CRC checks but its payload does not decode
  EXPECT_EQ(builder.records(), 3u);  // only the third record's points
  EXPECT_EQ(r.skipped_bytes(), b.offset - a.offset);
}

// An intact record of a type this reader does not know stops the reader in front of it, in both
// modes and also when met while skipping a torn record: never skipped as if it were torn.
TEST_F(FloatPointsSpoolTest, NewerRecordTypeStopsTheReaderNotSkipped) {
  auto w = SpoolWriter::Open(dir_, 64 << 10, 1ull << 30);
  ASSERT_TRUE(w.ok());
  std::vector<double> v = {1, 2, 3};
  ASSERT_EQ((*w)->AppendFloats("x", v.data(), nullptr, nullptr, 3, 0), 3u);
  Position torn = (*w)->Frontier();
  ASSERT_EQ((*w)->AppendFloats("x", v.data(), nullptr, nullptr, 3, 0), 3u);
  Position newer = (*w)->Frontier();
  ASSERT_TRUE((*w)->Append(static_cast<RecordType>(kLastRecordType + 1), 0, "from the future"));
  ASSERT_EQ((*w)->AppendFloats("x", v.data(), nullptr, nullptr, 3, 0), 3u);
  uint32_t zero = 0;
  Poke(torn.offset, &zero, 4);
  for (bool live : {false, true}) {
    SpoolReader r(dir_, live);
    Position pos;
    SpoolRecord rec;
    ASSERT_TRUE(r.Next(&pos, &rec));
    EXPECT_EQ(r.newer_type(), 0);
    if (live) {
      EXPECT_FALSE(r.Next(&pos, &rec));  // live: waits at the unpublished record
      EXPECT_EQ(pos, torn);
      continue;
    }
    for (int again = 0; again < 2; ++again) {
      EXPECT_FALSE(r.Next(&pos, &rec));
      EXPECT_EQ(r.newer_type(), kLastRecordType + 1);
      EXPECT_EQ(pos, newer);  // in front of it, having skipped only the torn record
    }
    EXPECT_EQ(r.skipped_bytes(), newer.offset - torn.offset);
  }
}

}  // namespace
}  // namespace nereid::client
