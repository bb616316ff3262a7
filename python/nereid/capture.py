"""Automatic capture for a run: stdout/stderr tee, hardware metrics, heartbeat, traceback on an
uncaught exception, SIGTERM or Ctrl-C (an uncaught KeyboardInterrupt) → aborted, source files and
git information.

Everything here logs through the run's normal handlers, so it lands in the same spool. Captured
streams are teed: the program's output still reaches the terminal. Nothing here raises into the
program: a capture that cannot work (no psutil, no NVML, no git repository) logs nothing."""

from __future__ import annotations

import atexit
import ctypes
import datetime as _dt
import glob
import logging
import os
import signal
import sys
import threading
import traceback as _tb
import weakref
from typing import Any, Iterable, List, Optional

log = logging.getLogger("nereid")
_live: "weakref.WeakSet[Any]" = weakref.WeakSet()  # runs whose capture is active
_hooks_lock = threading.Lock()
_hooks_installed = False
_prev_excepthook = None
_prev_sigterm = None


def _log_quietly(fn, *args, **kwargs) -> None:
    try:
        fn(*args, **kwargs)
    except Exception:  # capture must never break the program it observes
        pass


class _Tee:
    """Writes go to the original stream and, line by line, into a string series."""

    def __init__(self, stream, handler, pid: int):
        self._stream = stream
        self._handler = handler
        self._pid = pid
        self._buf = ""
        self._lock = threading.Lock()
        self._local = threading.local()  # re-entrancy guard: a log call that prints

    def write(self, s: str) -> int:
        n = self._stream.write(s)
        if os.getpid() != self._pid or getattr(self._local, "busy", False):
            return n
        with self._lock:
            self._buf += s
            if "\n" not in self._buf:
                if len(self._buf) < 64 * 1024:
                    return n
                lines, self._buf = [self._buf], ""
            else:
                *lines, self._buf = self._buf.split("\n")
        self._local.busy = True
        try:
            for line in lines:
                _log_quietly(self._handler.append, line)
        finally:
            self._local.busy = False
        return n

    def flush_partial(self) -> None:
        with self._lock:
            rest, self._buf = self._buf, ""
        if rest:
            _log_quietly(self._handler.append, rest)

    def flush(self) -> None:
        self._stream.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


class _Nvml:
    """Per-GPU utilisation and memory through libnvidia-ml, loaded with dlopen if present."""

    class _Util(ctypes.Structure):
        _fields_ = [("gpu", ctypes.c_uint), ("memory", ctypes.c_uint)]

    class _Mem(ctypes.Structure):
        _fields_ = [("total", ctypes.c_ulonglong), ("free", ctypes.c_ulonglong),
                    ("used", ctypes.c_ulonglong)]

    def __init__(self):
        self.lib = None
        self.count = 0
        try:
            lib = ctypes.CDLL("libnvidia-ml.so.1")
            if lib.nvmlInit_v2() != 0:
                return
            n = ctypes.c_uint(0)
            if lib.nvmlDeviceGetCount_v2(ctypes.byref(n)) != 0:
                return
            self.lib, self.count = lib, n.value
        except (OSError, AttributeError):
            self.lib = None

    def sample(self) -> List[tuple]:
        out = []
        for i in range(self.count if self.lib else 0):
            h = ctypes.c_void_p()
            if self.lib.nvmlDeviceGetHandleByIndex_v2(i, ctypes.byref(h)) != 0:
                continue
            u, m = self._Util(), self._Mem()
            if self.lib.nvmlDeviceGetUtilizationRates(h, ctypes.byref(u)) == 0:
                out.append((i, "utilization", float(u.gpu)))
            if self.lib.nvmlDeviceGetMemoryInfo(h, ctypes.byref(m)) == 0 and m.total:
                out.append((i, "memory", m.used / 2**30))
        return out


