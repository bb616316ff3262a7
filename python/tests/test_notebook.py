"""Notebook checkpoints from Python: nereid.upload_notebook_checkpoint, and init_run recording
the notebook it runs in (source_code/notebook/*) when started inside a (simulated) Jupyter or
VS Code kernel — without ever failing or waiting when the notebook cannot be recorded."""

import hashlib
import json
import logging
import os
import socket
import sys
import time
import types

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "tests"))
from accounts_util import make_user  # noqa: E402

import nereid  # noqa: E402
from nereid import notebook as nb_mod  # noqa: E402

NOTEBOOKS = "/api/v1/projects/default/sandbox/notebooks"


def _notebook(*sources):
    return {"nbformat": 4, "nbformat_minor": 5, "metadata": {},
            "cells": [{"cell_type": "code", "source": s, "metadata": {}, "execution_count": None,
                       "outputs": []} for s in sources]}


def _write(path, nb):
    path.write_bytes(json.dumps(nb).encode() if isinstance(nb, dict) else nb)
    return path


@pytest.fixture
def kernel(monkeypatch):
    """Makes this process look like an IPython kernel (ipykernel's shell has a `kernel`);
    returns the shell's user namespace."""
    shell = types.SimpleNamespace(kernel=object(), user_ns={})
    fake = types.ModuleType("IPython")
    fake.get_ipython = lambda: shell
    monkeypatch.setitem(sys.modules, "IPython", fake)
    monkeypatch.delenv("NEREID_NOTEBOOK_PATH", raising=False)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    return shell.user_ns


def _recorded(run):
    run._notebook.join()
    run.wait()
    return {k: run[f"source_code/notebook/{k}"].fetch()
            for k in ("path", "checkpoint_id", "checkpoint_number")}


