// The one `nereid` binary: the server and the command-line tools.
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>

#include "cli/admin_commands.h"
#include "cli/migrate_command.h"
#include "cli/api_client.h"
#include "cli/notebook_commands.h"
#include "cli/runs_commands.h"
#include "cli/sync_command.h"
#include "server/app.h"

namespace {

constexpr const char* kVersion = "0.1.0";

[[noreturn]] void Fail(const std::string& reason) {
  std::cerr << "nereid: " << reason << "\n";
  std::exit(1);
}

int RunServer(nereid::server::Config config) {
  // Block the stop signals before any thread starts, so only sigwait below receives them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  nereid::server::App app(config);
  nereid::Status started = app.Start();
  if (!started.ok()) Fail(started.message());
  std::string host = config.host == "0.0.0.0" ? "127.0.0.1" : config.host;
  std::cout << "Nereid " << kVersion << " is serving the UI and HTTP API at http://" << host << ":"
            << app.port() << "/\n";
  std::filesystem::path token_file = std::filesystem::path(config.data_dir) / "admin.token";
  if (!app.created_token().empty()) {
    std::cout << "Admin token (shown once, also in " << token_file.string() << ", mode 0600):\n  "
              << app.created_token() << "\n";
  } else {
    std::cout << "Admin token: in " << token_file.string() << "\n";
  }
  std::cout << std::flush;
  int sig = 0;
  sigwait(&signals, &sig);
  spdlog::info("received {}, finishing in-flight requests", sig == SIGTERM ? "SIGTERM" : "SIGINT");
  app.Stop();
  spdlog::info("stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Nereid: an experiment tracker for machine learning"};
  app.require_subcommand(1);
  app.set_version_flag("--version", kVersion);

  nereid::server::Config config;
  auto* server = app.add_subcommand("server", "Run the tracking server (UI and HTTP API)");
  server->add_option("--data", config.data_dir, "Data directory")->capture_default_str();
  server->add_option("--host", config.host, "Address to listen on")->capture_default_str();
  server->add_option("--port", config.port, "Port (0: pick a free one)")->capture_default_str();
  server->add_option("--store", config.store_url, "Store URL (default sqlite:<data>)");
  server->add_option("--files", config.files_dir,
                     "Files folder shared by every server of one database (default <data>/files)");
  server
      ->add_option("--sync", config.synchronous,
                   "full: every commit survives power loss; normal: survives process crashes")
      ->check(CLI::IsMember({"full", "normal"}))
      ->capture_default_str();
  server->add_option("--body-limit", config.body_limit, "Request body limit in bytes")
      ->capture_default_str();
  server->add_option("--upload-limit", config.upload_limit, "File upload limit in bytes")
      ->capture_default_str();
  server->add_option("--threads", config.io_threads, "Network threads (0: one per core)");
  server
      ->add_option("--rate-limit", config.rate_limit,
                   "Requests per minute per user unless the user or workspace sets one (0: none)")
      ->capture_default_str();
  server->add_option("--rate-burst", config.rate_burst, "Requests a user may send at once")
      ->capture_default_str();
  server->add_flag("--secure-cookies", config.secure_cookies,
                   "Mark the web session cookie Secure (when served through HTTPS)");
  server
      ->add_option("--not-responding-after", config.not_responding_after_s,
                   "Seconds without a ping after which a running run is 'not responding'")
      ->capture_default_str();
  bool quiet = false;
  server->add_flag("--no-access-log", quiet, "Do not log a line per request");

  nereid::cli::RunsOptions runs_options;
  auto* runs = app.add_subcommand("runs", "List, show, trash, restore and delete runs");
  runs->require_subcommand(1);
  nereid::cli::AddConnectionOptions(runs, &runs_options);
  auto* ls = runs->add_subcommand("ls", "List the runs of a project (workspace/project)");
  ls->add_option("project", runs_options.project, "workspace/project")->required();
  ls->add_option("--filter", runs_options.filter, "Filter expression (docs/filter-language.md)");
  ls->add_option("--sort", runs_options.sort, "Field to sort by")->capture_default_str();
  ls->add_option("--columns", runs_options.columns, "Comma-separated columns");
  ls->add_option("--limit", runs_options.limit, "Runs per page")->capture_default_str();
  ls->add_flag("--trashed", runs_options.trashed, "List the runs in the trash");
  auto* show = runs->add_subcommand("show", "Show a run's fields");
  show->add_option("run_id", runs_options.run_id, "Run id, e.g. SAND-1")->required();
  // The trash: docs/http-api.md "The trash".
  std::map<std::string, CLI::App*> run_changes;
  const std::pair<const char*, const char*> kRunChanges[] = {
      {"trash", "Move runs to the trash (hidden, restorable)"},
      {"restore", "Take runs out of the trash"},
      {"delete", "Delete runs in the trash forever (frees storage)"}};
  for (const auto& [action, help] : kRunChanges) {
    auto* cmd = runs->add_subcommand(action, help);
    cmd->add_option("run_ids", runs_options.run_ids, "Run ids, e.g. SAND-1 SAND-2")->required();
    cmd->add_option("--project", runs_options.project, "workspace/project")->required();
    if (std::string(action) == "delete") {
      cmd->add_flag("--yes", runs_options.yes, "Confirm: deleted runs cannot be restored");
    }
    run_changes[action] = cmd;
  }

  nereid::cli::SyncOptions sync_options;
  nereid::cli::AddSyncCommand(&app, &sync_options);
  int admin_exit = 0;
  CLI::App* admin = nereid::cli::AddAdminCommands(&app, &admin_exit);
  nereid::cli::AddMigrateStoreCommand(admin, &admin_exit);
  int notebook_exit = 0;
  CLI::App* notebook = nereid::cli::AddNotebookCommands(&app, &notebook_exit);

  app.add_subcommand("version", "Print the version")->callback([] {
    std::cout << "nereid " << kVersion << "\n";
  });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (server->parsed()) {
    config.access_log = !quiet;
    return RunServer(config);
  }
  if (admin->parsed()) return admin_exit;
  if (notebook->parsed()) return notebook_exit;
  if (ls->parsed()) return nereid::cli::ListRuns(runs_options);
  if (show->parsed()) return nereid::cli::ShowRun(runs_options);
  for (const auto& [action, cmd] : run_changes) {
    if (cmd->parsed()) return nereid::cli::ChangeRuns(runs_options, action);
  }
  if (app.got_subcommand("sync")) return nereid::cli::Sync(sync_options);
  return 0;
}
