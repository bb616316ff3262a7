// `nereid sync [DIR]` and `nereid sync --status [DIR]`: upload what client spools left behind
// (offline runs, runs stopped before their upload finished, processes that crashed).
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace nereid::cli {

struct SyncOptions {
  std::string dir;    // a spool root (default $NEREID_HOME or .nereid) or one writer folder
  std::string url;    // overrides the URL each spool recorded
  std::string token;  // default $NEREID_API_TOKEN, else <data>/admin.token
  std::string data_dir = "./nereid-data";
  bool status = false;
  double give_up_s = 0;  // 0: keep retrying transient failures for as long as it takes
};

void AddSyncCommand(CLI::App* app, SyncOptions* options);
int Sync(const SyncOptions& options);

}  // namespace nereid::cli
