"""Field::Extend (multi-point spool records) against the real server: every point exactly once
through the sender, after kill -9 of the writer once its Extend calls returned (then `nereid
sync`, twice), and after kill -9 in the middle of a stream of Extend calls."""

import random
import signal
import time

from client_helpers import (assert_exact_points, harness_bin, nereid_sync, new_custom_id,  # noqa
                            run_harness, run_id_of, start_harness, wait_for_line)
from test_crash_consistency import Writer, assert_prefix, free_port, stored_values


def test_extend_async_delivers_every_point_once(server, harness_bin, tmp_path):
    cid = new_custom_id()
    # Small segments and batches: many segment rolls and many batches, each of whole records.
    rc, out = run_harness(server.base_url, server.token, tmp_path, "--custom-id", cid, "--points",
                          "300000", "--chunk", "30000", "--extend", "--flush-ms", "50",
                          "--segment-bytes", str(1 << 20))
    assert rc == 0 and "STOP ok" in out, out
    assert_exact_points(server, run_id_of(server, cid), "train/loss", range(300000))
    assert not any(tmp_path.iterdir()), "a clean stop leaves no spool"


def test_extend_kill9_after_return_then_sync(server, harness_bin, tmp_path):
    """Once Extend returned, its points survive kill -9 of the process: `nereid sync` delivers
    them all, once, whether or not some batches were sent (or in flight) before the kill."""
    cid = new_custom_id()
    p = start_harness(server.base_url, server.token, tmp_path, "--custom-id", cid, "--points",
                      "300000", "--chunk", "100000", "--extend", "--hang", "--flush-ms", "20",
                      "--segment-bytes", str(1 << 20))
    wait_for_line(p, "LOGGED")
    time.sleep(random.uniform(0.0, 0.3))  # some batches sent, probably one in flight
    p.send_signal(signal.SIGKILL)
    p.wait()
    rc, status = nereid_sync(server.base_url, server.token, tmp_path, "--status")
    assert rc == 0 and "stopped" in status, status
    rc, out = nereid_sync(server.base_url, server.token, tmp_path)
    assert rc == 0, out
    run_id = run_id_of(server, cid)
    assert_exact_points(server, run_id, "train/loss", range(300000))
    rc, out = nereid_sync(server.base_url, server.token, tmp_path)
    assert rc == 0 and "nothing to sync" in out, out
    assert_exact_points(server, run_id, "train/loss", range(300000))


def test_extend_offline_status_counts_points(server, harness_bin, tmp_path):
    cid = new_custom_id()
    rc, out = run_harness("http://127.0.0.1:9", server.token, tmp_path, "--custom-id", cid,
                          "--mode", "offline", "--points", "100000", "--chunk", "100000",
                          "--extend")
    assert rc == 0 and "STOP ok" in out, out
    rc, status = nereid_sync(server.base_url, server.token, tmp_path, "--status")
    assert rc == 0, status
    assert "100001 entries unsent" in status, status  # the points + sys/state
    rc, out = nereid_sync(server.base_url, server.token, tmp_path)
    assert rc == 0 and "100001 entries" in out, out
    assert_exact_points(server, run_id_of(server, cid), "train/loss", range(100000))


def test_extend_kill9_mid_stream_keeps_a_prefix(server, harness_bin, tmp_path):
    """Killed while calling Extend in a loop: what survives is points 0..m-1, each once, with m
    at least what the returned calls logged and at most what the next call would have: a record
    is published whole or not at all, and a torn one is skipped, never half read."""
    dead_url = f"http://127.0.0.1:{free_port()}"
    rng = random.Random()
    writers = []
    for i in range(3):
        url = server.base_url if i % 2 == 0 else dead_url
        writers.append(Writer(url, server.token, tmp_path, f"x-{new_custom_id()}", "--chunk",
                              str(rng.choice([1000, 20000, 70000])), "--extend",
                              "--until-stdin-closes", "--flush-ms", "50",
                              "--segment-bytes", str(1 << 20)))
    try:
        for w in writers:
            w.wait_for_progress()
            time.sleep(rng.uniform(0.05, 0.4))
            w.kill9()
    finally:
        for w in writers:
            if w.proc.poll() is None:
                w.kill9()
    rc, out = nereid_sync(server.base_url, server.token, tmp_path)
    assert rc == 0, out
    for w in writers:
        p = w.progress()
        assert_prefix(stored_values(server, w.custom_id), p["DONE"], p["INTENT"], w.custom_id)
