"""Ingest at volume: concurrent batches sharing a group commit, and bulk doubles read back exactly."""

import math
import random

import pbwire
from conftest import new_writer
from test_ingest import jf, same_float

def test_concurrent_batches_commit_independently(server):
    """Batches that share a group commit: a refused one must not take the others down."""
    import threading

    import requests

    run = server.create_run()["id"]
    server.post_ops(run, [{"path": "typed", "assign": {"floatValue": 1}}])
    n_threads, per_thread = 8, 15
    results = {}
    barrier = threading.Barrier(n_threads)

    def worker(t):
        sess = requests.Session()
        sess.headers["Authorization"] = "Bearer " + server.token
        writer = new_writer()
        barrier.wait()
        for k in range(per_thread):
            bad = (t + k) % 4 == 0
            ops = [{"path": "shared", "appendFloats": {"values": [t * 1000 + k, t * 1000 + k]}},
                   {"path": f"per/{t}", "appendFloats": {"values": [k]}}]
            if bad:
                ops.append({"path": "typed", "assign": {"stringValue": "conflict"}})
            target = "SAND-999999" if (t + k) % 9 == 0 and not bad else run
            body = {"writerId": writer, "sequence": str(k + 1), "operations": ops}
            r = sess.post(server.url(f"/api/v1/runs/{target}/batches"), json=body, timeout=60)
            results[(t, k)] = (bad, target != run, r.status_code, r.text)
            if r.status_code == 200:
                # The same batch again, at once: a duplicate.
                r2 = sess.post(server.url(f"/api/v1/runs/{target}/batches"), json=body, timeout=60)
                assert r2.status_code == 200 and r2.json()["duplicate"] is True, r2.text

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(n_threads)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    want_values = []
    for (t, k), (bad, unknown_run, status, text) in sorted(results.items()):
        if bad:
            assert status == 409, text
        elif unknown_run:
            assert status == 404, text
        else:
            assert status == 200, text
            want_values += [t * 1000 + k] * 2
    s = server.series(run, "shared")
    assert sorted(s["values"]) == sorted(want_values)
    # Auto-numbered steps never collide, even across concurrent batches.
    assert sorted(s["steps"]) == list(range(len(want_values)))
    # Each batch's two points are adjacent: a batch is applied as one piece.
    by_step = sorted(zip(s["steps"], s["values"]))
    for i in range(0, len(by_step), 2):
        assert by_step[i][1] == by_step[i + 1][1], by_step[i:i + 2]
    assert server.fields(run)["typed"]["value"] == 1


def test_float_values_are_stored_bit_exact(server):
    """Many batches of awkward doubles (protobuf) read back bit for bit, across chunks."""
    import struct

    run = server.create_run()["id"]
    rng = random.Random(5)
    w = new_writer()
    all_values = []
    for seq in range(1, 41):
        values = []
        for _ in range(2500):
            kind = rng.random()
            if kind < 0.3:
                v = struct.unpack("<d", struct.pack("<Q", rng.getrandbits(64)))[0]
                if math.isnan(v):
                    v = 0.5
            elif kind < 0.5:
                v = rng.choice([0.0, 1.0, -1.0, 5e-324, -2.2250738585072014e-308, 1e308, 0.1])
            elif kind < 0.8:
                v = all_values[-1] if all_values else 1.0  # runs of repeats
            else:
                v = rng.gauss(0, 1)
            values.append(v)
            all_values.append(v)
        body = pbwire.encode_batch({"writerId": w, "sequence": str(seq), "operations": [
            {"path": "bits", "appendFloats": {"values": values}}]})
        r = server.post(f"/api/v1/runs/{run}/batches", data=body,
                        headers={"Content-Type": "application/x-protobuf"})
        assert r.status_code == 200, r.text
    s = server.series(run, "bits", limit=100000)
    assert s["steps"] == list(range(len(all_values)))
    got = [struct.pack("<d", jf(v)) for v in s["values"]]
    want = [struct.pack("<d", v) for v in all_values]
    bad = [i for i, (a, b) in enumerate(zip(got, want)) if a != b]
    assert not bad and len(got) == len(want), (
        f"{len(bad)} values differ, first at {bad[:1]}: got "
        f"{s['values'][bad[0]] if bad else None!r} want {all_values[bad[0]] if bad else None!r}")
    f = server.fields(run)["bits"]
    assert f["count"] == len(all_values)
    assert jf(f["min"]) == min(all_values) and jf(f["max"]) == max(all_values)
    assert same_float(f["last"], all_values[-1])
    # Late points below the existing steps land in order.
    server.post_ops(run, [{"path": "bits", "appendFloats": {"steps": [0.5, 200000.5],
                                                            "values": [7, 8]}}])
    s = server.series(run, "bits", **{"from": 0, "to": 1})
    assert s["steps"] == [0, 0.5, 1] and s["values"][1] == 7
    s = server.series(run, "bits", **{"from": 200000, "to": 200001})
    assert s["steps"] == [200000.5] and s["values"] == [8]
