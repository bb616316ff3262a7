"""Deleting runs: to the trash (hidden from the table, refusing data), restore, delete forever
(frees the workspace's usage and the files no other run references; numbers never reused),
through the HTTP API, the CLI and a real client's spool."""

import hashlib
import os
import subprocess

from accounts_util import admin_call, make_user
from client_helpers import (assert_exact_points, harness_bin, nereid_sync,  # noqa: F401
                            new_custom_id, run_harness, run_id_of)
from conftest import NEREID_BIN, assert_error, new_writer


def table(s, project="default/sandbox", trashed=None):
    params = {"limit": 1000}
    if trashed is not None:
        params["trashed"] = "true" if trashed else "false"
    page = s.get_json(f"/api/v1/projects/{project}/runs", params=params)
    assert page["total"] == len(page["runs"])
    return sorted(r["id"] for r in page["runs"])


def change(s, action, runs, project="default/sandbox"):
    return s.post(f"/api/v1/projects/{project}/runs/{action}", json={"runs": runs})


def usage(s, ws="default"):
    return admin_call(s, "GET", f"/api/v1/workspaces/{ws}/usage")["used_bytes"]


def test_trash_restore_delete(start_server):
    s = start_server()
    a, b, c = (s.create_run(name=n)["id"] for n in "abc")
    s.post_ops(b, [{"path": "x", "assign": {"floatValue": 1.5}}])
    r = change(s, "trash", [b, c])
    assert r.status_code == 200, r.text
    assert r.json() == {"trashed": [b, c]}
    assert table(s) == [a]
    assert table(s, trashed=True) == sorted([b, c])
    run = s.get_json(f"/api/v1/runs/{b}")
    assert run["trashed"] is True and run["trashed_time"]
    assert s.fields(b)["sys/trashed_time"]["type"] == "datetime"
    assert s.fields(b)["x"]["value"] == 1.5
    assert s.get_json(f"/api/v1/runs/{a}")["trashed"] is False

    # Unknown ids: 404 naming them, nothing applied.
    err = assert_error(change(s, "trash", [a, "SAND-999", "OTHER-1"]), 404, "not_found")
    assert "SAND-999" in err["message"] and "OTHER-1" in err["message"]
    assert table(s) == [a]
    assert_error(change(s, "trash", []), 400, "invalid_argument")
    assert_error(s.post("/api/v1/projects/default/sandbox/runs/trash", json={"runs": "SAND-1"}),
                 400, "invalid_argument")

    # Delete forever takes only trashed runs: 409 naming the others, nothing deleted.
    err = assert_error(change(s, "delete", [b, a]), 409, "failed_precondition")
    assert a in err["message"] and "not in the trash" in err["message"]
    assert s.get(f"/api/v1/runs/{b}").status_code == 200

    r = change(s, "restore", [c])
    assert r.json() == {"restored": [c]}
    assert table(s) == sorted([a, c])
    r = change(s, "delete", [b])
    assert r.status_code == 200, r.text
    assert r.json()["deleted"] == [b] and r.json()["freed_bytes"] > 0
    assert_error(s.get(f"/api/v1/runs/{b}"), 404, "not_found")
    assert table(s, trashed=True) == []
    # Numbers are never reused.
    assert s.create_run()["id"] == "SAND-4"


def test_trashed_run_refuses_batches(start_server):
    s = start_server()
    run = s.create_run()["id"]
    w = new_writer()
    s.post_ops(run, [{"path": "a", "assign": {"intValue": 1}}], writer=w, sequence=1)
    assert change(s, "trash", [run]).status_code == 200
    r = s.post_batch_raw(run, {"writerId": w, "sequence": "2",
                               "operations": [{"path": "b", "assign": {"intValue": 2}}]})
    err = assert_error(r, 409, "failed_precondition")
    assert "in the trash" in err["message"] and "restore" in err["message"]
    assert change(s, "restore", [run]).status_code == 200
    s.post_ops(run, [{"path": "b", "assign": {"intValue": 2}}], writer=w, sequence=2)
    assert s.fields(run)["b"]["value"] == 2


def test_client_keeps_data_for_a_trashed_run_until_restored(start_server, harness_bin, tmp_path):
    s = start_server()
    cid = new_custom_id()
    run = s.create_run(custom_run_id=cid)["id"]
    assert change(s, "trash", [run]).status_code == 200
    rc, out = run_harness("http://127.0.0.1:9", s.token, tmp_path, "--custom-id", cid,
                          "--mode", "offline", "--points", "300")
    assert rc == 0 and "STOP ok" in out, out
    rc, out = nereid_sync(s.base_url, s.token, tmp_path)
    assert rc != 0, out
    assert "in the trash" in out and "the rest kept" in out, out
    assert "train/loss" not in s.fields(run)
    assert change(s, "restore", [run]).status_code == 200
    rc, out = nereid_sync(s.base_url, s.token, tmp_path)
    assert rc == 0, out
    assert_exact_points(s, run, "train/loss", range(300))


