"""Acknowledged batches survive kill -9 and SIGTERM; retried batches are applied exactly once."""

import collections
import threading
import time

import requests

from conftest import new_writer

N_WRITERS = 4
POINTS_PER_BATCH = 40
MAX_BATCHES = 400  # per writer; the server is stopped long before


def make_batches(run_id, writer_index):
    """Every batch a writer may send, each point's value unique over the whole test."""
    writer = new_writer()
    out = []
    for seq in range(1, MAX_BATCHES + 1):
        values = [writer_index * 10_000_000 + seq * 1000 + j for j in range(POINTS_PER_BATCH)]
        out.append({"writerId": writer, "sequence": str(seq), "operations": [
            {"path": "d/all", "appendFloats": {"steps": values, "values": values}},
            {"path": f"d/w{writer_index}", "appendFloats": {"values": values}},
            {"path": "d/marks", "addStrings": {"values": [f"{writer_index}:{seq}"]}},
        ]})
    return out


class Sender(threading.Thread):
    """Sends its batches in order until the server stops answering."""

    def __init__(self, server, run_id, index):
        super().__init__(daemon=True)
        self.url = server.url(f"/api/v1/runs/{run_id}/batches")
        self.token = server.token
        self.batches = make_batches(run_id, index)
        self.acked = []       # sequences answered 200 (not duplicate)
        self.attempted = 0    # batches sent (answered or not)
        self.unexpected = []  # answers that are neither 200 nor a refusal to work
        self.stop_flag = False

    def run(self):
        sess = requests.Session()
        sess.headers["Authorization"] = "Bearer " + self.token
        for b in self.batches:
            if self.stop_flag:
                return
            self.attempted += 1
            try:
                r = sess.post(self.url, json=b, timeout=30)
            except requests.RequestException:
                return
            if r.status_code == 200:
                body = r.json()
                if body.get("duplicate") is not False or body.get("applied_points") != \
                        POINTS_PER_BATCH * 2:
                    self.unexpected.append((b["sequence"], r.status_code, r.text[:200]))
                self.acked.append(int(b["sequence"]))
            elif r.status_code == 503:
                return
            else:
                self.unexpected.append((b["sequence"], r.status_code, r.text[:200]))
                return


def run_senders(server, run_id, stop_server, min_acked=40, max_wait=5.0):
    senders = [Sender(server, run_id, i) for i in range(N_WRITERS)]
    for s in senders:
        s.start()
    deadline = time.monotonic() + max_wait
    while sum(len(s.acked) for s in senders) < min_acked and time.monotonic() < deadline:
        time.sleep(0.01)
    result = stop_server()
    for s in senders:
        s.stop_flag = True  # only matters if the server somehow kept answering
        s.join(60)
        assert not s.is_alive()
    return senders, result


def check_stored(server, run_id, senders, expect_all_attempted=False, only_acked=False):
    """Every acked point is stored exactly once; batches are whole or absent. only_acked: no
    batch was applied without its answer reaching the client."""
    values = server.series(run_id, "d/all")["values"]
    counts = collections.Counter(values)
    doubled = {v: n for v, n in counts.items() if n > 1}
    assert not doubled, f"points stored twice: {list(doubled.items())[:10]}"
    marks = set(server.fields(run_id).get("d/marks", {}).get("value", []))
    total = 0
    for i, s in enumerate(senders):
        r = server.get(f"/api/v1/runs/{run_id}/series", params={"path": f"d/w{i}",
                                                                 "limit": 100000})
        assert r.status_code in (200, 404), r.text
        per_writer = r.json()["values"] if r.status_code == 200 else []
        assert len(per_writer) == len(set(per_writer))
        for seq_index, b in enumerate(s.batches[:s.attempted]):
            seq = seq_index + 1
            pts = b["operations"][0]["appendFloats"]["values"]
            present = [v in counts for v in pts]
            assert all(present) or not any(present), f"batch {i}:{seq} stored in part"
            assert (f"{i}:{seq}" in marks) == present[0], f"batch {i}:{seq} half applied"
            if seq in s.acked or expect_all_attempted:
                assert all(present), f"acknowledged batch {i}:{seq} lost"
            elif only_acked:
                assert not any(present), f"batch {i}:{seq} applied but its answer was dropped"
            total += sum(present)
        # Batches never sent are not there.
        for b in s.batches[s.attempted:s.attempted + 1]:
            assert b["operations"][0]["appendFloats"]["values"][0] not in counts
    assert total == len(values), "points that no batch sent"
    return counts


