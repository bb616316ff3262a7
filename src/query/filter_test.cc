#include "query/filter.h"

#include <gtest/gtest.h>
#include <pthread.h>

#include <functional>
#include <random>
#include <string>

#include "query/regex_check.h"

namespace nereid::query {
namespace {

// Structural equality, ignoring positions (which differ between a text and its ToString form).
bool Same(const Expr& a, const Expr& b) {
  if (a.kind != b.kind || a.children.size() != b.children.size()) return false;
  for (size_t i = 0; i < a.children.size(); ++i) {
    if (!Same(*a.children[i], *b.children[i])) return false;
  }
  if (a.kind == Expr::Kind::kCompare) {
    return a.field == b.field && a.op == b.op && a.literal == b.literal;
  }
  if (a.kind == Expr::Kind::kExists) return a.field == b.field;
  return true;
}

std::unique_ptr<Expr> Parse(std::string_view text) {
  auto r = ParseFilter(text);
  EXPECT_TRUE(r.ok()) << text << ": " << r.status().message();
  if (!r.ok()) return nullptr;
  EXPECT_NE(r.value(), nullptr) << text;
  return std::move(r).value();
}

std::string Canon(std::string_view text) {
  auto e = Parse(text);
  return e ? ToString(*e) : "<error>";
}

std::string ErrorOf(std::string_view text) {
  auto r = ParseFilter(text);
  EXPECT_FALSE(r.ok()) << text << " parsed as " << (r.ok() && *r ? ToString(**r) : "");
  if (r.ok()) return "<parsed>";
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  return r.status().message();
}

TEST(FilterTest, EmptyMeansNoFilter) {
  for (std::string_view t : {"", " ", " \t\r\n "}) {
    auto r = ParseFilter(t);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(*r, nullptr);
  }
}

TEST(FilterTest, TheDocumentedExample) {
  auto e = Parse(
      R"((params/lr < 0.01 or sys/tags contains "resnet") and train/loss:last < 0.3 and not sys/state = "failed")");
  ASSERT_NE(e, nullptr);
  ASSERT_EQ(e->kind, Expr::Kind::kAnd);
  ASSERT_EQ(e->children.size(), 3u);
  EXPECT_EQ(e->position, 0u);

  const Expr& either = *e->children[0];
  ASSERT_EQ(either.kind, Expr::Kind::kOr);
  ASSERT_EQ(either.children.size(), 2u);
  const Expr& lr = *either.children[0];
  EXPECT_EQ(lr.kind, Expr::Kind::kCompare);
  EXPECT_EQ(lr.field, (FieldRef{"params/lr", Aggregate::kNone}));
  EXPECT_EQ(lr.op, CompareOp::kLt);
  EXPECT_EQ(lr.literal, Literal(0.01));
  EXPECT_EQ(lr.position, 1u);
  const Expr& tags = *either.children[1];
  EXPECT_EQ(tags.field.path, "sys/tags");
  EXPECT_EQ(tags.op, CompareOp::kContains);
  EXPECT_EQ(tags.literal, Literal(std::string("resnet")));
  EXPECT_EQ(tags.position, 21u);

  const Expr& loss = *e->children[1];
  EXPECT_EQ(loss.field, (FieldRef{"train/loss", Aggregate::kLast}));
  EXPECT_EQ(loss.op, CompareOp::kLt);
  EXPECT_EQ(loss.literal, Literal(0.3));
  EXPECT_EQ(loss.position, 53u);

  const Expr& n = *e->children[2];
  ASSERT_EQ(n.kind, Expr::Kind::kNot);
  EXPECT_EQ(n.position, 79u);
  ASSERT_EQ(n.children.size(), 1u);
  EXPECT_EQ(n.children[0]->field.path, "sys/state");
  EXPECT_EQ(n.children[0]->op, CompareOp::kEq);
  EXPECT_EQ(n.children[0]->literal, Literal(std::string("failed")));

  EXPECT_EQ(
      ToString(*e),
      R"(((params/lr < 0.01 or sys/tags contains "resnet") and train/loss:last < 0.3 and not sys/state = "failed"))");
}

TEST(FilterTest, Precedence) {
  EXPECT_EQ(Canon("a = 1 or b = 2 and c = 3"), "(a = 1 or (b = 2 and c = 3))");
  EXPECT_EQ(Canon("a = 1 and b = 2 or c = 3"), "((a = 1 and b = 2) or c = 3)");
  EXPECT_EQ(Canon("not a = 1 and b = 2"), "(not a = 1 and b = 2)");
  EXPECT_EQ(Canon("not (a = 1 and b = 2)"), "not (a = 1 and b = 2)");
  EXPECT_EQ(Canon("not not a exists"), "not not a exists");
  EXPECT_EQ(Canon("a = 1 and b = 2 and c = 3"), "(a = 1 and b = 2 and c = 3)");
  EXPECT_EQ(Canon("(a = 1 and b = 2) and c = 3"), "((a = 1 and b = 2) and c = 3)");
  EXPECT_EQ(Canon("((((a = 1))))"), "a = 1");
}

TEST(FilterTest, KeywordsAndOperators) {
  EXPECT_EQ(Canon("A = 1 AND b = 2 Or NOT c EXISTS"), "((A = 1 and b = 2) or not c exists)");
  EXPECT_EQ(Canon("a == 1"), "a = 1");
  EXPECT_EQ(Canon("a!=1"), "a != 1");
  EXPECT_EQ(Canon("a<=-1.5e3"), "a <= -1500");
  EXPECT_EQ(Canon("a>=1E+2"), "a >= 100");
  EXPECT_EQ(Canon("a>0"), "a > 0");
  EXPECT_EQ(Canon("x = TRUE"), "x = true");
  EXPECT_EQ(Canon("x != false"), "x != false");
  EXPECT_EQ(Canon(R"(sys/name MATCHES "^res.*")"), R"(sys/name =~ "^res.*")");
  EXPECT_EQ(Canon(R"(sys/name=~"a|b")"), R"(sys/name =~ "a|b")");
  EXPECT_EQ(Canon("metrics/acc@1:MAX >= 0.9"), "metrics/acc@1:max >= 0.9");
  EXPECT_EQ(Canon("train/loss:count > 10"), "train/loss:count > 10");
  EXPECT_EQ(Canon("train/loss:min exists"), "train/loss:min exists");
  EXPECT_EQ(Canon("a = 1e-400"), "a = 0");  // underflow is harmless
}

TEST(FilterTest, BacktickPaths) {
  auto e = Parse("`weird path (1)`:last < 2");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->field, (FieldRef{"weird path (1)", Aggregate::kLast}));
  EXPECT_EQ(ToString(*e), "`weird path (1)`:last < 2");
  // Paths spelled like keywords are quoted by ToString so they read back as fields.
  EXPECT_EQ(Canon("`and` = 1"), "`and` = 1");
  EXPECT_EQ(Canon("exists exists"), "`exists` exists");
  EXPECT_EQ(Canon("`caf\xC3\xA9/x` = 1"), "`caf\xC3\xA9/x` = 1");
  // The escape exists, but a backtick is not allowed in a path, so validation names it.
  EXPECT_EQ(ErrorOf("`a\\`b` = 1"),
            "filter: at position 0: path 'a`b' contains '`', which is not allowed in paths");
}

TEST(FilterTest, StringEscapes) {
  auto e = Parse(R"(a = "q\" b\\ s\/ \n\t\r\b\f \u00e9 \u20AC \ud83d\ude00")");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(std::get<std::string>(e->literal),
            "q\" b\\ s/ \n\t\r\b\f \xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
  auto again = Parse(ToString(*e));
  ASSERT_NE(again, nullptr);
  EXPECT_TRUE(Same(*e, *again)) << ToString(*e);
  EXPECT_EQ(Canon(R"(a = "\u0001")"), R"(a = "\u0001")");
  EXPECT_EQ(Canon("a = \"\xE2\x82\xAC\""), "a = \"\xE2\x82\xAC\"");  // raw UTF-8 is kept
}

TEST(FilterTest, ErrorsNameThePosition) {
  struct Case {
    std::string_view text, message;
  };
  const Case cases[] = {
      {"params/lr < and b = 1", "at position 12: expected a value after '<', found 'and'"},
      {"params/lr <", "at position 11: expected a value after '<', found end of input"},
      {"(a > )", "at position 5: expected a value after '>', found ')'"},
      {"train/loss:avg < 1",
       "at position 10: unknown aggregate ':avg'; use :last, :min, :max or :count"},
      {"train/loss: < 1",
       "at position 10: expected an aggregate after ':' (last, min, max or count)"},
      {"(a = 1 or b = 2",
       "at position 0: unclosed '(': expected ')' to match it, found end of input"},
      {"(a = 1 b = 2)", "at position 7: expected 'and', 'or' or ')', found 'b'"},
      {"a = 1 b = 2", "at position 6: expected 'and', 'or' or end of input, found 'b'"},
      {"a = 1)", "at position 5: unmatched ')': no '(' before it"},
      {"sys/tags contains 3", "at position 18: 'contains' needs a quoted string, found '3'"},
      {"sys/tags contains", "at position 17: 'contains' needs a quoted string, found end of input"},
      {"n =~ 5", "at position 5: '=~' needs a quoted string, found '5'"},
      {"n matches x", "at position 10: 'matches' needs a quoted string, found 'x'"},
      {"a = 1 and", "at position 9: expected a condition, found end of input"},
      {"()", "at position 1: expected a condition, found ')'"},
      {"and a = 1", "at position 0: expected a condition, found 'and'"},
      {"= 1", "at position 0: expected a field such as params/lr before the comparison, found '='"},
      {"a 1",
       "at position 2: expected an operator after the field (=, !=, <, <=, >, >=, =~, contains, "
       "matches or exists), found '1'"},
      {"a",
       "at position 1: expected an operator after the field (=, !=, <, <=, >, >=, =~, "
       "contains, matches or exists), found end of input"},
      {"sys/state = failed",
       "at position 12: expected a value after '=' (a number, a \"quoted string\", true or "
       "false), found 'failed'"},
      {"a = 01", "at position 4: '01' is not a number; write numbers like 3, -0.01 or 1e-5"},
      {"a = +1", "at position 4: '+1' is not a number; write numbers like 3, -0.01 or 1e-5"},
      {"a = 1.", "at position 4: '1.' is not a number; write numbers like 3, -0.01 or 1e-5"},
      {"a = 1e999", "at position 4: number '1e999' is out of range"},
      {"a = 1:last", "at position 5: unexpected ':' after a value"},
      {"a < true", "at position 4: '<' cannot compare with true or false; use = or !="},
      {"a//b = 1", "at position 0: path 'a//b' has an empty segment"},
      {"x exists and `a/../b` = 1",
       "at position 13: path 'a/../b' has a segment '..', which is not allowed"},
      {"a = \"abc", "at position 4: unclosed string: expected '\"' before the end"},
      {"a = \"\\x\"",
       "at position 5: unknown escape in a string; use \\\" \\\\ \\/ \\b \\f \\n \\r \\t or "
       "\\uXXXX"},
      {"a = \"\\u12\"", "at position 5: \\u must be followed by 4 hex digits, as in \\u00e9"},
      {"a = \"\\ud83d\"",
       "at position 5: \\u escape is a high surrogate that must be followed by a low surrogate "
       "\\uDC00-\\uDFFF"},
      {"a = \"\\ude00\"",
       "at position 5: \\u escape is a low surrogate without a high surrogate before it"},
      {"a = \"x\ty\"",
       "at position 6: control character in a string; write it as an escape such as \\n"},
      {"`abc = 1", "at position 0: unclosed '`': expected '`' before the end"},
      {"a ! b", "at position 2: unexpected '!'; write '!=' for 'not equal' or 'not' to negate"},
      {"a = 'x'", "at position 4: unexpected \"'\"; strings use double quotes, as in \"resnet\""},
      {"a ~ 1",
       "at position 2: unexpected character '~'; quote unusual paths in backticks, as in `my "
       "path`"},
      {"a = 1 and \xC3\xA9 = 2",
       "at position 10: unexpected character '\xC3\xA9'; quote unusual paths in backticks, as in "
       "`my path`"},
      {"a = \"\xC0\xAF\"", "at position 5: the filter is not valid UTF-8"},
      {"a :last = 1",
       "at position 2: unexpected ':'; an aggregate follows a field with no space, as in "
       "train/loss:last"},
      {"n =~ \"(ab\"",
       "at position 5: invalid regular expression: "},  // prefix; text is libstdc++'s
  };
  for (const Case& c : cases) {
    const std::string m = ErrorOf(c.text);
    const std::string want = "filter: " + std::string(c.message);
    if (c.message.ends_with(": ")) {
      EXPECT_TRUE(m.starts_with(want)) << c.text << "\n  got:  " << m << "\n  want: " << want;
    } else {
      EXPECT_EQ(m, want) << c.text;
    }
  }
}

TEST(FilterTest, HostileRegexShapesAreRefusedBeforeCompiling) {
  EXPECT_EQ(ErrorOf(R"(n =~ "a{100000}")"),
            "filter: at position 5: the regular expression repeats more than 1000 times");
  EXPECT_EQ(ErrorOf("n =~ \"" + std::string(100, '(') + "a" + std::string(100, ')') + "\""),
            "filter: at position 5: the regular expression nests more than 64 groups");
  EXPECT_EQ(Canon(R"(n =~ "a{2,5}\\(")"), R"(n =~ "a{2,5}\\(")");
}

TEST(FilterTest, DepthLimit) {
  const std::string deep(10000, '(');
  EXPECT_EQ(ErrorOf(deep),
            "filter: at position 16: the filter nests deeper than 16 levels of '(' and 'not'");
  std::string nots;
  for (int i = 0; i < 3000; ++i) nots += "not ";
  EXPECT_EQ(ErrorOf(nots + "a = 1"),
            "filter: at position 64: the filter nests deeper than 16 levels of '(' and 'not'");
  // Exactly at the limit is fine, and its canonical form reads back.
  const std::string ok =
      std::string(kMaxFilterDepth, '(') + "a = 1" + std::string(kMaxFilterDepth, ')');
  EXPECT_EQ(Canon(ok), "a = 1");
  std::string ok_nots;
  for (size_t i = 0; i < kMaxFilterDepth; ++i) ok_nots += "not ";
  EXPECT_EQ(Canon(ok_nots + "a = 1"), ok_nots + "a = 1");
}

TEST(FilterTest, LengthLimit) {
  std::string t = "a = \"" + std::string(kMaxFilterLength, 'x') + "\"";
  EXPECT_EQ(ErrorOf(t),
            "filter: the filter is " + std::to_string(t.size()) + " bytes; the limit is 16384");
  std::string fits = "a = \"" + std::string(kMaxFilterLength - 6, 'x') + "\"";
  EXPECT_EQ(fits.size(), kMaxFilterLength);
  EXPECT_NE(Parse(fits), nullptr);
}

TEST(FilterTest, RoundTrip) {
  const std::string_view texts[] = {
      R"((params/lr < 0.01 or sys/tags contains "resnet") and train/loss:last < 0.3 and not sys/state = "failed")",
      "a = 1",
      "a = -0",
      "a = 0.1",
      "a = 1e21",
      "a = 123456789012345678",
      "a = 5e-324",
      "a = 1.7976931348623157e308",
      "not (a = 1 or b = 2) and c exists",
      "((a = 1 or b = 2) or (c = 3 and (d = 4 or not e = \"x y\")))",
      "`a b`:last > 1 or `(c)` exists or `or` = true or `NOT`:count >= 3",
      R"(s = "tab\there \"quoted\" back\\slash \u0000 nul")",
      "m =~ \"^x\\\\d+$\"",
      "sys/tags contains \"\" and sys/name != \"\"",
      "a = 1 or b = 2 or c = 3 or d = 4",
      "a.b/c-d/e_f/+g/@h = 1",
  };
  for (std::string_view t : texts) {
    auto e = Parse(t);
    ASSERT_NE(e, nullptr) << t;
    const std::string s = ToString(*e);
    auto again = Parse(s);
    ASSERT_NE(again, nullptr) << s;
    EXPECT_TRUE(Same(*e, *again)) << t << "\n  -> " << s;
    EXPECT_EQ(ToString(*again), s);  // the canonical form is a fixed point
  }
}

TEST(FilterTest, RandomTreesRoundTrip) {
  std::mt19937 rng(42);
  const std::string_view paths[] = {"a", "params/lr", "`x y`", "m/acc@1:last", "t:count", "`and`"};
  const std::string_view ops[] = {"=", "!=", "<", "<=", ">", ">=", "=="};
  const std::string_view values[] = {"1", "-2.5", "1e-3", "\"s\"", "\"\\u00e9\\n\"", "true"};
  std::function<std::string(int)> gen = [&](int depth) -> std::string {
    const int pick = depth > 3 ? 0 : static_cast<int>(rng() % 5);
    const std::string p(paths[rng() % std::size(paths)]);
    switch (pick) {
      case 0: {
        std::string_view v = values[rng() % std::size(values)];
        std::string_view op = ops[rng() % std::size(ops)];
        if (v == "true") op = "=";
        return p + " " + std::string(op) + " " + std::string(v);
      }
      case 1:
        return "not " + gen(depth + 1);
      case 2:
        return "(" + gen(depth + 1) + " and " + gen(depth + 1) + ")";
      case 3:
        return gen(depth + 1) + " or " + gen(depth + 1);
      default:
        return p + " exists";
    }
  };
  for (int i = 0; i < 500; ++i) {
    const std::string t = gen(0);
    auto e = Parse(t);
    ASSERT_NE(e, nullptr) << t;
    auto again = Parse(ToString(*e));
    ASSERT_NE(again, nullptr);
    EXPECT_TRUE(Same(*e, *again)) << t << "\n  -> " << ToString(*e);
  }
}

TEST(FilterTest, RandomGarbageNeverCrashes) {
  std::mt19937 rng(7);
  const std::string_view pieces[] = {"(",
                                     ")",
                                     " ",
                                     "and",
                                     "or",
                                     "not",
                                     "a/b",
                                     ":last",
                                     ":",
                                     "\"",
                                     "\\",
                                     "`",
                                     "=",
                                     "<",
                                     "=~",
                                     "!",
                                     "1e5",
                                     "-",
                                     "\"x\"",
                                     "\\u",
                                     "d83d",
                                     "exists",
                                     "contains",
                                     "\xC3",
                                     "\xA9",
                                     std::string_view("\0", 1),
                                     "\xF0\x9F\x98\x80",
                                     "true",
                                     "0.5"};
  int parsed = 0;
  for (int i = 0; i < 5000; ++i) {
    std::string t;
    const int n = static_cast<int>(rng() % 24);
    for (int k = 0; k < n; ++k) {
      if (rng() % 4 == 0) {
        t += static_cast<char>(rng() % 256);
      } else {
        t += pieces[rng() % std::size(pieces)];
      }
    }
    auto r = ParseFilter(t);
    if (r.ok()) {
      if (*r == nullptr) continue;
      ++parsed;
      auto again = ParseFilter(ToString(**r));
      ASSERT_TRUE(again.ok()) << ToString(**r) << ": " << again.status().message();
      EXPECT_TRUE(Same(**r, **again));
    } else {
      EXPECT_TRUE(r.status().message().starts_with("filter: ")) << r.status().message();
    }
  }
  EXPECT_GT(parsed, 0);  // the generator does reach valid filters, so round trips were checked
}

TEST(FieldRefTest, Parses) {
  auto f = ParseFieldRef("train/loss:last");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(*f, (FieldRef{"train/loss", Aggregate::kLast}));
  f = ParseFieldRef(" params/lr ");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(*f, (FieldRef{"params/lr", Aggregate::kNone}));
  f = ParseFieldRef("`my path`:count");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(*f, (FieldRef{"my path", Aggregate::kCount}));
  EXPECT_EQ(ParseFieldRef("").status().message(), "field reference is empty");
  EXPECT_EQ(ParseFieldRef("a b").status().message(),
            "field reference: at position 2: expected end of input, found 'b'");
  EXPECT_EQ(ParseFieldRef("a:avg").status().message(),
            "field reference: at position 1: unknown aggregate ':avg'; use :last, :min, :max or "
            ":count");
  EXPECT_EQ(ParseFieldRef("a//b").status().message(),
            "field reference: at position 0: path 'a//b' has an empty segment");
  EXPECT_EQ(ParseFieldRef("(").status().message(),
            "field reference: at position 0: expected a field such as params/lr or "
            "train/loss:last, found '('");
}

}  // namespace
}  // namespace nereid::query

