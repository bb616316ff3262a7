#include "query/filter.h"

#include <fmt/format.h>

#include <charconv>
#include <system_error>

#include "common/path.h"
#include "query/lexer.h"
#include "query/regex_check.h"

namespace nereid::query {
namespace {

// Words with a meaning of their own. A field path spelled like one is written in backticks by
// ToString, so that the canonical text always re-parses to the same tree.
constexpr std::string_view kKeywords[] = {"and",      "or",      "not",  "exists",
                                          "contains", "matches", "true", "false"};

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (x != b[i]) return false;
  }
  return true;
}

bool IsKeyword(std::string_view word) {
  for (std::string_view k : kKeywords) {
    if (EqualsIgnoreCase(word, k)) return true;
  }
  return false;
}

// A bare word, with no aggregate suffix, equal to `keyword` (given in lower case).
bool IsWord(const Token& t, std::string_view keyword) {
  return t.kind == TokenKind::kWord && !t.has_aggregate && EqualsIgnoreCase(t.value, keyword);
}

std::string Describe(const Token& t) {
  if (t.kind == TokenKind::kEnd) return "end of input";
  constexpr size_t kMaxShown = 40;
  std::string_view s = t.text;
  std::string shown;
  if (s.size() > kMaxShown) {
    size_t cut = kMaxShown;
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
    shown = std::string(s.substr(0, cut)) + "...";
  } else {
    shown = std::string(s);
  }
  if (t.kind == TokenKind::kString || t.kind == TokenKind::kBacktick) return shown;
  return "'" + shown + "'";
}

std::string_view AggregateName(Aggregate a) {
  switch (a) {
    case Aggregate::kLast:
      return "last";
    case Aggregate::kMin:
      return "min";
    case Aggregate::kMax:
      return "max";
    case Aggregate::kCount:
      return "count";
    case Aggregate::kNone:
      break;
  }
  return "";
}

std::string_view OpText(CompareOp op) {
  switch (op) {
    case CompareOp::kEq:
      return "=";
    case CompareOp::kNe:
      return "!=";
    case CompareOp::kLt:
      return "<";
    case CompareOp::kLe:
      return "<=";
    case CompareOp::kGt:
      return ">";
    case CompareOp::kGe:
      return ">=";
    case CompareOp::kMatches:
      return "=~";
    case CompareOp::kContains:
      return "contains";
  }
  return "?";
}

CompareOp OpFromText(std::string_view s) {
  if (s == "=" || s == "==") return CompareOp::kEq;
  if (s == "!=") return CompareOp::kNe;
  if (s == "<") return CompareOp::kLt;
  if (s == "<=") return CompareOp::kLe;
  if (s == ">") return CompareOp::kGt;
  if (s == ">=") return CompareOp::kGe;
  return CompareOp::kMatches;  // "=~", the only other operator the lexer produces
}

// JSON number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
bool IsJsonNumber(std::string_view s) {
  size_t i = 0;
  auto digits = [&] {
    const size_t from = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    return i > from;
  };
  if (i < s.size() && s[i] == '-') ++i;
  if (i < s.size() && s[i] == '0') {
    ++i;
  } else if (!digits()) {
    return false;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (!digits()) return false;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (!digits()) return false;
  }
  return i == s.size();
}

class Parser {
 public:
  Parser(std::string_view prefix, std::vector<Token> tokens)
      : prefix_(prefix), tokens_(std::move(tokens)) {}

  Result<std::unique_ptr<Expr>> ParseAll() {
    NEREID_ASSIGN_OR_RETURN(auto expr, Or(0));
    const Token& t = Peek();
    if (t.kind == TokenKind::kRParen) return Error(t.pos, "unmatched ')': no '(' before it");
    if (t.kind != TokenKind::kEnd) return Expected("expected 'and', 'or' or end of input", t);
    return expr;
  }

  Result<FieldRef> ParseFieldOnly() {
    const Token& t = Peek();
    if (t.kind != TokenKind::kWord && t.kind != TokenKind::kBacktick) {
      return Expected("expected a field such as params/lr or train/loss:last", t);
    }
    NEREID_ASSIGN_OR_RETURN(FieldRef f, Field(t));
    ++i_;
    if (Peek().kind != TokenKind::kEnd) return Expected("expected end of input", Peek());
    return f;
  }

