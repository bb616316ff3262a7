"""Bad requests: each is a clear 4xx with a JSON error, and nothing already stored is harmed."""

import hashlib
import json
import os

import pytest
import requests

import pbwire
from conftest import assert_error, new_writer, zstd_compress


@pytest.fixture(scope="module")
def victim(server):
    """A run holding some data, and a function that checks the data is unchanged."""
    run = server.create_run(name="victim", tags=["keep"])["id"]
    writer = new_writer()
    server.post_ops(run, [
        {"path": "params/lr", "assign": {"floatValue": 0.5}},
        {"path": "params/name", "assign": {"stringValue": "base"}},
        {"path": "labels", "assign": {"stringSet": {"values": ["a"]}}},
        {"path": "loss", "appendFloats": {"steps": [0, 1, 2], "values": [3.0, 2.0, 1.0]}},
        {"path": "log", "appendStrings": {"values": ["line"]}},
    ], writer=writer)

    def state():
        fields = server.fields(run)
        for p in ("sys/modification_time", "sys/ping_time", "sys/size"):
            fields.pop(p, None)
        return fields, server.series(run, "loss"), server.series(run, "log")

    before = state()

    class Victim:
        run_id = run
        writer_id = writer

        @staticmethod
        def check():
            assert state() == before, "a refused request changed stored data"

    return Victim


def batch(ops, writer=None, seq=1):
    return {"writerId": writer or new_writer(), "sequence": str(seq), "operations": ops}


def post_json_bytes(server, run, body: bytes, **headers):
    return server.post(f"/api/v1/runs/{run}/batches", data=body,
                       headers={"Content-Type": "application/json", **headers})


def post_pb(server, run, body: bytes, **headers):
    return server.post(f"/api/v1/runs/{run}/batches", data=body,
                       headers={"Content-Type": "application/x-protobuf", **headers})


def test_malformed_protobuf(server, victim):
    good = pbwire.encode_batch(batch([{"path": "new/x", "assign": {"floatValue": 1}}]))
    for body in [b"\xff\xff\xff\xff", good[:-1], b"\x0a\x80", good + b"\x1a\xff\x01"]:
        assert_error(post_pb(server, victim.run_id, body), 400, "invalid_argument")
    victim.check()


def test_malformed_json(server, victim):
    for body in [b'{"writerId": "w", "sequence": ', b"[]", b"null", b"\x00",
                 b'{"writerId":"w","sequence":"1","bogusField":1}',
                 b'{"writerId":"w","sequence":"1","operations":[{"path":"a","assign":{"floatValue":"x"}}]}',
                 b'{"writerId":"w","sequence":"1","operations":[{"path":"a",'
                 b'"assign":{"floatValue":1,"intValue":2}}]}']:
        err = assert_error(post_json_bytes(server, victim.run_id, body), 400, "invalid_argument")
        assert err["message"]
    victim.check()


def test_bad_batch_envelope(server, victim):
    ops = [{"path": "new/y", "assign": {"floatValue": 1}}]
    cases = [
        {"writerId": "", "sequence": "1", "operations": ops},
        {"writerId": "w" * 65, "sequence": "1", "operations": ops},
        {"writerId": "has space\n", "sequence": "1", "operations": ops},
        {"writerId": new_writer(), "sequence": "0", "operations": ops},
        {"writerId": new_writer(), "sequence": "1", "operations": [{"path": "x"}]},
        batch([{"path": "s", "appendFloats": {"steps": [1, 2], "values": [1]}}]),
        batch([{"path": "s", "appendFloats": {"timestampsUs": [1], "values": [1, 2]}}]),
        batch([{"path": "s", "appendFloats": {"steps": ["NaN"], "values": [1]}}]),
        batch([{"path": "s", "appendFloats": {"steps": ["Infinity"], "values": [1]}}]),
        batch([{"path": "s", "appendStrings": {"values": ["x" * ((1 << 20) + 1)]}}]),
        batch([{"path": "s", "assign": {"stringValue": "\u00e9" * ((1 << 19) + 1)}}]),
        batch([{"path": "s", "assign": {"file": {"sha256": "xyz", "name": "a"}}}]),
        batch([{"path": "s", "assign": {"file": {"sha256": "AB" * 32, "name": "a"}}}]),
    ]
    for b in cases:
        assert_error(server.post_batch_raw(victim.run_id, b), 400, "invalid_argument")
    for headers in [{"Content-Type": "text/plain"}, {"Content-Type": "application/xml"},
                    {"Content-Type": "application/json", "Content-Encoding": "gzip"}]:
        r = server.post(f"/api/v1/runs/{victim.run_id}/batches",
                        data=json.dumps(batch(ops)), headers=headers)
        assert_error(r, 400, "invalid_argument")
    # A corrupt zstd frame.
    r = post_pb(server, victim.run_id, b"\x28\xb5\x2f\xfd" + b"garbage" * 10,
                **{"Content-Encoding": "zstd"})
    assert_error(r, 400, "invalid_argument")
    victim.check()


