"""Ingest of every field type (JSON, protobuf, zstd protobuf) and reading it back."""

import datetime
import hashlib
import math
import os
import random
from urllib.parse import unquote

import pbwire
from conftest import assert_error, new_writer, zstd_compress


def jf(v):
    """A float as the JSON mapping shows it ("NaN", "Infinity") -> float."""
    if isinstance(v, str):
        return {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}[v]
    return float(v)


def same_float(a, b):
    a, b = jf(a), jf(b)
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b and math.copysign(1, a) == math.copysign(1, b)


def iso(us):
    t = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc) + datetime.timedelta(
        microseconds=us)
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def user_fields(server, run_id):
    return {p: f for p, f in server.fields(run_id).items() if not p.startswith("sys/")}


def test_every_atom_type_round_trips_through_json(server):
    run = server.create_run()["id"]
    big = "\u00e9" * (1 << 19)  # 1 MiB of UTF-8 exactly (2 bytes each)
    assert len(big.encode()) == 1 << 20
    dt_us = 1795000000123456
    ack = server.post_ops(run, [
        {"path": "params/lr", "assign": {"floatValue": 0.01}},
        {"path": "params/epochs", "assign": {"intValue": "9007199254740993"}},
        {"path": "params/neg", "assign": {"intValue": -5}},
        {"path": "params/flag", "assign": {"boolValue": True}},
        {"path": "params/off", "assign": {"boolValue": False}},
        {"path": "notes/short", "assign": {"stringValue": "h\u00e9llo \U0001F600 \"quoted\""}},
        {"path": "notes/empty", "assign": {"stringValue": ""}},
        {"path": "notes/big", "assign": {"stringValue": big}},
        {"path": "meta/started", "assign": {"datetimeUs": str(dt_us)}},
        {"path": "meta/epoch0", "assign": {"datetimeUs": "0"}},
        {"path": "meta/labels", "assign": {"stringSet": {"values": ["b", "a", "b", "\u00fc"]}}},
        {"path": "m\u00e9triques/\u8def\u5f84 x@+-.", "assign": {"intValue": 2}},
        {"path": "cfg", "assign": {"nested": {"fields": {
            "lr": {"floatValue": 0.5},
            "optim": {"nested": {"fields": {"name": {"stringValue": "adam"},
                                            "betas": {"nested": {"fields": {
                                                "b1": {"floatValue": 0.9}}}}}}},
        }}}},
    ])
    assert ack == {"sequence": 1, "duplicate": False, "applied_points": 0}
    f = user_fields(server, run)
    assert f["params/lr"] == {"path": "params/lr", "type": "float", "value": 0.01}
    assert f["params/epochs"] == {"path": "params/epochs", "type": "int",
                                  "value": 9007199254740993}
    assert f["params/neg"]["value"] == -5 and f["params/neg"]["type"] == "int"
    assert f["params/flag"] == {"path": "params/flag", "type": "bool", "value": True}
    assert f["params/off"]["value"] is False
    assert f["notes/short"]["value"] == "h\u00e9llo \U0001F600 \"quoted\""
    assert f["notes/short"]["type"] == "string"
    assert f["notes/empty"]["value"] == ""
    assert f["notes/big"]["value"] == big
    assert f["meta/started"] == {"path": "meta/started", "type": "datetime", "value": iso(dt_us)}
    assert f["meta/epoch0"]["value"] == "1970-01-01T00:00:00.000000Z"
    assert f["meta/labels"]["type"] == "string_set"
    assert f["meta/labels"]["value"] == sorted({"a", "b", "\u00fc"})
    assert f["cfg/lr"]["value"] == 0.5
    assert f["cfg/optim/name"]["value"] == "adam"
    assert f["cfg/optim/betas/b1"]["value"] == 0.9
    assert "cfg" not in f and "cfg/optim" not in f
    assert f["m\u00e9triques/\u8def\u5f84 x@+-."]["value"] == 2
    assert list(f) == sorted(f)

    # prefix limits the listing to a subtree, and "params" does not match "paramsX".
    server.post_ops(run, [{"path": "paramsX/y", "assign": {"intValue": 1}}])
    assert sorted(server.fields(run, prefix="params")) == [
        "params/epochs", "params/flag", "params/lr", "params/neg", "params/off"]

    # An int may be written to a float field; reassigning replaces.
    server.post_ops(run, [{"path": "params/lr", "assign": {"intValue": 3}},
                          {"path": "notes/short", "assign": {"stringValue": "second"}}])
    f = user_fields(server, run)
    assert f["params/lr"]["type"] == "float" and f["params/lr"]["value"] == 3
    assert f["notes/short"]["value"] == "second"


