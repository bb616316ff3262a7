// How values that SQLite has no column type for are stored as text (JSON): string sets, files and
// file sets; and the opaque page cursors (base64 of a small JSON object).
//
// Thread-safety: free functions over values.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "nereid/status.h"
#include "store/types.h"

namespace nereid::store_sqlite {

std::string EncodeStringSet(const store::StringSet& set);  // JSON array, sorted and unique
store::StringSet DecodeStringSet(std::string_view json);   // empty on malformed input

std::string EncodeFile(const store::FileInfo& file);  // {"sha256","name","content_type","size"}
std::optional<store::FileInfo> DecodeFile(std::string_view json);
std::string EncodeFileSet(const store::FileSet& files);  // JSON array
store::FileSet DecodeFileSet(std::string_view json);

// Cursors: opaque to clients, validated on the way back in (InvalidArgument when malformed).
std::string EncodeCursor(const nlohmann::json& state);
Result<nlohmann::json> DecodeCursor(std::string_view cursor);

}  // namespace nereid::store_sqlite