def test_type_conflict_refuses_the_whole_batch(server, victim):
    w = new_writer()
    conflicting = batch([
        {"path": "fresh/series", "appendFloats": {"values": [1, 2, 3]}},
        {"path": "fresh/atom", "assign": {"intValue": 7}},
        {"path": "sys/tags", "addStrings": {"values": ["new-tag"]}},
        {"path": "loss", "appendFloats": {"values": [0.5]}},
        {"path": "params/lr", "assign": {"stringValue": "oops"}},
    ], writer=w)
    err = assert_error(server.post_batch_raw(victim.run_id, conflicting), 409, "type_conflict")
    assert "params/lr" in err["message"]
    victim.check()
    fields = server.fields(victim.run_id)
    assert "fresh/series" not in fields and "fresh/atom" not in fields

    others = [
        [{"path": "loss", "appendStrings": {"values": ["x"]}}],
        [{"path": "loss", "assign": {"floatValue": 1}}],
        [{"path": "params/lr", "appendFloats": {"values": [1]}}],
        [{"path": "params/lr", "assign": {"boolValue": True}}],
        [{"path": "params/name", "assign": {"intValue": 1}}],
        [{"path": "labels", "assign": {"stringValue": "a"}}],
        [{"path": "params/name", "addStrings": {"values": ["x"]}}],
        # A conflict inside one batch: its first write fixes the type.
        [{"path": "twice", "assign": {"floatValue": 1}},
         {"path": "twice", "assign": {"stringValue": "x"}}],
        # A nested dict whose leaf conflicts.
        [{"path": "params", "assign": {"nested": {"fields": {
            "zz": {"floatValue": 1}, "lr": {"boolValue": False}}}}}],
    ]
    for ops in others:
        assert_error(server.post_batch_raw(victim.run_id, batch(ops)), 409, "type_conflict")
    victim.check()
    fields = server.fields(victim.run_id)
    assert "twice" not in fields and "params/zz" not in fields

    # The refused batch did not use up its sequence: the corrected batch applies.
    fixed = dict(conflicting)
    fixed["operations"] = conflicting["operations"][:-1]
    ack = server.post_batch(victim.run_id, fixed)
    assert ack["duplicate"] is False and ack["applied_points"] == 4
    fields = server.fields(victim.run_id)
    assert fields["fresh/series"]["count"] == 3
    assert "new-tag" in fields["sys/tags"]["value"]
    # Undo for the other tests: the victim's state snapshot must stay valid.
    victim_state_reset(server, victim, w)


def victim_state_reset(server, victim, writer):
    """The corrected batch above legitimately changed the victim; refresh its snapshot."""
    fields = server.fields(victim.run_id)
    for p in ("sys/modification_time", "sys/ping_time", "sys/size"):
        fields.pop(p, None)
    snapshot = (fields, server.series(victim.run_id, "loss"), server.series(victim.run_id, "log"))

    def check():
        f = server.fields(victim.run_id)
        for p in ("sys/modification_time", "sys/ping_time", "sys/size"):
            f.pop(p, None)
        now = (f, server.series(victim.run_id, "loss"), server.series(victim.run_id, "log"))
        assert now == snapshot, "a refused request changed stored data"

    victim.check = staticmethod(check)