def test_string_sets_and_sys_fields(server):
    run = server.create_run(tags=["t0"])["id"]
    w = new_writer()
    server.post_ops(run, [
        {"path": "sys/tags", "addStrings": {"values": ["resnet", "t1"]}},
        {"path": "sys/tags", "removeStrings": {"values": ["t0", "never-there"]}},
        {"path": "labels", "addStrings": {"values": ["x", "y"]}},
        {"path": "sys/name", "assign": {"stringValue": "renamed"}},
        {"path": "sys/description", "assign": {"stringValue": "desc"}},
        {"path": "sys/state", "assign": {"stringValue": "failed"}},
        {"path": "sys/failed", "assign": {"boolValue": True}},
        {"path": "sys/ping_time", "assign": {"datetimeUs": "1795000000000000"}},
    ], writer=w)
    # The batch's own sys/ping_time wins over the receive time.
    assert server.get_json(f"/api/v1/runs/{run}")["ping_time"] == iso(1795000000000000)
    server.post_ops(run, [{"path": "labels", "removeStrings": {"values": ["x"]}},
                          {"path": "labels", "addStrings": {"values": ["z", "y"]}}],
                    writer=w, sequence=2)
    f = server.fields(run)
    assert f["labels"]["value"] == ["y", "z"]
    assert sorted(f["sys/tags"]["value"]) == ["resnet", "t1"]
    got = server.get_json(f"/api/v1/runs/{run}")
    assert sorted(got["tags"]) == ["resnet", "t1"]
    assert got["name"] == "renamed" and got["description"] == "desc"
    assert got["state"] == "failed" and got["failed"] is True
    assert got["ping_time"] > iso(1795000000000000) or got["ping_time"] > got["creation_time"]
    assert f["sys/name"]["value"] == "renamed"


def test_float_string_series_read_back(server):
    run = server.create_run()["id"]
    ack = server.post_ops(run, [
        {"path": "train/loss", "appendFloats": {"steps": [0, 1, 2, 3],
                                                "timestampsUs": ["1000", "2000", "3000", "4000"],
                                                "values": [2.5, 1.5, 0.5, 1.0]}},
        {"path": "logs/stdout", "appendStrings": {"steps": [0, 1], "timestampsUs": [10, 20],
                                                  "values": ["epoch 1", "epoch \u00e9 2"]}},
    ])
    assert ack["applied_points"] == 6
    s = server.series(run, "train/loss")
    assert s["type"] == "float_series"
    assert s["steps"] == [0, 1, 2, 3]
    assert s["timestamps_us"] == [1000, 2000, 3000, 4000]
    assert s["values"] == [2.5, 1.5, 0.5, 1.0]
    s = server.series(run, "logs/stdout")
    assert s["type"] == "string_series"
    assert s["values"] == ["epoch 1", "epoch \u00e9 2"] and s["timestamps_us"] == [10, 20]
    f = server.fields(run)
    loss = f["train/loss"]
    assert loss["type"] == "float_series" and loss["count"] == 4
    assert loss["last_step"] == 3 and loss["last"] == 1.0
    assert loss["min"] == 0.5 and loss["max"] == 2.5
    assert f["logs/stdout"]["type"] == "string_series" and f["logs/stdout"]["count"] == 2
    assert f["logs/stdout"]["last"] == "epoch \u00e9 2"
    # Step range reads are inclusive.
    part = server.series(run, "train/loss", **{"from": 1, "to": 2})
    assert part["steps"] == [1, 2] and part["values"] == [1.5, 0.5]
    # Timestamps default to the server's receive time.
    server.post_ops(run, [{"path": "t/now", "appendFloats": {"values": [1]}}])
    import time
    ts = server.series(run, "t/now")["timestamps_us"][0]
    assert abs(ts - time.time() * 1e6) < 120e6


