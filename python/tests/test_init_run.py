"""init_run's arguments, its modes and the environment it reads, each against the real server."""

import os
import random
import string
import subprocess
import sys
import textwrap
import time
import uuid

import numpy as np
import pytest

import nereid
from conftest import child_env


def new_project(server) -> str:
    """A project of its own in a new workspace, so a test can tell its runs from the others'."""
    ws = "ws" + uuid.uuid4().hex[:8]
    key = "".join(random.choice(string.ascii_uppercase) for _ in range(8))
    assert server.post("/api/v1/workspaces", json={"name": ws}).status_code == 201
    r = server.post(f"/api/v1/workspaces/{ws}/projects", json={"name": "vision", "key": key})
    assert r.status_code == 201, r.text
    return f"{ws}/vision"


def runs_of(server, project):
    return server.get_json(f"/api/v1/projects/{project}/runs", params={"limit": 1000})["runs"]


def test_name_description_tags_and_project(make_run, server):
    project = new_project(server)
    run = make_run(project=project, name="resnet-50", description="first try",
                   tags=["resnet", "baseline"])
    run["x"].append(1.0)
    run.wait()
    f = server.fields(run.id)
    assert f["sys/name"]["value"] == "resnet-50"
    assert f["sys/description"]["value"] == "first try"
    assert sorted(f["sys/tags"]["value"]) == ["baseline", "resnet"]
    assert [r["id"] for r in runs_of(server, project)] == [run.id]
    one_tag = make_run(project=project, tags="single")  # a str is one tag, not its letters
    one_tag.wait()
    assert server.fields(one_tag.id)["sys/tags"]["value"] == ["single"]


def test_with_id_resumes_the_run(make_run, server):
    first = make_run()
    first["loss"].extend([3.0, 2.0])
    first["params/lr"] = 0.1
    first.stop()
    rid = first.id
    again = make_run(with_id=rid)
    again["loss"].append(1.0)  # continues the series: the next step
    again["params/epochs"] = 5
    again.wait()
    assert again.id == rid
    loss = server.series(rid, "loss")
    assert loss["values"] == [3.0, 2.0, 1.0] and loss["steps"] == [0, 1, 2]
    f = server.fields(rid)
    assert f["params/lr"]["value"] == 0.1 and f["params/epochs"]["value"] == 5
    again.stop()
    # init_run never waits for the server: a missing run is reported by the sender, and the
    # data waits in the spool (the run may be restored from the trash).
    missing = make_run(with_id="SAND-999999", stop_timeout=0.1)
    missing["x"].append(1.0)
    deadline = time.monotonic() + 60
    while not missing.errors() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "run 'SAND-999999' not found" in missing.errors()[0]