def test_unknown_run(server, victim):
    b = batch([{"path": "x", "assign": {"floatValue": 1}}])
    assert_error(server.post_batch_raw("SAND-999999", b), 404, "not_found")
    assert_error(server.post_batch_raw("NOPROJ-1", b), 404, "not_found")
    assert_error(post_pb(server, "SAND-999999", pbwire.encode_batch(b)), 404, "not_found")
    victim.check()


def test_bad_paths(server, victim):
    ok_long = "p/" + "x" * 1022
    assert len(ok_long) == 1024
    bad = ["", "a//b", "/a", "a/", "x" * 1025, "a:b", "loss:last", "a\\b", 'a"b', "a`b",
           "a\x01b", "a\x7fb", ".", "..", "a/./b", "a/../b", "../x"]
    for path in bad:
        err = assert_error(server.post_batch_raw(victim.run_id, batch(
            [{"path": "fine", "assign": {"floatValue": 1}},
             {"path": path, "assign": {"floatValue": 1}}])), 400, "invalid_argument")
        assert err["message"]
    # A nested key that makes a bad path.
    for key in ["", "a:b", "..", "x/"]:
        assert_error(server.post_batch_raw(victim.run_id, batch(
            [{"path": "cfg", "assign": {"nested": {"fields": {key: {"intValue": 1}}}}}])),
            400, "invalid_argument")
    assert_error(server.post_batch_raw(victim.run_id, batch(
        [{"path": "cfg", "assign": {"nested": {"fields": {"k": {"intValue": 1}}}}},
         {"path": "y" * 1020, "assign": {"nested": {"fields": {"long": {"intValue": 1}}}}}])),
        400, "invalid_argument")
    victim.check()
    assert "fine" not in server.fields(victim.run_id)
    # The longest path is fine.
    fresh = server.create_run()["id"]
    server.post_ops(fresh, [{"path": ok_long, "assign": {"floatValue": 1}}])
    assert ok_long in server.fields(fresh)


def test_path_traversal_in_file_names(server, victim):
    sha = server.upload(b"traversal")["sha256"]
    for name in ["../x", "../../etc/passwd", "a/b", "a\\b", "x\x00y", "x\ny"]:
        for op in [{"path": "f", "assign": {"file": {"sha256": sha, "name": name}}},
                   {"path": "fs", "addFiles": {"files": [{"sha256": sha, "name": name}]}},
                   {"path": "fser", "appendFiles": {"files": [{"sha256": sha, "name": name}]}}]:
            assert_error(server.post_batch_raw(victim.run_id, batch([op])), 400,
                         "invalid_argument")
    victim.check()


def test_invalid_utf8(server, victim):
    # Protobuf carries raw bytes: an invalid string value, set member, series point, path.
    cases = [
        [{"path": "s", "assign": {"stringValue": b"ab\xffcd"}}],
        [{"path": "s", "assign": {"stringValue": b"\xc3"}}],  # truncated sequence
        [{"path": "s", "assign": {"stringValue": b"\xed\xa0\x80"}}],  # UTF-16 surrogate
        [{"path": "s", "assign": {"stringValue": b"\xc0\xaf"}}],  # overlong '/'
        [{"path": "s", "appendStrings": {"values": [b"ok", b"\xfe"]}}],
        [{"path": "s", "addStrings": {"values": [b"\x80"]}}],
        [{"path": b"bad\xffpath", "assign": {"floatValue": 1}}],
        [{"path": b"a/\xc3(", "assign": {"floatValue": 1}}],
    ]
    for ops in cases:
        body = pbwire.encode_batch(batch([{"path": "fine", "assign": {"floatValue": 1}}] + ops))
        assert_error(post_pb(server, victim.run_id, body), 400, "invalid_argument")
    # Raw invalid bytes inside a JSON string, in a value and in a path.
    for raw in [b'{"writerId":"w1","sequence":"1","operations":[{"path":"s",'
                b'"assign":{"stringValue":"\xff"}}]}',
                b'{"writerId":"w1","sequence":"1","operations":[{"path":"s\xfe",'
                b'"assign":{"floatValue":1}}]}']:
        assert_error(post_json_bytes(server, victim.run_id, raw), 400, "invalid_argument")
    # Run creation and filters refuse it too.
    r = server.post("/api/v1/projects/default/sandbox/runs", data=b'{"name":"\xff"}')
    assert_error(r, 400, "invalid_argument")
    r = server.get("/api/v1/projects/default/sandbox/runs?filter=sys/name%20%3D%20%22%FF%22")
    assert_error(r, 400, "invalid_argument")
    victim.check()
    assert "fine" not in server.fields(victim.run_id)


