// `nereid admin ...`: users, workspaces, projects, members, tokens, limits and quotas, over the
// HTTP API with an administrator's token (or a workspace admin's, for their workspace), or offline
// on a stopped server's data directory through the server's own handlers (offline_transport.h).
#pragma once

#include <CLI/CLI.hpp>

namespace nereid::cli {

// Registers `admin` and its subcommands on `app`. The chosen command runs while parsing and
// stores its process exit code in *exit_code (0 on success, 1 with a message on stderr).
// `app` and `exit_code` must outlive parsing.
CLI::App* AddAdminCommands(CLI::App* app, int* exit_code);

}  // namespace nereid::cli
