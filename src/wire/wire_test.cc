#include <gtest/gtest.h>
#include <zstd.h>

#include <atomic>
#include <cmath>
#include <memory>
#include <random>
#include <thread>

#include "nereid/v1/batch.pb.h"
#include "wire/decode.h"
#include "wire/validate.h"

namespace nereid::wire {
namespace {

v1::Batch MakeBatch() {
  v1::Batch b;
  b.set_writer_id("w1");
  b.set_sequence(1);
  return b;
}

TEST(Decode, ContentTypes) {
  EXPECT_EQ(*FormatFromContentType("application/x-protobuf"), BodyFormat::kProtobuf);
  EXPECT_EQ(*FormatFromContentType("application/json; charset=utf-8"), BodyFormat::kJson);
  auto bad = FormatFromContentType("text/html");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("application/x-protobuf"), std::string::npos);
}

TEST(Decode, ProtobufAndJsonGiveTheSameBatch) {
  v1::Batch b = MakeBatch();
  auto* op = b.add_operations();
  op->set_path("train/loss");
  op->mutable_append_floats()->add_values(0.5);
  std::string bin = b.SerializeAsString();
  v1::Batch from_bin, from_json;
  ASSERT_TRUE(ParseBatch(bin, BodyFormat::kProtobuf, &from_bin).ok());
  std::string json =
      R"({"writerId":"w1","sequence":"1","operations":[{"path":"train/loss","appendFloats":{"values":[0.5]}}]})";
  ASSERT_TRUE(ParseBatch(json, BodyFormat::kJson, &from_json).ok());
  EXPECT_EQ(from_bin.SerializeAsString(), from_json.SerializeAsString());
}

TEST(Decode, MalformedBodiesAreRefusedWithReason) {
  v1::Batch b;
  EXPECT_EQ(ParseBatch("\xff\xff\xff", BodyFormat::kProtobuf, &b).code(),
            StatusCode::kInvalidArgument);
  auto s = ParseBatch(R"({"writerId": 5, "bogus": 1})", BodyFormat::kJson, &b);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("JSON"), std::string::npos);
}

TEST(Decode, ZstdRoundTripAndBombIsCapped) {
  std::string plain(1 << 20, 'a');
  std::string comp(ZSTD_compressBound(plain.size()), '\0');
  comp.resize(ZSTD_compress(comp.data(), comp.size(), plain.data(), plain.size(), 3));
  auto ok = DecompressZstd(comp, 2 << 20);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(*ok, plain);
  auto capped = DecompressZstd(comp, 1000);
  EXPECT_EQ(capped.status().code(), StatusCode::kPayloadTooLarge);
  EXPECT_EQ(DecompressZstd("not zstd", 1000).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(
      DecompressZstd(std::string_view(comp).substr(0, comp.size() / 2), 2 << 20).status().code(),
      StatusCode::kInvalidArgument);
}

// A frame without a declared content size (as a streaming compressor writes it).
std::string CompressStreaming(const std::string& plain) {
  std::unique_ptr<ZSTD_CCtx, decltype(&ZSTD_freeCCtx)> cctx(ZSTD_createCCtx(), ZSTD_freeCCtx);
  ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_contentSizeFlag, 0);
  std::string out(ZSTD_compressBound(plain.size()) + 64, '\0');
  ZSTD_outBuffer ob{out.data(), out.size(), 0};
  ZSTD_inBuffer in{plain.data(), plain.size(), 0};
  while (ZSTD_compressStream2(cctx.get(), &ob, &in, ZSTD_e_end) != 0) {
  }
  out.resize(ob.pos);
  return out;
}

