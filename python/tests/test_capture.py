"""Automatic capture beyond test_lifecycle's end-to-end run: source_files globs, the heartbeat,
hardware capture without NVML, multiprocessing children (spawn and fork), each capture switched
off, and git_ref's choice of repository."""

import ctypes
import datetime as dt
import os
import subprocess
import sys
import textwrap
import time

import pytest

from conftest import child_env
from nereid import capture
from test_lifecycle import run_id_from, run_script


def wait_until(what, condition, timeout=60.0):
    """Polls `condition` (a background thread's effect); fails naming `what` if it never holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"never happened: {what}")
        time.sleep(0.05)


def test_source_files_globs(make_run, server, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    files = {"src/train.py": "TRAIN = 1\n", "src/model.py": "MODEL = 2\n",
             "src/data/loader.py": "LOADER = 3\n", "src/README.md": "not python\n",
             "configs/base.yaml": "lr: 0.1\n", "notes.txt": "not asked for\n"}
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    outside = tmp_path.parent / f"{tmp_path.name}-extra.cfg"
    outside.write_text("outside the working folder\n")
    # Overlapping patterns (each file once), a recursive one, one matching nothing, a plain path.
    run = make_run(source_files=["src/*.py", "src/**/*.py", "nothing/*.py", "configs/base.yaml",
                                 str(outside)])
    run.wait()
    got = sorted(k[len("source_code/files/"):] for k in server.fields(run.id)
                 if k.startswith("source_code/files/"))
    assert got == sorted(["configs/base.yaml", "src/data/loader.py", "src/model.py",
                          "src/train.py", outside.name])
    content = server.get(f"/api/v1/runs/{run.id}/file",
                         params={"path": "source_code/files/src/data/loader.py"}).content
    assert content == b"LOADER = 3\n"

    one = make_run(source_files="src/*.py")  # a single pattern as a str
    one.wait()
    assert sorted(k for k in server.fields(one.id) if k.startswith("source_code/files/")) == \
        ["source_code/files/src/model.py", "source_code/files/src/train.py"]


def ping_time(server, rid):
    v = server.fields(rid)["sys/ping_time"]["value"]
    return dt.datetime.fromisoformat(v.replace("Z", "+00:00"))


def test_heartbeat_updates_ping_time_while_the_process_lives(make_run, server):
    run = make_run(monitoring_period=0.05)
    run.wait()
    first = ping_time(server, run.id)

    def advanced():
        run.wait()
        return ping_time(server, run.id) > first

    wait_until("sys/ping_time advancing", advanced)


def test_hardware_capture_without_nvml_logs_no_gpu_and_no_error(make_run, server, monkeypatch,
                                                                 capfd, caplog):
    real_cdll = ctypes.CDLL

    def no_nvml(name, *args, **kwargs):
        if "nvidia-ml" in str(name):
            raise OSError(f"{name}: cannot open shared object file: No such file or directory")
        return real_cdll(name, *args, **kwargs)

    monkeypatch.setattr(capture.ctypes, "CDLL", no_nvml)  # as on a machine without a GPU
    run = make_run(capture_hardware_metrics=True, monitoring_period=0.05)

    def sampled_three_times():
        run.wait()
        f = server.fields(run.id)
        return "monitoring/cpu" in f and f["monitoring/cpu"]["count"] >= 3

    wait_until("three hardware samples", sampled_three_times)
    run.stop()
    fields = server.fields(run.id)
    assert fields["monitoring/memory"]["count"] >= 3
    assert not [k for k in fields if k.startswith("monitoring/gpu")]
    assert run.errors() == []
    assert "nvidia" not in capfd.readouterr().err.lower()
    assert not [r for r in caplog.records if r.levelname in ("WARNING", "ERROR")]


MP_SCRIPT = """
    import multiprocessing as mp, sys, nereid

    QUIET = dict(capture_stdout=False, capture_stderr=False, capture_hardware_metrics=False,
                 git_ref=False, source_files=[], flush_period=0.2)

    def own_writer(args):
        # What a worker should do: its own run with the parent's custom_run_id.
        crid, k = args
        run = nereid.init_run(custom_run_id=crid, **QUIET)
        run[f"workers/{k}"].extend([float(k)] * 10)
        run.stop()
        return k

    def parents_run(k):
        # A forked worker using the parent's run object: dropped, never in the parent's spool.
        for j in range(100):
            RUN["from_child"].append(float(j))
        print(f"child {k} printed", flush=True)
        return k

    if __name__ == "__main__":
        method = sys.argv[1]
        RUN = nereid.init_run(custom_run_id=sys.argv[2], capture_hardware_metrics=False,
                              git_ref=False, source_files=[], flush_period=0.2)
        print("RUN_ID=" + RUN.id, flush=True)
        for i in range(50):
            RUN["parent"].append(float(i))
        pool = mp.get_context(method).Pool(2)
        done = pool.map(own_writer, [(RUN.custom_run_id, k) for k in range(4)])
        if method == "fork":
            done += pool.map(parents_run, range(2))
        pool.close()
        pool.join()
        for i in range(50, 100):
            RUN["parent"].append(float(i))
        RUN.stop()
        print("DONE", sorted(done), flush=True)