def test_steps_in_any_order_read_sorted_with_ties_by_arrival(server):
    run = server.create_run()["id"]
    w = new_writer()
    server.post_ops(run, [{"path": "m", "appendFloats": {"steps": [5, 1, 3, 1],
                                                         "values": [50, 10, 30, 11]}},
                          {"path": "s", "appendStrings": {"steps": [2, 0, 2],
                                                          "values": ["b1", "a", "b2"]}}],
                    writer=w)
    server.post_ops(run, [{"path": "m", "appendFloats": {"steps": [1, 0, 5],
                                                         "values": [12, 0, 51]}},
                          {"path": "s", "appendStrings": {"steps": [2], "values": ["b3"]}}],
                    writer=w, sequence=2)
    s = server.series(run, "m")
    assert s["steps"] == [0, 1, 1, 1, 3, 5, 5]
    assert s["values"] == [0, 10, 11, 12, 30, 50, 51]
    assert server.series(run, "s")["values"] == ["a", "b1", "b2", "b3"]
    f = server.fields(run)["m"]
    assert f["count"] == 7 and f["last_step"] == 5 and f["last"] == 51
    # Fractional steps are kept as they are.
    server.post_ops(run, [{"path": "frac", "appendFloats": {"steps": [0.5, 0.25, 1e12],
                                                            "values": [1, 2, 3]}}])
    assert server.series(run, "frac")["steps"] == [0.25, 0.5, 1e12]


def test_auto_numbered_steps(server):
    run = server.create_run()["id"]
    w = new_writer()
    server.post_ops(run, [{"path": "a", "appendFloats": {"values": [1, 2, 3]}},
                          {"path": "b", "appendStrings": {"values": ["x", "y"]}}], writer=w)
    server.post_ops(run, [{"path": "a", "appendFloats": {"values": [4, 5]}}], writer=w,
                    sequence=2)
    assert server.series(run, "a")["steps"] == [0, 1, 2, 3, 4]
    assert server.series(run, "b")["steps"] == [0, 1]
    server.post_ops(run, [{"path": "a", "appendFloats": {"steps": [10], "values": [6]}}],
                    writer=w, sequence=3)
    server.post_ops(run, [{"path": "a", "appendFloats": {"values": [7, 8]}}], writer=w,
                    sequence=4)
    s = server.series(run, "a")
    assert s["steps"] == [0, 1, 2, 3, 4, 10, 11, 12]
    assert s["values"] == [1, 2, 3, 4, 5, 6, 7, 8]


def test_special_floats_round_trip(server):
    run = server.create_run()["id"]
    values = ["NaN", "Infinity", "-Infinity", -0.0, 5e-324, 1.7976931348623157e308, 0.1, -2.5]
    server.post_ops(run, [
        {"path": "x", "appendFloats": {"steps": list(range(len(values))), "values": values}},
        {"path": "p/nan", "assign": {"floatValue": "NaN"}},
        {"path": "p/inf", "assign": {"floatValue": "-Infinity"}},
        {"path": "p/negzero", "assign": {"floatValue": -0.0}},
    ])
    s = server.series(run, "x")
    assert len(s["values"]) == len(values)
    for got, want in zip(s["values"], values):
        assert same_float(got, want), (got, want)
    f = server.fields(run)
    assert f["p/nan"]["value"] == "NaN"
    assert f["p/inf"]["value"] == "-Infinity"
    assert same_float(f["p/negzero"]["value"], -0.0)
    # min/max ignore NaN; last is the value at the highest step.
    assert f["x"]["min"] == "-Infinity" and f["x"]["max"] == "Infinity"
    assert f["x"]["last"] == -2.5
    # A series that is all NaN reports no min/max.
    server.post_ops(run, [{"path": "allnan", "appendFloats": {"values": ["NaN", "NaN"]}}])
    f = server.fields(run)["allnan"]
    assert f["count"] == 2 and f["last"] == "NaN" and "min" not in f