def test_read_only_sys_fields(server, victim):
    cases = [
        [{"path": "sys/id", "assign": {"stringValue": "SAND-1"}}],
        [{"path": "sys/creation_time", "assign": {"datetimeUs": "1"}}],
        [{"path": "sys/modification_time", "assign": {"datetimeUs": "1"}}],
        [{"path": "sys/owner", "assign": {"stringValue": "mallory"}}],
        [{"path": "sys/custom_run_id", "assign": {"stringValue": "x"}}],
        [{"path": "sys/size", "assign": {"intValue": 1}}],
        [{"path": "sys/anything", "assign": {"floatValue": 1}}],
        [{"path": "sys/metrics", "appendFloats": {"values": [1]}}],
        [{"path": "sys/state", "assign": {"stringValue": "exploded"}}],
        [{"path": "sys/name", "assign": {"floatValue": 1}}],
        [{"path": "sys/failed", "assign": {"stringValue": "yes"}}],
        [{"path": "sys/tags", "assign": {"stringValue": "x"}}],
        [{"path": "sys/ping_time", "assign": {"intValue": 5}}],
        [{"path": "sys", "assign": {"nested": {"fields": {"id": {"stringValue": "X-1"}}}}}],
    ]
    for ops in cases:
        r = server.post_batch_raw(victim.run_id, batch(
            [{"path": "sys/name", "assign": {"stringValue": "hijacked"}}] + ops))
        assert_error(r, 400, "invalid_argument")
    victim.check()
    assert server.get_json(f"/api/v1/runs/{victim.run_id}")["name"] == "victim"


def test_bad_filter_names_the_position(server, victim):
    base = "/api/v1/projects/default/sandbox/runs"
    for f in ["params/lr <", "params/lr < and x", "(params/lr < 1", "params/lr < 1)",
              "params/lr ~ 1", '"str" = params/lr', "train/loss:median < 1", "a//b = 1",
              'sys/name =~ "("', "params/lr < 1 and", "not", 'sys/tags contains 5']:
        err = assert_error(server.get(base, params={"filter": f}), 400, "invalid_argument")
        assert "position" in err["message"], (f, err)
    for params in [{"sort": "a//b"}, {"sort": "loss:median"}, {"order": "up"}, {"limit": 0},
                   {"limit": 1001}, {"limit": "ten"}, {"columns": "ok,a//b"},
                   {"cursor": "not-a-cursor"}]:
        assert_error(server.get(base, params=params), 400, "invalid_argument")
    victim.check()


def test_unknown_endpoint_and_wrong_method(server, victim):
    # (Other paths outside /api/ belong to the web UI: see test_web_ui.py.)
    for method, path in [("GET", "/api/v1/nope"), ("GET", "/api/nope/at/all"),
                         ("POST", f"/api/v1/runs/{victim.run_id}/nope"),
                         ("GET", "/api/v2/workspaces"),
                         ("GET", f"/api/v1/runs/{victim.run_id}/fields/extra")]:
        assert_error(server.session.request(method, server.url(path), timeout=30), 404,
                     "not_found")
    for method, path, allowed in [
            ("DELETE", "/api/v1/workspaces", {"GET", "POST"}),
            ("PUT", f"/api/v1/runs/{victim.run_id}/batches", {"POST"}),
            ("GET", f"/api/v1/runs/{victim.run_id}/batches", {"POST"}),
            ("POST", "/api/v1/health", {"GET"}),
            ("DELETE", f"/api/v1/runs/{victim.run_id}", {"GET"})]:
        r = server.session.request(method, server.url(path), timeout=30)
        assert_error(r, 405, "method_not_allowed")
        got = {m.strip() for m in r.headers.get("Allow", "").split(",") if m.strip()}
        assert allowed <= got, (method, path, r.headers.get("Allow"))
    victim.check()


