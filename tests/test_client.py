"""The C++ client against the real server: every point logged arrives exactly once, through
async and sync modes, offline + `nereid sync` (twice), a client killed with -9, and faults
injected by tests/faultproxy.py (outage, server kill -9, dropped responses, 429 storm)."""

import os
import signal
import time

from client_helpers import (assert_exact_points, harness_bin, nereid_sync, new_custom_id,  # noqa
                            run_harness, run_id_of, start_harness, wait_for_line)
from faultproxy import FaultProxy


def test_async_run_delivers_every_point_once(server, harness_bin, tmp_path):
    cid = new_custom_id()
    rc, out = run_harness(server.base_url, server.token, tmp_path, "--custom-id", cid,
                          "--points", "30000", "--threads", "2", "--extras", "--flush-ms", "100")
    assert rc == 0, out
    assert "STOP ok" in out, out
    run_id = run_id_of(server, cid)
    assert f"ID {run_id}" in out
    assert_exact_points(server, run_id, "train/loss", range(30000))
    f = server.fields(run_id)
    assert f["params/lr"]["value"] == 0.01
    assert f["params/epochs"]["value"] == 3
    assert f["params/optimizer"]["value"] == "adam"
    assert f["params/use_amp"]["value"] is True
    assert set(f["sys/tags"]["value"]) >= {"harness", "test"}
    assert f["sys/state"]["value"] == "succeeded"
    assert f["logs/text"]["type"] == "string_series"
    assert f["eval/img"]["type"] == "file_series"
    img = server.get(f"/api/v1/runs/{run_id}/file", params={"path": "eval/img"})
    assert img.status_code == 200 and img.content == b"\x89PNG fake image bytes"
    # A clean stop leaves no spool behind.
    assert not any(os.scandir(tmp_path)), list(os.walk(tmp_path))


def test_sync_mode(server, harness_bin, tmp_path):
    cid = new_custom_id()
    rc, out = run_harness(server.base_url, server.token, tmp_path, "--custom-id", cid, "--mode",
                          "sync", "--points", "20")
    assert rc == 0 and "STOP ok" in out, out
    assert_exact_points(server, run_id_of(server, cid), "train/loss", range(20))


def test_offline_then_sync_twice(server, harness_bin, tmp_path):
    cid = new_custom_id()
    rc, out = run_harness("http://127.0.0.1:9", server.token, tmp_path, "--custom-id", cid,
                          "--mode", "offline", "--points", "5000", "--extras")
    assert rc == 0 and "STOP ok" in out, out
    rc, status = nereid_sync(server.base_url, server.token, tmp_path, "--status")
    assert rc == 0, status
    assert "5008 entries unsent" in status, status  # 5000 points + 4 params + tag + text + img + state
    rc, out = nereid_sync(server.base_url, server.token, tmp_path)
    assert rc == 0, out
    run_id = run_id_of(server, cid)
    assert_exact_points(server, run_id, "train/loss", range(5000))
    assert server.fields(run_id)["params/lr"]["value"] == 0.01
    rc, out = nereid_sync(server.base_url, server.token, tmp_path)
    assert rc == 0 and "nothing to sync" in out, out
    assert_exact_points(server, run_id, "train/loss", range(5000))


def test_client_kill9_then_sync(server, harness_bin, tmp_path):
    cid = new_custom_id()
    p = start_harness(server.base_url, server.token, tmp_path, "--custom-id", cid, "--points",
                      "200000", "--hang", "--flush-ms", "50", "--segment-bytes", "1048576")
    wait_for_line(p, "LOGGED")
    time.sleep(0.3)  # let some batches go, and probably one be in flight
    p.send_signal(signal.SIGKILL)
    p.wait()
    rc, status = nereid_sync(server.base_url, server.token, tmp_path, "--status")
    assert rc == 0 and "stopped" in status, status
    rc, out = nereid_sync(server.base_url, server.token, tmp_path)
    assert rc == 0, out
    assert_exact_points(server, run_id_of(server, cid), "train/loss", range(200000))


