"""End to end under a rate limit: a run logs 1,000,000 points, one append at a time, as a user
limited to 60 requests per minute. Every point must reach the server exactly once, the user must be
told the upload is rate-limited (not broken), and the server must actually have refused requests.

Slow (20-45 s): its own ctest entry, python_ratelimit_million, labelled slow; python_tests
skips it (see src/python/CMakeLists.txt)."""

import hashlib
import os
import re
import sys
import threading
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "tests"))
from accounts_util import make_user  # noqa: E402

import nereid  # noqa: E402

N = 1_000_000
PER_MINUTE = 60
# A burst of 3: the writer's first requests (create the run, the first batch) leave it paced from
# its first answer. It then spaces its requests on the RateLimit-* headers with 4x larger batches,
# so the 1M points go in a handful of batches (measured: 9-14 s after the first point) and the
# test takes 20-45 s on a loaded 2-core machine.
BURST = 3
# How long the competing client below may run before the test gives up on seeing a refusal.
COMPETE_S = 60
def _value(steps):
    # Exact in binary (quarters), so the sum read back must equal the sum logged bit for bit.
    return (steps % 977) * 0.25


def _checksum(steps, values):
    h = hashlib.sha256()
    h.update(np.asarray(steps, dtype="<f8").tobytes())
    h.update(np.asarray(values, dtype="<f8").tobytes())
    return h.hexdigest()


def _rate_limited_total(server):
    text = server.session.get(server.url("/metrics"), timeout=30).text
    m = re.search(r"^nereid_rate_limited_total(?:\{\})? (\d+)", text, re.M)
    return int(m.group(1)) if m else 0


def test_million_points_under_60_requests_per_minute(start_server, tmp_path, monkeypatch, capfd):
    s = start_server()
    user = make_user(s, "paced", project_roles=[("default/sandbox", "contributor")],
                     rate=(PER_MINUTE, BURST))
    monkeypatch.setenv("NEREID_HOME", str(tmp_path / "spool"))
    refused_before = _rate_limited_total(s)

    opts = dict(project="default/sandbox", api_token=user.token, url=s.base_url,
                capture_stdout=False, capture_stderr=False, capture_hardware_metrics=False,
                capture_traceback=False, git_ref=False, source_files=[], flush_period=0.2,
                stop_timeout=120)
    t0 = time.monotonic()
    run = nereid.init_run(**opts)
    # One client alone paces itself on RateLimit-* and is never refused. Another client of the same
    # user (a dashboard script, an evaluation job) shares the budget unseen, so the server refuses
    # the writer's requests: that is the other half of this test. The competitor asks as often as
    # every 50 ms, so it takes each request's allowance as soon as it comes back, until the writer
    # has been refused and has told the user (then it stops, so the upload is not starved).
    told = threading.Event()
    competitor_stopped = threading.Event()

    def compete():
        import requests
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {user.token}"
        deadline = time.monotonic() + COMPETE_S
        try:
            while time.monotonic() < deadline:
                if any("rate limit is delaying upload" in e for e in run.errors()):
                    told.set()
                    return
                session.get(s.url("/api/v1/me"), timeout=30)
                time.sleep(0.05)
        finally:
            competitor_stopped.set()

    competitor = threading.Thread(target=compete)
    competitor.start()
    loss = run["train/loss"]
    try:
        for i in range(N):  # a training loop: one point per step
            loss.append((i % 977) * 0.25, step=i)
        logged = time.monotonic()
        competitor.join()
        run.wait(timeout=150)
        uploaded = time.monotonic()
    finally:
        competitor_stopped.wait(timeout=COMPETE_S + 30)
    assert told.is_set(), ("the writer was never refused while another client used its budget: "
                           f"errors {run.errors()}")
    run_id = run.id
    errors = run.errors()
    stats = run.stats()
    run.stop()

    # Every point, exactly once. Read as the admin: the paced user's budget is not for the test.
    reader = nereid.init_run(with_id=run_id, mode="read-only", api_token=s.token, url=s.base_url)
    df = reader["train/loss"].fetch_values()
    steps = df["step"].to_numpy()
    values = df["value"].to_numpy()
    expected_steps = np.arange(N, dtype=np.float64)
    expected_values = _value(expected_steps)
    assert len(df) == N
    assert steps[0] == 0 and steps[-1] == N - 1
    assert len(np.unique(steps)) == N  # no duplicates
    assert np.array_equal(steps, expected_steps)
    assert values.sum() == expected_values.sum()
    assert _checksum(steps, values) == _checksum(expected_steps, expected_values)
    fields = s.get_json(f"/api/v1/runs/{run_id}/fields", params={"prefix": "train/loss"})
    assert [f.get("count") for f in fields["fields"] if f["path"] == "train/loss"] == [N]

    # The server did refuse requests, and the user was told, in words that say nothing is broken,
    # on stderr (where a script's user sees it) and in run.errors(). (Whether the writer also says
    # the limit is pacing it depends on a backlog being left when it is paced, which is timing:
    # client_run_test's PacedUpload test covers that message.)
    refused = _rate_limited_total(s) - refused_before
    assert refused > 0
    err = capfd.readouterr().err
    assert "the server's rate limit is delaying upload" in err, err[-2000:]
    assert "nothing is lost" in err
    assert any("rate limit is delaying upload" in e for e in errors), errors
    # Nothing else went wrong (no refused batch, no lost data).
    assert all("rate limit" in e for e in errors), errors
    # The run's own request counts say the same: refused with 429, each acked batch a request.
    assert stats["batch_requests_rate_limited"] >= 1, stats
    assert stats["batch_requests"] >= (stats["batches_acked"] + stats["batch_requests_rate_limited"]
                                       + stats["batch_requests_failed"]), stats
    assert stats["ack_latency_max_us"] > 0, stats

    print(f"\n1M points: logged in {logged - t0:.1f} s, uploaded after {uploaded - t0:.1f} s, "
          f"{stats['batches_acked']} batches, {refused} requests refused with 429",
          file=sys.__stderr__)