TEST(Decode, ZstdContextIsReusedCleanlyAfterErrors) {
  // The decompression context is kept per thread: a corrupt, truncated or over-limit body must
  // leave nothing behind for the next one, and sizes at and around the limit must be exact.
  std::mt19937 rng(3);
  std::string plain(300 * 1024 + 17, '\0');
  for (char& c : plain) c = static_cast<char>('a' + rng() % 7);
  const std::string unsized = CompressStreaming(plain);
  ASSERT_EQ(ZSTD_getFrameContentSize(unsized.data(), unsized.size()), ZSTD_CONTENTSIZE_UNKNOWN);
  std::string sized_buf(ZSTD_compressBound(plain.size()), '\0');
  sized_buf.resize(
      ZSTD_compress(sized_buf.data(), sized_buf.size(), plain.data(), plain.size(), 1));
  const std::string sized = sized_buf;
  for (int round = 0; round < 3; ++round) {
    for (const std::string* comp : {&unsized, &sized}) {
      EXPECT_EQ(DecompressZstd(std::string_view(*comp).substr(0, comp->size() / 3), 1 << 20)
                    .status()
                    .code(),
                StatusCode::kInvalidArgument);
      EXPECT_EQ(DecompressZstd(*comp, plain.size() - 1).status().code(),
                StatusCode::kPayloadTooLarge);
      std::string corrupt = *comp;
      corrupt[corrupt.size() / 2] ^= 0x55;
      corrupt[corrupt.size() / 2 + 1] ^= 0x55;
      (void)DecompressZstd(corrupt, 1 << 20);  // refused or garbage: either way, nothing stays
      auto exact = DecompressZstd(*comp, plain.size());
      ASSERT_TRUE(exact.ok()) << exact.status().ToString();
      EXPECT_TRUE(*exact == plain);
    }
  }
  // The same from other threads, each with its own context.
  std::vector<std::thread> threads;
  std::atomic<int> good{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 5; ++i) {
        auto r = DecompressZstd(i % 2 ? sized : unsized, 1 << 20);
        if (r.ok() && *r == plain) good++;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(good.load(), 20);
  auto empty = DecompressZstd(CompressStreaming(""), 0);
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  EXPECT_TRUE(empty->empty());
}

TEST(Validate, FlattensNestedDicts) {
  v1::Batch b = MakeBatch();
  auto* op = b.add_operations();
  op->set_path("params");
  auto& fields = *op->mutable_assign()->mutable_nested()->mutable_fields();
  fields["lr"].set_float_value(0.01);
  fields["optim"].mutable_nested()->mutable_fields()->operator[]("name").set_string_value("adam");
  ASSERT_TRUE(ValidateBatch(b, 123).ok());
  ASSERT_EQ(b.operations_size(), 2);
  EXPECT_EQ(b.operations(0).path(), "params/lr");
  EXPECT_DOUBLE_EQ(b.operations(0).assign().float_value(), 0.01);
  EXPECT_EQ(b.operations(1).path(), "params/optim/name");
  EXPECT_EQ(b.operations(1).assign().string_value(), "adam");
}

TEST(Validate, FillsTimestampsAndChecksColumns) {
  v1::Batch b = MakeBatch();
  auto* p = b.add_operations();
  p->set_path("loss");
  p->mutable_append_floats()->add_values(1);
  p->mutable_append_floats()->add_values(2);
  ASSERT_TRUE(ValidateBatch(b, 777).ok());
  ASSERT_EQ(b.operations(0).append_floats().timestamps_us_size(), 2);
  EXPECT_EQ(b.operations(0).append_floats().timestamps_us(1), 777);

  p->mutable_append_floats()->add_steps(1);  // one step for two values
  auto s = ValidateBatch(b, 777);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("steps"), std::string::npos);

  p->mutable_append_floats()->add_steps(NAN);
  EXPECT_NE(ValidateBatch(b, 777).message().find("NaN"), std::string::npos);
}

