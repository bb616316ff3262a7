"""Fixtures for the Python package's tests: the system tests' real-server fixtures
(tests/conftest.py: `server`, `start_server`, ...) plus helpers to make runs against them.

Run with PYTHONPATH=<build>/python (ctest sets it) so `import nereid` finds the built _core."""

import importlib.util
import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_spec = importlib.util.spec_from_file_location("nereid_system_conftest",
                                               os.path.join(ROOT, "tests", "conftest.py"))
_system = importlib.util.module_from_spec(_spec)
sys.modules["nereid_system_conftest"] = _system
_spec.loader.exec_module(_system)

Server = _system.Server
nereid_bin = _system.nereid_bin
start_server_module = _system.start_server_module
start_server = _system.start_server
server = _system.server
fresh_server = _system.fresh_server
NEREID_BIN = _system.NEREID_BIN


@pytest.fixture
def env(server, tmp_path, monkeypatch):
    """Environment that points nereid at the test server, with a private spool."""
    monkeypatch.setenv("NEREID_URL", server.base_url)
    monkeypatch.setenv("NEREID_API_TOKEN", server.token)
    monkeypatch.setenv("NEREID_HOME", str(tmp_path / "spool"))
    monkeypatch.delenv("NEREID_PROJECT", raising=False)
    monkeypatch.delenv("NEREID_MODE", raising=False)
    return {"NEREID_URL": server.base_url, "NEREID_API_TOKEN": server.token,
            "NEREID_HOME": str(tmp_path / "spool")}


@pytest.fixture
def make_run(env):
    """nereid.init_run with automatic capture off (tests that want it turn it on)."""
    import nereid

    runs = []

    def make(**kw):
        for k in ("capture_stdout", "capture_stderr", "capture_hardware_metrics",
                  "capture_traceback"):
            kw.setdefault(k, False)
        kw.setdefault("git_ref", False)
        kw.setdefault("source_files", [])
        kw.setdefault("flush_period", 0.2)
        run = nereid.init_run(**kw)
        runs.append(run)
        return run

    yield make
    for r in runs:
        r.stop()


def child_env(env_vars):
    """os.environ for a subprocess that imports the built nereid package."""
    import nereid

    e = dict(os.environ)
    e.update(env_vars)
    pkg_root = os.path.dirname(os.path.dirname(os.path.abspath(nereid.__file__)))
    e["PYTHONPATH"] = os.pathsep.join([pkg_root] + [p for p in [e.get("PYTHONPATH")] if p])
    return e
