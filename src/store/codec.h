// How every backend stores values that have no column type of their own as text (JSON): string
// sets, files and file sets; and the opaque page cursors (base64 of a small JSON object). Shared so
// that SQLite and PostgreSQL databases hold the same text and hand out cursors of the same form.
//
// Thread-safety: free functions over values.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "nereid/status.h"
#include "store/types.h"

namespace nereid::store {

std::string EncodeStringSet(const StringSet& set);  // JSON array, sorted and unique
StringSet DecodeStringSet(std::string_view json);   // empty on malformed input

std::string EncodeFile(const FileInfo& file);  // {"sha256","name","content_type","size"}
std::optional<FileInfo> DecodeFile(std::string_view json);
std::string EncodeFileSet(const FileSet& files);  // JSON array
FileSet DecodeFileSet(std::string_view json);

// Cursors: opaque to clients, validated on the way back in (InvalidArgument when malformed).
std::string EncodeCursor(const nlohmann::json& state);
Result<nlohmann::json> DecodeCursor(std::string_view cursor);

}  // namespace nereid::store
