"""Process-level behaviour, each in a real child process: automatic capture, an uncaught
exception, SIGTERM and SIGINT, fork, offline mode + `nereid sync`."""

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time

import pytest

from conftest import NEREID_BIN, child_env

PY = sys.executable


def run_script(tmp_path, env, body, name="script.py", timeout=120, **popen):
    script = tmp_path / name
    script.write_text(textwrap.dedent(body))
    return subprocess.run([PY, str(script)], env=child_env(env), cwd=tmp_path,
                          capture_output=True, text=True, timeout=timeout, **popen)


def run_id_from(out):
    for line in out.splitlines():
        if line.startswith("RUN_ID="):
            return line.split("=", 1)[1].strip()
    raise AssertionError(f"no RUN_ID in output: {out!r}")


def test_capture_stdout_stderr_hardware_source_and_git(server, env, tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run(["git", "-C", str(tmp_path), "remote", "add", "origin",
                    "https://user:secret@example.com/acme/repo.git"], check=True)
    (tmp_path / "helper.py").write_text("X = 1\n")
    subprocess.run(["git", "-C", str(tmp_path), "add", "helper.py"], check=True)
    subprocess.run(["git", "-C", str(tmp_path), "-c", "user.email=a@b", "-c", "user.name=a",
                    "commit", "-q", "-m", "first"], check=True)
    (tmp_path / "helper.py").write_text("X = 2\n")
    r = run_script(tmp_path, env, """
        import sys, time, nereid
        run = nereid.init_run(monitoring_period=0.1, flush_period=0.2)
        print("RUN_ID=" + run.id, flush=True)
        print("hello from stdout")
        print("partial", end="")
        sys.stderr.write("oops on stderr\\n")
        time.sleep(0.6)
        run.stop()
        print("after stop")
    """)
    assert r.returncode == 0, r.stderr
    assert "hello from stdout" in r.stdout and "oops on stderr" in r.stderr  # teed, not swallowed
    rid = run_id_from(r.stdout)
    out = server.series(rid, "monitoring/stdout")["values"]
    assert "hello from stdout" in out and "partial" in out and "after stop" not in out
    assert server.series(rid, "monitoring/stderr")["values"] == ["oops on stderr"]
    f = server.fields(rid)
    assert f["monitoring/cpu"]["count"] >= 2 and f["monitoring/memory"]["count"] >= 2
    assert 0 <= f["monitoring/cpu"]["last"] <= 100 and f["monitoring/memory"]["last"] > 0
    assert f["sys/ping_time"]["type"] == "datetime"
    assert f["source_code/files/script.py"]["type"] == "file"
    src = server.get(f"/api/v1/runs/{rid}/file", params={"path": "source_code/files/script.py"})
    assert b"hello from stdout" in src.content
    git = {k[len("source_code/git/"):]: v.get("value") for k, v in f.items()
           if k.startswith("source_code/git/")}
    assert len(git["commit"]) == 40
    assert git["branch"] in ("master", "main") and git["detached"] is False
    assert git["message"] == "first" and git["author"] == "a" and git["author_email"] == "a@b"
    assert f["source_code/git/commit_time"]["type"] == "datetime"
    assert git["root"] == str(tmp_path.resolve())
    # script.py is untracked and helper.py edited; the spool in .nereid/ does not count.
    assert git["dirty"] is True
    assert git["remote_url"] == "https://example.com/acme/repo.git"
    assert git["remotes/origin"] == "https://example.com/acme/repo.git"
    assert "secret" not in str(git)
    diff = server.get(f"/api/v1/runs/{rid}/file", params={"path": "source_code/diff"}).content
    assert b"diff --git a/helper.py b/helper.py" in diff and b"+X = 2" in diff


def test_git_info_of_clean_and_missing_repositories(tmp_path):
    from nereid import _core

    assert _core.git_info(str(tmp_path)) is None  # not a repository: nothing, no exception
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "a.py").write_text("A = 1\n")
    subprocess.run(["git", "-C", str(tmp_path), "add", "a.py"], check=True)
    subprocess.run(["git", "-C", str(tmp_path), "-c", "user.email=a@b", "-c", "user.name=a",
                    "commit", "-q", "-m", "one\n\nbody"], check=True)
    (tmp_path / ".nereid").mkdir()
    (tmp_path / ".nereid" / "seg").write_text("spool")
    g = _core.git_info(str(tmp_path))
    assert g["dirty"] is False and g["message"] == "one" and g["diff"] == b""
    assert g["commit_time"] > time.time() - 600 and g["note"] == ""


