#include "server/notebook_diff.h"

#include <algorithm>
#include <cstdint>
#include <utility>

namespace nereid::server {
namespace {

using nlohmann::json;

// nbformat allows a multiline string as one string or as a list of lines.
Result<std::string> MultilineText(const json& j, const std::string& what) {
  if (j.is_string()) return j.get<std::string>();
  if (!j.is_array()) return InvalidArgument(what + " must be a string or a list of strings");
  std::string out;
  for (const auto& line : j) {
    if (!line.is_string()) return InvalidArgument(what + " must be a string or a list of strings");
    out += line.get<std::string>();
  }
  return out;
}

// An optional string member: "" when absent. json::value() would throw for any other type, which
// the server turned into a 500 (found by the notebook fuzzer: `"evalue": {}`).
Result<std::string> OptionalString(const json& o, const char* key, const std::string& what) {
  auto it = o.find(key);
  if (it == o.end()) return std::string();
  if (!it->is_string()) return InvalidArgument(what + ": '" + key + "' must be a string");
  return it->get<std::string>();
}

Result<std::vector<std::string>> OutputTexts(const json& outputs, const std::string& where) {
  std::vector<std::string> out;
  if (!outputs.is_array()) return InvalidArgument(where + ": 'outputs' must be a list");
  for (size_t i = 0; i < outputs.size(); ++i) {
    const json& o = outputs[i];
    std::string what = where + " output " + std::to_string(i);
    if (!o.is_object() || !o.contains("output_type") || !o["output_type"].is_string()) {
      return InvalidArgument(what + " has no 'output_type'");
    }
    std::string type = o["output_type"].get<std::string>();
    if (type == "stream") {
      NEREID_ASSIGN_OR_RETURN(std::string text, MultilineText(o.value("text", json("")), what));
      out.push_back(std::move(text));
    } else if (type == "execute_result" || type == "display_data") {
      auto data = o.find("data");
      if (data != o.end() && data->is_object() && data->contains("text/plain")) {
        NEREID_ASSIGN_OR_RETURN(std::string text, MultilineText((*data)["text/plain"], what));
        out.push_back(std::move(text));
      } else {
        out.push_back("[" + type + " without text]");
      }
    } else if (type == "error") {
      NEREID_ASSIGN_OR_RETURN(std::string ename, OptionalString(o, "ename", what));
      NEREID_ASSIGN_OR_RETURN(std::string evalue, OptionalString(o, "evalue", what));
      out.push_back(ename + ": " + evalue);
    } else {
      return InvalidArgument(what + " has an unknown output_type '" + type + "'");
    }
  }
  return out;
}

json Texts(const std::vector<std::string>& v) {
  return json(v);
}

}  // namespace

Result<std::vector<NotebookCell>> ParseNotebook(std::string_view body) {
  json nb = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (nb.is_discarded()) return InvalidArgument("the notebook is not valid JSON");
  if (!nb.is_object()) return InvalidArgument("the notebook must be a JSON object");
  auto format = nb.find("nbformat");
  if (format == nb.end() || !format->is_number_integer()) {
    return InvalidArgument("the notebook has no integer 'nbformat' (is this an .ipynb file?)");
  }
  if (format->get<int64_t>() != 4) {
    return InvalidArgument("nbformat " + std::to_string(format->get<int64_t>()) +
                           " is not supported (only nbformat 4; convert with jupyter nbconvert)");
  }
  auto cells = nb.find("cells");
  if (cells == nb.end() || !cells->is_array()) {
    return InvalidArgument("the notebook has no 'cells' list");
  }
  if (cells->size() > kMaxNotebookCells) {
    return InvalidArgument("the notebook has more than " + std::to_string(kMaxNotebookCells) +
                           " cells");
  }
  std::vector<NotebookCell> out;
  out.reserve(cells->size());
  for (size_t i = 0; i < cells->size(); ++i) {
    const json& c = (*cells)[i];
    std::string where = "cell " + std::to_string(i);
    if (!c.is_object()) return InvalidArgument(where + " is not an object");
    auto type = c.find("cell_type");
    if (type == c.end() || !type->is_string())
      return InvalidArgument(where + " has no 'cell_type'");
    NotebookCell cell;
    cell.type = type->get<std::string>();
    if (cell.type != "code" && cell.type != "markdown" && cell.type != "raw") {
      return InvalidArgument(where + " has an unknown cell_type '" + cell.type + "'");
    }
    auto source = c.find("source");
    if (source == c.end()) return InvalidArgument(where + " has no 'source'");
    NEREID_ASSIGN_OR_RETURN(cell.source, MultilineText(*source, where + " 'source'"));
    if (cell.type == "code") {
      auto outputs = c.find("outputs");
      if (outputs != c.end()) {
        NEREID_ASSIGN_OR_RETURN(cell.outputs, OutputTexts(*outputs, where));
      }
    }
    out.push_back(std::move(cell));
  }
  return out;
}

namespace {

// Pairs (i, j) of cells kept from `a` to `b`, increasing in both: the common prefix and suffix,
// and between them a longest common subsequence when the table is small enough (a quadratic
// table over thousands of changed cells would cost gigabytes; past kMaxLcsCells the middle is
// compared position by position instead).
constexpr size_t kMaxLcsCells = 4'000'000;

std::vector<std::pair<size_t, size_t>> Align(const std::vector<NotebookCell>& a,
                                             const std::vector<NotebookCell>& b) {
  auto same = [&](size_t i, size_t j) {
    return a[i].type == b[j].type && a[i].source == b[j].source;
  };
  std::vector<std::pair<size_t, size_t>> out;
  size_t lo = 0;
  while (lo < a.size() && lo < b.size() && same(lo, lo)) {
    out.emplace_back(lo, lo);
    ++lo;
  }
  size_t ea = a.size(), eb = b.size();  // exclusive ends of the middle
  std::vector<std::pair<size_t, size_t>> suffix;
  while (ea > lo && eb > lo && same(ea - 1, eb - 1)) suffix.emplace_back(--ea, --eb);
  const size_t n = ea - lo, m = eb - lo;
  if (n > 0 && m > 0 && (n + 1) * (m + 1) <= kMaxLcsCells) {
    // lcs[i][j]: LCS length of a[lo+i..ea) and b[lo+j..eb).
    std::vector<std::vector<uint32_t>> lcs(n + 1, std::vector<uint32_t>(m + 1, 0));
    for (size_t i = n; i-- > 0;) {
      for (size_t j = m; j-- > 0;) {
        lcs[i][j] =
            same(lo + i, lo + j) ? lcs[i + 1][j + 1] + 1 : std::max(lcs[i + 1][j], lcs[i][j + 1]);
      }
    }
    size_t i = 0, j = 0;
    while (i < n && j < m) {
      if (same(lo + i, lo + j)) {
        out.emplace_back(lo + i++, lo + j++);
      } else if (lcs[i + 1][j] >= lcs[i][j + 1]) {
        ++i;
      } else {
        ++j;
      }
    }
  }
  out.insert(out.end(), suffix.rbegin(), suffix.rend());
  return out;
}

}  // namespace

json DiffNotebooks(const std::vector<NotebookCell>& a, const std::vector<NotebookCell>& b) {
  json cells = json::array();
  json summary = {{"unchanged", 0}, {"modified", 0}, {"added", 0}, {"removed", 0}};
  auto count = [&](const char* key) { summary[key] = summary[key].get<int>() + 1; };
  // Removed cells a[i0..i1) and added cells b[j0..j1) between two kept ones: paired in order as
  // modified, the rest removed or added.
  auto gap = [&](size_t i0, size_t i1, size_t j0, size_t j1) {
    size_t removed = i1 - i0, added = j1 - j0;
    for (size_t k = 0; k < std::max(removed, added); ++k) {
      json c;
      if (k < removed && k < added) {
        const NotebookCell &x = a[i0 + k], &y = b[j0 + k];
        c = {{"status", "modified"},
             {"from_index", i0 + k},
             {"to_index", j0 + k},
             {"cell_type", y.type}};
        if (x.source != y.source) c["source"] = {{"from", x.source}, {"to", y.source}};
        if (x.outputs != y.outputs) {
          c["outputs"] = {{"from", Texts(x.outputs)}, {"to", Texts(y.outputs)}};
        }
        if (x.type != y.type) c["cell_type_from"] = x.type;
        count("modified");
      } else if (k < removed) {
        const NotebookCell& x = a[i0 + k];
        c = {{"status", "removed"},
             {"from_index", i0 + k},
             {"to_index", nullptr},
             {"cell_type", x.type},
             {"source", {{"from", x.source}, {"to", nullptr}}},
             {"outputs", {{"from", Texts(x.outputs)}, {"to", nullptr}}}};
        count("removed");
      } else {
        const NotebookCell& y = b[j0 + k];
        c = {{"status", "added"},
             {"from_index", nullptr},
             {"to_index", j0 + k},
             {"cell_type", y.type},
             {"source", {{"from", nullptr}, {"to", y.source}}},
             {"outputs", {{"from", nullptr}, {"to", Texts(y.outputs)}}}};
        count("added");
      }
      cells.push_back(std::move(c));
    }
  };
  size_t i = 0, j = 0;
  for (const auto& [mi, mj] : Align(a, b)) {
    gap(i, mi, j, mj);
    json c = {
        {"status", "unchanged"}, {"from_index", mi}, {"to_index", mj}, {"cell_type", b[mj].type}};
    if (a[mi].outputs != b[mj].outputs) {
      c["status"] = "modified";
      c["outputs"] = {{"from", Texts(a[mi].outputs)}, {"to", Texts(b[mj].outputs)}};
      count("modified");
    } else {
      count("unchanged");
    }
    cells.push_back(std::move(c));
    i = mi + 1;
    j = mj + 1;
  }
  gap(i, a.size(), j, b.size());
  return {{"cells", cells}, {"summary", summary}};
}

}  // namespace nereid::server
