#include "common/path.h"

#include <fmt/format.h>

#include <cstdint>
#include <string>

namespace nereid::common {
namespace {

// Paths are echoed back in messages; a hostile path must not put raw control bytes or megabytes
// of text into a log line or JSON error, so quote a bounded, escaped prefix. `escape_high` also
// escapes bytes >= 0x80, for text that may not be valid UTF-8.
std::string Quote(std::string_view s, bool escape_high = false) {
  constexpr size_t kMaxShown = 80;
  std::string out = "'";
  size_t shown = 0;
  for (unsigned char c : s) {
    if (shown == kMaxShown) {
      if ((c & 0xC0) == 0x80) {  // do not cut a multi-byte character in half
        while (out.size() > 1 && (static_cast<unsigned char>(out.back()) & 0xC0) == 0x80) {
          out.pop_back();
        }
        if (out.size() > 1 && static_cast<unsigned char>(out.back()) >= 0xC0) out.pop_back();
      }
      out += "...";
      break;
    }
    if (c < 0x20 || c == 0x7F || (escape_high && c >= 0x80)) {
      out += fmt::format("\\x{:02x}", c);
    } else {
      out += static_cast<char>(c);
    }
    ++shown;
  }
  out += "'";
  return out;
}

bool IsNameChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-';
}

// True for the common case, a path of printable ASCII that breaks no rule, found in one pass
// with no allocation: the client validates the path of every `run["x"]` (10-15 ns a call before
// this). False means "not surely valid": ValidatePath then runs the full checks, which also word
// the error, so this must never accept what they refuse.
bool IsPlainValidPath(std::string_view path) {
  if (path.empty() || path.size() > kMaxPathBytes) return false;
  size_t seg_len = 0;
  bool seg_dots = true;  // the segment so far is all '.'
  for (char c : path) {
    if (c == '/') {
      if (seg_len == 0 || (seg_dots && seg_len <= 2)) return false;  // empty, "." or ".."
      seg_len = 0;
      seg_dots = true;
      continue;
    }
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7F || c == ':' || c == '\\' || c == '`' || c == '"') return false;
    ++seg_len;
    seg_dots = seg_dots && c == '.';
  }
  return seg_len != 0 && !(seg_dots && seg_len <= 2);
}

}  // namespace

bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    if (b0 < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp;
    if (b0 >= 0xC2 && b0 <= 0xDF) {  // 0xC0, 0xC1 would only encode overlong ASCII
      len = 2;
      cp = b0 & 0x1F;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
      len = 3;
      cp = b0 & 0x0F;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {  // above 0xF4 is beyond U+10FFFF
      len = 4;
      cp = b0 & 0x07;
    } else {
      return false;  // continuation byte without a lead, or an invalid lead
    }
    if (n - i < len) return false;  // truncated
    for (size_t k = 1; k < len; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if ((b & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (b & 0x3F);
    }
    if (len == 3 && cp < 0x800) return false;                       // overlong
    if (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) return false;  // overlong or too large
    if (cp >= 0xD800 && cp <= 0xDFFF) return false;                 // UTF-16 surrogate
    i += len;
  }
  return true;
}

Status ValidatePath(std::string_view path) {
  if (IsPlainValidPath(path)) return Status::Ok();
  if (path.empty()) return InvalidArgument("path is empty");
  if (path.size() > kMaxPathBytes) {
    return InvalidArgument(
        fmt::format("path is {} bytes; the limit is {}", path.size(), kMaxPathBytes));
  }
  if (!IsValidUtf8(path))
    return InvalidArgument(
        fmt::format("path {} is not valid UTF-8", Quote(path, /*escape_high=*/true)));
  for (char c : path) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) {
      return InvalidArgument(
          fmt::format("path {} contains control character \\x{:02x}", Quote(path), u));
    }
    switch (c) {
      case ':':
        return InvalidArgument(
            fmt::format("path {} contains ':' which is reserved (use it only in filters, as in "
                        "train/loss:last)",
                        Quote(path)));
      case '\\':
      case '`':
      case '"':
        return InvalidArgument(
            fmt::format("path {} contains '{}', which is not allowed in paths", Quote(path), c));
      default:
        break;
    }
  }
  size_t start = 0;
  while (true) {
    const size_t slash = path.find('/', start);
    const std::string_view seg = path.substr(
        start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (seg.empty()) {
      if (start == 0) {
        return InvalidArgument(fmt::format("path {} starts with '/'", Quote(path)));
      }
      if (slash == std::string_view::npos) {
        return InvalidArgument(fmt::format("path {} ends with '/'", Quote(path)));
      }
      return InvalidArgument(fmt::format("path {} has an empty segment", Quote(path)));
    }
    if (seg == "." || seg == "..") {
      return InvalidArgument(
          fmt::format("path {} has a segment '{}', which is not allowed", Quote(path), seg));
    }
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return Status::Ok();
}

Status ValidateName(std::string_view what, std::string_view name) {
  constexpr size_t kMaxNameBytes = 64;
  if (name.empty()) return InvalidArgument(fmt::format("{} name is empty", what));
  if (name.size() > kMaxNameBytes) {
    return InvalidArgument(
        fmt::format("{} name is {} bytes; the limit is {}", what, name.size(), kMaxNameBytes));
  }
  for (char c : name) {
    if (!IsNameChar(c)) {
      const auto u = static_cast<unsigned char>(c);
      const std::string shown =
          (u < 0x20 || u >= 0x7F) ? fmt::format("byte \\x{:02x}", u) : fmt::format("'{}'", c);
      return InvalidArgument(
          fmt::format("{} name {} contains {}; use only A-Z, a-z, 0-9, '_', '.' "
                      "and '-'",
                      what, Quote(name, true), shown));
    }
  }
  if (name[0] == '_' || name[0] == '.' || name[0] == '-') {
    return InvalidArgument(
        fmt::format("{} name {} must start with a letter or digit", what, Quote(name, true)));
  }
  return Status::Ok();
}

Status ValidateProjectKey(std::string_view key) {
  constexpr size_t kMaxKeyBytes = 10;
  bool ok = !key.empty() && key.size() <= kMaxKeyBytes;
  for (char c : key) ok = ok && c >= 'A' && c <= 'Z';
  if (!ok) {
    return InvalidArgument(
        fmt::format("project key {} must be 1 to {} capital letters A-Z, like NLP or VISION",
                    Quote(key, true), kMaxKeyBytes));
  }
  return Status::Ok();
}

}  // namespace nereid::common