# --- protobuf binary and zstd ---

def kitchen_sink_batch(writer, sha):
    return {"writerId": writer, "sequence": "1", "operations": [
        {"path": "params", "assign": {"nested": {"fields": {
            "lr": {"floatValue": 0.001}, "bs": {"intValue": "-64"},
            "optim": {"nested": {"fields": {"name": {"stringValue": "adam \u00e9"}}}}}}}},
        {"path": "flags/on", "assign": {"boolValue": True}},
        {"path": "when", "assign": {"datetimeUs": "1795000000654321"}},
        {"path": "set", "assign": {"stringSet": {"values": ["q", "p"]}}},
        {"path": "sys/tags", "addStrings": {"values": ["pb"]}},
        {"path": "sys/state", "assign": {"stringValue": "succeeded"}},
        {"path": "model", "assign": {"file": {"sha256": sha, "name": "model.bin",
                                              "contentType": "application/x-test"}}},
        {"path": "imgs", "assign": {"fileSet": {"files": [
            {"sha256": sha, "name": "b.txt"}, {"sha256": sha, "name": "a.txt"}]}}},
        {"path": "train/loss", "appendFloats": {
            "steps": [0, 1, 2, 7, 3], "timestampsUs": ["1", "2", "3", "4", "5"],
            "values": [3.5, "NaN", 1.25, "-Infinity", -0.0]}},
        {"path": "train/auto", "appendFloats": {"values": [1, 2, 3]}},
        {"path": "logs", "appendStrings": {"steps": [1, 0], "timestampsUs": [7, 8],
                                           "values": ["second", "first"]}},
        {"path": "ckpt", "appendFiles": {"steps": [4], "timestampsUs": [9],
                                         "files": [{"sha256": sha, "name": "c.pt"}]}},
    ]}


def snapshot(server, run_id):
    """Everything readable about a run, minus what differs between runs (ids, times)."""
    fields = {}
    for p, f in server.fields(run_id).items():
        if p.startswith("sys/") and p not in ("sys/tags", "sys/state"):
            continue
        f = dict(f)
        f.pop("last_time", None)
        fields[p] = f
    series = {}
    for p, f in fields.items():
        if f["type"].endswith("_series"):
            s = server.series(run_id, p)
            if p == "train/auto":
                s.pop("timestamps_us")  # receive time
            series[p] = s
    return repr(fields), repr(series)


def test_protobuf_and_zstd_give_the_same_result_as_json(server):
    sha = server.upload(b"pb test file")["sha256"]
    runs = [server.create_run()["id"] for _ in range(3)]
    batch = kitchen_sink_batch(new_writer(), sha)
    assert server.post_batch(runs[0], batch)["applied_points"] == 11

    body = pbwire.encode_batch(batch)
    r = server.post(f"/api/v1/runs/{runs[1]}/batches", data=body,
                    headers={"Content-Type": "application/x-protobuf"})
    assert r.status_code == 200, r.text
    assert r.json() == {"sequence": 1, "duplicate": False, "applied_points": 11}

    r = server.post(f"/api/v1/runs/{runs[2]}/batches", data=zstd_compress(body),
                    headers={"Content-Type": "application/x-protobuf",
                             "Content-Encoding": "zstd",
                             "Accept": "application/x-protobuf"})
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("application/x-protobuf")
    assert pbwire.decode_ack(r.content) == {"sequence": 1, "duplicate": False,
                                            "applied_points": 11}

    want = snapshot(server, runs[0])
    assert "train/loss" in want[0] and "params/optim/name" in want[0]
    assert snapshot(server, runs[1]) == want
    assert snapshot(server, runs[2]) == want

    # zstd-compressed JSON is accepted too, and a protobuf duplicate acks as one.
    r = server.post(f"/api/v1/runs/{runs[1]}/batches", data=body,
                    headers={"Content-Type": "application/x-protobuf",
                             "Accept": "application/x-protobuf"})
    assert r.status_code == 200
    assert pbwire.decode_ack(r.content) == {"sequence": 1, "duplicate": True,
                                            "applied_points": 0}
    run4 = server.create_run()["id"]
    import json
    r = server.post(f"/api/v1/runs/{run4}/batches",
                    data=zstd_compress(json.dumps(batch).encode()),
                    headers={"Content-Type": "application/json", "Content-Encoding": "zstd"})
    assert r.status_code == 200, r.text
    assert snapshot(server, run4) == want


