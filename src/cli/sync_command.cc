#include "cli/sync_command.h"

#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include "client/refused_log.h"
#include "client/uploader.h"
#include "client/writer_dir.h"

namespace nereid::cli {
namespace {

namespace fs = std::filesystem;
using client::AttemptResult;

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

std::vector<std::string> WriterDirs(const std::string& dir) {
  if (fs::exists(fs::path(dir) / "writer.json")) return {dir};
  return client::ListWriterDirs(dir);
}

std::string RunLabel(const client::WriterInfo& w) {
  std::string label = w.project + " " + (w.run_id.empty() ? "(new run)" : w.run_id);
  if (!w.custom_run_id.empty()) label += " custom id " + w.custom_run_id;
  return label;
}

bool Transient(const Status& s) {
  return s.code() == StatusCode::kUnavailable || s.code() == StatusCode::kRateLimited;
}

int Status(const SyncOptions& o, const std::vector<std::string>& dirs) {
  uint64_t total_records = 0, total_bytes = 0;
  for (const std::string& d : dirs) {
    client::UploaderConfig c;
    c.dir = d;
    c.live = false;
    auto up = client::Uploader::Open(c, nullptr);
    if (!up.ok()) {
      std::cout << d << ": " << up.status().message() << "\n";
      continue;
    }
    uint64_t records = 0, bytes = 0;
    (*up)->CountPending(&records, &bytes);
    Result<int> lock = client::LockWriterDir(d);
    std::string state = lock.ok() ? "stopped" : fmt::format("live (pid {})", (*up)->info().pid);
    if (lock.ok()) close(*lock);
    std::cout << fmt::format("{}\n  writer {} ({}): {} entries unsent, {} bytes\n",
                             RunLabel((*up)->info()), d, state, records, bytes);
    total_records += records;
    total_bytes += bytes;
  }
  std::cout << fmt::format("{} spool folders, {} entries ({} bytes) unsent\n", dirs.size(),
                           total_records, total_bytes);
  (void)o;
  return 0;
}

// Uploads one writer folder; true when it is fully delivered (and removed).
bool SyncOne(const SyncOptions& o, const std::string& token, const std::string& d) {
  Result<int> lock = client::LockWriterDir(d);
  if (!lock.ok()) {
    std::cout << d << ": skipped, a live process is still writing it\n";
    return true;  // not a failure: that process uploads it itself
  }
  client::UploaderConfig c;
  c.dir = d;
  c.url = o.url;
  c.token = token;
  c.live = false;
  c.on_error = [](const nereid::Status& s) { std::cerr << "nereid: " << s.message() << "\n"; };
  auto up = client::Uploader::Open(c, nullptr);
  if (!up.ok()) {
    std::cerr << "nereid: " << d << ": " << up.status().message() << "\n";
    close(*lock);
    return false;
  }
  client::Uploader& u = **up;
  uint64_t records = 0, bytes = 0;
  u.CountPending(&records, &bytes);
  bool tty = isatty(STDOUT_FILENO);
  auto start = std::chrono::steady_clock::now();
  bool ok = true;
  for (;;) {
    AttemptResult r = u.Attempt();
    if (r == AttemptResult::kIdle) break;
    if (r == AttemptResult::kSent) {
      if (tty) {
        std::cout << fmt::format("\r{}: {}/{} entries", RunLabel(u.info()), u.records_acked(),
                                 records)
                  << std::flush;
      }
      continue;
    }
    double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!Transient(u.last_error()) || (o.give_up_s > 0 && elapsed > o.give_up_s)) {
      std::cerr << "nereid: " << d << ": " << u.last_error().message() << "\n";
      ok = false;
      break;
    }
    std::this_thread::sleep_for(u.delay());
  }
  if (tty) std::cout << "\n";
  std::string refused;
  if (u.records_refused() > 0) {
    refused = fmt::format(", {} refused by the server (kept in {})", u.records_refused(),
                          client::RefusedPath(d));
  }
  std::cout << fmt::format("{}: {} entries in {} batches uploaded{}{}\n", RunLabel(u.info()),
                           u.records_acked(), u.batches_acked(), refused,
                           ok ? "" : ", the rest kept");
  if (ok) {
    std::error_code ec;
    fs::remove_all(d, ec);
    fs::remove(fs::path(d).parent_path(), ec);  // only when no other writer is left
  }
  close(*lock);
  return ok;
}

}  // namespace

void AddSyncCommand(CLI::App* app, SyncOptions* o) {
  auto* sync = app->add_subcommand(
      "sync", "Upload client spools left behind (offline runs, crashed or stopped processes)");
  sync->add_option("dir", o->dir,
                   "Spool root or one writer folder (default $NEREID_HOME, .nereid)");
  sync->add_option("--url", o->url, "Server URL (default: the one each run was logged to)");
  sync->add_option("--token", o->token, "API token (default $NEREID_API_TOKEN)");
  sync->add_option("--data", o->data_dir, "Server data directory, to read admin.token from");
  sync->add_flag("--status", o->status, "List what is unsent, per run, and upload nothing");
  sync->add_option("--give-up-after", o->give_up_s,
                   "Stop retrying an unreachable server after this many seconds (0: never)");
}

int Sync(const SyncOptions& o) {
  std::string dir = !o.dir.empty() ? o.dir : Env("NEREID_HOME");
  if (dir.empty()) dir = ".nereid";
  std::vector<std::string> dirs = WriterDirs(dir);
  if (o.status) return Status(o, dirs);
  std::string token = !o.token.empty() ? o.token : Env("NEREID_API_TOKEN");
  if (token.empty()) {
    std::ifstream in(o.data_dir + "/admin.token");
    std::getline(in, token);
  }
  if (dirs.empty()) {
    std::cout << "nothing to sync under " << dir << "\n";
    return 0;
  }
  bool all = true;
  for (const std::string& d : dirs) all = SyncOne(o, token, d) && all;
  return all ? 0 : 1;
}

}  // namespace nereid::cli
