"""Project: the runs table of a project (Neptune's init_project().fetch_runs_table()) and its
trash (trash_runs, restore_runs, delete_runs; docs/python.md)."""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, Optional

from nereid import _core
from nereid import exceptions as exc
from nereid._http import Client

_RUN_COLUMNS = {"id": "sys/id", "name": "sys/name", "description": "sys/description",
                "state": "sys/state", "failed": "sys/failed", "owner": "sys/owner",
                "creation_time": "sys/creation_time",
                "modification_time": "sys/modification_time", "ping_time": "sys/ping_time",
                "custom_run_id": "sys/custom_run_id", "tags": "sys/tags", "size": "sys/size"}


class Table:
    """Rows of a runs table; to_pandas() makes a DataFrame with one column per field."""

    def __init__(self, rows: List[Dict[str, Any]]):
        self._rows = rows

    def __len__(self) -> int:
        return len(self._rows)

    def __iter__(self):
        return iter(self._rows)

    def to_rows(self) -> List[Dict[str, Any]]:
        return list(self._rows)

    def to_pandas(self):
        import pandas as pd

        return pd.DataFrame(self._rows)


class Project:
    """A project of a Nereid server: its runs table and its trash. Thread-safe; every call is a
    blocking HTTP request."""

    def __init__(self, project: Optional[str] = None, api_token: Optional[str] = None,
                 mode: str = "read-only", url: Optional[str] = None):
        for arg, v in (("project", project), ("api_token", api_token), ("url", url)):
            if v is not None and not isinstance(v, str):  # named here; the core cannot say
                raise exc.NereidTypeError(
                    f"init_project({arg}=): expected a str, not {type(v).__name__}")
        resolved = _core.resolve_options({"project": project, "api_token": api_token,
                                          "url": url})
        self.project = resolved["project"]
        self._http = Client(resolved["url"], resolved["api_token"])

    def fetch_runs_table(self, query: Optional[str] = None,
                         columns: Optional[Iterable[str]] = None,
                         sort_by: str = "sys/creation_time", ascending: bool = False,
                         limit: Optional[int] = None, tag: Any = None, state: Any = None,
                         owner: Any = None, id: Any = None, **kwargs: Any) -> Table:
        """Runs matching `query` (the filter language of docs/filter-language.md), newest first
        by default. A column or sort field that is a series stands for its last value
        ("train/loss" = "train/loss:last"). tag/state/owner/id narrow the query as in Neptune."""
        if kwargs:
            raise exc.unsupported(f"Project.fetch_runs_table({', '.join(kwargs)}=)")
        clauses = [f"({query})"] if query else []
        for t in _as_list(tag):
            clauses.append(f"sys/tags contains {_lit(t)}")
        states = _as_list(state)
        if states:
            ors = []
            for s in states:
                if s == "active":
                    ors.append('sys/state = "running"')
                elif s == "inactive":
                    ors.append('sys/state != "running"')
                else:
                    ors.append(f"sys/state = {_lit(s)}")
            clauses.append("(" + " or ".join(ors) + ")")
        if _as_list(owner):
            clauses.append("(" + " or ".join(f"sys/owner = {_lit(o)}"
                                             for o in _as_list(owner)) + ")")
        ids = set(_as_list(id))
        flt = " and ".join(clauses) or None
        cols = list(columns) if columns is not None else []
        server_cols = [_column(c) for c in cols]
        rows: List[Dict[str, Any]] = []
        cursor = None
        path = f"/api/v1/projects/{self.project}/runs"
        while True:
            page = self._http.get_json(path, {
                "filter": flt, "sort": _column(sort_by), "order": "asc" if ascending else "desc",
                "columns": ",".join(server_cols) if server_cols else None, "limit": 1000,
                "cursor": cursor})
            for r in page["runs"]:
                if ids and r.get("id") not in ids:
                    continue
                row = {col: r.get(key) for key, col in _RUN_COLUMNS.items()}
                got = r.get("columns") or {}
                for c, sc in zip(cols, server_cols):
                    v = got.get(sc, got.get(c))
                    row[c] = float(v) if v in ("NaN", "Infinity", "-Infinity") else v
                rows.append(row)
                if limit is not None and len(rows) >= limit:
                    return Table(rows)
            cursor = page.get("next_cursor")
            if not cursor:
                return Table(rows)

    def fetch_trash(self) -> Table:
        """The runs in the project's trash (hidden from fetch_runs_table), newest first."""
        rows: List[Dict[str, Any]] = []
        cursor = None
        while True:
            page = self._http.get_json(f"/api/v1/projects/{self.project}/runs",
                                       {"trashed": "true", "limit": 1000, "cursor": cursor})
            for r in page["runs"]:
                row = {col: r.get(key) for key, col in _RUN_COLUMNS.items()}
                row["sys/trashed_time"] = r.get("trashed_time")
                rows.append(row)
            cursor = page.get("next_cursor")
            if not cursor:
                return Table(rows)

    def trash_runs(self, ids: Any) -> List[str]:
        """Moves runs ("SAND-1" or a list of ids) to the trash: they leave the runs table and
        refuse new data until restored. All or nothing: NotFoundError naming unknown ids."""
        return self._change("trash", ids)["trashed"]

    def restore_runs(self, ids: Any) -> List[str]:
        """Takes runs out of the trash; data waiting in their writers' spools then uploads."""
        return self._change("restore", ids)["restored"]

    def delete_runs(self, ids: Any) -> Dict[str, Any]:
        """Deletes runs in the trash forever (needs the project owner), freeing their storage.
        NereidValueError naming any run not in the trash, and then nothing is deleted. Returns
        {"deleted": [...], "freed_bytes": N, "removed_files": N}."""
        return self._change("delete", ids)

    def clear_trash(self) -> Dict[str, Any]:
        """Deletes every run in the trash forever."""
        ids = [r["sys/id"] for r in self.fetch_trash()]
        done: Dict[str, Any] = {"deleted": [], "freed_bytes": 0, "removed_files": 0}
        for i in range(0, len(ids), 1000):  # the server takes up to 1000 runs per request
            part = self.delete_runs(ids[i:i + 1000])
            for k in done:
                done[k] += part[k]
        return done

    def _change(self, action: str, ids: Any) -> Dict[str, Any]:
        runs = _as_list(ids)
        if not runs:
            raise exc.NereidValueError(f"{action}: no run ids given")
        return self._http.post_json(f"/api/v1/projects/{self.project}/runs/{action}",
                                    {"runs": runs})

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        raise exc.unsupported(f"Project.{name}()")

    # Neptune's project-level fields (project["general/brief"] = ...) have no place in nereid:
    # without these, Python would raise a TypeError that does not say so.
    def __getitem__(self, path: str) -> Any:
        raise exc.unsupported(f"project[{path!r}]", "projects hold runs, not fields")

    def __setitem__(self, path: str, value: Any) -> None:
        raise exc.unsupported(f"project[{path!r}] = ...", "projects hold runs, not fields")


def _as_list(v: Any) -> List[Any]:
    if v is None:
        return []
    if isinstance(v, str):
        return [v]
    return list(v)


def _lit(s: str) -> str:
    return '"' + str(s).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _column(c: str) -> str:
    return c


def init_project(project: Optional[str] = None, api_token: Optional[str] = None,
                 mode: str = "read-only", url: Optional[str] = None, **kwargs: Any) -> Project:
    """A project handle for reading. project/api_token/url default to NEREID_PROJECT,
    NEREID_API_TOKEN, NEREID_URL."""
    if kwargs:
        raise exc.unsupported(f"init_project({', '.join(kwargs)}=)")
    return Project(project=project, api_token=api_token, mode=mode, url=url)