def resend_everything(server, run_id, senders):
    for i, s in enumerate(senders):
        for b in s.batches[:s.attempted]:
            ack = server.post_batch(run_id, b)
            if int(b["sequence"]) in s.acked:
                assert ack["duplicate"] is True, f"acknowledged batch {i}:{b['sequence']} re-applied"
            if not ack["duplicate"]:
                assert ack["applied_points"] == POINTS_PER_BATCH * 2


def test_kill9_during_ingest_loses_no_acknowledged_batch(start_server):
    s = start_server()
    run_id = s.create_run()["id"]
    senders, _ = run_senders(s, run_id, stop_server=s.kill9)
    for sender in senders:
        assert not sender.unexpected, sender.unexpected
    acked = sum(len(x.acked) for x in senders)
    assert acked >= 4, "too few batches acknowledged before the kill to test anything"

    s.start()  # same data directory
    check_stored(s, run_id, senders)
    resend_everything(s, run_id, senders)
    counts = check_stored(s, run_id, senders, expect_all_attempted=True)
    assert len(counts) == sum(x.attempted for x in senders) * POINTS_PER_BATCH

    # The writers go on where they left off, after another restart.
    s.restart()
    check_stored(s, run_id, senders, expect_all_attempted=True)
    nxt = senders[0].batches[senders[0].attempted]
    assert s.post_batch(run_id, nxt)["duplicate"] is False


def test_sigterm_during_ingest_finishes_in_flight_requests(start_server):
    s = start_server()
    run_id = s.create_run()["id"]
    senders, rc = run_senders(s, run_id, stop_server=s.terminate)
    assert rc == 0, f"server exited with {rc} on SIGTERM: {s.logs()}"
    for sender in senders:
        assert not sender.unexpected, sender.unexpected
    assert sum(len(x.acked) for x in senders) >= 4

    s.start()
    # A graceful stop answers every request it applied.
    check_stored(s, run_id, senders, only_acked=True)
    resend_everything(s, run_id, senders)
    check_stored(s, run_id, senders, expect_all_attempted=True)


def test_graceful_restart_keeps_everything(start_server):
    s = start_server()
    run = s.create_run(custom_run_id="keep-me", tags=["t"])
    w = new_writer()
    s.post_ops(run["id"], [{"path": "p/x", "assign": {"floatValue": 1.5}},
                           {"path": "m", "appendFloats": {"values": [1, 2, 3]}}], writer=w)
    sha = s.upload(b"persisted file")["sha256"]
    s.post_ops(run["id"], [{"path": "f", "assign": {"file": {"sha256": sha, "name": "f.txt"}}}],
               writer=w, sequence=2)
    token = s.token
    before = s.fields(run["id"])
    s.restart()
    assert s.token == token, "the admin token must not change across restarts"
    assert s.fields(run["id"]) == before
    assert s.series(run["id"], "m")["values"] == [1, 2, 3]
    assert s.get(f"/api/v1/runs/{run['id']}/file", params={"path": "f"}).content == \
        b"persisted file"
    again = s.create_run(custom_run_id="keep-me")
    assert again["id"] == run["id"] and again["created"] is False
    # The writer's sequence is remembered too.
    assert s.post_ops(run["id"], [{"path": "m", "appendFloats": {"values": [9]}}], writer=w,
                      sequence=2)["duplicate"] is True
