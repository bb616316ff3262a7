// Notebooks API: upload .ipynb checkpoints to a project, list notebooks and checkpoints, fetch a
// checkpoint, diff two checkpoints cell by cell. Checkpoint bytes live in the content-addressed
// blob store, so identical uploads are stored once.
#include <openssl/evp.h>

#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "common/path.h"
#include "server/context.h"
#include "server/json_render.h"
#include "server/notebook_diff.h"
#include "store/quota.h"

namespace nereid::server {
namespace {

using nlohmann::json;

std::string ProjectOf(const http::Request& r) {
  return r.path_params.at("workspace") + "/" + r.path_params.at("project");
}

Result<std::string> NotebookPath(const http::Request& r) {
  auto path = r.Query("path");
  if (!path || path->empty()) {
    return InvalidArgument(
        "query parameter 'path' (the notebook's name, e.g. train.ipynb) is "
        "required");
  }
  if (path->size() > 1024 || !common::IsValidUtf8(*path)) {
    return InvalidArgument("notebook path must be UTF-8 of at most 1024 bytes");
  }
  for (unsigned char c : *path) {
    if (c < 0x20 || c == 0x7f) return InvalidArgument("notebook path has a control character");
  }
  return *path;
}

json CheckpointJson(const store::CheckpointInfo& c) {
  return {{"project", c.project},
          {"path", c.path},
          {"id", c.sha256},
          {"sha256", c.sha256},
          {"size", c.size},
          {"number", c.number},
          {"creation_time", IsoTime(c.creation_time_us)},
          {"created_by", c.created_by}};
}

std::string Sha256Hex(std::string_view bytes) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), md, &len, EVP_sha256(), nullptr);
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += kDigits[md[i] >> 4];
    out += kDigits[md[i] & 15];
  }
  return out;
}

// An early look at the workspace's quota, before the bytes go into the files folder: blobs are
// never collected, so an upload the store will refuse must not leave its bytes there. The exact
// check is the store's, when it records the checkpoint (AddCheckpoint); this one only spares the
// disk, and says the same thing.
Status PrecheckQuota(Context* ctx, const std::string& project, const std::string& path,
                     std::string_view body) {
  const std::string workspace = project.substr(0, project.find('/'));
  auto limits = ctx->store->Accounts()->GetWorkspaceLimits(workspace);
  if (!limits.ok() || !limits->quota_bytes) return Status();  // unknown ones fail later, clearly
  auto usage = ctx->store->Accounts()->GetWorkspaceUsage(workspace);
  if (!usage.ok()) return Status();
  const int64_t size = static_cast<int64_t>(body.size());
  if (usage->used_bytes + size <= *limits->quota_bytes) return Status();
  // Content the notebook already has adds nothing, so it is never refused.
  if (ctx->store->Notebooks()->GetCheckpoint(project, path, Sha256Hex(body)).ok()) {
    return Status();
  }
  return store::CheckQuota(workspace, limits->quota_bytes, usage->used_bytes, size,
                           "this notebook checkpoint");
}

Result<std::vector<NotebookCell>> LoadCheckpoint(Context* ctx, const std::string& project,
                                                 const std::string& path, const std::string& sha) {
  if (!store::IsSha256Hex(sha)) return InvalidArgument("'" + sha + "' is not a checkpoint id");
  NEREID_RETURN_IF_ERROR(ctx->store->Notebooks()->GetCheckpoint(project, path, sha).status());
  std::ifstream in(ctx->blobs->PathOf(sha), std::ios::binary);
  if (!in) return DataLoss("the file of checkpoint " + sha + " is missing");
  std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return ParseNotebook(body);
}

}  // namespace

