"""Run: one experiment run (Neptune 1.x shapes plus the neptune-scale methods)."""

from __future__ import annotations

import datetime as _dt
import numbers
import os
import threading
import time
from typing import Any, Dict, Iterable, List, Optional

from nereid import _core
from nereid import exceptions as exc
from nereid._http import Client, quote
from nereid.handler import Handler
from nereid.types import File

_MODES = ("async", "sync", "offline", "read-only", "debug")


def _flatten(data: Dict[str, Any], prefix: str = "") -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    for k, v in data.items():
        key = f"{prefix}/{k}" if prefix else str(k)
        if isinstance(v, dict):
            out.update(_flatten(v, key))
        else:
            out[key] = v
    return out


class Run:
    """One run. Made by nereid.init_run(); see there for the arguments.

    Thread-safety: every method may be called from any thread. Log calls do not wait for the
    network: they write to the run's disk spool (the C++ core) and return; a background thread
    uploads. (In mode="sync" each log call also waits for the server's ack, up to stop_timeout.)
    Errors in a log call (invalid path, wrong type) raise at the call."""

    def __init__(self, project: Optional[str] = None, api_token: Optional[str] = None,
                 mode: Optional[str] = None, name: Optional[str] = None,
                 description: Optional[str] = None, tags: Optional[Iterable[str]] = None,
                 with_id: Optional[str] = None, custom_run_id: Optional[str] = None,
                 capture_stdout: bool = True, capture_stderr: bool = True,
                 capture_hardware_metrics: bool = True, capture_traceback: bool = True,
                 source_files: Optional[Iterable[str]] = None, git_ref: Any = True,
                 flush_period: float = 5, url: Optional[str] = None,
                 monitoring_period: float = 5.0, stop_timeout: float = 60.0,
                 spool_dir: Optional[str] = None, notebook_path: Optional[str] = None):
        if mode is not None and mode not in _MODES:
            raise exc.NereidValueError(f"mode must be one of {', '.join(_MODES)}, not {mode!r}")
        if isinstance(tags, str):
            tags = [tags]
        elif tags is not None:
            tags = list(tags)  # once: a generator is read here, not by the check below
        if spool_dir is not None and isinstance(spool_dir, os.PathLike):
            spool_dir = os.fspath(spool_dir)
        _check_types(project=project, api_token=api_token, name=name, description=description,
                     with_id=with_id, custom_run_id=custom_run_id, url=url, spool_dir=spool_dir,
                     notebook_path=notebook_path, tags=tags, flush_period=flush_period,
                     monitoring_period=monitoring_period, stop_timeout=stop_timeout)
        custom_run_id = custom_run_id or os.environ.get("NEREID_CUSTOM_RUN_ID") or None
        # capture_git off in the core: capture.py records git on a thread, from __main__'s folder.
        opts = dict(url=url, api_token=api_token, project=project, mode=mode, name=name,
                    description=description, tags=list(tags) if tags else None,
                    run_id=with_id, custom_run_id=custom_run_id, flush_period=flush_period,
                    stop_timeout=stop_timeout, spool_dir=spool_dir,
                    capture_git=False)
        resolved = _core.resolve_options(opts)
        self._spool_dir = resolved["spool_dir"]
        self._mode = resolved["mode"]
        self._project = resolved["project"]
        self._http = Client(resolved["url"], resolved["api_token"])
        self._core = _core.Run(opts)
        self._handlers: Dict[str, Handler] = {}
        self._lock = threading.Lock()
        self._stopped = False
        self._pid = os.getpid()
        self._capture = None
        if self._mode not in ("read-only", "debug"):
            from nereid import capture

            self._capture = capture.Capture(
                self, stdout=capture_stdout, stderr=capture_stderr,
                hardware=capture_hardware_metrics, traceback=capture_traceback,
                source_files=source_files, git_ref=git_ref, period=monitoring_period)
            self._capture.start()
        self._notebook = None
        if self._mode not in ("read-only", "debug"):
            self._record_notebook(notebook_path, resolved)

    def _record_notebook(self, notebook_path: Optional[str], resolved: Dict[str, Any]) -> None:
        from nereid import notebook

        try:
            found = notebook.detect_notebook_path(notebook_path)
            if found is None:
                return
            self._notebook = notebook.NotebookRecorder(
                self, found, self._project, resolved["url"], resolved["api_token"],
                offline=self._mode == "offline")
            self._notebook.start()
        except Exception as e:  # a run works the same without its notebook record
            notebook.log.warning("nereid: could not record the run's notebook: %s", e)

    # --- fields -------------------------------------------------------------------------------

    def __getitem__(self, path: str) -> Handler:
        h = self._handlers.get(path)
        if h is None:
            with self._lock:
                h = self._handlers.setdefault(path, Handler(self, path))
        return h

    def __setitem__(self, path: str, value: Any) -> None:
        self[path].assign(value)

    def __delitem__(self, path: str) -> None:
        raise exc.unsupported(f"del run[{path!r}]", "fields cannot be deleted")

    def __contains__(self, path: str) -> bool:
        return self.exists(path)

    def __reduce__(self):
        # Sending a run to a spawned worker (multiprocessing pickles arguments) cannot work: the
        # spool and sender live in this process. Say what does.
        raise exc.NereidTypeError(
            "a nereid Run cannot be pickled into another process; in the worker, make a run "
            f"that joins this one: nereid.init_run(custom_run_id={self.custom_run_id!r})")

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        raise exc.unsupported(f"Run.{name}()")

    def _core_field(self, path: str):
        return self._core.field(path)

    def assign(self, value: Dict[str, Any], wait: bool = False) -> None:
        """Assigns every leaf of a dict, paths taken from its keys."""
        for k, v in value.items():
            self[str(k)].assign(v)
        if wait:
            self.wait()

    # --- lifecycle ----------------------------------------------------------------------------

    @property
    def id(self) -> str:
        """The server's run id ("SAND-7"); waits up to 30 s for the sender to create the run."""
        deadline = time.monotonic() + 30.0
        while True:
            rid = self._core.id
            if rid or self._mode in ("offline", "debug") or time.monotonic() > deadline:
                return rid
            time.sleep(0.01)

    @property
    def custom_run_id(self) -> str:
        return self._core.custom_run_id

    @property
    def spool_path(self) -> str:
        return self._core.spool_path

    @property
    def mode(self) -> str:
        return self._mode

    def stats(self) -> Dict[str, int]:
        return self._core.stats()

    def errors(self) -> List[str]:
        """Problems the background sender reported (also printed to stderr)."""
        return self._core.errors()

    def wait(self, disk_only: bool = False, timeout: Optional[float] = None) -> None:
        """Blocks until everything logged so far is stored by the server (disk_only: returns at
        once, since every log call is already on disk). Raises UnavailableError on timeout."""
        if disk_only:
            return
        self._core.wait(1e9 if timeout is None else timeout)

    def stop(self, seconds: Optional[float] = None, state: str = "succeeded") -> None:
        """Stops capture, sets sys/state, uploads what is left (waits at most `seconds`, by
        default the run's stop_timeout) and ends the run. What did not reach the server stays in
        the spool and a message on stderr names the `nereid sync` command. Calling it again does
        nothing."""
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
        if self._capture is not None:
            self._capture.stop()
        if self._notebook is not None:
            self._notebook.join()  # its fields go into the run before the run ends
        self._core.stop(state, seconds)

    def _stop_if_running(self, state: str) -> None:
        if os.getpid() == self._pid:
            self.stop(state=state)

    def __enter__(self) -> "Run":
        return self

    def __exit__(self, exc_type, exc_value, tb) -> None:
        if exc_type is None:
            self.stop()
            return
        if self._capture is not None:
            self._capture.record_exception(exc_type, exc_value, tb)
        self.stop(state="aborted" if issubclass(exc_type, KeyboardInterrupt) else "failed")

    def sync(self, wait: bool = True) -> None:
        if wait:
            self.wait()

    def get_url(self) -> str:
        return f"{self._http.url}/runs/{self.id}"

    # --- neptune-scale shapes ----------------------------------------------------------------

    def log_metrics(self, data: Dict[str, Any], step: Optional[float] = None,
                    timestamp: Any = None, preview: bool = False, **kwargs: Any) -> None:
        if preview or kwargs:
            raise exc.unsupported("Run.log_metrics(preview=...)" if preview else
                                  f"Run.log_metrics({', '.join(kwargs)}=)")
        for k, v in _flatten(data).items():
            self[k].append(v, step=step, timestamp=timestamp)

    def log_configs(self, data: Optional[Dict[str, Any]] = None, flatten: bool = True,
                    cast_unsupported: bool = False) -> None:
        if not data:
            return
        if cast_unsupported:
            from nereid.utils import stringify_unsupported

            data = stringify_unsupported(data)
        if not flatten:
            nested = [k for k, v in data.items() if isinstance(v, dict)]
            if nested:
                raise exc.NereidTypeError(
                    f"log_configs: {nested[0]!r} is a dict; pass flatten=True to log its leaves")
        for k, v in _flatten(data).items():
            if v is not None:
                self[k].assign(v)

    def log_string_series(self, data: Dict[str, str], step: Optional[float] = None,
                          timestamp: Any = None) -> None:
        for k, v in data.items():
            if not isinstance(v, str):
                raise exc.NereidTypeError(
                    f"log_string_series: {k!r} is {type(v).__name__}, not str")
            self[k].append(v, step=step, timestamp=timestamp)

    def add_tags(self, tags: Iterable[str], group_tags: bool = False) -> None:
        if group_tags:
            raise exc.unsupported("Run.add_tags(group_tags=True)")
        self["sys/tags"].add(list(tags) if not isinstance(tags, str) else [tags])

    def remove_tags(self, tags: Iterable[str], group_tags: bool = False) -> None:
        if group_tags:
            raise exc.unsupported("Run.remove_tags(group_tags=True)")
        self["sys/tags"].remove(list(tags) if not isinstance(tags, str) else [tags])

    def assign_files(self, files: Dict[str, Any]) -> None:
        for k, v in files.items():
            self[k].upload(_as_file(v))

    def log_files(self, files: Dict[str, Any], step: Optional[float] = None,
                  timestamp: Any = None) -> None:
        for k, v in files.items():
            self[k].append(_as_file(v), step=step, timestamp=timestamp)

    def wait_for_submission(self, timeout: Optional[float] = None, verbose: bool = True) -> None:
        self.wait(timeout=timeout)

    def wait_for_processing(self, timeout: Optional[float] = None, verbose: bool = True) -> None:
        self.wait(timeout=timeout)

    def close(self, timeout: Optional[float] = None) -> None:
        self.stop(seconds=timeout)

    def terminate(self) -> None:
        self.stop(state="aborted")

    # --- reads --------------------------------------------------------------------------------

    def _run_path(self) -> str:
        rid = self.id
        if not rid:
            raise exc.NotFoundError(
                f"this {self._mode} run has no server id: there is nothing to fetch")
        return "/api/v1/runs/" + quote(rid)

    def _fields(self, prefix: str) -> List[Dict[str, Any]]:
        return self._http.get_json(self._run_path() + "/fields", {"prefix": prefix})["fields"]

    def exists(self, path: str) -> bool:
        return any(f["path"] == path or f["path"].startswith(path + "/")
                   for f in self._fields(path))

    def fetch(self) -> Dict[str, Any]:
        """Every single-value field of the run as a nested dict (series give their last value)."""
        return _nest({f["path"]: _field_value(f, True) for f in self._fields("")}, "")

    def _fetch_path(self, path: str, last: bool = False) -> Any:
        if path == "sys/id":
            return self.id
        fields = self._fields(path)
        for f in fields:
            if f["path"] == path:
                return _field_value(f, last)
        sub = {f["path"]: _field_value(f, True) for f in fields
               if f["path"].startswith(path + "/")}
        if not sub:
            raise exc.NotFoundError(f"run {self.id} has no field {path!r}")
        return _nest(sub, path)

    def _series_points(self, path: str) -> Dict[str, list]:
        out: Dict[str, list] = {"steps": [], "timestamps_us": [], "values": []}
        cursor = None
        base = self._run_path() + "/series"
        while True:
            page = self._http.get_json(base, {"path": path, "limit": 100000, "cursor": cursor})
            for k in ("steps", "timestamps_us", "values"):
                out[k].extend(page[k])
            out["type"] = page.get("type")
            cursor = page.get("next_cursor")
            if not cursor:
                return out

    def _fetch_series_frame(self, path: str, include_timestamp: bool):
        import numpy as np
        import pandas as pd

        pts = self._series_points(path)
        if pts.get("type") == "float_series":
            values = np.array(pts["values"], dtype=np.float64)  # "NaN"/"Infinity" parse too
        else:
            values = pts["values"]
        data = {"step": np.array(pts["steps"], dtype=np.float64), "value": values}
        if include_timestamp:
            data["timestamp"] = pd.to_datetime(np.array(pts["timestamps_us"], dtype=np.int64),
                                               unit="us")
        return pd.DataFrame(data)

    def _download(self, path: str, destination: Optional[str]) -> str:
        fields = [f for f in self._fields(path) if f["path"] == path]
        if not fields:
            raise exc.NotFoundError(f"run {self.id} has no field {path!r}")
        name = (fields[0].get("value") or {}).get("name") or os.path.basename(path)
        data = self._http.get(self._run_path() + "/file", {"path": path})
        target = destination or name
        if os.path.isdir(target):
            target = os.path.join(target, name)
        with open(target, "wb") as f:
            f.write(data)
        return target


