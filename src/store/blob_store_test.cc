#include "store/blob_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

namespace nereid::store {
namespace {
namespace fs = std::filesystem;

class BlobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("nereid-blob-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

std::string ReadAll(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST_F(BlobStoreTest, StoresByContentAndDeduplicates) {
  auto blobs = BlobStore::Open(dir_);
  ASSERT_TRUE(blobs.ok()) << blobs.status().ToString();
  auto up = (*blobs)->Begin(1000);
  ASSERT_TRUE(up.ok());
  ASSERT_TRUE((*up)->Write("hello ").ok());
  ASSERT_TRUE((*up)->Write("world").ok());
  auto info = (*up)->Commit();
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  // sha256("hello world")
  EXPECT_EQ(info->sha256, "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9");
  EXPECT_EQ(info->size, 11);
  EXPECT_TRUE(IsSha256Hex(info->sha256));
  fs::path path = (*blobs)->PathOf(info->sha256);
  EXPECT_EQ(path, dir_ / "files" / "b9" / info->sha256);
  EXPECT_EQ(ReadAll(path), "hello world");
  EXPECT_TRUE((*blobs)->Exists(info->sha256));

  auto again = (*blobs)->Begin(1000);
  ASSERT_TRUE((*again)->Write("hello world").ok());
  auto info2 = (*again)->Commit();
  ASSERT_TRUE(info2.ok());
  EXPECT_EQ(info2->sha256, info->sha256);
  again->reset();
  EXPECT_TRUE(fs::is_empty(dir_ / "files" / "tmp"));
  size_t blob_files = 0;
  for (auto& e : fs::directory_iterator(dir_ / "files" / "b9")) blob_files += e.is_regular_file();
  EXPECT_EQ(blob_files, 1u);
  EXPECT_EQ((*blobs)->TotalBytes(), 11u);
}

TEST_F(BlobStoreTest, SizeLimitAndAbandonedUploads) {
  auto blobs = BlobStore::Open(dir_);
  ASSERT_TRUE(blobs.ok());
  {
    auto up = (*blobs)->Begin(4);
    ASSERT_TRUE((*up)->Write("abcd").ok());
    Status s = (*up)->Write("e");
    EXPECT_EQ(s.code(), StatusCode::kPayloadTooLarge);
  }  // dropped without Commit: the temp file goes away
  EXPECT_TRUE(fs::is_empty(dir_ / "files" / "tmp"));
  // A stale temp file from an earlier process is removed on open.
  std::ofstream(dir_ / "files" / "tmp" / "stale") << "x";
  auto reopened = BlobStore::Open(dir_);
  ASSERT_TRUE(reopened.ok());
  EXPECT_TRUE(fs::is_empty(dir_ / "files" / "tmp"));
}

TEST(IsSha256HexTest, AcceptsOnlyLowercaseHexOf64) {
  EXPECT_TRUE(IsSha256Hex(std::string(64, 'a')));
  EXPECT_FALSE(IsSha256Hex(std::string(63, 'a')));
  EXPECT_FALSE(IsSha256Hex(std::string(64, 'A')));
  EXPECT_FALSE(IsSha256Hex(std::string(63, 'a') + "g"));
}

}  // namespace
}  // namespace nereid::store