namespace nereid::query {
namespace {

TEST(FilterRegexTest, SearchSemantics) {
  std::string problem;
  auto re = [&](std::string_view p) {
    auto r = FilterRegex::Compile(p, &problem);
    EXPECT_NE(r, nullptr) << p << ": " << problem;
    return r;
  };
  EXPECT_TRUE(re("res")->Search("resnet50"));
  EXPECT_TRUE(re("net")->Search("resnet50"));
  EXPECT_FALSE(re("^net")->Search("resnet50"));
  EXPECT_TRUE(re("^res")->Search("resnet50"));
  EXPECT_TRUE(re("50$")->Search("resnet50"));
  EXPECT_FALSE(re("res$")->Search("resnet50"));
  EXPECT_TRUE(re("a|zzz")->Search("xa"));
  EXPECT_TRUE(re("^(a|b)+$")->Search("abba"));
  EXPECT_FALSE(re("^(a|b)+$")->Search("abca"));
  EXPECT_TRUE(re("b.c")->Search("a\nb\nc b-c"));
  EXPECT_FALSE(re("x")->Search(""));
  EXPECT_TRUE(re("")->Search(""));
  EXPECT_EQ(FilterRegex::Compile("a)|(b", &problem), nullptr);
  EXPECT_EQ(FilterRegex::Compile("(a)\\1", &problem), nullptr);
  EXPECT_TRUE(problem.starts_with("invalid regular expression")) << problem;
}

// Found by tests/test_hostile_input.py: `(a|b)*c` against a 100 KB value overflowed the stack of
// a handler thread (libstdc++'s backtracking executor recurses per character) and killed the
// server. Run on a thread with a small stack, so a regression crashes here too.
TEST(FilterRegexTest, LongSubjectsNeitherOverflowTheStackNorBacktrack) {
  std::string problem;
  const std::string subject(50000, 'a');
  for (const char* p : {"(a|b)*c", "(a+)+c", "((a*)*)*c", "^(a|aa)*$"}) {
    auto re = FilterRegex::Compile(p, &problem);
    ASSERT_NE(re, nullptr) << problem;
    bool matched = false;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 << 10);
    struct Arg {
      const FilterRegex* re;
      const std::string* s;
      bool* out;
    } arg{re.get(), &subject, &matched};
    pthread_t t;
    ASSERT_EQ(pthread_create(
                  &t, &attr,
                  [](void* a) -> void* {
                    auto* x = static_cast<Arg*>(a);
                    *x->out = x->re->Search(*x->s);
                    return nullptr;
                  },
                  &arg),
              0);
    pthread_join(t, nullptr);
    pthread_attr_destroy(&attr);
    EXPECT_EQ(matched, std::string_view(p) == "^(a|aa)*$") << p;
  }
}

}  // namespace
}  // namespace nereid::query