void AddNotebookRoutes(Context* ctx, http::Server* server) {
  store::NotebookStore* notebooks = ctx->store->Notebooks();
  const std::string base = "/api/v1/projects/{workspace}/{project}/notebooks";

  server->Route("POST", base + "/checkpoints",
                Authed(ctx, [ctx, notebooks](http::Request& r) -> Result<http::Response> {
                  NEREID_ASSIGN_OR_RETURN(std::string path, NotebookPath(r));
                  NEREID_ASSIGN_OR_RETURN(auto cells, ParseNotebook(r.body));
                  NEREID_RETURN_IF_ERROR(PrecheckQuota(ctx, ProjectOf(r), path, r.body));
                  NEREID_ASSIGN_OR_RETURN(auto upload,
                                          ctx->blobs->Begin(static_cast<int64_t>(r.body.size())));
                  NEREID_RETURN_IF_ERROR(upload->Write(r.body));
                  NEREID_ASSIGN_OR_RETURN(auto blob, upload->Commit());
                  NEREID_RETURN_IF_ERROR(ctx->store->RecordBlob(blob.sha256, blob.size));
                  bool created = false;
                  NEREID_ASSIGN_OR_RETURN(
                      auto checkpoint,
                      notebooks->AddCheckpoint(ProjectOf(r), path, blob.sha256, blob.size,
                                               CurrentPrincipal()->user, &created));
                  json j = CheckpointJson(checkpoint);
                  j["created"] = created;
                  j["cells"] = cells.size();
                  return JsonResponse(created ? 201 : 200, j);
                }));

  server->Route("GET", base, Authed(ctx, [notebooks](http::Request& r) -> Result<http::Response> {
                  NEREID_ASSIGN_OR_RETURN(auto list, notebooks->ListNotebooks(ProjectOf(r)));
                  json a = json::array();
                  for (const auto& n : list) {
                    a.push_back({{"path", n.path},
                                 {"creation_time", IsoTime(n.creation_time_us)},
                                 {"checkpoints", n.checkpoints},
                                 {"last_checkpoint_time", IsoTime(n.last_checkpoint_time_us)}});
                  }
                  return JsonResponse(200, {{"notebooks", a}});
                }));

  server->Route("GET", base + "/checkpoints",
                Authed(ctx, [notebooks](http::Request& r) -> Result<http::Response> {
                  NEREID_ASSIGN_OR_RETURN(std::string path, NotebookPath(r));
                  NEREID_ASSIGN_OR_RETURN(auto list,
                                          notebooks->ListCheckpoints(ProjectOf(r), path));
                  json a = json::array();
                  for (const auto& c : list) a.push_back(CheckpointJson(c));
                  return JsonResponse(200, {{"path", path}, {"checkpoints", a}});
                }));

  server->Route(
      "GET", base + "/checkpoints/{checkpoint}",
      Authed(ctx, [ctx, notebooks](http::Request& r) -> Result<http::Response> {
        NEREID_ASSIGN_OR_RETURN(std::string path, NotebookPath(r));
        const std::string& sha = r.path_params.at("checkpoint");
        if (!store::IsSha256Hex(sha))
          return InvalidArgument("'" + sha + "' is not a checkpoint id");
        NEREID_RETURN_IF_ERROR(notebooks->GetCheckpoint(ProjectOf(r), path, sha).status());
        std::string name =
            path.substr(path.rfind('/') == std::string::npos ? 0 : path.rfind('/') + 1);
        return http::Response::File(ctx->blobs->PathOf(sha), "application/x-ipynb+json", name);
      }));

  server->Route("GET", base + "/diff",
                Authed(ctx, [ctx](http::Request& r) -> Result<http::Response> {
                  NEREID_ASSIGN_OR_RETURN(std::string path, NotebookPath(r));
                  auto from = r.Query("from"), to = r.Query("to");
                  if (!from || !to) {
                    return InvalidArgument(
                        "query parameters 'from' and 'to' (checkpoint ids) "
                        "are required");
                  }
                  std::string project = ProjectOf(r);
                  NEREID_ASSIGN_OR_RETURN(auto a, LoadCheckpoint(ctx, project, path, *from));
                  NEREID_ASSIGN_OR_RETURN(auto b, LoadCheckpoint(ctx, project, path, *to));
                  json out = DiffNotebooks(a, b);
                  out["path"] = path;
                  out["from"] = *from;
                  out["to"] = *to;
                  return JsonResponse(200, out);
                }));
}

}  // namespace nereid::server
