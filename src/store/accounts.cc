#include "store/accounts.h"

namespace nereid::store {

std::string_view UserKindName(UserKind kind) {
  return kind == UserKind::kService ? "service" : "user";
}

std::string_view WorkspaceRoleName(WorkspaceRole role) {
  return role == WorkspaceRole::kAdmin ? "admin" : "member";
}

std::optional<WorkspaceRole> ParseWorkspaceRole(std::string_view name) {
  if (name == "admin") return WorkspaceRole::kAdmin;
  if (name == "member") return WorkspaceRole::kMember;
  return std::nullopt;
}

std::string_view ProjectRoleName(ProjectRole role) {
  switch (role) {
    case ProjectRole::kOwner:
      return "owner";
    case ProjectRole::kContributor:
      return "contributor";
    case ProjectRole::kViewer:
      return "viewer";
  }
  return "viewer";
}

std::optional<ProjectRole> ParseProjectRole(std::string_view name) {
  if (name == "owner") return ProjectRole::kOwner;
  if (name == "contributor") return ProjectRole::kContributor;
  if (name == "viewer") return ProjectRole::kViewer;
  return std::nullopt;
}

}  // namespace nereid::store
