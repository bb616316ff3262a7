#include "query/lexer.h"

#include <fmt/format.h>

#include <cstdint>

#include "common/path.h"

namespace nereid::query {
namespace {

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

bool IsAggregateChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

// Length of the UTF-8 sequence a lead byte announces, or 0 if it cannot start one.
size_t Utf8Length(unsigned char b) {
  if (b < 0x80) return 1;
  if (b >= 0xC2 && b <= 0xDF) return 2;
  if (b >= 0xE0 && b <= 0xEF) return 3;
  if (b >= 0xF0 && b <= 0xF4) return 4;
  return 0;
}

// Offset of the first byte that is not part of valid UTF-8, or npos.
size_t FirstInvalidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const size_t len = Utf8Length(static_cast<unsigned char>(s[i]));
    if (len == 0 || !common::IsValidUtf8(s.substr(i, len))) return i;
    i += len;
  }
  return std::string_view::npos;
}

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    *out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    *out += static_cast<char>(0xC0 | (cp >> 6));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    *out += static_cast<char>(0xE0 | (cp >> 12));
    *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    *out += static_cast<char>(0xF0 | (cp >> 18));
    *out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Reads the 4 hex digits of a \u escape starting at text[i]; false if they are not there.
bool ReadHex4(std::string_view text, size_t i, uint32_t* cp) {
  if (i > text.size() || text.size() - i < 4) return false;
  uint32_t v = 0;
  for (size_t k = 0; k < 4; ++k) {
    const char c = text[i + k];
    v <<= 4;
    if (c >= '0' && c <= '9') {
      v |= static_cast<uint32_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      v |= static_cast<uint32_t>(c - 'a' + 10);
    } else if (c >= 'A' && c <= 'F') {
      v |= static_cast<uint32_t>(c - 'A' + 10);
    } else {
      return false;
    }
  }
  *cp = v;
  return true;
}

class Lexer {
 public:
  Lexer(std::string_view text, std::vector<Token>* tokens, LexError* error)
      : text_(text), tokens_(tokens), error_(error) {}

  bool Run() {
    if (const size_t bad = FirstInvalidUtf8(text_); bad != std::string_view::npos) {
      return Fail(bad, "the filter is not valid UTF-8");
    }
    while (true) {
      while (i_ < text_.size() && IsSpace(text_[i_])) ++i_;
      if (i_ == text_.size()) break;
      if (!Next()) return false;
    }
    Token end;
    end.kind = TokenKind::kEnd;
    end.pos = text_.size();
    tokens_->push_back(std::move(end));
    return true;
  }

 private:
  bool Fail(size_t pos, std::string message) {
    error_->pos = pos;
    error_->message = std::move(message);
    return false;
  }

  void Push(TokenKind kind, size_t start, std::string value = {}) {
    Token t;
    t.kind = kind;
    t.pos = start;
    t.text = text_.substr(start, i_ - start);
    t.value = std::move(value);
    if (kind == TokenKind::kWord || kind == TokenKind::kBacktick) {
      if (i_ < text_.size() && text_[i_] == ':') {
        t.has_aggregate = true;
        t.aggregate_pos = i_++;
        const size_t name = i_;
        while (i_ < text_.size() && IsAggregateChar(text_[i_])) ++i_;
        t.aggregate = text_.substr(name, i_ - name);
      }
    }
    tokens_->push_back(std::move(t));
  }