def test_custom_run_id_joins_two_processes_into_one_run(server, env, tmp_path):
    crid = "shared-" + uuid.uuid4().hex[:8]
    script = tmp_path / "worker.py"
    script.write_text(textwrap.dedent("""
        import sys, nereid
        who = sys.argv[1]
        run = nereid.init_run(custom_run_id=sys.argv[2], capture_hardware_metrics=False,
                              capture_stdout=False, capture_stderr=False, git_ref=False,
                              source_files=[], flush_period=0.2)
        for i in range(50):
            run["worker/" + who].append(float(i))
        run["done/" + who] = True
        run.wait()
        print("RUN_ID=" + run.id, flush=True)
        run.stop()
    """))
    procs = [subprocess.Popen([sys.executable, str(script), who, crid], env=child_env(env),
                              cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for who in ("a", "b")]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    ids = {line.split("=", 1)[1] for out, _ in outs for line in out.splitlines()
           if line.startswith("RUN_ID=")}
    assert len(ids) == 1
    rid = ids.pop()
    for who in ("a", "b"):
        assert server.series(rid, "worker/" + who)["values"] == [float(i) for i in range(50)]
        assert server.fields(rid)["done/" + who]["value"] is True
    assert [r["id"] for r in runs_of(server, "default/sandbox")
            if r["custom_run_id"] == crid] == [rid]


def test_sync_mode_has_the_point_on_the_server_when_append_returns(make_run, server):
    run = make_run(mode="sync")
    assert run.mode == "sync"
    run["x"].append(1.5)  # no wait(): in sync mode the call returns after the server's ack
    assert server.series(run.id, "x")["values"] == [1.5]
    run["y"] = "z"
    assert server.fields(run.id)["y"]["value"] == "z"


def test_offline_mode_sends_nothing(make_run, server, tmp_path):
    project = new_project(server)
    run = make_run(project=project, mode="offline", custom_run_id="off-1")
    run["x"].extend([1.0, 2.0])
    run.wait()  # returns at once: nothing is sent
    assert run.id == "" and run.custom_run_id == "off-1"
    assert os.path.isdir(run.spool_path)
    run.stop()
    assert runs_of(server, project) == []
    with pytest.raises(nereid.NotFoundError):
        run["x"].fetch_values()


def test_read_only_mode_reads_and_refuses_writes(make_run, server):
    writer = make_run(name="to-read")
    writer["params/lr"] = 0.25
    writer["loss"].extend([1.0, 0.5])
    writer.stop()
    reader = make_run(mode="read-only", with_id=writer.id)
    assert reader.mode == "read-only" and reader.id == writer.id
    assert reader["params/lr"].fetch() == 0.25
    assert reader["loss"].fetch_values()["value"].tolist() == [1.0, 0.5]
    with pytest.raises(nereid.AuthenticationError, match="read-only"):
        reader["loss"].append(0.1)
    reader.stop()
    f = server.fields(writer.id)
    assert f["loss"]["count"] == 2 and f["sys/state"]["value"] == "succeeded"
    with pytest.raises(nereid.NereidValueError):
        make_run(mode="read-only")  # nothing to read without with_id
    ghost = make_run(mode="read-only", with_id="SAND-999999")  # init_run does not ask the server
    with pytest.raises(nereid.NotFoundError):
        ghost["params/lr"].fetch()


def test_debug_mode_validates_and_stores_nothing(make_run, server, tmp_path):
    project = new_project(server)
    run = make_run(project=project, mode="debug", spool_dir=str(tmp_path / "debug-spool"))
    run["x"].append(1.0)
    with pytest.raises(nereid.NereidTypeError):
        run["x"].append("a str into a float series")
    with pytest.raises(nereid.NereidValueError):
        run["bad//path"].append(1.0)
    run.wait()
    assert run.id == ""
    run.stop()
    assert runs_of(server, project) == []
    assert not os.path.exists(tmp_path / "debug-spool")


def test_invalid_mode_names_the_choices(env):
    with pytest.raises(nereid.NereidValueError, match="offline"):
        nereid.init_run(mode="turbo")


def test_environment_variables_and_arguments_winning(server, env, monkeypatch, tmp_path):
    project = new_project(server)
    home = tmp_path / "home-from-env"
    monkeypatch.setenv("NEREID_PROJECT", project)
    monkeypatch.setenv("NEREID_HOME", str(home))
    monkeypatch.setenv("NEREID_CUSTOM_RUN_ID", "from-env")
    monkeypatch.setenv("NEREID_MODE", "sync")
    run = plain_run()
    assert run.mode == "sync" and run.custom_run_id == "from-env"
    assert run.spool_path.startswith(str(home))
    run["x"].append(1.0)  # sync: on the server when the call returns
    assert [(r["id"], r["custom_run_id"]) for r in runs_of(server, project)] == \
        [(run.id, "from-env")]
    run.stop()

    # Arguments win over every variable; a wrong NEREID_URL/NEREID_API_TOKEN is then unused.
    monkeypatch.setenv("NEREID_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("NEREID_API_TOKEN", "not-a-token")
    other = tmp_path / "home-from-arg"
    run2 = plain_run(url=server.base_url, api_token=server.token,
                        project="default/sandbox", spool_dir=str(other),
                        custom_run_id="from-arg", mode="async")
    run2["x"].append(2.0)
    run2.wait(timeout=60)
    assert run2.mode == "async" and run2.spool_path.startswith(str(other))
    assert server.get_json(f"/api/v1/runs/{run2.id}")["project"] == "default/sandbox"
    assert server.get_json(f"/api/v1/runs/{run2.id}")["custom_run_id"] == "from-arg"
    run2.stop()

    # The token comes from NEREID_API_TOKEN when not given: a wrong one is refused.
    monkeypatch.setenv("NEREID_URL", server.base_url)
    monkeypatch.delenv("NEREID_CUSTOM_RUN_ID")
    with pytest.raises(nereid.AuthenticationError):
        nereid.init_project("default/sandbox").fetch_runs_table().to_pandas()


def plain_run(**kw):
    """init_run with capture off and nothing else defaulted, so the environment decides."""
    for k in ("capture_stdout", "capture_stderr", "capture_hardware_metrics",
              "capture_traceback"):
        kw.setdefault(k, False)
    kw.setdefault("flush_period", 0.2)
    return nereid.init_run(git_ref=False, source_files=[], **kw)


def test_a_wrong_argument_type_names_the_argument(env, tmp_path):
    for kwargs, arg in [(dict(name=5), "name"), (dict(project=["a/b"]), "project"),
                        (dict(custom_run_id=7), "custom_run_id"), (dict(tags=["ok", 3]), "tags"),
                        (dict(flush_period="5"), "flush_period"),
                        (dict(stop_timeout=None), "stop_timeout")]:
        with pytest.raises(nereid.NereidTypeError, match=rf"init_run\({arg}=\)"):
            plain_run(**kwargs)
    with pytest.raises(nereid.NereidTypeError, match=r"init_project\(project=\)"):
        nereid.init_project(project=5)
    # What is close enough is taken: a path object, a tuple or generator of tags.
    run = plain_run(mode="offline", spool_dir=tmp_path / "spool-path",
                    tags=(t for t in ("a", "b")), flush_period=np.float32(0.5))
    assert run.spool_path.startswith(str(tmp_path / "spool-path"))
    run.stop()