# --- idempotence ---

def test_duplicate_batches_are_applied_once(server):
    run = server.create_run()["id"]
    w1, w2 = new_writer(), new_writer()

    def batch(writer, seq, value):
        return {"writerId": writer, "sequence": str(seq), "operations": [
            {"path": "loss", "appendFloats": {"values": [value]}},
            {"path": "seen", "addStrings": {"values": [f"{writer}:{seq}"]}}]}

    assert server.post_batch(run, batch(w1, 1, 1.0)) == {
        "sequence": 1, "duplicate": False, "applied_points": 1}
    assert server.post_batch(run, batch(w1, 1, 1.0)) == {
        "sequence": 1, "duplicate": True, "applied_points": 0}
    assert server.post_batch(run, batch(w1, 2, 2.0))["duplicate"] is False
    # A lower sequence (even with other content) is a duplicate and changes nothing.
    assert server.post_batch(run, batch(w1, 1, 99.0))["duplicate"] is True
    # Another writer has its own sequence.
    assert server.post_batch(run, batch(w2, 1, 3.0))["duplicate"] is False
    assert server.post_batch(run, batch(w2, 1, 3.0))["duplicate"] is True
    # Gaps are allowed: sequence 5 after 2 applies, then 3 and 4 are old.
    assert server.post_batch(run, batch(w1, 5, 5.0))["duplicate"] is False
    assert server.post_batch(run, batch(w1, 3, 98.0))["duplicate"] is True
    # A duplicate in protobuf form is a duplicate too.
    r = server.post(f"/api/v1/runs/{run}/batches",
                    data=pbwire.encode_batch(batch(w2, 1, 97.0)),
                    headers={"Content-Type": "application/x-protobuf"})
    assert r.status_code == 200 and r.json()["duplicate"] is True

    s = server.series(run, "loss")
    assert s["values"] == [1.0, 2.0, 3.0, 5.0]
    assert s["steps"] == [0, 1, 2, 3]
    assert server.fields(run)["seen"]["value"] == sorted(
        [f"{w1}:1", f"{w1}:2", f"{w2}:1", f"{w1}:5"])
    # The same writer id on another run is independent.
    other = server.create_run()["id"]
    assert server.post_batch(other, batch(w1, 1, 1.0))["duplicate"] is False
    # /metrics counts them.
    import re

    import requests
    text = requests.get(server.url("/metrics"), timeout=10).text
    m = re.search(r'^nereid_ingest_batches_total\{result="duplicate"\} (\d+)', text, re.M)
    assert m and int(m.group(1)) >= 5, text[:2000]
    m = re.search(r'^nereid_ingest_points_total (\d+)', text, re.M)
    assert m and int(m.group(1)) >= 5