def test_sync_skips_a_live_writer(server, harness_bin, tmp_path):
    cid = new_custom_id()
    p = start_harness("http://127.0.0.1:9", server.token, tmp_path, "--custom-id", cid,
                      "--points", "100", "--hang")
    try:
        wait_for_line(p, "LOGGED")
        rc, out = nereid_sync(server.base_url, server.token, tmp_path)
        assert rc == 0 and "live process" in out, out
        rc, status = nereid_sync(server.base_url, server.token, tmp_path, "--status")
        assert "live (pid" in status and "100 entries unsent" in status, status
    finally:
        p.kill()
        p.wait()
    rc, out = nereid_sync(server.base_url, server.token, tmp_path)
    assert rc == 0, out
    assert_exact_points(server, run_id_of(server, cid), "train/loss", range(100))


def test_dropped_responses_do_not_double(server, harness_bin, tmp_path):
    cid = new_custom_id()
    with FaultProxy(target_port=int(server.base_url.rsplit(":", 1)[1])) as fp:
        fp.set_mode("drop_after_commit", count=3, path="/batches")
        rc, out = run_harness(fp.url, server.token, tmp_path, "--custom-id", cid, "--points",
                              "20000", "--rate", "20000", "--flush-ms", "100")
        assert rc == 0 and "STOP ok" in out, out
        assert fp.counters()["drop_after_commit"] == 3
    assert_exact_points(server, run_id_of(server, cid), "train/loss", range(20000))


def test_429_storm_honours_retry_after(server, harness_bin, tmp_path):
    cid = new_custom_id()
    with FaultProxy(target_port=int(server.base_url.rsplit(":", 1)[1])) as fp:
        fp.set_mode("429", count=3, path="/batches", retry_after=1)
        t0 = time.monotonic()
        rc, out = run_harness(fp.url, server.token, tmp_path, "--custom-id", cid, "--points",
                              "1000")
        elapsed = time.monotonic() - t0
        assert rc == 0 and "STOP ok" in out, out
        assert fp.counters()["429"] == 3
    # Three answers of Retry-After: 1 were each waited out, and the user was told once.
    assert elapsed >= 3.0, elapsed
    assert out.count("rate limit is delaying upload") == 1, out
    assert "nothing is lost" in out
    assert_exact_points(server, run_id_of(server, cid), "train/loss", range(1000))


def test_outage_then_recovery(server, harness_bin, tmp_path):
    """Server unreachable mid-run (short CI variant of the 60 s outage), then back."""
    outage_s = float(os.environ.get("NEREID_OUTAGE_SECONDS", "6"))
    cid = new_custom_id()
    with FaultProxy(target_port=int(server.base_url.rsplit(":", 1)[1])) as fp:
        p = start_harness(fp.url, server.token, tmp_path, "--custom-id", cid, "--points", "40000",
                          "--rate", "5000", "--flush-ms", "200")
        time.sleep(1.5)
        fp.set_mode("refuse")
        time.sleep(outage_s)
        fp.set_mode("pass")
        wait_for_line(p, "STOP ok", timeout=120)
        p.wait(30)
    assert_exact_points(server, run_id_of(server, cid), "train/loss", range(40000))


def test_server_kill9_and_restart_mid_run(start_server, harness_bin, tmp_path):
    srv = start_server()
    cid = new_custom_id()
    with FaultProxy(target_port=int(srv.base_url.rsplit(":", 1)[1])) as fp:
        p = start_harness(fp.url, srv.token, tmp_path, "--custom-id", cid, "--points", "30000",
                          "--rate", "6000", "--flush-ms", "100")
        time.sleep(1.5)
        srv.kill9()
        time.sleep(1.0)
        srv.start()
        fp.set_target(int(srv.base_url.rsplit(":", 1)[1]))
        wait_for_line(p, "STOP ok", timeout=120)
        p.wait(30)
    assert_exact_points(srv, run_id_of(srv, cid), "train/loss", range(30000))
