#include "server/auth_policy.h"

#include <gtest/gtest.h>

namespace nereid::server {
namespace {

http::Request Req(std::string method, std::string route,
                  std::map<std::string, std::string> params) {
  http::Request r;
  r.method = std::move(method);
  r.route = std::move(route);
  r.path_params = std::move(params);
  return r;
}

std::optional<std::string> Keys(std::string_view key) {
  if (key == "SAND") return "default/sandbox";
  if (key == "OTHER") return "acme/other";
  return std::nullopt;
}

Principal User(std::string name) {
  Principal p;
  p.user_id = 7;
  p.user = std::move(name);
  return p;
}

constexpr const char* kBatches = "/api/v1/runs/{run_id}/batches";
constexpr const char* kRuns = "/api/v1/projects/{workspace}/{project}/runs";

TEST(AuthPolicy, ProjectRolesOrderReadWriteManage) {
  Principal viewer = User("v");
  viewer.projects["default/sandbox"] = store::ProjectRole::kViewer;
  Principal contributor = User("c");
  contributor.projects["default/sandbox"] = store::ProjectRole::kContributor;
  auto read = Req("GET", "/api/v1/runs/{run_id}", {{"run_id", "SAND-1"}});
  auto write = Req("POST", kBatches, {{"run_id", "SAND-1"}});
  auto manage = Req("PUT", "/api/v1/projects/{workspace}/{project}/members/{user}",
                    {{"workspace", "default"}, {"project", "sandbox"}, {"user", "x"}});
  EXPECT_TRUE(Authorize(viewer, read, Keys).ok());
  EXPECT_EQ(Authorize(viewer, write, Keys).code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(Authorize(contributor, write, Keys).ok());
  EXPECT_EQ(Authorize(contributor, manage, Keys).code(), StatusCode::kPermissionDenied);
}

TEST(AuthPolicy, OtherProjectAndWorkspaceAreDenied) {
  Principal p = User("c");
  p.projects["acme/other"] = store::ProjectRole::kOwner;
  p.workspaces["acme"] = store::WorkspaceRole::kMember;
  EXPECT_EQ(Authorize(p, Req("POST", kBatches, {{"run_id", "SAND-3"}}), Keys).code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(
      Authorize(p, Req("GET", kRuns, {{"workspace", "default"}, {"project", "sandbox"}}), Keys)
          .code(),
      StatusCode::kPermissionDenied);
  EXPECT_EQ(
      Authorize(p,
                Req("GET", "/api/v1/workspaces/{workspace}/projects", {{"workspace", "default"}}),
                Keys)
          .code(),
      StatusCode::kPermissionDenied);
  EXPECT_TRUE(
      Authorize(p, Req("GET", "/api/v1/workspaces/{workspace}/projects", {{"workspace", "acme"}}),
                Keys)
          .ok());
}

TEST(AuthPolicy, WorkspaceAdminOwnsEveryProjectOfTheWorkspace) {
  Principal p = User("wa");
  p.workspaces["default"] = store::WorkspaceRole::kAdmin;
  EXPECT_TRUE(Authorize(p, Req("POST", kBatches, {{"run_id", "SAND-3"}}), Keys).ok());
  EXPECT_EQ(Authorize(p, Req("POST", kBatches, {{"run_id", "OTHER-3"}}), Keys).code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(Authorize(p, Req("POST", "/api/v1/workspaces", {}), Keys).code(),
            StatusCode::kPermissionDenied);
}

TEST(AuthPolicy, ServerAdminMayDoEverything) {
  Principal admin = User("admin");
  admin.is_admin = true;
  EXPECT_TRUE(Authorize(admin, Req("POST", "/api/v1/workspaces", {}), Keys).ok());
  EXPECT_TRUE(Authorize(admin, Req("POST", kBatches, {{"run_id", "NOPE-1"}}), Keys).ok());
  EXPECT_TRUE(Authorize(admin, Req("GET", "/api/v1/users/{user}", {{"user", "x"}}), Keys).ok());
}

TEST(AuthPolicy, UnknownRunKeyIsNotFoundForNonAdmins) {
  Principal p = User("c");
  EXPECT_EQ(Authorize(p, Req("GET", "/api/v1/runs/{run_id}", {{"run_id", "NOPE-1"}}), Keys).code(),
            StatusCode::kNotFound);
}

TEST(AuthPolicy, SelfOrAdmin) {
  Principal p = User("alice");
  EXPECT_TRUE(
      Authorize(p, Req("GET", "/api/v1/users/{user}/tokens", {{"user", "alice"}}), Keys).ok());
  EXPECT_EQ(Authorize(p, Req("GET", "/api/v1/users/{user}/tokens", {{"user", "bob"}}), Keys).code(),
            StatusCode::kPermissionDenied);
}

TEST(AuthPolicy, UnlistedRouteIsRefused) {
  Principal admin = User("admin");
  admin.is_admin = true;
  EXPECT_FALSE(RequirementFor("GET", "/api/v1/something-new").has_value());
  EXPECT_EQ(Authorize(admin, Req("GET", "/api/v1/something-new", {}), Keys).code(),
            StatusCode::kPermissionDenied);
  EXPECT_TRUE(RequirementFor("HEAD", "/api/v1/runs/{run_id}/file").has_value());
}

}  // namespace
}  // namespace nereid::server