def test_metrics_account_for_every_stage_of_a_batch(server):
    """/metrics splits a batch request's time into stages that each see every batch."""
    import re
    import time

    import requests

    def counts(text):
        out = {}
        for m in re.finditer(r'^(nereid_\w+)_count\{(.*)\} (\d+)$', text, re.M):
            out[(m.group(1), m.group(2))] = int(m.group(3))
        return out

    route = 'route="/api/v1/runs/{run_id}/batches"'
    before = counts(requests.get(server.url("/metrics"), timeout=10).text)
    run = server.create_run()["id"]
    writer = new_writer()
    for seq in range(1, 6):
        server.post_batch(run, {"writerId": writer, "sequence": str(seq), "operations": [
            {"path": "loss", "appendFloats": {"values": [float(seq)]}}]})

    def delta(name, labels):
        return now.get((name, labels), 0) - before.get((name, labels), 0)

    # A request's metrics are recorded once its response is sent, which may be just after the
    # client has read it.
    deadline = time.monotonic() + 10
    while True:
        text = requests.get(server.url("/metrics"), timeout=10).text
        now = counts(text)
        if delta("nereid_http_request_duration_seconds", route) >= 5 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert delta("nereid_http_request_duration_seconds", route) == 5, text[:3000]
    for stage in ("body", "queue", "handler", "write"):
        assert delta("nereid_http_stage_seconds", f'{route},stage="{stage}"') == 5, stage
    assert delta("nereid_auth_duration_seconds", route) == 5
    assert delta("nereid_ingest_stage_seconds", 'stage="decode"') == 5
    group_commit = [delta("nereid_ingest_stage_seconds", f'stage="{s}"')
                    for s in ("prepare", "commit_queue", "apply", "commit", "wake")]
    store = delta("nereid_ingest_stage_seconds", 'stage="store"')
    # The embedded store reports its group-commit stages; PostgreSQL one "store" stage.
    assert group_commit == [5] * 5 and store == 0 or group_commit == [0] * 5 and store == 5, (
        group_commit, store)


# --- buckets ---