def test_delete_frees_quota_and_the_refused_client_finishes(start_server, harness_bin, tmp_path):
    s = start_server()
    filler = s.create_run()["id"]
    s.post_ops(filler, [{"path": "blob", "assign": {"stringValue": "x" * 200000}}])
    used = usage(s)
    admin_call(s, "PUT", "/api/v1/workspaces/default/limits", json={"quota_bytes": used + 100})
    cid = new_custom_id()
    rc, out = run_harness("http://127.0.0.1:9", s.token, tmp_path, "--custom-id", cid,
                          "--mode", "offline", "--points", "20000")
    assert rc == 0 and "STOP ok" in out, out
    # Refused by the quota: sync stops and keeps the data in the spool.
    rc, out = nereid_sync(s.base_url, s.token, tmp_path)
    assert rc != 0 and "quota_exceeded" in out and "the rest kept" in out, out
    run = run_id_of(s, cid)
    assert change(s, "trash", [filler]).status_code == 200
    assert usage(s) == used + s.get_json(f"/api/v1/runs/{run}")["size"]  # the trash counts
    r = change(s, "delete", [filler])
    assert r.status_code == 200, r.text
    assert r.json()["freed_bytes"] >= 200000
    rc, out = nereid_sync(s.base_url, s.token, tmp_path)
    assert rc == 0, out
    assert_exact_points(s, run, "train/loss", range(20000))
    # Usage is exactly what is left: the client's run.
    assert usage(s) == s.get_json(f"/api/v1/runs/{run}")["size"]


def test_files_removed_when_the_last_reference_goes(start_server):
    s = start_server()
    content = b"trash test file " + os.urandom(8)
    sha = s.upload(content)["sha256"]
    assert sha == hashlib.sha256(content).hexdigest()
    a, b = s.create_run()["id"], s.create_run()["id"]
    for run in (a, b):
        s.post_ops(run, [{"path": "model", "assign": {"file": {"sha256": sha, "name": "m.bin"}}}])
    path = os.path.join(s.seen_data_dir, "files", sha[:2], sha)
    assert os.path.exists(path)
    assert change(s, "trash", [a, b]).status_code == 200
    r = change(s, "delete", [a])
    assert r.json()["removed_files"] == 0
    assert os.path.exists(path)
    assert s.get(f"/api/v1/runs/{b}/file", params={"path": "model"}).content == content
    r = change(s, "delete", [b])
    assert r.json()["removed_files"] == 1
    assert not os.path.exists(path)
    # Uploaded again, it is usable again.
    assert s.upload(content)["sha256"] == sha
    c = s.create_run()["id"]
    s.post_ops(c, [{"path": "model", "assign": {"file": {"sha256": sha, "name": "m.bin"}}}])
    assert s.get(f"/api/v1/runs/{c}/file", params={"path": "model"}).content == content


def test_permissions(start_server):
    s = start_server()
    a, b = s.create_run()["id"], s.create_run()["id"]
    contributor = make_user(s, "con", project_roles=[("default/sandbox", "contributor")])
    viewer = make_user(s, "vie", project_roles=[("default/sandbox", "viewer")])
    owner = make_user(s, "own", project_roles=[("default/sandbox", "owner")])
    path = "/api/v1/projects/default/sandbox/runs/"
    assert_error(viewer.request("POST", path + "trash", json={"runs": [a]}), 403,
                 "permission_denied")
    assert contributor.request("POST", path + "trash", json={"runs": [a, b]}).status_code == 200
    assert contributor.request("POST", path + "restore", json={"runs": [b]}).status_code == 200
    assert viewer.get("/api/v1/projects/default/sandbox/runs?trashed=true").status_code == 200
    assert_error(contributor.request("POST", path + "delete", json={"runs": [a]}), 403,
                 "permission_denied")
    assert owner.request("POST", path + "delete", json={"runs": [a]}).status_code == 200


def test_cli(start_server):
    s = start_server()
    a, b = s.create_run()["id"], s.create_run()["id"]

    def cli(*args):
        return subprocess.run([NEREID_BIN, "runs", "--url", s.base_url, "--token", s.token, *args],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              timeout=60)

    p = cli("trash", a, b, "--project", "default/sandbox")
    assert p.returncode == 0, p.stderr
    assert "2 run(s) moved to the trash" in p.stdout
    p = cli("ls", "default/sandbox", "--trashed")
    assert p.returncode == 0 and a in p.stdout and b in p.stdout, p.stdout
    p = cli("restore", b, "--project", "default/sandbox")
    assert p.returncode == 0, p.stderr
    assert table(s) == [b]
    p = cli("delete", a, "--project", "default/sandbox")
    assert p.returncode != 0 and "--yes" in p.stderr, p.stderr
    assert s.get(f"/api/v1/runs/{a}").status_code == 200
    p = cli("delete", b, "--project", "default/sandbox", "--yes")
    assert p.returncode != 0 and "not in the trash" in p.stderr, p.stderr
    p = cli("delete", a, "--project", "default/sandbox", "--yes")
    assert p.returncode == 0, p.stderr
    assert "1 run(s) deleted forever" in p.stdout
    assert s.get(f"/api/v1/runs/{a}").status_code == 404