 private:
  const Token& Peek() const { return tokens_[i_]; }

  Status Error(size_t pos, std::string_view what) const {
    return InvalidArgument(fmt::format("{}: at position {}: {}", prefix_, pos, what));
  }
  Status Expected(std::string_view what, const Token& found) const {
    return Error(found.pos, fmt::format("{}, found {}", what, Describe(found)));
  }

  Result<std::unique_ptr<Expr>> Or(size_t depth) { return Chain(depth, "or", Expr::Kind::kOr); }
  Result<std::unique_ptr<Expr>> And(size_t depth) { return Chain(depth, "and", Expr::Kind::kAnd); }

  // One level of the precedence ladder: `sub (keyword sub)*`, kept flat as one node.
  Result<std::unique_ptr<Expr>> Chain(size_t depth, std::string_view keyword, Expr::Kind kind) {
    auto sub = [&]() { return kind == Expr::Kind::kOr ? And(depth) : Unary(depth); };
    const size_t start = Peek().pos;  // of a leading '(' too, unlike first->position
    NEREID_ASSIGN_OR_RETURN(auto first, sub());
    if (!IsWord(Peek(), keyword)) return first;
    auto node = std::make_unique<Expr>();
    node->kind = kind;
    node->position = start;
    node->children.push_back(std::move(first));
    while (IsWord(Peek(), keyword)) {
      ++i_;
      NEREID_ASSIGN_OR_RETURN(auto next, sub());
      node->children.push_back(std::move(next));
    }
    return node;
  }

  Status CheckDepth(size_t depth, const Token& t) const {
    if (depth >= kMaxFilterDepth) {
      return Error(t.pos, fmt::format("the filter nests deeper than {} levels of '(' and 'not'",
                                      kMaxFilterDepth));
    }
    return Status::Ok();
  }

  Result<std::unique_ptr<Expr>> Unary(size_t depth) {
    const Token& t = Peek();
    if (IsWord(t, "not")) {
      NEREID_RETURN_IF_ERROR(CheckDepth(depth, t));
      ++i_;
      NEREID_ASSIGN_OR_RETURN(auto child, Unary(depth + 1));
      auto node = std::make_unique<Expr>();
      node->kind = Expr::Kind::kNot;
      node->position = t.pos;
      node->children.push_back(std::move(child));
      return node;
    }
    if (t.kind == TokenKind::kLParen) {
      NEREID_RETURN_IF_ERROR(CheckDepth(depth, t));
      const size_t open = t.pos;
      ++i_;
      NEREID_ASSIGN_OR_RETURN(auto inner, Or(depth + 1));
      const Token& close = Peek();
      if (close.kind == TokenKind::kEnd) {
        return Error(open, "unclosed '(': expected ')' to match it, found end of input");
      }
      if (close.kind != TokenKind::kRParen) return Expected("expected 'and', 'or' or ')'", close);
      ++i_;
      return inner;
    }
    if (t.kind == TokenKind::kBacktick ||
        (t.kind == TokenKind::kWord && !IsWord(t, "and") && !IsWord(t, "or"))) {
      return Predicate();
    }
    if (t.kind == TokenKind::kOp || t.kind == TokenKind::kString) {
      return Expected("expected a field such as params/lr before the comparison", t);
    }
    return Expected("expected a condition", t);
  }

  Result<FieldRef> Field(const Token& t) const {
    FieldRef f;
    f.path = t.value;
    if (Status s = common::ValidatePath(f.path); !s.ok()) return Error(t.pos, s.message());
    if (!t.has_aggregate) return f;
    std::string name(t.aggregate);
    for (char& c : name) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    if (name.empty()) {
      return Error(t.aggregate_pos, "expected an aggregate after ':' (last, min, max or count)");
    }
    if (name == "last") {
      f.aggregate = Aggregate::kLast;
    } else if (name == "min") {
      f.aggregate = Aggregate::kMin;
    } else if (name == "max") {
      f.aggregate = Aggregate::kMax;
    } else if (name == "count") {
      f.aggregate = Aggregate::kCount;
    } else {
      return Error(t.aggregate_pos, fmt::format("unknown aggregate ':{}'; use :last, :min, :max "
                                                "or :count",
                                                t.aggregate));
    }
    return f;
  }

