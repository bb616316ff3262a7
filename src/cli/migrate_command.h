// `nereid admin migrate-store`: copies an embedded (SQLite) store into PostgreSQL, locally (no
// server involved), and verifies the copy.
#pragma once

#include <CLI/CLI.hpp>

namespace nereid::cli {

// Registers `migrate-store` under `admin`. Its exit code goes to *exit_code.
void AddMigrateStoreCommand(CLI::App* admin, int* exit_code);

}  // namespace nereid::cli