def test_init_run_outside_a_repository_records_no_git(server, env, tmp_path):
    r = run_script(tmp_path, env, """
        import nereid
        run = nereid.init_run(capture_hardware_metrics=False, flush_period=0.2)
        print("RUN_ID=" + run.id, flush=True)
        run.stop()
    """)
    assert r.returncode == 0, r.stderr
    assert not [k for k in server.fields(run_id_from(r.stdout)) if k.startswith("source_code/git")]


def test_uncaught_exception_marks_failed_with_traceback(server, env, tmp_path):
    r = run_script(tmp_path, env, """
        import nereid
        run = nereid.init_run(capture_hardware_metrics=False, flush_period=0.2)
        print("RUN_ID=" + run.id, flush=True)
        run["x"].append(1.0)
        def train():
            raise RuntimeError("diverged at step 7")
        train()
    """)
    assert r.returncode == 1 and "diverged at step 7" in r.stderr
    rid = run_id_from(r.stdout)
    f = server.fields(rid)
    assert f["sys/state"]["value"] == "failed" and f["sys/failed"]["value"] is True
    tb = server.series(rid, "monitoring/traceback")["values"]
    assert len(tb) == 1 and "RuntimeError: diverged at step 7" in tb[0] and "train()" in tb[0]
    assert server.series(rid, "x")["values"] == [1.0]