def _check_types(tags: Any, flush_period: Any, monitoring_period: Any, stop_timeout: Any,
                 **strings: Any) -> None:
    """init_run's arguments, checked here so that a wrong type names its argument (the native
    core would only say it cannot convert a Python object)."""
    for arg, v in strings.items():
        if v is not None and not isinstance(v, str):
            raise exc.NereidTypeError(f"init_run({arg}=): expected a str, not {type(v).__name__}")
    if tags is not None:
        bad = [t for t in tags if not isinstance(t, str)]
        if bad:
            raise exc.NereidTypeError(
                f"init_run(tags=): every tag is a str, not {type(bad[0]).__name__} ({bad[0]!r})")
    for arg, v in (("flush_period", flush_period), ("monitoring_period", monitoring_period),
                   ("stop_timeout", stop_timeout)):
        if isinstance(v, bool) or not isinstance(v, numbers.Real):
            raise exc.NereidTypeError(
                f"init_run({arg}=): expected seconds as a number, not {type(v).__name__}")


def _as_file(v: Any) -> File:
    if isinstance(v, File):
        return v
    if isinstance(v, (bytes, bytearray)):
        return File(content=bytes(v))
    if isinstance(v, (str, os.PathLike)):
        return File(path=os.fspath(v))
    raise exc.NereidTypeError(f"expected a path, bytes or nereid.types.File, not {type(v).__name__}")


