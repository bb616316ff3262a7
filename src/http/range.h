// Byte ranges (RFC 9110 §14) and Content-Disposition (RFC 6266 / RFC 5987) for file responses.
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace nereid::http::internal {

enum class RangeKind {
  kFull,           // no Range, an unsupported or malformed one, or several ranges: 200 whole file
  kPartial,        // 206 with [start, start + length)
  kUnsatisfiable,  // 416 with "Content-Range: bytes */size"
};

struct ByteRange {
  RangeKind kind = RangeKind::kFull;
  uint64_t start = 0;
  uint64_t length = 0;
};

// Interprets a Range header value against a file of `size` bytes. Only a single range is served;
// a syntactically invalid header is ignored, as RFC 9110 allows.
ByteRange ParseRange(std::string_view header, uint64_t size);

// `attachment; filename="..."` for the last component of `name` (a path is never sent back;
// "download" when nothing is left), with an ASCII fallback, plus `filename*=UTF-8''...` when the
// name holds anything the quoted form cannot carry faithfully.
std::string ContentDisposition(std::string_view name);

}  // namespace nereid::http::internal
