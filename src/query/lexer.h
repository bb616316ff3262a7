// Tokens of the filter language (docs/filter-language.md). Private to the query library.
//
// Thread-safety: a free function over values.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace nereid::query {

enum class TokenKind {
  kEnd,       // end of input; always the last token
  kWord,      // bare run of [A-Za-z0-9_./@+-]: a field path, keyword or number
  kBacktick,  // `quoted path`
  kString,    // "JSON string"
  kLParen,
  kRParen,
  kOp,  // = == != < <= > >= =~
};

struct Token {
  TokenKind kind = TokenKind::kEnd;
  size_t pos = 0;              // byte offset of the token's first character
  std::string_view text;       // the token as written (a view into the source), without suffix
  std::string value;           // kWord: text; kBacktick, kString: the decoded content
  bool has_aggregate = false;  // kWord, kBacktick: a ':name' suffix followed with no space
  std::string_view aggregate;  // the name after ':' (may be empty)
  size_t aggregate_pos = 0;    // offset of the ':'
};

struct LexError {
  size_t pos = 0;
  std::string message;  // "unclosed string literal", without the position
};

// Splits `text` into tokens, ending with one kEnd token. Returns false and fills `error` on the
// first malformed token (invalid UTF-8, bad escape, unclosed quote, stray character).
// The returned views point into `text`, which must outlive `tokens`.
bool Lex(std::string_view text, std::vector<Token>* tokens, LexError* error);

// True for characters allowed in a bare (unquoted) word.
bool IsBareChar(char c);

}  // namespace nereid::query
