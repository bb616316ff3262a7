#include "store/codec.h"

#include <openssl/evp.h>

namespace nereid::store {
namespace {

nlohmann::json FileJson(const FileInfo& f) {
  return {
      {"sha256", f.sha256}, {"name", f.name}, {"content_type", f.content_type}, {"size", f.size}};
}

std::optional<FileInfo> FileFromJson(const nlohmann::json& j) {
  if (!j.is_object()) return std::nullopt;
  FileInfo f;
  f.sha256 = j.value("sha256", "");
  f.name = j.value("name", "");
  f.content_type = j.value("content_type", "");
  f.size = j.value("size", int64_t{0});
  return f;
}

nlohmann::json Parse(std::string_view text) {
  return nlohmann::json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
}

}  // namespace

std::string EncodeStringSet(const StringSet& set) {
  return nlohmann::json(set).dump();
}

StringSet DecodeStringSet(std::string_view json) {
  StringSet out;
  nlohmann::json j = Parse(json);
  if (!j.is_array()) return out;
  for (const auto& v : j) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

std::string EncodeFile(const FileInfo& file) {
  return FileJson(file).dump();
}

std::optional<FileInfo> DecodeFile(std::string_view json) {
  return FileFromJson(Parse(json));
}

std::string EncodeFileSet(const FileSet& files) {
  nlohmann::json j = nlohmann::json::array();
  for (const auto& f : files) j.push_back(FileJson(f));
  return j.dump();
}

FileSet DecodeFileSet(std::string_view json) {
  FileSet out;
  nlohmann::json j = Parse(json);
  if (!j.is_array()) return out;
  for (const auto& v : j) {
    if (auto f = FileFromJson(v)) out.push_back(std::move(*f));
  }
  return out;
}

std::string EncodeCursor(const nlohmann::json& state) {
  std::string raw = state.dump();
  std::string out(4 * ((raw.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(raw.data()),
                          static_cast<int>(raw.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

Result<nlohmann::json> DecodeCursor(std::string_view cursor) {
  if (cursor.empty() || cursor.size() % 4 != 0 || cursor.size() > 64 * 1024) {
    return InvalidArgument("invalid cursor");
  }
  std::string raw(3 * cursor.size() / 4, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(raw.data()),
                          reinterpret_cast<const unsigned char*>(cursor.data()),
                          static_cast<int>(cursor.size()));
  if (n < 0) return InvalidArgument("invalid cursor");
  size_t padding = 0;
  while (padding < 2 && cursor[cursor.size() - 1 - padding] == '=') ++padding;
  raw.resize(static_cast<size_t>(n) - padding);
  nlohmann::json j = Parse(raw);
  if (!j.is_object()) return InvalidArgument("invalid cursor");
  return j;
}

}  // namespace nereid::store