  Result<std::unique_ptr<Expr>> Predicate() {
    const Token& ft = Peek();
    auto node = std::make_unique<Expr>();
    node->position = ft.pos;
    NEREID_ASSIGN_OR_RETURN(node->field, Field(ft));
    ++i_;
    const Token& t = Peek();
    if (IsWord(t, "exists")) {
      ++i_;
      node->kind = Expr::Kind::kExists;
      return node;
    }
    node->kind = Expr::Kind::kCompare;
    if (IsWord(t, "contains") || IsWord(t, "matches") ||
        (t.kind == TokenKind::kOp && t.text == "=~")) {
      const bool contains = IsWord(t, "contains");
      node->op = contains ? CompareOp::kContains : CompareOp::kMatches;
      const std::string_view op_name = contains               ? "'contains'"
                                       : IsWord(t, "matches") ? "'matches'"
                                                              : "'=~'";
      ++i_;
      const Token& lit = Peek();
      if (lit.kind != TokenKind::kString) {
        return Expected(fmt::format("{} needs a quoted string", op_name), lit);
      }
      if (!contains) {
        if (std::string problem = RegexProblem(lit.value); !problem.empty()) {
          return Error(lit.pos, problem);
        }
      }
      node->literal.emplace<std::string>(lit.value);
      ++i_;
      return node;
    }
    if (t.kind != TokenKind::kOp) {
      return Expected(
          "expected an operator after the field (=, !=, <, <=, >, >=, =~, contains, matches or "
          "exists)",
          t);
    }
    node->op = OpFromText(t.text);
    ++i_;
    NEREID_RETURN_IF_ERROR(Value(t.text, &node->literal));
    return node;
  }

