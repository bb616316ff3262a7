"""Scale-out: two `nereid server` processes on one PostgreSQL database and one shared files
folder, behind a round-robin balancer (tests/balancer.py).

One client's batches alternate between the servers, some acknowledgements are cut after the
commit (the retry lands on the other server), and one server is killed with kill -9 mid-run:
every point must be stored exactly once. Run ids created on both servers at once stay unique,
and a file uploaded through one server is served by the other.
"""

import concurrent.futures
import shutil
import time
import uuid

import pytest

import pg_util
from balancer import Balancer
from client_helpers import harness_bin  # noqa: F401
from conftest import Server
from test_crash_consistency import Writer, assert_prefix, free_port, stored_values


@pytest.fixture
def two_servers(tmp_path, nereid_bin):
    url = pg_util.new_database()
    files = tmp_path / "shared-files"
    dirs = [tmp_path / "a", tmp_path / "b"]
    for d in dirs:
        (d / "data").mkdir(parents=True)
    args = ("--store", url, "--files", str(files))
    # Fixed ports: a restarted server comes back at the balancer's address for it.
    a = Server(dirs[0] / "data", dirs[0], args, port=free_port())
    # The first server made the administrator and its token; the second reads the same database
    # and is given the token the way an operator would copy it.
    shutil.copy(dirs[0] / "data" / "admin.token", dirs[1] / "data" / "admin.token")
    b = Server(dirs[1] / "data", dirs[1], args, port=free_port())
    yield a, b
    for s in (a, b):
        if s.proc is not None and s.proc.poll() is None:
            s.terminate()


def test_batches_alternate_between_servers_and_a_kill9_loses_nothing(two_servers, harness_bin,
                                                                      tmp_path):
    a, b = two_servers
    lb = Balancer([a.port, b.port], cut_every=7)
    tag = uuid.uuid4().hex[:8]
    common = ("--chunk", "100", "--until-stdin-closes", "--flush-ms", "20",
              "--stop-timeout-ms", "60000")
    writers = [Writer(lb.url, a.token, tmp_path / "spool", f"scale-{tag}-{i}", *common, "--ack")
               for i in range(2)]
    writers.append(Writer(lb.url, a.token, tmp_path / "spool", f"scale-{tag}-2", *common,
                          "--rate", "3000"))
    try:
        for w in writers:
            w.wait_for_progress()
        deadline = time.monotonic() + 60
        while min(lb.counts.values()) < 20 or lb.cuts < 3:
            assert time.monotonic() < deadline, f"traffic: {lb.counts}, cuts {lb.cuts}"
            time.sleep(0.05)
        a.kill9()  # mid-run: requests in flight to it fail; the balancer sends the rest to b
        acked_at_kill = sum(w.progress()["ACKED"] for w in writers)
        deadline = time.monotonic() + 60
        while sum(w.progress()["ACKED"] for w in writers) < acked_at_kill + 500:
            assert time.monotonic() < deadline, "no acknowledgement through the survivor"
            time.sleep(0.05)
        a.start()  # back in rotation
        time.sleep(1.0)
        for w in writers:
            w.finish()
    finally:
        for w in writers:
            if w.proc.poll() is None:
                w.kill9()
        lb.stop()
    for w in writers:
        p = w.progress()
        assert p["INTENT"] == p["DONE"] > 0
        # Read through either server: both see the one database.
        assert_prefix(stored_values(b, w.custom_id), p["DONE"], p["DONE"], w.custom_id)
        assert_prefix(stored_values(a, w.custom_id), p["DONE"], p["DONE"], w.custom_id)
    print(f"requests per server {lb.counts}, acknowledgements cut {lb.cuts}, points per writer "
          f"{[w.progress()['DONE'] for w in writers]}")
    assert lb.cuts >= 3 and min(lb.counts.values()) >= 20, (lb.counts, lb.cuts)


def test_run_ids_stay_unique_when_both_servers_create_at_once(two_servers):
    a, b = two_servers
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        futures = [pool.submit((a if i % 2 else b).create_run, project="default/sandbox",
                               name=f"r{i}") for i in range(80)]
        ids = [f.result()["id"] for f in futures]
    assert len(set(ids)) == 80
    numbers = sorted(int(i.rsplit("-", 1)[1]) for i in ids)
    assert numbers[-1] - numbers[0] < 200  # gap-tolerant, but not wasteful
    # The same custom id on both servers at once: one run.
    cid = "shared-" + uuid.uuid4().hex[:8]
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        runs = list(pool.map(lambda i: (a if i % 2 else b).create_run(
            project="default/sandbox", custom_run_id=cid)["id"], range(16)))
    assert len(set(runs)) == 1


def test_a_file_uploaded_through_one_server_is_served_by_the_other(two_servers):
    a, b = two_servers
    blob = b"checkpoint bytes " * 1000
    info = a.upload(blob)
    run = a.create_run(project="default/sandbox")["id"]
    a.post_ops(run, [{"path": "model", "assign": {"file": {"sha256": info["sha256"],
                                                             "name": "model.bin"}}}])
    r = b.get(f"/api/v1/runs/{run}/file", params={"path": "model"})
    assert r.status_code == 200, r.text
    assert r.content == blob
