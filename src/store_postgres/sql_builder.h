// Sql: statements built from parts (the runs table's filter, sort and keyset conditions).
//
// Thread-safety: a value; not safe to modify from several threads at once.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "store_postgres/pg.h"

namespace nereid::store_postgres {

// A statement being assembled from parts, each part with its own parameters. Placeholders are
// written as a marker byte and numbered $1, $2, ... only by Finish(), so parts can be built in
// any order and joined. User values only ever travel as parameters, never in the text.
class Sql {
 public:
  Sql& operator<<(std::string_view s) {
    text_ += s;
    return *this;
  }
  Sql& operator<<(const Sql& other);
  // Each appends one placeholder with an explicit type, so PostgreSQL never has to guess a
  // parameter's type from its context (a float compared with a bigint column, say).
  Sql& Int(int64_t v);                       // $n::bigint
  Sql& Double(double v);                     // $n::float8
  Sql& Text(std::string_view v);             // $n::text
  Sql& Ids(const std::vector<int64_t>& ids);  // $n::bigint[]
  Sql& Texts(const std::vector<std::string>& values);  // $n::text[]
  bool empty() const { return text_.empty(); }

  // The statement text with numbered placeholders, and its parameters.
  std::string Finish(PgParams* params) const;

 private:
  static constexpr char kMarker = '\x1f';  // a control character: never in SQL we write
  using Param = std::variant<int64_t, double, std::string>;
  Sql& Bind(Param p, const char* type);

  std::string text_;
  std::vector<Param> params_;
};

}  // namespace nereid::store_postgres
