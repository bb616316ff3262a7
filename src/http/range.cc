#include "http/range.h"

#include <charconv>
#include <optional>

#include "http/header_text.h"

namespace nereid::http::internal {
namespace {

// A non-empty run of digits that fits in uint64_t.
std::optional<uint64_t> ParseNumber(std::string_view s) {
  if (s.empty()) return std::nullopt;
  uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

ByteRange ParseRange(std::string_view header, uint64_t size) {
  ByteRange full;
  header = TrimOws(header);
  constexpr std::string_view kPrefix = "bytes=";
  if (header.substr(0, kPrefix.size()) != kPrefix) return full;
  std::string_view spec = TrimOws(header.substr(kPrefix.size()));
  if (spec.find(',') != std::string_view::npos) return full;  // multi-range: whole file
  size_t dash = spec.find('-');
  if (dash == std::string_view::npos) return full;
  std::string_view first = TrimOws(spec.substr(0, dash));
  std::string_view last = TrimOws(spec.substr(dash + 1));
  ByteRange r;
  r.kind = RangeKind::kPartial;
  if (first.empty()) {  // suffix: the last n bytes
    auto n = ParseNumber(last);
    if (!n) return full;
    if (*n == 0 || size == 0) return {RangeKind::kUnsatisfiable, 0, 0};
    r.length = *n < size ? *n : size;
    r.start = size - r.length;
    return r;
  }
  auto start = ParseNumber(first);
  if (!start) return full;
  uint64_t end = size == 0 ? 0 : size - 1;
  if (!last.empty()) {
    auto e = ParseNumber(last);
    if (!e || *e < *start) return full;
    if (*e < end) end = *e;
  }
  if (*start >= size) return {RangeKind::kUnsatisfiable, 0, 0};
  r.start = *start;
  r.length = end - *start + 1;
  return r;
}

std::string ContentDisposition(std::string_view name) {
  // A download name is a file name, never a path: a client that trusted "../../x" could write
  // outside its download folder. Found by tests/test_hostile_input.py (?name=../../x).
  if (auto slash = name.find_last_of("/\\"); slash != std::string_view::npos) {
    name.remove_prefix(slash + 1);
  }
  if (name.empty() || name == "." || name == "..") name = "download";
  std::string fallback;
  std::string encoded;
  bool plain = true;
  constexpr char kHex[] = "0123456789ABCDEF";
  for (unsigned char c : name) {
    bool ascii_printable = c >= 0x20 && c < 0x7f;
    if (!ascii_printable || c == '"' || c == '\\') plain = false;
    fallback += (ascii_printable && c != '"' && c != '\\') ? static_cast<char>(c) : '_';
    // attr-char of RFC 5987; everything else is percent-encoded.
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
        std::string_view("!#$&+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos) {
      encoded += static_cast<char>(c);
    } else {
      encoded += '%';
      encoded += kHex[c >> 4];
      encoded += kHex[c & 15];
    }
  }
  std::string out = "attachment; filename=\"" + fallback + "\"";
  if (!plain) out += "; filename*=UTF-8''" + encoded;
  return out;
}

}  // namespace nereid::http::internal