def _float(v: Any) -> Any:
    return float(v) if isinstance(v, str) else v  # "NaN", "Infinity", "-Infinity"


def _field_value(f: Dict[str, Any], last: bool) -> Any:
    t = f.get("type")
    if t == "float_series":
        return _float(f.get("last"))
    if t in ("string_series", "file_series"):
        return f.get("last")
    v = f.get("value")
    if t == "float":
        return _float(v)
    if t == "datetime" and isinstance(v, str):
        return _dt.datetime.fromisoformat(v.replace("Z", "+00:00"))
    if t == "string_set" and isinstance(v, list):
        return set(v)
    return v


def _nest(flat: Dict[str, Any], prefix: str) -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    cut = len(prefix) + 1 if prefix else 0
    for path, v in flat.items():
        parts = path[cut:].split("/")
        d = out
        for p in parts[:-1]:
            nxt = d.get(p)
            if not isinstance(nxt, dict):
                nxt = d[p] = {}
            d = nxt
        d[parts[-1]] = v
    return out


def init_run(project: Optional[str] = None, api_token: Optional[str] = None,
             mode: Optional[str] = None, name: Optional[str] = None,
             description: Optional[str] = None, tags: Optional[Iterable[str]] = None,
             with_id: Optional[str] = None, custom_run_id: Optional[str] = None,
             capture_stdout: bool = True, capture_stderr: bool = True,
             capture_hardware_metrics: bool = True, capture_traceback: bool = True,
             source_files: Optional[Iterable[str]] = None, git_ref: Any = True,
             flush_period: float = 5, **kwargs: Any) -> Run:
    """Creates (or, with with_id / custom_run_id, joins) a run. Arguments left None come from
    the environment: NEREID_URL, NEREID_API_TOKEN, NEREID_PROJECT, NEREID_MODE, NEREID_HOME,
    NEREID_CUSTOM_RUN_ID. Extra keyword arguments: url, monitoring_period, stop_timeout,
    spool_dir, notebook_path (the .ipynb the run comes from, when detection cannot tell; see
    nereid.notebook.detect_notebook_path). Fails (NereidError) when the spool folder cannot be
    made or an option is invalid (read-only without with_id). Never waits for the server."""
    allowed = {"url", "monitoring_period", "stop_timeout", "spool_dir", "notebook_path"}
    unknown = set(kwargs) - allowed
    if unknown:
        raise exc.unsupported(f"init_run({', '.join(sorted(unknown))}=)")
    return Run(project=project, api_token=api_token, mode=mode, name=name,
               description=description, tags=tags, with_id=with_id, custom_run_id=custom_run_id,
               capture_stdout=capture_stdout, capture_stderr=capture_stderr,
               capture_hardware_metrics=capture_hardware_metrics,
               capture_traceback=capture_traceback, source_files=source_files, git_ref=git_ref,
               flush_period=flush_period, **kwargs)