def test_upload_returns_the_checkpoint_and_dedups(env, server, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    os.mkdir("exp")
    path = _write(tmp_path / "exp" / "train.ipynb", _notebook("x = 1", "print(x)"))
    cp = nereid.upload_notebook_checkpoint(str(path), project="default/sandbox")
    assert isinstance(cp, nereid.NotebookCheckpoint)
    assert cp.path == "exp/train.ipynb"  # relative to the working folder
    assert cp.project == "default/sandbox" and cp.created and cp.number == 1 and cp.cells == 2
    assert cp.id == cp.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert cp.size == len(path.read_bytes()) and cp.created_by == "admin"
    assert cp.creation_time is not None and cp.creation_time.tzinfo is not None

    again = nereid.upload_notebook_checkpoint(str(path), project="default/sandbox")
    assert again.created is False and again.id == cp.id and again.number == 1

    _write(path, _notebook("x = 2"))
    named = nereid.upload_notebook_checkpoint(str(path), project="default/sandbox",
                                              name="exp/train.ipynb")
    assert named.created and named.number == 2
    listed = server.get_json(f"{NOTEBOOKS}/checkpoints", params={"path": "exp/train.ipynb"})
    assert [c["id"] for c in listed["checkpoints"]] == [cp.id, named.id]


def test_upload_errors_are_python_exceptions(env, server, tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.ipynb"):
        nereid.upload_notebook_checkpoint(str(tmp_path / "missing.ipynb"),
                                          project="default/sandbox")

    old = _write(tmp_path / "old.ipynb", {"nbformat": 3, "worksheets": []})
    with pytest.raises(nereid.NereidValueError, match="nbformat 3 is not supported") as e:
        nereid.upload_notebook_checkpoint(str(old), project="default/sandbox")
    assert isinstance(e.value, ValueError)
    broken = _write(tmp_path / "broken.ipynb", b"{not json")
    with pytest.raises(nereid.NereidValueError, match="not valid JSON"):
        nereid.upload_notebook_checkpoint(str(broken), project="default/sandbox")

    good = _write(tmp_path / "good.ipynb", _notebook("1"))
    viewer = make_user(server, "nbviewer", project_roles=[("default/sandbox", "viewer")])
    with pytest.raises(nereid.AuthenticationError, match="HTTP 403"):
        nereid.upload_notebook_checkpoint(str(good), project="default/sandbox",
                                          api_token=viewer.token)
    with pytest.raises(nereid.NotFoundError):
        nereid.upload_notebook_checkpoint(str(good), project="default/no-such-project")
    assert nb_mod.detect_notebook_path() is None  # plain pytest: not a notebook


def test_run_in_jupyter_records_its_checkpoint(make_run, kernel, tmp_path, monkeypatch):
    path = _write(tmp_path / "jupyter.ipynb", _notebook("run = nereid.init_run()"))
    monkeypatch.setenv("JPY_SESSION_NAME", str(path))  # Jupyter Server >= 2 sets it per kernel
    run = make_run(project="default/sandbox")
    rec = _recorded(run)
    assert rec["checkpoint_id"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert rec["path"] == "jupyter.ipynb" and rec["checkpoint_number"] == 1

    # A second run from the unchanged notebook points at the same checkpoint.
    run2 = make_run(project="default/sandbox")
    assert _recorded(run2) == rec


def test_run_in_vscode_records_its_checkpoint(make_run, kernel, tmp_path, monkeypatch):
    path = _write(tmp_path / "vscode.ipynb", _notebook("a", "b", "c"))
    kernel["__vsc_ipynb_file__"] = str(path)
    monkeypatch.setenv("JPY_SESSION_NAME", str(tmp_path / "other.ipynb"))  # VS Code's wins
    rec = _recorded(make_run(project="default/sandbox"))
    assert rec["checkpoint_id"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert rec["path"] == "vscode.ipynb"


def test_explicit_path_and_plain_scripts(make_run, tmp_path, monkeypatch):
    monkeypatch.delitem(sys.modules, "IPython", raising=False)
    path = _write(tmp_path / "explicit.ipynb", _notebook("1"))
    # A terminal opened from JupyterLab inherits JPY_SESSION_NAME; without a kernel it is no
    # notebook, so nothing is recorded.
    monkeypatch.setenv("JPY_SESSION_NAME", str(path))
    plain = make_run(project="default/sandbox")
    assert plain._notebook is None
    plain.wait()
    assert not plain.exists("source_code/notebook")

    rec = _recorded(make_run(project="default/sandbox", notebook_path=str(path)))
    assert rec["checkpoint_id"] == hashlib.sha256(path.read_bytes()).hexdigest()
    monkeypatch.setenv("NEREID_NOTEBOOK_PATH", str(path))
    assert _recorded(make_run(project="default/sandbox")) == rec


@pytest.mark.parametrize("content", [None, b"{not json"])
def test_a_notebook_that_cannot_be_recorded_only_warns(make_run, kernel, tmp_path, monkeypatch,
                                                       caplog, content):
    path = tmp_path / "bad.ipynb"
    if content is not None:
        path.write_bytes(content)
    monkeypatch.setenv("JPY_SESSION_NAME", str(path))
    with caplog.at_level(logging.WARNING, logger="nereid"):
        run = make_run(project="default/sandbox")
        run["x"] = 1
        run._notebook.join()
    assert "could not record notebook" in caplog.text and "bad.ipynb" in caplog.text
    run.wait()
    assert run["x"].fetch() == 1
    assert not run.exists("source_code/notebook")


def test_a_slow_server_does_not_delay_init_run(make_run, tmp_path, monkeypatch, caplog):
    # A listening socket that never answers: the notebook upload hangs until its timeout.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    url = f"http://127.0.0.1:{silent.getsockname()[1]}"
    monkeypatch.setattr(nb_mod, "UPLOAD_TIMEOUT_S", 1.0)
    path = _write(tmp_path / "slow.ipynb", _notebook("1"))
    try:
        t0 = time.monotonic()
        run = make_run(project="default/sandbox", notebook_path=str(path), url=url,
                       stop_timeout=0.5)
        assert time.monotonic() - t0 < 0.5
        with caplog.at_level(logging.WARNING, logger="nereid"):
            run.stop()
        assert "could not record notebook" in caplog.text
    finally:
        silent.close()
