#include "cli/runs_commands.h"

#include <fmt/format.h>

#include <cstdlib>
#include <fstream>
#include <iostream>

#include "cli/api_client.h"

namespace nereid::cli {
namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

// Fills in the URL and token from the environment or the local data directory.
Result<ApiClient> Connect(const RunsOptions& o) {
  std::string url = !o.url.empty() ? o.url : Env("NEREID_URL");
  if (url.empty()) url = "http://127.0.0.1:4870";
  std::string token = !o.token.empty() ? o.token : Env("NEREID_API_TOKEN");
  if (token.empty()) {
    std::ifstream in(o.data_dir + "/admin.token");
    std::getline(in, token);
  }
  if (token.empty()) {
    return Unauthenticated("no API token: pass --token, set NEREID_API_TOKEN, or run where " +
                           o.data_dir + "/admin.token is readable");
  }
  return ApiClient(url, token);
}

int Report(const Status& s) {
  std::cerr << "nereid: " << s.message() << "\n";
  return 1;
}

std::string Cell(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "-";
  return v.dump();
}

}  // namespace

void AddConnectionOptions(CLI::App* app, RunsOptions* o) {
  app->add_option("--url", o->url, "Server URL (default $NEREID_URL or http://127.0.0.1:4870)");
  app->add_option("--token", o->token,
                  "API token (default $NEREID_API_TOKEN or <data>/admin.token)");
  app->add_option("--data", o->data_dir, "Local data directory holding admin.token")
      ->capture_default_str();
}

int ListRuns(const RunsOptions& o) {
  auto client = Connect(o);
  if (!client.ok()) return Report(client.status());
  std::string q = "/api/v1/projects/" + o.project + "/runs?limit=" + std::to_string(o.limit) +
                  "&sort=" + ApiClient::Escape(o.sort);
  if (!o.filter.empty()) q += "&filter=" + ApiClient::Escape(o.filter);
  if (!o.columns.empty()) q += "&columns=" + ApiClient::Escape(o.columns);
  if (o.trashed) q += "&trashed=true";
  auto page = client->Get(q);
  if (!page.ok()) return Report(page.status());
  std::cout << fmt::format("{:<14} {:<10} {:<24} {}\n", "ID", "STATE", "CREATED", "NAME");
  for (const auto& run : (*page)["runs"]) {
    std::cout << fmt::format("{:<14} {:<10} {:<24} {}", Cell(run["id"]), Cell(run["state"]),
                             Cell(run["creation_time"]).substr(0, 19), Cell(run["name"]));
    for (const auto& [name, value] : run["columns"].items()) {
      std::cout << "  " << name << "=" << Cell(value);
    }
    std::cout << "\n";
  }
  std::cout << (*page)["total"].get<uint64_t>() << " run(s)\n";
  return 0;
}

int ShowRun(const RunsOptions& o) {
  auto client = Connect(o);
  if (!client.ok()) return Report(client.status());
  auto fields = client->Get("/api/v1/runs/" + ApiClient::Escape(o.run_id) + "/fields");
  if (!fields.ok()) return Report(fields.status());
  for (const auto& f : (*fields)["fields"]) {
    std::string type = f["type"].get<std::string>();
    std::string shown;
    if (f.contains("value")) {
      shown = Cell(f["value"]);
    } else {
      shown = fmt::format("{} points", f.value("count", 0));
      if (f.contains("last")) shown += ", last " + Cell(f["last"]);
      if (f.contains("min"))
        shown += fmt::format(", min {} max {}", Cell(f["min"]), Cell(f["max"]));
    }
    std::cout << fmt::format("{:<40} {:<14} {}\n", Cell(f["path"]), type, shown);
  }
  return 0;
}

int ChangeRuns(const RunsOptions& o, const std::string& action) {
  if (action == "delete" && !o.yes) {
    return Report(InvalidArgument(
        "deleting runs forever cannot be undone; pass --yes to delete " +
        std::to_string(o.run_ids.size()) + " run(s) of " + o.project + " from the trash"));
  }
  auto client = Connect(o);
  if (!client.ok()) return Report(client.status());
  auto done = client->Send("POST", "/api/v1/projects/" + o.project + "/runs/" + action,
                           {{"runs", o.run_ids}});
  if (!done.ok()) return Report(done.status());
  if (action == "trash") {
    std::cout << o.run_ids.size() << " run(s) moved to the trash (restore with `nereid runs "
              << "restore`)\n";
  } else if (action == "restore") {
    std::cout << o.run_ids.size() << " run(s) restored\n";
  } else {
    std::cout << (*done)["deleted"].size() << " run(s) deleted forever, "
              << (*done)["freed_bytes"].get<int64_t>() << " bytes freed, "
              << (*done)["removed_files"].get<uint64_t>() << " file(s) removed\n";
  }
  return 0;
}

}  // namespace nereid::cli
