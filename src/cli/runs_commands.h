// `nereid runs ls` and `nereid runs show`: read commands over the HTTP API.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace nereid::cli {

struct RunsOptions {
  std::string url;    // default $NEREID_URL or http://127.0.0.1:4870
  std::string token;  // default $NEREID_API_TOKEN, else <data>/admin.token
  std::string data_dir = "./nereid-data";
  std::string project;
  std::string run_id;
  std::string filter;
  std::string sort = "sys/creation_time";
  std::string columns;
  unsigned limit = 50;
};

void AddConnectionOptions(CLI::App* app, RunsOptions* options);
int ListRuns(const RunsOptions& options);
int ShowRun(const RunsOptions& options);

}  // namespace nereid::cli