"""


@pytest.mark.parametrize("method", ["spawn", "fork"])
def test_multiprocessing_children_log_safely(server, env, tmp_path, method):
    script = tmp_path / "mp_train.py"
    script.write_text(textwrap.dedent(MP_SCRIPT))
    r = subprocess.run([sys.executable, str(script), method, f"mp-{method}-{os.getpid()}"],
                       env=child_env(env), cwd=tmp_path, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    rid = run_id_from(r.stdout)
    fields = server.fields(rid)
    assert server.series(rid, "parent")["values"] == [float(i) for i in range(100)]
    for k in range(4):
        assert server.series(rid, f"workers/{k}")["values"] == [float(k)] * 10
    assert "from_child" not in fields
    if method == "fork":
        assert "DONE [0, 0, 1, 1, 2, 3]" in r.stdout
        assert "child 0 printed" in r.stdout  # teed to the terminal, not into the run
        assert not [v for v in server.series(rid, "monitoring/stdout")["values"]
                    if "printed" in v]
    else:
        assert "DONE [0, 1, 2, 3]" in r.stdout


def git_repo(path):
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    (path / "a.txt").write_text("a\n")
    subprocess.run(["git", "-C", str(path), "add", "a.txt"], check=True)
    subprocess.run(["git", "-C", str(path), "-c", "user.email=a@b", "-c", "user.name=a",
                    "commit", "-q", "-m", "first"], check=True)
    return path


def test_capture_switched_off_records_nothing_but_the_heartbeat(server, env, tmp_path):
    git_repo(tmp_path)
    r = run_script(tmp_path, env, """
        import sys, time, nereid
        run = nereid.init_run(capture_stdout=False, capture_stderr=False, git_ref=False,
                              capture_hardware_metrics=False, capture_traceback=False,
                              source_files=[], monitoring_period=0.05, flush_period=0.2)
        print("RUN_ID=" + run.id, flush=True)
        print("to stdout", flush=True)
        sys.stderr.write("to stderr\\n")
        # Until the monitor thread has been round twice (it would sample hardware each time).
        run.wait()
        first = run["sys/ping_time"].fetch()
        while True:
            run.wait()
            if run["sys/ping_time"].fetch() != first:
                break
            time.sleep(0.05)
        raise RuntimeError("boom")
    """)
    assert r.returncode == 1 and "boom" in r.stderr
    f = server.fields(run_id_from(r.stdout))
    assert f["sys/state"]["value"] == "failed" and f["sys/failed"]["value"] is True
    assert sorted(k for k in f if k.startswith(("monitoring/", "source_code/"))) == []


def test_git_ref_chooses_the_repository(server, env, tmp_path):
    git_repo(tmp_path)
    other = git_repo(tmp_path / "elsewhere" / "other")
    r = run_script(tmp_path, env, f"""
        import nereid
        from nereid.types import GitRef
        import nereid.compat.neptune as neptune
        kw = dict(capture_stdout=False, capture_stderr=False, capture_hardware_metrics=False,
                  source_files=[], flush_period=0.2)
        refs = {{"default": GitRef(), "other": GitRef(repository_path={str(other)!r}),
                "disabled": GitRef.DISABLED, "neptune": neptune.types.GitRef.DISABLED}}
        for label, ref in refs.items():
            run = nereid.init_run(git_ref=ref, **kw)
            run.stop()
            print(label + "=" + run.id, flush=True)
    """)
    assert r.returncode == 0, r.stderr
    ids = dict(line.split("=", 1) for line in r.stdout.splitlines() if "=" in line)

    def git_root(label):
        return server.fields(ids[label]).get("source_code/git/root", {}).get("value")

    assert git_root("default") == str(tmp_path.resolve())
    assert git_root("other") == str(other.resolve())
    assert git_root("disabled") is None and git_root("neptune") is None


def test_a_run_sent_to_another_process_says_how_to_join_it(make_run):
    import pickle

    run = make_run(custom_run_id="pickled-1")
    for obj in (run, run["train/loss"]):
        with pytest.raises(TypeError, match=r"init_run\(custom_run_id='pickled-1'\)"):
            pickle.dumps(obj)