def test_headers_too_large(server):
    r = server.get("/api/v1/workspaces", headers={"X-Big": "a" * (20 * 1024)})
    assert_error(r, 431, "headers_too_large")
    assert server.get("/api/v1/workspaces").status_code == 200


def test_zstd_bomb_with_default_limit(server, victim):
    # 80 MiB of zeros inflates past the default 64 MiB body limit; the frame itself is tiny.
    bomb = zstd_compress(b"\x00" * (80 << 20), level=1)
    assert len(bomb) < 1 << 20
    r = post_pb(server, victim.run_id, bomb, **{"Content-Encoding": "zstd"})
    assert_error(r, 413, "payload_too_large")
    victim.check()


def test_body_and_upload_limits(start_server):
    s = start_server("--body-limit", "20000", "--upload-limit", "30000")
    run = s.create_run()["id"]
    w = new_writer()
    s.post_ops(run, [{"path": "keep", "appendFloats": {"values": [1, 2]}}], writer=w)

    big = batch([{"path": "big", "appendFloats": {"values": list(range(5000))}}])
    body = json.dumps(big).encode()
    assert len(body) > 20000
    assert_error(post_json_bytes(s, run, body), 413, "payload_too_large")

    # The same, sent chunked (no Content-Length): refused while streaming.
    def chunks():
        for i in range(0, len(body), 4096):
            yield body[i:i + 4096]
    r = s.post(f"/api/v1/runs/{run}/batches", data=chunks(),
               headers={"Content-Type": "application/json"})
    assert_error(r, 413, "payload_too_large")

    # zstd bomb: a small frame that inflates past the body limit.
    bomb = zstd_compress(json.dumps(big).encode() + b" " * (1 << 20))
    assert len(bomb) < 20000
    r = post_json_bytes(s, run, bomb, **{"Content-Encoding": "zstd"})
    assert_error(r, 413, "payload_too_large")

    # Uploads have their own limit, and nothing partial is kept.
    assert_error(s.post("/api/v1/files", data=b"x" * 30001), 413, "payload_too_large")
    assert_error(requests.post(s.url("/api/v1/files"), data=b"z" * 1000, timeout=30), 401)
    assert s.upload(b"y" * 30000)["size"] == 30000
    blobs = blob_files(s.data_dir)
    tmp = os.path.join(s.data_dir, "files", "tmp") + os.sep
    assert [p for p, _ in blobs if p.startswith(tmp)] == [], "temp files left"
    for path, sha in blobs:
        assert sha.endswith(os.path.basename(path)), f"{path} does not hold its content"
    assert hashlib.sha256(b"y" * 30000).hexdigest() in [sha for _, sha in blobs]
    assert hashlib.sha256(b"x" * 30001).hexdigest() not in [sha for _, sha in blobs]
    assert hashlib.sha256(b"z" * 1000).hexdigest() not in [sha for _, sha in blobs]

    fields = s.fields(run)
    assert "big" not in fields and fields["keep"]["count"] == 2
    # The server still serves, and the writer's next sequence applies.
    assert s.post_ops(run, [{"path": "keep", "appendFloats": {"values": [3]}}], writer=w,
                      sequence=2)["duplicate"] is False
    assert s.series(run, "keep")["values"] == [1, 2, 3]
    assert requests.get(s.url("/api/v1/health"), timeout=10).status_code == 200


def blob_files(data_dir):
    """(path, sha256 of content) of every file under DATA/files."""
    out = []
    for root, _, files in os.walk(os.path.join(data_dir, "files")):
        for name in files:
            p = os.path.join(root, name)
            with open(p, "rb") as fh:
                out.append((p, hashlib.sha256(fh.read()).hexdigest()))
    return out
