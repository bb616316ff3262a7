// `nereid runs ls|show|trash|restore|delete` over the HTTP API.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

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
  bool trashed = false;              // ls: list the trash instead of the runs table
  std::vector<std::string> run_ids;  // trash, restore, delete
  bool yes = false;                  // delete: confirmed (deleting forever cannot be undone)
};

void AddConnectionOptions(CLI::App* app, RunsOptions* options);
int ListRuns(const RunsOptions& options);
int ShowRun(const RunsOptions& options);
// action: "trash", "restore" or "delete" (POST /projects/{project}/runs/{action}).
// delete refuses to run without options.yes.
int ChangeRuns(const RunsOptions& options, const std::string& action);

}  // namespace nereid::cli