  // Reads the literal after `op` into *out. Writing in place (rather than returning a
  // Result<Literal>) also sidesteps a GCC 12 -Wmaybe-uninitialized false positive on the variant.
  Status Value(std::string_view op, Literal* out) {
    const Token& t = Peek();
    const std::string expected = fmt::format(
        "expected a value after '{}' (a number, a \"quoted string\", true or false)", op);
    if (t.kind == TokenKind::kString) {
      ++i_;
      out->emplace<std::string>(t.value);
      return Status::Ok();
    }
    // Short form when the value is plainly missing (the documented example); the long form
    // helps when a word was written where a value belongs, e.g. an unquoted string.
    if (t.kind != TokenKind::kWord || IsWord(t, "and") || IsWord(t, "or") || IsWord(t, "not")) {
      return Expected(fmt::format("expected a value after '{}'", op), t);
    }
    if (t.has_aggregate) return Error(t.aggregate_pos, "unexpected ':' after a value");
    if (IsWord(t, "true") || IsWord(t, "false")) {
      if (op != "=" && op != "==" && op != "!=") {
        return Error(t.pos, fmt::format("'{}' cannot compare with true or false; use = or !=", op));
      }
      ++i_;
      out->emplace<bool>(IsWord(t, "true"));
      return Status::Ok();
    }
    const char c = t.value[0];
    const bool numberish = (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.';
    if (!numberish) {
      return Expected(expected, t);
    }
    if (!IsJsonNumber(t.value)) {
      return Error(
          t.pos, fmt::format("'{}' is not a number; write numbers like 3, -0.01 or 1e-5", t.value));
    }
    double d = 0;
    const char* end = t.value.data() + t.value.size();
    auto [ptr, ec] = std::from_chars(t.value.data(), end, d);
    if (ec == std::errc::result_out_of_range && ptr == end) {
      // Underflow to a subnormal or zero is harmless; overflow is not.
      bool overflow = false;
      for (char ch : t.value) overflow = overflow || (ch >= '1' && ch <= '9');
      size_t e = t.value.find_first_of("eE");
      if (e != std::string::npos && t.value[e + 1] == '-') overflow = false;
      if (overflow) return Error(t.pos, fmt::format("number '{}' is out of range", t.value));
      d = 0;
    } else if (ec != std::errc() || ptr != end) {
      return Error(t.pos, fmt::format("'{}' is not a number", t.value));
    }
    ++i_;
    out->emplace<double>(d);
    return Status::Ok();
  }

  std::string_view prefix_;
  std::vector<Token> tokens_;
  size_t i_ = 0;
};

void AppendField(const FieldRef& f, std::string* out) {
  bool bare = !f.path.empty() && !IsKeyword(f.path);
  for (char c : f.path) bare = bare && IsBareChar(c);
  if (bare) {
    *out += f.path;
  } else {
    *out += '`';
    for (char c : f.path) {
      if (c == '`' || c == '\\') *out += '\\';
      *out += c;
    }
    *out += '`';
  }
  if (f.aggregate != Aggregate::kNone) {
    *out += ':';
    *out += AggregateName(f.aggregate);
  }
}

void AppendLiteral(const Literal& lit, std::string* out) {
  if (const double* d = std::get_if<double>(&lit)) {
    char buf[64];
    auto [ptr, ec] = std::to_chars(buf, buf + sizeof(buf), *d);
    out->append(buf, ec == std::errc() ? ptr : buf);
  } else if (const bool* b = std::get_if<bool>(&lit)) {
    *out += *b ? "true" : "false";
  } else {
    *out += '"';
    for (char c : std::get<std::string>(lit)) {
      switch (c) {
        case '"':
          *out += "\\\"";
          break;
        case '\\':
          *out += "\\\\";
          break;
        case '\n':
          *out += "\\n";
          break;
        case '\t':
          *out += "\\t";
          break;
        case '\r':
          *out += "\\r";
          break;
        default:
          if (static_cast<unsigned char>(c) < 0x20) {
            *out += fmt::format("\\u{:04x}", static_cast<unsigned char>(c));
          } else {
            *out += c;
          }
      }
    }
    *out += '"';
  }
}

void AppendExpr(const Expr& e, std::string* out) {
  switch (e.kind) {
    case Expr::Kind::kAnd:
    case Expr::Kind::kOr: {
      *out += '(';
      for (size_t i = 0; i < e.children.size(); ++i) {
        if (i > 0) *out += e.kind == Expr::Kind::kAnd ? " and " : " or ";
        AppendExpr(*e.children[i], out);
      }
      *out += ')';
      return;
    }
    case Expr::Kind::kNot:
      // No parentheses of its own: "not" binds tighter than and/or, and adding them would make
      // the canonical text nest deeper than the original.
      *out += "not ";
      if (!e.children.empty()) AppendExpr(*e.children[0], out);
      return;
    case Expr::Kind::kExists:
      AppendField(e.field, out);
      *out += " exists";
      return;
    case Expr::Kind::kCompare:
      AppendField(e.field, out);
      *out += ' ';
      *out += OpText(e.op);
      *out += ' ';
      AppendLiteral(e.literal, out);
      return;
  }
}

}  // namespace

Result<std::unique_ptr<Expr>> ParseFilter(std::string_view text) {
  if (text.size() > kMaxFilterLength) {
    return InvalidArgument(fmt::format("filter: the filter is {} bytes; the limit is {}",
                                       text.size(), kMaxFilterLength));
  }
  std::vector<Token> tokens;
  LexError err;
  if (!Lex(text, &tokens, &err)) {
    return InvalidArgument(fmt::format("filter: at position {}: {}", err.pos, err.message));
  }
  if (tokens.size() == 1) return std::unique_ptr<Expr>();  // empty or all space: no filter
  return Parser("filter", std::move(tokens)).ParseAll();
}

Result<FieldRef> ParseFieldRef(std::string_view text) {
  if (text.size() > kMaxFilterLength) {
    return InvalidArgument(fmt::format("field reference: {} bytes is too long", text.size()));
  }
  std::vector<Token> tokens;
  LexError err;
  if (!Lex(text, &tokens, &err)) {
    return InvalidArgument(
        fmt::format("field reference: at position {}: {}", err.pos, err.message));
  }
  if (tokens.size() == 1) return InvalidArgument("field reference is empty");
  return Parser("field reference", std::move(tokens)).ParseFieldOnly();
}

std::string ToString(const Expr& expr) {
  std::string out;
  AppendExpr(expr, &out);
  return out;
}

}  // namespace nereid::query
