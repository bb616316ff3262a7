"""Notebook checkpoints: upload a saved .ipynb to a project (upload_notebook_checkpoint), and find
the notebook a run was started from so init_run can record the checkpoint it came from.

The upload goes straight to the server's notebooks API (docs/http-api.md "Notebooks"): a
checkpoint belongs to a project, not to a run, so it does not pass through a run's spool."""

from __future__ import annotations

import datetime as _dt
import json
import logging
import os
import sys
import threading
from dataclasses import dataclass
from typing import Any, Optional

from nereid import _core
from nereid import exceptions as exc
from nereid._http import Client, quote

log = logging.getLogger("nereid")

# How long a run's background upload of its notebook may take before the run gives up on it; the
# run itself never waits for it except at stop(), and there at most this long.
UPLOAD_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class NotebookCheckpoint:
    """One stored version of a notebook, as the server answered the upload.

    created is False when the notebook already had this exact content: the server then returns
    the existing checkpoint instead of adding one (content-addressed)."""
    project: str
    path: str             # the notebook's name in the project ("experiments/train.ipynb")
    id: str               # the checkpoint id: the SHA-256 (hex) of the .ipynb bytes
    sha256: str
    size: int             # bytes
    number: int           # 1 for a notebook's first checkpoint, then 2, 3, ...
    creation_time: Optional[_dt.datetime]
    created_by: str
    created: bool
    cells: int


def _checkpoint(j: dict) -> NotebookCheckpoint:
    t = j.get("creation_time")
    when = _dt.datetime.fromisoformat(t.replace("Z", "+00:00")) if isinstance(t, str) else None
    return NotebookCheckpoint(project=j["project"], path=j["path"], id=j["id"],
                              sha256=j["sha256"], size=int(j["size"]), number=int(j["number"]),
                              creation_time=when, created_by=j.get("created_by", ""),
                              created=bool(j.get("created", True)), cells=int(j.get("cells", 0)))


def default_name(path: str) -> str:
    """The notebook's name in the project: its path relative to the working folder when it lies
    below it (keeps two train.ipynb in different folders apart), else its file name."""
    rel = os.path.relpath(os.path.abspath(path))
    if rel.startswith(".."):
        rel = os.path.basename(path)
    return rel.replace(os.sep, "/")


def upload_notebook_checkpoint(path: str, project: Optional[str] = None,
                               api_token: Optional[str] = None, name: Optional[str] = None,
                               url: Optional[str] = None,
                               timeout: float = 60.0) -> NotebookCheckpoint:
    """Uploads the .ipynb file at `path` as a checkpoint of notebook `name` (default: the path
    relative to the working folder, or the file name) in `project`. project, api_token and url
    default to NEREID_PROJECT, NEREID_API_TOKEN and NEREID_URL, as for init_run.

    Blocks for one HTTP request (at most `timeout` s). Raises FileNotFoundError (no such file),
    NereidValueError (the server refused the file: its message says what is wrong, e.g.
    "nbformat 3 is not supported"), AuthenticationError (bad token, or no contributor role in the
    project), NotFoundError (no such project), UnavailableError (server unreachable),
    NereidError (the upload would exceed the workspace's storage quota: HTTP 507, the message
    gives usage and limit)."""
    resolved = _core.resolve_options(dict(url=url, api_token=api_token, project=project))
    try:
        with open(path, "rb") as f:
            body = f.read()
    except FileNotFoundError:
        raise FileNotFoundError(f"notebook {path!r} does not exist") from None
    except IsADirectoryError:
        raise exc.NereidValueError(f"notebook {path!r} is a folder, not an .ipynb file") from None
    proj = resolved["project"]
    if "/" not in proj:
        raise exc.NereidValueError(f"project must be WORKSPACE/PROJECT, not {proj!r}")
    ws, p = proj.split("/", 1)
    http = Client(resolved["url"], resolved["api_token"])

    raw = http.post(f"/api/v1/projects/{quote(ws)}/{quote(p)}/notebooks/checkpoints",
                    {"path": name or default_name(path)}, body, "application/x-ipynb+json",
                    timeout=timeout)
    return _checkpoint(json.loads(raw))


def detect_notebook_path(explicit: Optional[str] = None) -> Optional[str]:
    """The saved .ipynb this process runs, or None when it is not a notebook (or cannot tell).

    In order: the explicit argument; NEREID_NOTEBOOK_PATH; then, only inside an IPython kernel,
    VS Code's `__vsc_ipynb_file__` in the user namespace and Jupyter Server's (>= 2)
    JPY_SESSION_NAME. A plain script with a stray JPY_SESSION_NAME in its environment (a terminal
    opened from JupyterLab inherits it) is not a notebook, hence the kernel check. IPython is
    never imported here: inside a kernel it already is, and importing it costs ~0.3 s."""
    if explicit:
        return os.fspath(explicit)
    env = os.environ.get("NEREID_NOTEBOOK_PATH")
    if env:
        return env
    ipython_mod = sys.modules.get("IPython")
    get = getattr(ipython_mod, "get_ipython", None)
    shell = get() if callable(get) else None
    if shell is None or getattr(shell, "kernel", None) is None:
        return None  # a terminal IPython or plain Python: there is no notebook
    ns = getattr(shell, "user_ns", None) or {}
    vsc = ns.get("__vsc_ipynb_file__")
    if isinstance(vsc, str) and vsc:
        return vsc
    jpy = os.environ.get("JPY_SESSION_NAME")
    if jpy and jpy.endswith(".ipynb"):
        return jpy
    return None


class NotebookRecorder:
    """Uploads the run's notebook as a checkpoint on a background thread and records it in
    source_code/notebook/* (path, checkpoint_id, checkpoint_number). Failures are logged as
    warnings on the "nereid" logger and never raised: a run works the same without it."""

    def __init__(self, run: Any, notebook_path: str, project: str, url: str, token: str,
                 offline: bool):
        self.run = run
        self.path = notebook_path
        self.project, self.url, self.token = project, url, token
        self.offline = offline
        self.thread: Optional[threading.Thread] = None

    def start(self) -> None:
        if self.offline:
            # No server to upload to; the local path still says where the run came from.
            self.run["source_code/notebook/path"] = default_name(self.path)
            log.warning("nereid: offline run: notebook %s is not uploaded as a checkpoint "
                        "(upload it later with nereid.upload_notebook_checkpoint)", self.path)
            return
        self.thread = threading.Thread(target=self._upload, name="nereid-notebook", daemon=True)
        self.thread.start()

    def join(self) -> None:
        if self.thread is not None and self.thread is not threading.current_thread():
            self.thread.join(timeout=UPLOAD_TIMEOUT_S)

    def _upload(self) -> None:
        try:
            cp = upload_notebook_checkpoint(self.path, project=self.project, api_token=self.token,
                                            url=self.url, timeout=UPLOAD_TIMEOUT_S)
        except Exception as e:  # never into the program: the run goes on without the record
            log.warning("nereid: could not record notebook %s as a checkpoint: %s", self.path, e)
            return
        try:
            self.run["source_code/notebook/path"] = cp.path
            self.run["source_code/notebook/checkpoint_id"] = cp.id
            self.run["source_code/notebook/checkpoint_number"] = cp.number
        except Exception as e:  # the run was stopped meanwhile
            log.warning("nereid: notebook checkpoint %s uploaded but not recorded in the run: %s",
                        cp.id, e)