def start_logging_child(tmp_path, env, points=100):
    """A child that logs `points` points, says READY and sleeps: (process, its run id)."""
    script = tmp_path / "signalled.py"
    script.write_text(textwrap.dedent(f"""
        import time, nereid
        run = nereid.init_run(capture_hardware_metrics=False, flush_period=0.2)
        print("RUN_ID=" + run.id, flush=True)
        for i in range({points}):
            run["x"].append(float(i))
        print("READY", flush=True)
        time.sleep(60)
    """))
    p = subprocess.Popen([PY, str(script)], env=child_env(env), cwd=tmp_path,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = []
    while True:
        line = p.stdout.readline()
        assert line, p.stderr.read()
        lines.append(line)
        if line.startswith("READY"):
            return p, run_id_from("".join(lines))


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_marks_aborted_after_flushing(server, env, tmp_path, signum):
    p, rid = start_logging_child(tmp_path, env)
    p.send_signal(signum)
    rc = p.wait(60)
    stderr = p.stderr.read()
    # Python's own exit for the signal: killed by it (SIGTERM, or SIGINT after KeyboardInterrupt).
    assert rc == -signum, stderr
    f = server.fields(rid)
    assert f["sys/state"]["value"] == "aborted"
    assert "sys/failed" not in f or f["sys/failed"]["value"] is False
    assert server.series(rid, "x")["values"] == [float(i) for i in range(100)]
    if signum == signal.SIGINT:  # a KeyboardInterrupt: its traceback is kept, and still printed
        assert "KeyboardInterrupt" in stderr
        assert "KeyboardInterrupt" in server.series(rid, "monitoring/traceback")["values"][0]


def test_fork_while_logging_child_cannot_corrupt_parent(server, env, tmp_path):
    r = run_script(tmp_path, env, """
        import os, threading, nereid
        run = nereid.init_run(capture_hardware_metrics=False, flush_period=0.2)
        print("RUN_ID=" + run.id, flush=True)
        stop = threading.Event()
        def logger():
            i = 0
            while not stop.is_set():
                run["parent"].append(float(i)); i += 1
            run["count"] = i
        t = threading.Thread(target=logger); t.start()
        pids = []
        for k in range(4):
            pid = os.fork()
            if pid == 0:
                for j in range(1000):
                    run["child"].append(float(j))   # dropped: the run is the parent's
                print("child printing", flush=True)
                os._exit(0)
            pids.append(pid)
        for pid in pids:
            assert os.waitpid(pid, 0)[1] == 0
        stop.set(); t.join()
        # A child that wants to log makes its own writer by joining the run.
        pid = os.fork()
        if pid == 0:
            child = nereid.init_run(custom_run_id=run.custom_run_id, capture_stdout=False,
                                    capture_stderr=False, capture_hardware_metrics=False,
                                    source_files=[], git_ref=False)
            child["from_child"].append(42.0)
            child.stop()
            os._exit(0)
        assert os.waitpid(pid, 0)[1] == 0
        run.stop()
    """)
    assert r.returncode == 0, r.stderr
    rid = run_id_from(r.stdout)
    f = server.fields(rid)
    assert "child" not in f
    n = f["count"]["value"]
    assert n > 0
    assert server.series(rid, "parent")["values"] == [float(i) for i in range(n)]
    assert server.series(rid, "from_child")["values"] == [42.0]
    # Child output was teed to the terminal but not logged into the parent's run.
    assert "child printing" in r.stdout
    assert "child printing" not in server.series(rid, "monitoring/stdout")["values"]


def test_offline_then_nereid_sync(server, env, tmp_path):
    r = run_script(tmp_path, env, """
        import nereid
        run = nereid.init_run(mode="offline", custom_run_id="offline-py-1",
                              capture_hardware_metrics=False)
        run["params"] = {"lr": 0.5}
        run["loss"].extend([3.0, 2.0, 1.0])
        run.stop()
    """)
    assert r.returncode == 0, r.stderr
    assert "nereid sync" in r.stderr
    assert server.get_json("/api/v1/projects/default/sandbox/runs")["total"] >= 0
    sync = subprocess.run([NEREID_BIN, "sync", env["NEREID_HOME"], "--url", server.base_url,
                           "--token", server.token], capture_output=True, text=True, timeout=120)
    assert sync.returncode == 0, sync.stdout + sync.stderr
    runs = server.get_json("/api/v1/projects/default/sandbox/runs",
                           params={"filter": 'sys/custom_run_id = "offline-py-1"'})["runs"]
    if not runs:  # filter may not know sys/custom_run_id; find it by listing
        runs = [x for x in server.get_json("/api/v1/projects/default/sandbox/runs",
                                           params={"limit": 1000})["runs"]
                if x["custom_run_id"] == "offline-py-1"]
    assert len(runs) == 1
    rid = runs[0]["id"]
    assert server.fields(rid)["params/lr"]["value"] == 0.5
    assert server.series(rid, "loss")["values"] == [3.0, 2.0, 1.0]


def test_stop_seconds_bounds_the_wait_for_an_unreachable_server(env, tmp_path):
    # stop_timeout is an hour: only stop(seconds=) / close(timeout=) let the script end in time.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    r = run_script(tmp_path, dict(env, NEREID_URL=f"http://127.0.0.1:{port}"), """
        import nereid
        from nereid.compat.neptune_scale import Run
        run = nereid.init_run(capture_hardware_metrics=False, stop_timeout=3600)
        run["x"].append(1.0)
        try:
            run.wait(timeout=0.1)
        except nereid.UnavailableError as e:
            print("WAIT: " + str(e), flush=True)
        run.stop(seconds=0.2)
        print("STOPPED", flush=True)
        scale = Run(run_id="unreachable", enable_console_log_capture=False)
        scale.log_metrics({"x": 1.0}, step=0)
        scale.close(timeout=0.2)  # its stop_timeout is the default, 60 s
        print("CLOSED", flush=True)
    """, timeout=50)
    assert r.returncode == 0, r.stderr
    assert "STOPPED" in r.stdout and "CLOSED" in r.stdout
    assert "not yet acknowledged" in r.stdout and "cannot reach" in r.stdout  # wait() raised
    assert r.stderr.count("nereid sync") >= 2  # the data stays in the spool, and it says so