// Found by tests/test_hostile_input.py: a million one-field assigns held the store writer for
// minutes. The limit counts leaves of nested dicts too; points inside one op are not counted.
TEST(Validate, LimitsOperationsPerBatch) {
  v1::Batch at_limit = MakeBatch();
  for (size_t i = 0; i < kMaxOperations; ++i) {
    auto* op = at_limit.add_operations();
    op->set_path("f" + std::to_string(i));
    op->mutable_assign()->set_float_value(1);
  }
  v1::Batch over = at_limit;
  EXPECT_TRUE(ValidateBatch(at_limit, 1).ok());
  over.add_operations()->set_path("one_more");
  over.mutable_operations(static_cast<int>(kMaxOperations))->mutable_assign()->set_bool_value(true);
  EXPECT_EQ(ValidateBatch(over, 1).code(), StatusCode::kPayloadTooLarge);

  v1::Batch nested = MakeBatch();
  auto* op = nested.add_operations();
  op->set_path("p");
  auto& fields = *op->mutable_assign()->mutable_nested()->mutable_fields();
  for (size_t i = 0; i <= kMaxOperations; ++i) fields["k" + std::to_string(i)].set_int_value(1);
  Status s = ValidateBatch(nested, 1);
  EXPECT_EQ(s.code(), StatusCode::kPayloadTooLarge);
  EXPECT_NE(s.message().find("split it"), std::string::npos) << s.message();

  v1::Batch bulk = MakeBatch();
  auto* points = bulk.add_operations();
  points->set_path("loss");
  for (size_t i = 0; i < 2 * kMaxOperations; ++i) points->mutable_append_floats()->add_values(1);
  EXPECT_TRUE(ValidateBatch(bulk, 1).ok());
}

TEST(Validate, RefusesBadInput) {
  auto check = [](auto mutate, std::string_view expect) {
    v1::Batch b = MakeBatch();
    mutate(b);
    Status s = ValidateBatch(b, 1);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << expect;
    EXPECT_NE(s.message().find(expect), std::string::npos) << s.message();
  };
  check([](v1::Batch& b) { b.set_writer_id(""); }, "writer_id");
  check([](v1::Batch& b) { b.set_sequence(0); }, "sequence");
  check([](v1::Batch& b) { b.add_operations()->set_path("a"); }, "no op");
  check(
      [](v1::Batch& b) {
        auto* op = b.add_operations();
        op->set_path("notes");
        op->mutable_assign()->set_string_value("bad \xc3\x28 utf8");
      },
      "UTF-8");
  check(
      [](v1::Batch& b) {
        auto* op = b.add_operations();
        op->set_path("sys/id");
        op->mutable_assign()->set_string_value("X-1");
      },
      "set by the server");
  check(
      [](v1::Batch& b) {
        auto* op = b.add_operations();
        op->set_path("sys/state");
        op->mutable_assign()->set_string_value("exploded");
      },
      "sys/state");
  check(
      [](v1::Batch& b) {
        auto* op = b.add_operations();
        op->set_path("model");
        auto* f = op->mutable_assign()->mutable_file();
        f->set_sha256(std::string(64, 'a'));
        f->set_name("../../etc/passwd");
      },
      "plain name");
  check(
      [](v1::Batch& b) {
        auto* op = b.add_operations();
        op->set_path("model");
        op->mutable_assign()->mutable_file()->set_sha256("xyz");
      },
      "sha256");
  check(
      [](v1::Batch& b) {
        auto* op = b.add_operations();
        op->set_path("p");
        v1::Value* v = op->mutable_assign();
        for (int i = 0; i < 40; ++i) v = &(*v->mutable_nested()->mutable_fields())["k"];
        v->set_int_value(1);
      },
      "nested deeper");
}

TEST(Validate, GuessesContentType) {
  v1::Batch b = MakeBatch();
  auto* op = b.add_operations();
  op->set_path("img");
  auto* f = op->mutable_append_files()->add_files();
  f->set_sha256(std::string(64, 'b'));
  f->set_name("confusion.PNG");
  ASSERT_TRUE(ValidateBatch(b, 1).ok());
  EXPECT_EQ(b.operations(0).append_files().files(0).content_type(), "image/png");
}

}  // namespace
}  // namespace nereid::wire
