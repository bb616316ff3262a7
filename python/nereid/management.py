"""`from nereid import management`: the trash calls of Neptune's `neptune.management`, so a script
moves by changing its import. project is "workspace/project" (or a project name plus
workspace=); api_token and the server default to NEREID_API_TOKEN / NEPTUNE_API_TOKEN and
NEREID_URL. Other neptune.management calls raise NereidUnsupportedError naming the call."""

from __future__ import annotations

import os
from typing import Any, Dict, Iterable, List, Optional, Union

from nereid.exceptions import unsupported
from nereid.project import Project

Ids = Union[str, Iterable[str]]


def _project(project: str, workspace: Optional[str], api_token: Optional[str]) -> Project:
    name = f"{workspace}/{project}" if workspace and "/" not in project else project
    token = api_token or os.environ.get("NEREID_API_TOKEN") or os.environ.get("NEPTUNE_API_TOKEN")
    return Project(project=name, api_token=token or None)


def trash_objects(project: str, ids: Ids, workspace: Optional[str] = None,
                  api_token: Optional[str] = None) -> List[str]:
    """Moves runs to the project's trash (Neptune: neptune.management.trash_objects)."""
    return _project(project, workspace, api_token).trash_runs(ids)


def restore_objects_from_trash(project: str, ids: Ids, workspace: Optional[str] = None,
                               api_token: Optional[str] = None) -> List[str]:
    """Takes runs out of the trash (not in Neptune's API, which restores only in its web UI)."""
    return _project(project, workspace, api_token).restore_runs(ids)


def delete_objects_from_trash(project: str, ids: Ids, workspace: Optional[str] = None,
                              api_token: Optional[str] = None) -> Dict[str, Any]:
    """Deletes trashed runs forever, freeing their storage (needs the project owner)."""
    return _project(project, workspace, api_token).delete_runs(ids)


def clear_trash(project: str, workspace: Optional[str] = None,
                api_token: Optional[str] = None) -> Dict[str, Any]:
    """Deletes every run in the project's trash forever."""
    return _project(project, workspace, api_token).clear_trash()


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    raise unsupported(f"neptune.management.{name}()",
                      "nereid.management has only the trash calls; manage users, projects "
                      "and workspaces with `nereid admin`")
