#include "store_postgres/sql_builder.h"

namespace nereid::store_postgres {

Sql& Sql::operator<<(const Sql& other) {
  text_ += other.text_;
  params_.insert(params_.end(), other.params_.begin(), other.params_.end());
  return *this;
}

Sql& Sql::Bind(Param p, const char* type) {
  text_ += kMarker;
  text_ += "::";
  text_ += type;
  params_.push_back(std::move(p));
  return *this;
}

Sql& Sql::Int(int64_t v) { return Bind(v, "bigint"); }
Sql& Sql::Double(double v) { return Bind(v, "float8"); }
Sql& Sql::Text(std::string_view v) { return Bind(std::string(v), "text"); }

Sql& Sql::Ids(const std::vector<int64_t>& ids) {
  std::string array = "{";
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) array += ',';
    array += std::to_string(ids[i]);
  }
  array += '}';
  return Bind(std::move(array), "bigint[]");
}

Sql& Sql::Texts(const std::vector<std::string>& values) {
  std::string array = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) array += ',';
    array += '"';
    for (char c : values[i]) {
      if (c == '"' || c == '\\') array += '\\';
      array += c;
    }
    array += '"';
  }
  array += '}';
  return Bind(std::move(array), "text[]");
}

std::string Sql::Finish(PgParams* params) const {
  std::string out;
  out.reserve(text_.size() + 4 * params_.size());
  size_t next = 1;
  for (char c : text_) {
    if (c == kMarker) {
      out += '$';
      out += std::to_string(next++);
    } else {
      out += c;
    }
  }
  for (const Param& p : params_) {
    if (const int64_t* i = std::get_if<int64_t>(&p)) {
      params->Int(*i);
    } else if (const double* d = std::get_if<double>(&p)) {
      params->Double(*d);
    } else {
      params->Text(std::get<std::string>(p));
    }
  }
  return out;
}

}  // namespace nereid::store_postgres