  bool Next() {
    const size_t start = i_;
    const char c = text_[i_];
    if (IsBareChar(c)) {
      while (i_ < text_.size() && IsBareChar(text_[i_])) ++i_;
      Push(TokenKind::kWord, start, std::string(text_.substr(start, i_ - start)));
      return true;
    }
    switch (c) {
      case '(':
        ++i_;
        Push(TokenKind::kLParen, start);
        return true;
      case ')':
        ++i_;
        Push(TokenKind::kRParen, start);
        return true;
      case '"':
        return String();
      case '`':
        return Backtick();
      case '=':
        ++i_;
        if (i_ < text_.size() && (text_[i_] == '=' || text_[i_] == '~')) ++i_;
        Push(TokenKind::kOp, start);
        return true;
      case '<':
      case '>':
        ++i_;
        if (i_ < text_.size() && text_[i_] == '=') ++i_;
        Push(TokenKind::kOp, start);
        return true;
      case '!':
        if (i_ + 1 < text_.size() && text_[i_ + 1] == '=') {
          i_ += 2;
          Push(TokenKind::kOp, start);
          return true;
        }
        return Fail(start, "unexpected '!'; write '!=' for 'not equal' or 'not' to negate");
      case ':':
        return Fail(start,
                    "unexpected ':'; an aggregate follows a field with no space, as in "
                    "train/loss:last");
      case '\'':
        return Fail(start, "unexpected \"'\"; strings use double quotes, as in \"resnet\"");
      default: {
        const size_t len = Utf8Length(static_cast<unsigned char>(c));
        const auto u = static_cast<unsigned char>(c);
        const std::string shown = u < 0x20 || u == 0x7F ? fmt::format("\\x{:02x}", u)
                                                        : std::string(text_.substr(start, len));
        return Fail(start, fmt::format("unexpected character '{}'; quote unusual paths in "
                                       "backticks, as in `my path`",
                                       shown));
      }
    }
  }

  bool String() {
    const size_t start = i_++;
    std::string value;
    while (true) {
      if (i_ >= text_.size()) return Fail(start, "unclosed string: expected '\"' before the end");
      const char c = text_[i_];
      if (c == '"') break;
      if (static_cast<unsigned char>(c) < 0x20) {
        return Fail(i_, "control character in a string; write it as an escape such as \\n");
      }
      if (c != '\\') {
        value += c;
        ++i_;
        continue;
      }
      const size_t esc = i_;
      if (++i_ >= text_.size()) return Fail(start, "unclosed string: expected '\"' before the end");
      switch (text_[i_++]) {
        case '"':
          value += '"';
          break;
        case '\\':
          value += '\\';
          break;
        case '/':
          value += '/';
          break;
        case 'b':
          value += '\b';
          break;
        case 'f':
          value += '\f';
          break;
        case 'n':
          value += '\n';
          break;
        case 'r':
          value += '\r';
          break;
        case 't':
          value += '\t';
          break;
        case 'u': {
          uint32_t cp;
          if (!ReadHex4(text_, i_, &cp)) {
            return Fail(esc, "\\u must be followed by 4 hex digits, as in \\u00e9");
          }
          i_ += 4;
          if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return Fail(esc, "\\u escape is a low surrogate without a high surrogate before it");
          }
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            uint32_t low;
            if (i_ + 1 >= text_.size() || text_[i_] != '\\' || text_[i_ + 1] != 'u' ||
                !ReadHex4(text_, i_ + 2, &low) || low < 0xDC00 || low > 0xDFFF) {
              return Fail(esc,
                          "\\u escape is a high surrogate that must be followed by a low "
                          "surrogate \\uDC00-\\uDFFF");
            }
            i_ += 6;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          }
          AppendUtf8(cp, &value);
          break;
        }
        default:
          return Fail(esc,
                      "unknown escape in a string; use \\\" \\\\ \\/ \\b \\f \\n \\r \\t "
                      "or \\uXXXX");
      }
    }
    ++i_;  // closing quote
    Push(TokenKind::kString, start, std::move(value));
    return true;
  }

  bool Backtick() {
    const size_t start = i_++;
    std::string value;
    while (true) {
      if (i_ >= text_.size()) return Fail(start, "unclosed '`': expected '`' before the end");
      const char c = text_[i_];
      if (c == '`') break;
      if (c == '\\') {
        if (i_ + 1 < text_.size() && (text_[i_ + 1] == '`' || text_[i_ + 1] == '\\')) {
          value += text_[i_ + 1];
          i_ += 2;
          continue;
        }
        return Fail(i_, "unknown escape in a `quoted path`; only \\` and \\\\ are escapes");
      }
      value += c;
      ++i_;
    }
    ++i_;
    Push(TokenKind::kBacktick, start, std::move(value));
    return true;
  }

  std::string_view text_;
  std::vector<Token>* tokens_;
  LexError* error_;
  size_t i_ = 0;
};

}  // namespace

bool IsBareChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '/' || c == '@' || c == '+' || c == '-';
}

bool Lex(std::string_view text, std::vector<Token>* tokens, LexError* error) {
  tokens->clear();
  return Lexer(text, tokens, error).Run();
}

}  // namespace nereid::query