def brute_buckets(points, lo, hi, n):
    """Equal-width buckets over [lo, hi], the last one closed; points in arrival order."""
    width = (hi - lo) / n
    acc = {}
    for step, value in points:
        if step < lo or step > hi:
            continue
        i = min(int((step - lo) // width), n - 1) if width > 0 else 0
        acc.setdefault(i, []).append((step, value))
    out = []
    for i in sorted(acc):
        pts = acc[i]
        ordered = sorted(enumerate(pts), key=lambda e: (e[1][0], e[0]))
        vals = [v for _, v in pts if not math.isnan(v)]
        b = {"from": lo + i * width, "count": len(pts),
             "first": ordered[0][1][1], "first_step": ordered[0][1][0],
             "last": ordered[-1][1][1], "last_step": ordered[-1][1][0],
             "nan_count": len(pts) - len(vals)}
        if vals:
            b.update(min=min(vals), max=max(vals), mean=sum(vals) / len(vals))
        out.append(b)
    return out


def check_buckets(got, want):
    assert len(got) == len(want), (len(got), len(want))
    for g, w in zip(got, want):
        assert g["count"] == w["count"], (g, w)
        assert math.isclose(g["from"], w["from"], rel_tol=1e-9, abs_tol=1e-9), (g, w)
        assert g.get("nan_count", 0) == w["nan_count"], (g, w)
        for k in ("first", "last"):
            assert same_float(g[k], w[k]), (k, g, w)
        assert g["first_step"] == w["first_step"] and g["last_step"] == w["last_step"], (g, w)
        if "min" in w:
            assert jf(g["min"]) == w["min"] and jf(g["max"]) == w["max"], (g, w)
            assert math.isclose(jf(g["mean"]), w["mean"], rel_tol=1e-9, abs_tol=1e-12), (g, w)
        else:
            assert "min" not in g, g


def test_buckets_match_brute_force(server):
    run = server.create_run()["id"]
    rng = random.Random(7)
    points = []
    w = new_writer()
    seq = 0
    # 20,000 points in 4 batches: a noisy curve, repeated steps, NaNs, one spike.
    for part in range(4):
        steps, values = [], []
        for i in range(5000):
            step = part * 5000 + i
            if rng.random() < 0.05:
                step = rng.randrange(0, 20000)  # out of order and ties
            v = math.exp(-step / 5000) + rng.gauss(0, 0.01)
            if rng.random() < 0.01:
                v = math.nan
            if step == 12345 and part == 2:
                v = 1e6
            steps.append(step)
            values.append(v)
        points += list(zip(steps, values))
        seq += 1
        server.post_ops(run, [{"path": "loss", "appendFloats": {
            "steps": steps, "values": ["NaN" if math.isnan(v) else v for v in values]}}],
            writer=w, sequence=seq)
    assert any(s == 12345 and v == 1e6 for s, v in points)

    for lo, hi, n in [(0, 20000, 100), (0, 20000, 7), (10000, 15000, 50), (12345, 12345, 3),
                      (0, 20000, 1)]:
        got = server.get_json(f"/api/v1/runs/{run}/series/buckets",
                              params={"path": "loss", "from": lo, "to": hi, "n": n})["buckets"]
        check_buckets(got, brute_buckets(points, lo, hi, n))
        if lo <= 12345 <= hi:
            assert max(jf(b["max"]) for b in got if "max" in b) == 1e6

    # Default range: the series' first to last step; n defaults to 1000.
    got = server.get_json(f"/api/v1/runs/{run}/series/buckets",
                          params={"path": "loss", "n": 10})["buckets"]
    lo = min(s for s, _ in points)
    hi = max(s for s, _ in points)
    check_buckets(got, brute_buckets(points, lo, hi, 10))
    got = server.get_json(f"/api/v1/runs/{run}/series/buckets", params={"path": "loss"})
    assert sum(b["count"] for b in got["buckets"]) == len(points)
    assert len(got["buckets"]) <= 1000

    # Bad parameters.
    for params in [{"path": "loss", "n": 0}, {"path": "loss", "n": 10001},
                   {"path": "loss", "from": 5, "to": 1}, {"path": "loss", "from": "x"}, {}]:
        assert_error(server.get(f"/api/v1/runs/{run}/series/buckets", params=params), 400,
                     "invalid_argument")
    assert_error(server.get(f"/api/v1/runs/{run}/series/buckets", params={"path": "nope"}), 404)


def test_series_paging_visits_every_point_once(server):
    run = server.create_run()["id"]
    rng = random.Random(3)
    steps = [rng.randrange(0, 3000) for _ in range(12000)]  # many ties
    values = list(range(12000))  # unique: identifies each point
    server.post_ops(run, [{"path": "p", "appendFloats": {"steps": steps, "values": values}}])
    want = [v for _, v in sorted(zip(steps, values), key=lambda e: (e[0], e[1]))]
    for limit in (1, 997, 10000, 100000):
        if limit == 1:
            # Few pages only: a 1-point page walk over 12,000 points is slow; do the first 50.
            got, cursor = [], None
            for _ in range(50):
                q = {"path": "p", "limit": 1}
                if cursor:
                    q["cursor"] = cursor
                page = server.get_json(f"/api/v1/runs/{run}/series", params=q)
                assert len(page["values"]) == 1
                got += page["values"]
                cursor = page["next_cursor"]
            assert got == want[:50]
            continue
        s = server.series(run, "p", limit=limit)
        assert s["values"] == want, limit
        assert s["steps"] == sorted(steps)
    # Paging inside a step range.
    s = server.series(run, "p", limit=33, **{"from": 1000, "to": 1999})
    assert s["values"] == [v for st, v in sorted(zip(steps, values)) if 1000 <= st <= 1999]
    # The default page is at most 10,000 points.
    page = server.get_json(f"/api/v1/runs/{run}/series", params={"path": "p"})
    assert len(page["values"]) == 10000 and page["next_cursor"]
    for bad in [0, 100001, -1, "x"]:
        assert_error(server.get(f"/api/v1/runs/{run}/series", params={"path": "p", "limit": bad}),
                     400, "invalid_argument")
    assert_error(server.get(f"/api/v1/runs/{run}/series", params={"path": "nope"}), 404)
    assert_error(server.get(f"/api/v1/runs/{run}/series"), 400, "invalid_argument")


# --- files ---

def blobs_on_disk(data_dir, sha):
    found = []
    for root, _, files in os.walk(os.path.join(data_dir, "files")):
        for name in files:
            p = os.path.join(root, name)
            with open(p, "rb") as fh:
                if hashlib.sha256(fh.read()).hexdigest() == sha:
                    found.append(p)
    return found


def test_file_upload_dedup_and_download(server):
    content = os.urandom(300_000) + b"tail"
    sha = hashlib.sha256(content).hexdigest()
    up = server.upload(content)
    assert up == {"sha256": sha, "size": len(content)}
    assert server.upload(content) == up
    assert len(blobs_on_disk(server.data_dir, sha)) == 1

    run = server.create_run()["id"]
    other = server.upload(b"second file")
    server.post_ops(run, [
        {"path": "model", "assign": {"file": {"sha256": sha, "name": "weights v1.bin",
                                              "contentType": "application/x-weights"}}},
        {"path": "pics", "assign": {"fileSet": {"files": [{"sha256": sha, "name": "z.png"}]}}},
        {"path": "pics", "addFiles": {"files": [{"sha256": other["sha256"], "name": "a.png"}]}},
        {"path": "ckpts", "appendFiles": {"steps": [1, 2], "files": [
            {"sha256": other["sha256"], "name": "one.txt"}, {"sha256": sha, "name": "two.bin"}]}},
    ])
    f = server.fields(run)
    assert f["model"]["type"] == "file"
    assert f["model"]["value"] == {"sha256": sha, "name": "weights v1.bin",
                                   "content_type": "application/x-weights", "size": len(content)}
    assert f["pics"]["type"] == "file_set"
    assert [x["name"] for x in f["pics"]["value"]] == ["a.png", "z.png"]
    assert f["pics"]["value"][1]["content_type"] == "image/png"
    assert f["ckpts"]["type"] == "file_series" and f["ckpts"]["count"] == 2
    s = server.series(run, "ckpts")
    assert s["type"] == "file_series" and s["steps"] == [1, 2]
    assert [v["name"] for v in s["values"]] == ["one.txt", "two.bin"]

    r = server.get(f"/api/v1/runs/{run}/file", params={"path": "model"})
    assert r.status_code == 200 and r.content == content
    assert r.headers["Content-Type"].startswith("application/x-weights")
    assert "weights v1.bin" in unquote(r.headers["Content-Disposition"])
    assert "attachment" in r.headers["Content-Disposition"] or "inline" in \
        r.headers["Content-Disposition"]

    r = server.get(f"/api/v1/runs/{run}/file", params={"path": "model"},
                   headers={"Range": "bytes=10-19"})
    assert r.status_code == 206 and r.content == content[10:20]
    assert r.headers["Content-Range"] == f"bytes 10-19/{len(content)}"
    r = server.get(f"/api/v1/runs/{run}/file", params={"path": "model"},
                   headers={"Range": "bytes=-4"})
    assert r.status_code == 206 and r.content == b"tail"
    r = server.get(f"/api/v1/runs/{run}/file", params={"path": "model"},
                   headers={"Range": f"bytes={len(content)}-"})
    assert r.status_code == 416
    assert r.headers.get("Content-Range") == f"bytes */{len(content)}"

    # File series: the last point by default, or the one at a step.
    r = server.get(f"/api/v1/runs/{run}/file", params={"path": "ckpts"})
    assert r.status_code == 200 and r.content == content
    assert "two.bin" in unquote(r.headers["Content-Disposition"])
    r = server.get(f"/api/v1/runs/{run}/file", params={"path": "ckpts", "step": 1})
    assert r.status_code == 200 and r.content == b"second file"
    assert_error(server.get(f"/api/v1/runs/{run}/file", params={"path": "ckpts", "step": 7}),
                 404, "not_found")
    assert_error(server.get(f"/api/v1/runs/{run}/file", params={"path": "nofile"}), 404)

    r = server.get(f"/api/v1/files/{sha}", params={"name": "x.bin"})
    assert r.status_code == 200 and r.content == content
    assert "x.bin" in r.headers["Content-Disposition"]
    assert_error(server.get("/api/v1/files/" + "ab" * 32), 404, "not_found")
    assert_error(server.get("/api/v1/files/not-a-sha"), 400, "invalid_argument")

    # A reference to content never uploaded is refused.
    r = server.post_batch_raw(run, {"writerId": new_writer(), "sequence": "1", "operations": [
        {"path": "ghost", "assign": {"file": {"sha256": "cd" * 32, "name": "g"}}}]})
    assert_error(r, 400, "invalid_argument")
    assert "ghost" not in server.fields(run)

    # The run's size counts what it stores.
    assert server.get_json(f"/api/v1/runs/{run}")["size"] > 0
