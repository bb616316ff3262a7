// `nereid admin --offline`: the API answered in process by the server's own handlers
// (server::App::OpenOffline) on a stopped server's data directory, as a server administrator,
// without a token. Validation, permissions, errors and output are the online ones.
#pragma once

#include <string>

#include "cli/api_client.h"

namespace nereid::cli {

struct OfflineOptions {
  std::string data_dir;   // the stopped server's --data
  std::string store_url;  // its --store; empty: SQLite in data_dir
};

// Opens the store of `options` (locking a SQLite data directory for the client's lifetime).
// Unavailable "a server is running on DIR (pid N); stop it or use --url" when a server holds
// the directory; NotFound when a SQLite data directory does not exist. Opening does what a server
// start does (server/auth.h): a new store, or a user "admin" with no live token, gets an admin
// token in <data_dir>/admin.token, announced on stderr.
Result<ApiClient> OpenOffline(const OfflineOptions& options);

}  // namespace nereid::cli
