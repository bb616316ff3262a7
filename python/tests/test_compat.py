"""The Neptune shims: the NEPTUNE_* variables, the init_run arguments that mean something
(dependencies) and those nereid cannot honour, which must raise naming themselves."""

import importlib.metadata

import pytest

import nereid
import nereid.compat.neptune as neptune
from nereid.compat.neptune_scale import Run as ScaleRun
from test_init_run import new_project, runs_of

QUIET = dict(capture_stdout=False, capture_stderr=False, capture_hardware_metrics=False,
             source_files=[], git_ref=False, flush_period=0.2)


@pytest.fixture
def neptune_env(server, env, monkeypatch):
    """Only the NEPTUNE_* variables name the project and token."""
    project = new_project(server)
    monkeypatch.delenv("NEREID_API_TOKEN")
    monkeypatch.setenv("NEPTUNE_PROJECT", project)
    monkeypatch.setenv("NEPTUNE_API_TOKEN", server.token)
    return project


def test_neptune_variables_name_project_and_token(server, neptune_env, monkeypatch):
    run = neptune.init_run(name="from-neptune-env", **QUIET)
    run["x"].append(1.0)
    run.stop()
    scale = ScaleRun(run_id="scale-env", enable_console_log_capture=False)
    scale.log_metrics({"x": 2.0}, step=0)
    scale.close()
    assert sorted(r["id"] for r in runs_of(server, neptune_env)) == sorted([run.id, scale.id])
    table = neptune.init_project().fetch_runs_table(columns=["sys/name"]).to_pandas()
    assert "from-neptune-env" in table["sys/name"].tolist()

    # NEPTUNE_CUSTOM_RUN_ID and NEPTUNE_MODE too.
    monkeypatch.setenv("NEPTUNE_CUSTOM_RUN_ID", "nep-crid")
    monkeypatch.setenv("NEPTUNE_MODE", "offline")
    off = neptune.init_run(**QUIET)
    assert off.mode == "offline" and off.custom_run_id == "nep-crid"
    off.stop()

    # NEREID_* win over NEPTUNE_* when both are set: a wrong NEPTUNE_API_TOKEN is not used.
    monkeypatch.delenv("NEPTUNE_MODE")
    monkeypatch.delenv("NEPTUNE_CUSTOM_RUN_ID")
    monkeypatch.setenv("NEREID_API_TOKEN", server.token)
    monkeypatch.setenv("NEPTUNE_API_TOKEN", "wrong")
    monkeypatch.setenv("NEREID_PROJECT", "default/sandbox")
    both = neptune.init_run(mode="sync", **QUIET)
    both["y"].append(1.0)
    assert server.get_json(f"/api/v1/runs/{both.id}")["project"] == "default/sandbox"
    both.stop()

    # Without any token, the wrong NEPTUNE_API_TOKEN is what the server sees.
    monkeypatch.delenv("NEREID_API_TOKEN")
    with pytest.raises(nereid.AuthenticationError):
        neptune.init_project().fetch_runs_table().to_pandas()


def test_dependencies_infer_records_the_installed_distributions(server, neptune_env):
    run = neptune.init_run(dependencies="infer", **QUIET)
    run.stop()
    f = server.fields(run.id)
    assert f["source_code/requirements"]["type"] == "file"
    text = server.get(f"/api/v1/runs/{run.id}/file",
                      params={"path": "source_code/requirements"}).content.decode()
    lines = text.splitlines()
    for dist in ("numpy", "pytest"):
        assert f"{dist}=={importlib.metadata.version(dist)}" in lines
    assert all("==" in line for line in lines) and len(lines) == len(set(lines))


def test_dependencies_from_a_file(server, neptune_env, tmp_path):
    req = tmp_path / "requirements.txt"
    req.write_text("torch==2.1.0\nnumpy>=1.24\n")
    run = neptune.init_run(dependencies=str(req), **QUIET)
    run.stop()
    got = server.get(f"/api/v1/runs/{run.id}/file", params={"path": "source_code/requirements"})
    assert got.content == req.read_bytes()
    before = len(runs_of(server, neptune_env))
    with pytest.raises(FileNotFoundError, match="dependencies"):
        neptune.init_run(dependencies=str(tmp_path / "missing.txt"), **QUIET)
    with pytest.raises(TypeError, match="dependencies"):
        neptune.init_run(dependencies=["numpy"], **QUIET)
    assert len(runs_of(server, neptune_env)) == before  # no run was made


def test_arguments_nereid_cannot_honour_raise_naming_them(neptune_env):
    ok = neptune.init_run(monitoring_namespace="monitoring", fail_on_exception=True,
                          async_lag_threshold=300, **QUIET)
    ok.stop()
    cases = [
        (dict(monitoring_namespace="monitoring/abc123"), "monitoring_namespace"),
        (dict(fail_on_exception=False), "fail_on_exception"),
        (dict(proxies={"https": "http://proxy:3128"}), "proxies"),
        (dict(async_lag_callback=print), "async_lag_callback"),
    ]
    for kwargs, name in cases:
        with pytest.raises(nereid.NereidUnsupportedError, match=name):
            neptune.init_run(**kwargs, **QUIET)
    with pytest.raises(nereid.NereidUnsupportedError, match="proxies"):
        neptune.init_project(proxies={"https": "http://proxy:3128"})
    project = neptune.init_project()
    with pytest.raises(nereid.NereidUnsupportedError, match=r"project\['general/brief'\]"):
        project["general/brief"] = "a project-level field"
    with pytest.raises(nereid.NereidUnsupportedError, match=r"project\['general/brief'\]"):
        project["general/brief"].fetch()


@pytest.mark.parametrize("callback", ["on_error_callback", "on_warning_callback",
                                      "on_network_error_callback", "on_queue_full_callback",
                                      "on_async_lag_callback"])
def test_neptune_scale_callbacks_raise_naming_themselves(neptune_env, callback):
    with pytest.raises(nereid.NereidUnsupportedError, match=callback):
        ScaleRun(run_id="cb", enable_console_log_capture=False, **{callback: print})
    run = ScaleRun(run_id="cb-none", enable_console_log_capture=False, max_queue_size=10,
                   **{callback: None})  # None is Neptune's default: nothing to drop
    run.close()
