#include "server/notebook_diff.h"

#include <gtest/gtest.h>

namespace nereid::server {
namespace {

using nlohmann::json;

json Cell(const std::string& type, json source, json outputs = json::array()) {
  json c = {{"cell_type", type}, {"source", source}, {"metadata", json::object()}};
  if (type == "code") c["outputs"] = outputs;
  return c;
}

std::string Notebook(json cells) {
  return json({{"nbformat", 4},
               {"nbformat_minor", 5},
               {"metadata", json::object()},
               {"cells", cells}})
      .dump();
}

TEST(ParseNotebook, JoinsSourceLinesAndExtractsTextOutputs) {
  auto cells = ParseNotebook(Notebook(json::array(
      {Cell("markdown", "# Title"),
       Cell("code", json::array({"x = 1\n", "print(x)"}),
            json::array({{{"output_type", "stream"}, {"name", "stdout"}, {"text", {"1\n"}}},
                         {{"output_type", "execute_result"},
                          {"data", {{"text/plain", "42"}, {"image/png", "AAAA"}}},
                          {"execution_count", 1}},
                         {{"output_type", "error"},
                          {"ename", "ValueError"},
                          {"evalue", "bad"},
                          {"traceback", json::array()}}}))})));
  ASSERT_TRUE(cells.ok()) << cells.status().message();
  ASSERT_EQ(cells->size(), 2u);
  EXPECT_EQ((*cells)[0].type, "markdown");
  EXPECT_EQ((*cells)[1].source, "x = 1\nprint(x)");
  EXPECT_EQ((*cells)[1].outputs, (std::vector<std::string>{"1\n", "42", "ValueError: bad"}));
}

TEST(ParseNotebook, RefusesWhatIsNotAnNbformat4Notebook) {
  EXPECT_EQ(ParseNotebook("{not json").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseNotebook("[]").status().code(), StatusCode::kInvalidArgument);
  auto v3 = ParseNotebook(R"({"nbformat": 3, "worksheets": []})");
  ASSERT_FALSE(v3.ok());
  EXPECT_NE(v3.status().message().find("nbformat 3"), std::string::npos);
  auto no_source = ParseNotebook(R"({"nbformat": 4, "cells": [{"cell_type": "code"}]})");
  ASSERT_FALSE(no_source.ok());
  EXPECT_NE(no_source.status().message().find("cell 0 has no 'source'"), std::string::npos);
  EXPECT_FALSE(
      ParseNotebook(R"({"nbformat": 4, "cells": [{"cell_type": "x", "source": ""}]})").ok());
  EXPECT_FALSE(ParseNotebook(R"({"nbformat": 4})").ok());
  // A non-string error name or value is a 400, not an exception (was a 500; notebook fuzzer).
  auto bad_error = ParseNotebook(Notebook(json::array(
      {Cell("code", "x", json::array({{{"output_type", "error"}, {"evalue", json::object()}}}))})));
  ASSERT_FALSE(bad_error.ok());
  EXPECT_EQ(bad_error.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad_error.status().message().find("'evalue' must be a string"), std::string::npos);
}

std::vector<NotebookCell> Cells(std::vector<std::pair<std::string, std::string>> v) {
  std::vector<NotebookCell> out;
  for (auto& [source, output] : v) {
    NotebookCell c{"code", source, {}};
    if (!output.empty()) c.outputs.push_back(output);
    out.push_back(c);
  }
  return out;
}

TEST(DiffNotebooks, AlignsCellsAndReportsEachChange) {
  auto a = Cells({{"import os", ""}, {"x = 1", "1"}, {"y = 2", ""}, {"old()", ""}});
  auto b = Cells({{"import os", ""}, {"new_cell()", ""}, {"x = 1", "2"}, {"y = 3", ""}});
  json d = DiffNotebooks(a, b);
  const json& cells = d["cells"];
  ASSERT_EQ(cells.size(), 5u) << d.dump(1);
  EXPECT_EQ(cells[0]["status"], "unchanged");
  EXPECT_EQ(cells[1]["status"], "added");
  EXPECT_EQ(cells[1]["to_index"], 1);
  EXPECT_EQ(cells[1]["source"]["to"], "new_cell()");
  EXPECT_EQ(cells[2]["status"], "modified");  // same source, other output
  EXPECT_FALSE(cells[2].contains("source"));
  EXPECT_EQ(cells[2]["outputs"]["from"], json::array({"1"}));
  EXPECT_EQ(cells[2]["outputs"]["to"], json::array({"2"}));
  EXPECT_EQ(cells[3]["status"], "modified");  // "y = 2" -> "y = 3", paired in order
  EXPECT_EQ(cells[3]["source"]["from"], "y = 2");
  EXPECT_EQ(cells[3]["source"]["to"], "y = 3");
  EXPECT_EQ(cells[4]["status"], "removed");
  EXPECT_EQ(cells[4]["from_index"], 3);
  EXPECT_EQ(d["summary"], json({{"unchanged", 1}, {"modified", 2}, {"added", 1}, {"removed", 1}}));
}

TEST(DiffNotebooks, IdenticalAndEmpty) {
  auto a = Cells({{"a", "x"}, {"b", ""}});
  EXPECT_EQ(DiffNotebooks(a, a)["summary"]["unchanged"], 2);
  json d = DiffNotebooks({}, a);
  EXPECT_EQ(d["summary"]["added"], 2);
  EXPECT_EQ(DiffNotebooks(a, {})["summary"]["removed"], 2);
  EXPECT_EQ(DiffNotebooks({}, {})["cells"].size(), 0u);
}

}  // namespace
}  // namespace nereid::server