class Capture:
    def __init__(self, run, stdout: bool, stderr: bool, hardware: bool, traceback: bool,
                 source_files: Optional[Iterable[str]], git_ref: Any, period: float):
        self.run = run
        self.want_stdout, self.want_stderr = stdout, stderr
        self.want_hardware, self.want_traceback = hardware, traceback
        self.source_files = source_files
        self.git_ref = git_ref
        self.period = max(0.05, float(period))
        self.pid = os.getpid()
        self.tees: List[tuple] = []
        self.stop_event = threading.Event()
        self.thread: Optional[threading.Thread] = None
        self.git_thread: Optional[threading.Thread] = None
        self.exception_recorded = False

    # --- start / stop -------------------------------------------------------------------------

    def start(self) -> None:
        run = self.run
        run["sys/ping_time"] = _dt.datetime.now(_dt.timezone.utc)
        _log_quietly(self._source_files)
        if self.git_ref:
            # libgit2 without the GIL on its own thread: a huge tree never delays init_run.
            self.git_thread = threading.Thread(target=_log_quietly, args=(self._git,),
                                               name="nereid-git", daemon=True)
            self.git_thread.start()
        if self.want_stdout:
            self.tees.append(("stdout", sys.stdout))
            sys.stdout = _Tee(sys.stdout, run["monitoring/stdout"], self.pid)
        if self.want_stderr:
            self.tees.append(("stderr", sys.stderr))
            sys.stderr = _Tee(sys.stderr, run["monitoring/stderr"], self.pid)
        self.thread = threading.Thread(target=self._monitor, name="nereid-monitor", daemon=True)
        self.thread.start()
        _live.add(run)
        _install_hooks()

    def stop(self) -> None:
        _live.discard(self.run)
        self.stop_event.set()
        for t in (self.thread, self.git_thread):
            if t is not None and t is not threading.current_thread():
                t.join(timeout=10)  # their fields go into the run before it ends
        for name, original in reversed(self.tees):
            tee = getattr(sys, name)
            if isinstance(tee, _Tee):
                tee.flush_partial()
                setattr(sys, name, original)
        self.tees = []

    def record_exception(self, exc_type, exc_value, tb) -> None:
        if not self.want_traceback or self.exception_recorded:
            return
        self.exception_recorded = True
        text = "".join(_tb.format_exception(exc_type, exc_value, tb))
        _log_quietly(self.run["monitoring/traceback"].append, text)

    # --- the monitor thread --------------------------------------------------------------------

    def _monitor(self) -> None:
        psutil = None
        if self.want_hardware:
            try:
                import psutil  # type: ignore
                psutil.cpu_percent(None)  # first call starts the measurement window
            except ImportError:
                psutil = None
        nvml = _Nvml() if self.want_hardware else None
        run = self.run
        while not self.stop_event.wait(self.period):
            if os.getpid() != self.pid:
                return
            _log_quietly(run["sys/ping_time"].assign, _dt.datetime.now(_dt.timezone.utc))
            if psutil is not None:
                _log_quietly(run["monitoring/cpu"].append, float(psutil.cpu_percent(None)))
                _log_quietly(run["monitoring/memory"].append,
                             psutil.virtual_memory().used / 2**30)
            for i, what, v in (nvml.sample() if nvml else []):
                _log_quietly(run[f"monitoring/gpu/{i}/{what}"].append, v)

    # --- one-off captures ----------------------------------------------------------------------

    def _source_files(self) -> None:
        patterns = self.source_files
        if patterns is None:
            main = getattr(sys.modules.get("__main__"), "__file__", None)
            patterns = [main] if main and os.path.isfile(main) else []
        elif isinstance(patterns, str):
            patterns = [patterns]
        seen = set()
        for pattern in patterns:
            for p in sorted(glob.glob(pattern, recursive=True)):
                if not os.path.isfile(p) or p in seen:
                    continue
                seen.add(p)
                self.run["source_code/files/" + _field_name(p)].upload(p)

    def _git(self) -> None:
        path = getattr(self.git_ref, "repository_path", None)  # Neptune's GitRef(repository_path=)
        if not path:
            main = getattr(sys.modules.get("__main__"), "__file__", None)
            path = os.path.dirname(os.path.abspath(main)) if main else os.getcwd()
        why = self.run._core.record_git(str(path), [self.run._spool_dir])
        if why:
            log.debug("no git information recorded: %s", why)


def _field_name(path: str) -> str:
    rel = os.path.relpath(os.path.abspath(path))
    if rel.startswith(".."):
        rel = os.path.basename(path)
    out = []
    for seg in rel.split(os.sep):
        if seg in ("", ".", ".."):
            continue
        out.append("".join("_" if (c in '\\:"`' or ord(c) < 32) else c for c in seg))
    return "/".join(out) or "file"


# --- process-wide hooks (installed once, shared by every live run) ----------------------------

def _excepthook(exc_type, exc_value, tb) -> None:
    state = "aborted" if issubclass(exc_type, KeyboardInterrupt) else "failed"
    for run in list(_live):
        cap = run._capture
        if cap is not None:
            cap.record_exception(exc_type, exc_value, tb)
        _log_quietly(run._stop_if_running, state)
    hook = _prev_excepthook or sys.__excepthook__
    hook(exc_type, exc_value, tb)


def _on_sigterm(signum, frame) -> None:
    for run in list(_live):
        _log_quietly(run._stop_if_running, "aborted")
    prev = _prev_sigterm
    if callable(prev):
        prev(signum, frame)
        return
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGTERM)


def _at_exit() -> None:
    for run in list(_live):
        _log_quietly(run._stop_if_running, "succeeded")


def _install_hooks() -> None:
    global _hooks_installed, _prev_excepthook, _prev_sigterm
    with _hooks_lock:
        if _hooks_installed:
            return
        _hooks_installed = True
        _prev_excepthook = sys.excepthook
        sys.excepthook = _excepthook
        atexit.register(_at_exit)
        if threading.current_thread() is threading.main_thread():
            prev = signal.getsignal(signal.SIGTERM)
            if prev in (signal.SIG_DFL, None) or callable(prev):
                _prev_sigterm = prev if callable(prev) else None
                signal.signal(signal.SIGTERM, _on_sigterm)
