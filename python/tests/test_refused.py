"""A record the server refuses for its content (here a string logged into another writer's float
series: 409 type_conflict) is set aside, reported and counted; the rest of the run arrives."""

import json
import os
import uuid


def test_a_refused_string_does_not_hold_up_the_points_after_it(make_run, server):
    custom = "refused-" + uuid.uuid4().hex[:12]
    first = make_run(custom_run_id=custom)
    first["x"].append(1.0)
    first.wait(timeout=30)  # the server now holds x as a float series

    second = make_run(custom_run_id=custom)  # another writer of the same run
    second["x"].append("not a float")
    y = second["y"]
    for i in range(1000):
        y.append(float(i), step=i)
    second.wait(timeout=60)

    rid = second.id
    assert rid == first.id
    got = server.series(rid, "y")
    assert got["values"] == [float(i) for i in range(1000)]
    assert got["steps"] == [float(i) for i in range(1000)]
    assert server.series(rid, "x")["values"] == [1.0]

    stats = second.stats()
    assert stats["records_refused"] == 1, stats
    assert stats["records_acked"] + stats["records_refused"] == stats["records_logged"], stats
    errors = [e for e in second.errors() if "refused" in e]
    assert len(errors) == 1, second.errors()
    assert "a string point of 'x'" in errors[0] and "409" in errors[0], errors[0]

    writer = second.spool_path
    kept_path = os.path.join(os.path.dirname(writer.rstrip("/")),
                             os.path.basename(writer.rstrip("/")) + ".refused.jsonl")
    assert kept_path in errors[0], (kept_path, errors[0])
    second.stop()
    first.stop()
    assert not os.path.exists(writer)  # delivered; the refused record outlives the folder
    with open(kept_path) as f:
        kept = [json.loads(line) for line in f]
    assert len(kept) == 1
    assert kept[0]["code"] == "type_conflict"
    assert kept[0]["operations"][0]["path"] == "x"
    assert "not a float" in json.dumps(kept[0])


def test_nereid_sync_sets_the_refused_record_aside_too(make_run, server, env):
    import subprocess
    from conftest import NEREID_BIN

    custom = "refused-sync-" + uuid.uuid4().hex[:12]
    first = make_run(custom_run_id=custom)
    first["x"].append(1.0)
    first.wait(timeout=30)

    offline = make_run(custom_run_id=custom, mode="offline")
    offline["x"].append("not a float")
    for i in range(500):
        offline["y"].append(float(i), step=i)
    writer = offline.spool_path.rstrip("/")
    offline.stop()

    out = subprocess.run([NEREID_BIN, "sync", writer, "--token", server.token],
                         capture_output=True, text=True, timeout=120, env=dict(os.environ, **env))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "refused a string point of 'x'" in out.stderr, out.stderr
    assert "1 refused by the server" in out.stdout, out.stdout
    assert server.series(first.id, "y")["values"] == [float(i) for i in range(500)]
    assert not os.path.exists(writer)
    with open(writer + ".refused.jsonl") as f:
        assert len(f.readlines()) == 1


def test_a_file_over_the_upload_limit_is_set_aside_with_its_bytes(start_server, tmp_path,
                                                                    monkeypatch):
    """A file larger than the server's --upload-limit is refused for itself (413 on /files), and
    would be refused forever: only its assignment is set aside, the file kept beside the
    refused-records file; the points around it and a file within the limit arrive."""
    import nereid

    srv = start_server("--upload-limit", "100000")
    monkeypatch.setenv("NEREID_HOME", str(tmp_path / "spool"))
    big = tmp_path / "model.pt"
    big.write_bytes(os.urandom(300_000))
    small = tmp_path / "notes.txt"
    small.write_text("within the limit")
    run = nereid.init_run(url=srv.base_url, api_token=srv.token, capture_stdout=False,
                          capture_stderr=False, capture_hardware_metrics=False,
                          capture_traceback=False, git_ref=False, source_files=[],
                          flush_period=0.2)
    for i in range(300):
        if i == 100:
            run["ckpt"].upload(str(big))
        if i == 200:
            run["notes"].upload(str(small))
        run["y"].append(float(i), step=i)
    run.wait(timeout=60)  # raises if anything is still held back

    assert srv.series(run.id, "y")["values"] == [float(i) for i in range(300)]
    fields = {f["path"]: f for f in srv.get(f"/api/v1/runs/{run.id}/fields").json()["fields"]}
    assert "notes" in fields and "ckpt" not in fields, sorted(fields)
    errors = [e for e in run.errors() if "refused" in e]
    assert len(errors) == 1 and "'ckpt' (HTTP 413" in errors[0], run.errors()
    writer = run.spool_path.rstrip("/")
    run.stop()
    assert not os.path.exists(writer)
    with open(writer + ".refused.jsonl") as f:
        kept = [json.loads(line) for line in f]
    assert len(kept) == 1 and kept[0]["http_status"] == 413, kept
    assert kept[0]["operations"][0]["path"] == "ckpt"
    (path,) = kept[0]["kept_files"]
    assert path.startswith(writer + ".refused-files" + os.sep)
    with open(path, "rb") as f:
        assert f.read() == big.read_bytes()
