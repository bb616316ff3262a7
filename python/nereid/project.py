"""Project: the runs table of a project (Neptune's init_project().fetch_runs_table())."""

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
    """A project of a Nereid server, for reading. Thread-safe; every call is a blocking HTTP
    request."""

    def __init__(self, project: Optional[str] = None, api_token: Optional[str] = None,
                 mode: str = "read-only", url: Optional[str] = None):
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

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        raise exc.unsupported(f"Project.{name}()")


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
