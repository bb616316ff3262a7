#include "cli/notebook_commands.h"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>

#include "cli/api_client.h"

namespace nereid::cli {
namespace {

struct NotebookState {
  std::string url, token, data_dir = "./nereid-data";
  std::string file, project, name;
};

Result<std::string> Upload(const NotebookState& s) {
  if (s.project.find('/') == std::string::npos) {
    return InvalidArgument("--project must be workspace/project");
  }
  std::ifstream in(s.file, std::ios::binary);
  if (!in) return NotFound("cannot read " + s.file);
  std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::string name = s.name.empty() ? std::filesystem::path(s.file).filename().string() : s.name;
  NEREID_ASSIGN_OR_RETURN(ApiClient client, ConnectApi(s.url, s.token, s.data_dir));
  std::string ws = s.project.substr(0, s.project.find('/'));
  std::string project = s.project.substr(s.project.find('/') + 1);
  NEREID_ASSIGN_OR_RETURN(
      auto j, client.SendRaw("POST",
                             "/api/v1/projects/" + ApiClient::Escape(ws) + "/" +
                                 ApiClient::Escape(project) +
                                 "/notebooks/checkpoints?path=" + ApiClient::Escape(name),
                             body, "application/x-ipynb+json"));
  return fmt::format("{} checkpoint {} of notebook '{}' in {} ({} cells): {}\n",
                     j.value("created", false) ? "uploaded" : "already had", j.value("number", 0),
                     name, s.project, j.value("cells", 0), j.value("id", std::string()));
}

}  // namespace

CLI::App* AddNotebookCommands(CLI::App* app, int* exit_code) {
  auto s = std::make_shared<NotebookState>();
  auto* nb = app->add_subcommand("notebook", "Jupyter notebook checkpoints");
  nb->require_subcommand(1);
  nb->add_option("--url", s->url, "Server URL (default $NEREID_URL or http://127.0.0.1:4870)");
  nb->add_option("--token", s->token,
                 "API token (default $NEREID_API_TOKEN or <data>/admin.token)");
  nb->add_option("--data", s->data_dir, "Local data directory holding admin.token")
      ->capture_default_str();
  auto* upload = nb->add_subcommand("upload", "Upload an .ipynb file as a checkpoint");
  upload->add_option("path", s->file, "The .ipynb file")->required();
  upload->add_option("--project", s->project, "workspace/project")->required();
  upload->add_option("--name", s->name, "Notebook name in the project (default: the file name)");
  upload->callback([s, exit_code] {
    Result<std::string> out = Upload(*s);
    if (!out.ok()) {
      std::cerr << "nereid: " << out.status().message() << "\n";
      *exit_code = 1;
      return;
    }
    std::cout << *out;
    *exit_code = 0;
  });
  return nb;
}

}  // namespace nereid::cli
