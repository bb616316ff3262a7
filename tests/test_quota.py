"""Workspace storage quotas: fill, refuse whole (507 quota_exceeded with used / limit), raise,
finish; exact under concurrent ingest; usage via API and CLI."""

import hashlib
import json
import os
import random
import subprocess
import threading

from accounts_util import admin_call, make_user
from conftest import NEREID_BIN, assert_error, new_writer


def floats_batch(writer, seq, n, base=0.0, noisy=False):
    """noisy: values that do not compress, so that every batch costs about the same bytes (a
    linear ramp appended to an open chunk costs almost nothing after the first batch)."""
    rng = random.Random(f"{writer}:{seq}")
    values = [rng.random() if noisy else base + i * 0.37 for i in range(n)]
    return {"writerId": writer, "sequence": str(seq),
            "operations": [{"path": "data", "appendFloats": {"values": values}}]}


def usage(s, ws):
    return admin_call(s, "GET", f"/api/v1/workspaces/{ws}/usage")


def test_fill_refuse_raise_finish(start_server):
    s = start_server()
    admin_call(s, "POST", "/api/v1/workspaces", json={"name": "q"})
    admin_call(s, "POST", "/api/v1/workspaces/q/projects", json={"name": "p", "key": "QP"})
    run = s.create_run(project="q/p")["id"]
    w = new_writer()
    s.post_batch(run, floats_batch(w, 1, 2000))
    used = usage(s, "q")["used_bytes"]
    assert used > 0
    admin_call(s, "PUT", "/api/v1/workspaces/q/limits", json={"quota_bytes": used + 100})
    # A batch that would take the workspace past the quota is refused whole.
    r = s.post_batch_raw(run, floats_batch(w, 2, 20000, base=1e6))
    err = assert_error(r, 507, "quota_exceeded")
    assert f"{used} of {used + 100} bytes used" in err["message"]
    assert usage(s, "q")["used_bytes"] == used
    assert s.fields(run)["data"]["count"] == 2000
    # Other workspaces are not affected.
    other = s.create_run()["id"]
    s.post_batch(other, floats_batch(new_writer(), 1, 20000))
    # Raise the quota: the same batch (same sequence, as a client retrying from its spool) lands.
    admin_call(s, "PUT", "/api/v1/workspaces/q/limits", json={"quota_bytes": None})
    ack = s.post_batch(run, floats_batch(w, 2, 20000, base=1e6))
    assert ack["duplicate"] is False
    assert s.fields(run)["data"]["count"] == 22000
    u = usage(s, "q")
    assert u["used_bytes"] > used and u["quota_bytes"] is None
    assert u["projects"] == [{"project": "q/p", "runs": 1, "used_bytes": u["used_bytes"],
                              "run_bytes": u["used_bytes"], "notebook_checkpoints": 0,
                              "notebook_bytes": 0}]
    assert u["notebook_bytes"] == 0
    p = subprocess.run([NEREID_BIN, "admin", "--url", s.base_url, "--token", s.token, "usage", "q"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    assert f"{u['used_bytes']} bytes used of unlimited" in p.stdout and "q/p" in p.stdout


def _notebook_bytes(tag, size):
    """An nbformat 4 notebook of about `size` bytes whose content depends on `tag`."""
    nb = {"nbformat": 4, "nbformat_minor": 5, "metadata": {},
          "cells": [{"cell_type": "markdown", "metadata": {}, "source": tag + "x" * size}]}
    return json.dumps(nb).encode()


def test_notebook_checkpoints_count_in_usage_and_quota(start_server, tmp_path):
    s = start_server()
    admin_call(s, "POST", "/api/v1/workspaces", json={"name": "nq"})
    admin_call(s, "POST", "/api/v1/workspaces/nq/projects", json={"name": "p", "key": "NQP"})
    base = "/api/v1/projects/nq/p/notebooks/checkpoints"

    def upload(path, body):
        return s.session.post(s.url(base), params={"path": path}, data=body, timeout=60)

    v1 = _notebook_bytes("v1", 3000)
    assert upload("a.ipynb", v1).status_code == 201
    assert upload("a.ipynb", v1).status_code == 200  # the same content again: counted once
    u = usage(s, "nq")
    assert u["used_bytes"] == u["notebook_bytes"] == len(v1)
    assert u["projects"] == [{"project": "nq/p", "runs": 0, "used_bytes": len(v1), "run_bytes": 0,
                              "notebook_checkpoints": 1, "notebook_bytes": len(v1)}]

    admin_call(s, "PUT", "/api/v1/workspaces/nq/limits", json={"quota_bytes": len(v1) + 1000})
    v2 = _notebook_bytes("v2", 3000)
    err = assert_error(upload("a.ipynb", v2), 507, "quota_exceeded")
    assert err["message"] == (f"storage quota of workspace 'nq' exceeded: {len(v1)} of "
                              f"{len(v1) + 1000} bytes used, this notebook checkpoint needs "
                              f"{len(v2)} more; nothing of it was stored")
    listed = s.get_json(base, params={"path": "a.ipynb"})["checkpoints"]
    assert len(listed) == 1
    # Its bytes were not kept either: a refused upload does not fill the disk behind the quota.
    def blob(body):
        sha = hashlib.sha256(body).hexdigest()
        return os.path.join(s.seen_data_dir, "files", sha[:2], sha)

    assert os.path.exists(blob(v1)) and not os.path.exists(blob(v2))
    assert usage(s, "nq")["used_bytes"] == len(v1)
    assert upload("a.ipynb", v1).status_code == 200  # adds nothing: never refused

    p = subprocess.run([NEREID_BIN, "admin", "--url", s.base_url, "--token", s.token, "usage",
                        "nq"], capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    assert "1 notebook checkpoints" in p.stdout and f"({len(v1)} in them)" in p.stdout, p.stdout

    # `nereid notebook upload` gets the same refusal.
    path = tmp_path / "big.ipynb"
    path.write_bytes(v2)
    p = subprocess.run([NEREID_BIN, "notebook", "--url", s.base_url, "--token", s.token, "upload",
                        str(path), "--project", "nq/p"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=30)
    assert p.returncode != 0 and "storage quota of workspace 'nq' exceeded" in p.stderr, p.stderr


def test_quota_exact_under_concurrent_ingest(start_server):
    s = start_server()
    admin_call(s, "POST", "/api/v1/workspaces", json={"name": "cq"})
    admin_call(s, "POST", "/api/v1/workspaces/cq/projects", json={"name": "p", "key": "CQP"})
    runs = [s.create_run(project="cq/p")["id"] for _ in range(4)]
    # Measure one batch's size on a scratch run, then allow about 10 of the 40 we will send.
    probe = s.create_run(project="cq/p")["id"]
    s.post_batch(probe, floats_batch(new_writer(), 1, 500))
    one = usage(s, "cq")["used_bytes"]
    quota = one * 11
    admin_call(s, "PUT", "/api/v1/workspaces/cq/limits", json={"quota_bytes": quota})
    accepted = []
    refused = []
    lock = threading.Lock()

    def writer(run):
        w = new_writer()
        for seq in range(1, 11):
            r = s.session.post(s.url(f"/api/v1/runs/{run}/batches"),
                               json=floats_batch(w, seq, 500, noisy=True), timeout=60)
            with lock:
                (accepted if r.status_code == 200 else refused).append((run, r.status_code))

    threads = [threading.Thread(target=writer, args=(run,)) for run in runs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(code == 507 for _, code in refused), refused
    assert refused, "the quota should have refused some batches"
    u = usage(s, "cq")
    assert u["used_bytes"] <= quota
    # Usage is exactly the sum of the accepted batches' runs, and every accepted point is there.
    total_points = sum(s.fields(run)["data"]["count"] for run in runs if "data" in s.fields(run))
    assert total_points == 500 * len(accepted)


def test_usage_permissions(start_server):
    s = start_server()
    admin_call(s, "POST", "/api/v1/workspaces", json={"name": "uw"})
    member = make_user(s, "m", workspace_role=("uw", "member"))
    stranger = make_user(s, "x")
    assert member.get("/api/v1/workspaces/uw/usage").status_code == 200
    assert_error(stranger.get("/api/v1/workspaces/uw/usage"), 403, "permission_denied")
    assert_error(member.request("PUT", "/api/v1/workspaces/uw/limits", json={"quota_bytes": 5}),
                 403, "permission_denied")
