#include "cli/migrate_command.h"

#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "server/data_lock.h"
#include "store_migrate/migrate_store.h"

namespace nereid::cli {
namespace {

struct MigrateArgs {
  std::string from, to, files;
};

}  // namespace

void AddMigrateStoreCommand(CLI::App* admin, int* exit_code) {
  auto args = std::make_shared<MigrateArgs>();
  auto* cmd = admin->add_subcommand(
      "migrate-store",
      "Copy a whole embedded store (stop its server first) into an empty PostgreSQL database, "
      "verified by row counts and checksums");
  cmd->add_option("--from", args->from, "The embedded store: sqlite:DIR (the server's --data)")
      ->required();
  cmd->add_option("--to", args->to, "The PostgreSQL database: postgres://user@host:port/db")
      ->required();
  cmd->add_option("--files", args->files,
                  "Also copy the files (checked by SHA-256) into this shared folder, the "
                  "PostgreSQL servers' --files");
  cmd->callback([args, exit_code] {
    std::string dir = args->from;
    if (dir.rfind("sqlite:", 0) == 0) dir = dir.substr(7);
    if (args->to.rfind("postgres://", 0) != 0 && args->to.rfind("postgresql://", 0) != 0) {
      std::cerr << "nereid: --to must be a postgres://... URL, not '" << args->to << "'\n";
      *exit_code = 2;
      return;
    }
    // A copy taken under a live server could miss its last commits: hold the directory like a
    // server would. A directory that cannot be locked at all (read-only backup) is still copied.
    server::LockHolder holder;
    auto lock = server::DataDirLock::Acquire(dir, "nereid admin migrate-store", &holder);
    if (!lock.ok() && lock.status().code() == StatusCode::kUnavailable) {
      std::cerr << "nereid: " << (holder.role.empty() ? std::string("a server") : holder.role)
                << (holder.pid ? " (pid " + std::to_string(holder.pid) + ")" : std::string())
                << " is using " << dir << "; stop it first\n";
      *exit_code = 1;
      return;
    }
    store_migrate::MigrateOptions options;
    options.sqlite_dir = dir;
    options.postgres_url = args->to;
    options.files_to = args->files;
    options.progress = [](const std::string& line) { std::cerr << "nereid: " << line << "\n"; };
    auto report = store_migrate::MigrateSqliteToPostgres(options);
    if (!report.ok()) {
      std::cerr << "nereid: migrate-store failed, the PostgreSQL database is unchanged: "
                << report.status().message() << "\n";
      *exit_code = 1;
      return;
    }
    std::cout << fmt::format("{:<22} {:>12}  {}\n", "TABLE", "ROWS", "SHA256 (source = copy)");
    for (const auto& t : report->tables) {
      std::cout << fmt::format("{:<22} {:>12}  {}\n", t.table, t.rows, t.sha256);
    }
    if (!args->files.empty()) {
      std::cout << fmt::format("files copied: {} ({} bytes)\n", report->files_copied,
                               report->files_bytes);
    }
    *exit_code = 0;
  });
}

}  // namespace nereid::cli
