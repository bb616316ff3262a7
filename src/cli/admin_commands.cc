#include "cli/admin_commands.h"

#include <fmt/format.h>
#include <termios.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

#include "cli/api_client.h"
#include "cli/offline_transport.h"

namespace nereid::cli {
namespace {

using nlohmann::json;

struct AdminState {
  std::string url, token, data_dir = "./nereid-data", store_url;
  bool offline = false;
  // Positional arguments and options shared by the leaves (each leaf uses a few).
  std::string a, b, c;
  std::string name, key, kind = "user";
  bool admin_flag = false, clear = false, service = false;
  int64_t rpm = -1, burst = -1;
  int* exit_code = nullptr;
};

std::string Str(const json& v) {
  if (v.is_null()) return "-";
  if (v.is_string()) return v.get<std::string>();
  return v.dump();
}

// Online with --url (or $NEREID_URL) or when a server answers on the default URL; offline with
// --offline, or when nothing answers there but the data directory exists (said on stderr, since
// the same command would otherwise have failed with "cannot reach").
Result<ApiClient> Connect(const AdminState& s) {
  if (s.offline) return OpenOffline({s.data_dir, s.store_url});
  if (s.url.empty() && std::getenv("NEREID_URL") == nullptr) {
    std::string url = DefaultApiUrl();
    std::error_code ec;
    if (!ServerAnswers(url) && std::filesystem::is_directory(s.data_dir, ec)) {
      std::cerr << "nereid: no server answers at " << url << "; working offline on " << s.data_dir
                << "\n";
      return OpenOffline({s.data_dir, s.store_url});
    }
  }
  return ConnectApi(s.url, s.token, s.data_dir);
}

// Wraps an action: connects, runs it, reports errors, sets the exit code.
std::function<void()> Action(std::shared_ptr<AdminState> s,
                             std::function<Result<std::string>(const ApiClient&)> f) {
  return [s, f] {
    auto client = Connect(*s);
    Result<std::string> out = client.ok() ? f(*client) : Result<std::string>(client.status());
    if (!out.ok()) {
      std::cerr << "nereid: " << out.status().message() << "\n";
      *s->exit_code = 1;
      return;
    }
    std::cout << *out << std::flush;
    *s->exit_code = 0;
  };
}

std::string Esc(const std::string& s) {
  return ApiClient::Escape(s);
}

// "ws" -> "/workspaces/ws", "ws/project" -> "/projects/ws/project".
std::string ScopePath(const std::string& scope) {
  size_t slash = scope.find('/');
  if (slash == std::string::npos) return "/api/v1/workspaces/" + Esc(scope);
  return "/api/v1/projects/" + Esc(scope.substr(0, slash)) + "/" + Esc(scope.substr(slash + 1));
}

// One line from standard input, without its line end; echo is off while a terminal types it.
Result<std::string> ReadSecretLine(bool tty) {
  termios saved{};
  bool echo_off = tty && tcgetattr(STDIN_FILENO, &saved) == 0;
  if (echo_off) {
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  }
  std::string line;
  bool got = static_cast<bool>(std::getline(std::cin, line));
  if (echo_off) {
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
    std::cerr << "\n";
  }
  if (!got) return InvalidArgument("no password on standard input");
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

// The new password comes from standard input, never from an argument (arguments show in `ps` and
// in shell history): typed twice on a terminal, else the first line, so a script can pipe it in.
Result<std::string> ReadNewPassword(const std::string& user) {
  bool tty = isatty(STDIN_FILENO) != 0;
  if (tty) std::cerr << "New password for '" << user << "': " << std::flush;
  NEREID_ASSIGN_OR_RETURN(std::string first, ReadSecretLine(tty));
  if (tty) {
    std::cerr << "Again: " << std::flush;
    NEREID_ASSIGN_OR_RETURN(std::string again, ReadSecretLine(tty));
    if (again != first) return InvalidArgument("the two passwords differ; nothing was changed");
  }
  return first;
}

json RateBody(const AdminState& s) {
  if (s.clear) return nullptr;
  json r = {{"requests_per_minute", s.rpm}};
  if (s.burst >= 0) r["burst"] = s.burst;
  return r;
}

}  // namespace

CLI::App* AddAdminCommands(CLI::App* app, int* exit_code) {
  auto s = std::make_shared<AdminState>();
  s->exit_code = exit_code;
  auto* admin = app->add_subcommand("admin", "Manage users, workspaces, members, tokens, limits");
  admin->require_subcommand(1);
  admin->add_option("--url", s->url, "Server URL (default $NEREID_URL or http://127.0.0.1:4870)");
  admin->add_option("--token", s->token,
                    "Admin API token (default $NEREID_API_TOKEN or <data>/admin.token)");
  admin->add_option("--data", s->data_dir, "Data directory (admin.token; offline: the store)")
      ->capture_default_str();
  auto* offline = admin->add_flag(
      "--offline", s->offline,
      "Work on the data directory of a stopped server instead of the API (no token needed)");
  admin->get_option("--url")->excludes(offline);
  admin
      ->add_option("--store", s->store_url,
                   "With --offline: the server's store URL (default sqlite:<data>; postgres://...)")
      ->needs(offline);

  // --- users ---
  auto* users = admin->add_subcommand("users", "Users and service accounts");
  users->require_subcommand(1);
  auto* add = users->add_subcommand("add", "Add a user (or --service account)");
  add->add_option("name", s->a, "User name")->required();
  add->add_flag("--admin", s->admin_flag, "Make a server administrator");
  add->add_flag("--service", s->service, "A service account (for CI jobs)");
  add->callback([s] {
    s->kind = s->service ? "service" : "user";
    Action(s, [s](const ApiClient& c) -> Result<std::string> {
      NEREID_ASSIGN_OR_RETURN(
          auto u, c.Send("POST", "/api/v1/users",
                         {{"name", s->a}, {"kind", s->kind}, {"is_admin", s->admin_flag}}));
      return fmt::format("created {} '{}'\n", Str(u["kind"]), Str(u["name"]));
    })();
  });
  users->add_subcommand("ls", "List users")
      ->callback(Action(s, [](const ApiClient& c) -> Result<std::string> {
        NEREID_ASSIGN_OR_RETURN(auto j, c.Get("/api/v1/users"));
        std::string out = fmt::format("{:<24} {:<8} {:<6} {:<9} {}\n", "NAME", "KIND", "ADMIN",
                                      "DISABLED", "RATE LIMIT");
        for (const auto& u : j["users"]) {
          out += fmt::format("{:<24} {:<8} {:<6} {:<9} {}\n", Str(u["name"]), Str(u["kind"]),
                             u["is_admin"].get<bool>() ? "yes" : "no",
                             u["disabled"].get<bool>() ? "yes" : "no", Str(u["rate_limit"]));
        }
        return out;
      }));
  auto* passwd = users->add_subcommand(
      "passwd", "Set USER's web login password (read from standard input, or asked twice)");
  passwd->add_option("name", s->a, "User name")->required();
  passwd->callback(Action(s, [s](const ApiClient& c) -> Result<std::string> {
    NEREID_ASSIGN_OR_RETURN(std::string password, ReadNewPassword(s->a));
    // The server checks the length (8-1024 bytes) and refuses service accounts, with messages.
    NEREID_RETURN_IF_ERROR(
        c.Send("PUT", "/api/v1/users/" + Esc(s->a) + "/password", {{"password", password}})
            .status());
    return fmt::format("password of '{}' set\n", s->a);
  }));
  for (bool disable : {true, false}) {
    auto* cmd = users->add_subcommand(
        disable ? "disable" : "enable",
        disable ? "Disable a user (their tokens stop working)" : "Enable a disabled user");
    cmd->add_option("name", s->a, "User name")->required();
    cmd->callback(Action(s, [s, disable](const ApiClient& c) -> Result<std::string> {
      NEREID_RETURN_IF_ERROR(
          c.Send("PATCH", "/api/v1/users/" + Esc(s->a), {{"disabled", disable}}).status());
      return fmt::format("{} '{}'\n", disable ? "disabled" : "enabled", s->a);
    }));
  }

  // --- workspaces and projects ---
  auto* workspaces = admin->add_subcommand("workspaces", "Workspaces");
  workspaces->require_subcommand(1);
  auto* wadd = workspaces->add_subcommand("add", "Create a workspace");
  wadd->add_option("name", s->a, "Workspace name")->required();
  wadd->callback(Action(s, [s](const ApiClient& c) -> Result<std::string> {
    NEREID_RETURN_IF_ERROR(c.Send("POST", "/api/v1/workspaces", {{"name", s->a}}).status());
    return fmt::format("created workspace '{}'\n", s->a);
  }));
  workspaces->add_subcommand("ls", "List workspaces")
      ->callback(Action(s, [](const ApiClient& c) -> Result<std::string> {
        NEREID_ASSIGN_OR_RETURN(auto j, c.Get("/api/v1/workspaces"));
        std::string out;
        for (const auto& w : j["workspaces"]) out += Str(w["name"]) + "\n";
        return out;
      }));
  auto* projects = admin->add_subcommand("projects", "Projects");
  projects->require_subcommand(1);
  auto* padd = projects->add_subcommand("add", "Create a project");
  padd->add_option("project", s->a, "workspace/project")->required();
  padd->add_option("--key", s->key, "Run id prefix: 1-10 capitals (e.g. VIS)")->required();
  padd->callback(Action(s, [s](const ApiClient& c) -> Result<std::string> {
    size_t slash = s->a.find('/');
    if (slash == std::string::npos) return InvalidArgument("project must be workspace/project");
    NEREID_RETURN_IF_ERROR(c.Send("POST",
                                  "/api/v1/workspaces/" + Esc(s->a.substr(0, slash)) + "/projects",
                                  {{"name", s->a.substr(slash + 1)}, {"key", s->key}})
                               .status());
    return fmt::format("created project '{}' (key {})\n", s->a, s->key);
  }));
  auto* pls = projects->add_subcommand("ls", "List the projects of a workspace");
  pls->add_option("workspace", s->a, "Workspace")->required();
  pls->callback(Action(s, [s](const ApiClient& c) -> Result<std::string> {
    NEREID_ASSIGN_OR_RETURN(auto j, c.Get("/api/v1/workspaces/" + Esc(s->a) + "/projects"));
    std::string out;
    for (const auto& p : j["projects"]) {
      out += fmt::format("{:<32} {}\n", Str(p["workspace"]) + "/" + Str(p["name"]), Str(p["key"]));
    }
    return out;
  }));

  // --- members ---
  auto* members = admin->add_subcommand("members", "Workspace and project members and roles");
  members->require_subcommand(1);
  auto* mset = members->add_subcommand(
      "set",
      "Give USER a ROLE in a workspace (admin|member) or project (owner|contributor|viewer)");
  mset->add_option("scope", s->a, "workspace or workspace/project")->required();
  mset->add_option("user", s->b, "User name")->required();
  mset->add_option("role", s->c, "Role")->required();
  mset->callback(Action(s, [s](const ApiClient& c) -> Result<std::string> {
    NEREID_RETURN_IF_ERROR(
        c.Send("PUT", ScopePath(s->a) + "/members/" + Esc(s->b), {{"role", s->c}}).status());
    return fmt::format("'{}' is now {} of '{}'\n", s->b, s->c, s->a);
  }));
  auto* mrm = members->add_subcommand("rm", "Remove USER from a workspace or project");
  mrm->add_option("scope", s->a, "workspace or workspace/project")->required();
  mrm->add_option("user", s->b, "User name")->required();
  mrm->callback(Action(s, [s](const ApiClient& c) -> Result<std::string> {
    NEREID_RETURN_IF_ERROR(c.Send("DELETE", ScopePath(s->a) + "/members/" + Esc(s->b)).status());
    return fmt::format("removed '{}' from '{}'\n", s->b, s->a);
  }));
  auto* mls = members->add_subcommand("ls", "List the members of a workspace or project");
  mls->add_option("scope", s->a, "workspace or workspace/project")->required();
  mls->callback(Action(s, [s](const ApiClient& c) -> Result<std::string> {
    NEREID_ASSIGN_OR_RETURN(auto j, c.Get(ScopePath(s->a) + "/members"));
    std::string out;
    for (const auto& m : j["members"])
      out += fmt::format("{:<24} {}\n", Str(m["user"]), Str(m["role"]));
    return out;
  }));

  // --- tokens ---
  auto* tokens = admin->add_subcommand("tokens", "API tokens");
  tokens->require_subcommand(1);
  auto* issue = tokens->add_subcommand("issue", "Issue a token for USER (printed once)");
  issue->add_option("user", s->a, "User name")->required();
  issue->add_option("--name", s->name, "A label for the token (e.g. ci, laptop)");
  issue->callback(Action(s, [s](const ApiClient& c) -> Result<std::string> {
    NEREID_ASSIGN_OR_RETURN(
        auto t, c.Send("POST", "/api/v1/users/" + Esc(s->a) + "/tokens", {{"name", s->name}}));
    return fmt::format("token {} for '{}' (shown once; store it now):\n{}\n", Str(t["id"]), s->a,
                       Str(t["token"]));
  }));
  auto* tls = tokens->add_subcommand("ls", "List the tokens of USER");
  tls->add_option("user", s->a, "User name")->required();
  tls->callback(Action(s, [s](const ApiClient& c) -> Result<std::string> {
    NEREID_ASSIGN_OR_RETURN(auto j, c.Get("/api/v1/users/" + Esc(s->a) + "/tokens"));
    std::string out = fmt::format("{:<6} {:<16} {:<28} {:<28} {}\n", "ID", "NAME", "CREATED",
                                  "LAST USED", "REVOKED");
    for (const auto& t : j["tokens"]) {
      out += fmt::format("{:<6} {:<16} {:<28} {:<28} {}\n", Str(t["id"]), Str(t["name"]),
                         Str(t["creation_time"]), Str(t["last_used"]),
                         t["revoked"].get<bool>() ? "yes" : "no");
    }
    return out;
  }));
  auto* revoke = tokens->add_subcommand("revoke", "Revoke a token by id");
  revoke->add_option("id", s->a, "Token id (from tokens ls)")->required();
  revoke->callback(Action(s, [s](const ApiClient& c) -> Result<std::string> {
    NEREID_RETURN_IF_ERROR(c.Send("DELETE", "/api/v1/tokens/" + Esc(s->a)).status());
    return fmt::format("revoked token {}\n", s->a);
  }));

  // --- limits and quotas ---
  auto* limits = admin->add_subcommand("limits", "Request rate limits and storage quotas");
  limits->require_subcommand(1);
  auto* lshow = limits->add_subcommand("show", "Show your own limits and current use");
  lshow->callback(Action(s, [](const ApiClient& c) -> Result<std::string> {
    NEREID_ASSIGN_OR_RETURN(auto j, c.Get("/api/v1/limits"));
    return j.dump(2) + "\n";
  }));
  auto* luser = limits->add_subcommand("user", "Set (or --clear) USER's request rate");
  luser->add_option("user", s->a, "User name")->required();
  luser->add_option("--rpm", s->rpm, "Requests per minute (0: unlimited)");
  luser->add_option("--burst", s->burst, "Requests at once (default rpm/5)");
  luser->add_flag("--clear", s->clear, "Use the workspace or server default again");
  luser->callback(Action(s, [s](const ApiClient& c) -> Result<std::string> {
    if (!s->clear && s->rpm < 0) return InvalidArgument("give --rpm N or --clear");
    NEREID_ASSIGN_OR_RETURN(
        auto u, c.Send("PATCH", "/api/v1/users/" + Esc(s->a), {{"rate_limit", RateBody(*s)}}));
    return fmt::format("rate limit of '{}': {}\n", s->a, Str(u["rate_limit"]));
  }));
  auto* lws = limits->add_subcommand("workspace", "Set (or --clear) a workspace's request rate");
  lws->add_option("workspace", s->a, "Workspace")->required();
  lws->add_option("--rpm", s->rpm, "Requests per minute per member (0: unlimited)");
  lws->add_option("--burst", s->burst, "Requests at once (default rpm/5)");
  lws->add_flag("--clear", s->clear, "Use the server default again");
  lws->callback(Action(s, [s](const ApiClient& c) -> Result<std::string> {
    if (!s->clear && s->rpm < 0) return InvalidArgument("give --rpm N or --clear");
    NEREID_ASSIGN_OR_RETURN(auto j, c.Send("PUT", "/api/v1/workspaces/" + Esc(s->a) + "/limits",
                                           {{"rate_limit", RateBody(*s)}}));
    return fmt::format("rate limit of workspace '{}': {}\n", s->a, Str(j["rate_limit"]));
  }));
  auto* quota = limits->add_subcommand("quota", "Set a workspace's storage quota in bytes");
  quota->add_option("workspace", s->a, "Workspace")->required();
  quota->add_option("bytes", s->b, "Bytes, or 'unlimited'")->required();
  quota->callback(Action(s, [s](const ApiClient& c) -> Result<std::string> {
    json q = nullptr;
    if (s->b != "unlimited") {
      try {
        size_t used = 0;
        q = std::stoll(s->b, &used);
        if (used != s->b.size() || q.get<int64_t>() < 0) throw std::invalid_argument("bytes");
      } catch (const std::exception&) {
        return InvalidArgument("bytes must be a non-negative integer or 'unlimited'");
      }
    }
    NEREID_ASSIGN_OR_RETURN(
        auto j, c.Send("PUT", "/api/v1/workspaces/" + Esc(s->a) + "/limits", {{"quota_bytes", q}}));
    return fmt::format("storage quota of workspace '{}': {}\n", s->a, Str(j["quota_bytes"]));
  }));
  auto* usage = admin->add_subcommand("usage", "Storage used by a workspace, per project");
  usage->add_option("workspace", s->a, "Workspace")->required();
  usage->callback(Action(s, [s](const ApiClient& c) -> Result<std::string> {
    NEREID_ASSIGN_OR_RETURN(auto j, c.Get("/api/v1/workspaces/" + Esc(s->a) + "/usage"));
    std::string out = fmt::format(
        "workspace {}: {} bytes used of {}\n", s->a, Str(j["used_bytes"]),
        j["quota_bytes"].is_null() ? std::string("unlimited") : Str(j["quota_bytes"]) + " bytes");
    for (const auto& p : j["projects"]) {
      out += fmt::format("  {:<32} {:>8} runs {:>6} notebook checkpoints {:>16} bytes ({} in them)\n",
                         Str(p["project"]), Str(p["runs"]), Str(p["notebook_checkpoints"]),
                         Str(p["used_bytes"]), Str(p["notebook_bytes"]));
    }
    return out;
  }));
  return admin;
}

}  // namespace nereid::cli
