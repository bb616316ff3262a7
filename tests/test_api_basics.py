"""Health, authentication, workspaces/projects/runs, and the `nereid` command line."""

import random
import re
import string
import subprocess
import threading

import requests

from conftest import NEREID_BIN, assert_error, new_writer

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
SHA0 = "0" * 64

# Every /api/v1 endpoint but health, with a body that would be accepted with a valid token.
ENDPOINTS = [
    ("GET", "/api/v1/workspaces", None),
    ("POST", "/api/v1/workspaces", b'{"name":"unauth-ws"}'),
    ("GET", "/api/v1/workspaces/default/projects", None),
    ("POST", "/api/v1/workspaces/default/projects", b'{"name":"unauth","key":"UNAUTH"}'),
    ("GET", "/api/v1/projects/default/sandbox", None),
    ("POST", "/api/v1/projects/default/sandbox/runs", b'{"custom_run_id":"unauth-run"}'),
    ("GET", "/api/v1/projects/default/sandbox/runs", None),
    ("GET", "/api/v1/runs/SAND-1", None),
    ("GET", "/api/v1/runs/SAND-1/fields", None),
    ("POST", "/api/v1/runs/SAND-1/batches",
     b'{"writerId":"unauth","sequence":"1","operations":[{"path":"x","assign":{"intValue":"1"}}]}'),
    ("GET", "/api/v1/runs/SAND-1/series?path=x", None),
    ("GET", "/api/v1/runs/SAND-1/series/buckets?path=x", None),
    ("GET", "/api/v1/runs/SAND-1/file?path=x", None),
    ("POST", "/api/v1/files", b"unauthenticated upload"),
    ("GET", "/api/v1/files/" + SHA0, None),
]


def rand_key(n=6):
    return "".join(random.choice(string.ascii_uppercase) for _ in range(n))


def rand_name(prefix):
    return prefix + "-" + "".join(random.choice(string.ascii_lowercase) for _ in range(8))


def cli(*args, timeout=30):
    return subprocess.run([NEREID_BIN, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, timeout=timeout)


def test_health_needs_no_token(server):
    r = requests.get(server.url("/api/v1/health"), timeout=10)
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}


def test_metrics_is_prometheus_text(server):
    server.get("/api/v1/workspaces")
    r = requests.get(server.url("/metrics"), timeout=10)
    assert r.status_code == 200
    assert "nereid_http_requests_total" in r.text


def test_token_file_is_private(server):
    import os
    import stat

    mode = stat.S_IMODE(os.stat(os.path.join(server.data_dir, "admin.token")).st_mode)
    assert mode == 0o600
    assert server.token


def test_every_endpoint_refuses_missing_or_wrong_token(server):
    bad_headers = [
        {},
        {"Authorization": "Bearer nrd_" + "0" * 64},
        {"Authorization": "Bearer " + server.token + "x"},
        {"Authorization": "Basic " + server.token},
        {"Authorization": server.token},
    ]
    for method, path, body in ENDPOINTS:
        for headers in bad_headers:
            r = requests.request(method, server.url(path), data=body, headers=headers, timeout=30)
            err = assert_error(r, 401, "unauthenticated")
            assert server.token not in err["message"]
    # Nothing the refused requests asked for happened.
    names = [w["name"] for w in server.get_json("/api/v1/workspaces")["workspaces"]]
    assert "unauth-ws" not in names
    projects = server.get_json("/api/v1/workspaces/default/projects")["projects"]
    assert "unauth" not in [p["name"] for p in projects]
    runs = server.get_json("/api/v1/projects/default/sandbox/runs", params={"limit": 1000})["runs"]
    assert "unauth-run" not in [r["custom_run_id"] for r in runs]


def test_default_workspace_and_project(server):
    names = [w["name"] for w in server.get_json("/api/v1/workspaces")["workspaces"]]
    assert "default" in names
    p = server.get_json("/api/v1/projects/default/sandbox")
    assert p["workspace"] == "default" and p["name"] == "sandbox" and p["key"] == "SAND"


def test_workspaces_create_list_duplicate_and_bad_names(server):
    name = rand_name("acme")
    r = server.post("/api/v1/workspaces", json={"name": name})
    assert r.status_code == 201, r.text
    assert r.json()["name"] == name
    names = [w["name"] for w in server.get_json("/api/v1/workspaces")["workspaces"]]
    assert name in names and "default" in names
    assert_error(server.post("/api/v1/workspaces", json={"name": name}), 409, "already_exists")
    for bad in ["", "-lead", ".dot", "a b", "x" * 65, "caf\u00e9", "a/b", "semi;colon"]:
        assert_error(server.post("/api/v1/workspaces", json={"name": bad}), 400, "invalid_argument")
    assert_error(server.post("/api/v1/workspaces", data=b"{not json"), 400, "invalid_argument")
    assert_error(server.post("/api/v1/workspaces", json={"name": 5}), 400, "invalid_argument")
    after = [w["name"] for w in server.get_json("/api/v1/workspaces")["workspaces"]]
    assert sorted(after) == sorted(names)


def test_projects_create_list_duplicate_and_bad_keys(server):
    ws = rand_name("team")
    assert server.post("/api/v1/workspaces", json={"name": ws}).status_code == 201
    key = rand_key()
    r = server.post(f"/api/v1/workspaces/{ws}/projects", json={"name": "vision", "key": key})
    assert r.status_code == 201, r.text
    p = r.json()
    assert (p["workspace"], p["name"], p["key"]) == (ws, "vision", key)
    listed = server.get_json(f"/api/v1/workspaces/{ws}/projects")["projects"]
    assert [(x["name"], x["key"]) for x in listed] == [("vision", key)]
    got = server.get_json(f"/api/v1/projects/{ws}/vision")
    assert got["key"] == key and got["run_count"] == 0

    # Same name in the workspace, or the same key anywhere on the server: taken.
    assert_error(server.post(f"/api/v1/workspaces/{ws}/projects",
                             json={"name": "vision", "key": rand_key()}), 409, "already_exists")
    assert_error(server.post(f"/api/v1/workspaces/{ws}/projects",
                             json={"name": "other", "key": key}), 409, "already_exists")
    assert_error(server.post("/api/v1/workspaces/default/projects",
                             json={"name": rand_name("p"), "key": "SAND"}), 409, "already_exists")
    for bad_key in ["", "vis", "ABCDEFGHIJK", "A1", "A-B", "\u00c4BC"]:
        assert_error(server.post(f"/api/v1/workspaces/{ws}/projects",
                                 json={"name": rand_name("p"), "key": bad_key}),
                     400, "invalid_argument")
    for bad_name in ["", "_x", "has space", "n" * 65]:
        assert_error(server.post(f"/api/v1/workspaces/{ws}/projects",
                                 json={"name": bad_name, "key": rand_key()}),
                     400, "invalid_argument")
    assert_error(server.post("/api/v1/workspaces/no-such-ws/projects",
                             json={"name": "x", "key": rand_key()}), 404, "not_found")
    assert_error(server.get(f"/api/v1/projects/{ws}/nope"), 404, "not_found")
    listed = server.get_json(f"/api/v1/workspaces/{ws}/projects")["projects"]
    assert [x["name"] for x in listed] == ["vision"]

    # Runs of the new project are numbered with its key.
    run = server.create_run(f"{ws}/vision")
    assert run["id"] == f"{key}-1" and run["project"] == f"{ws}/vision"
    assert server.get_json(f"/api/v1/projects/{ws}/vision")["run_count"] == 1


def test_run_ids_are_numbered_per_project(fresh_server):
    s = fresh_server
    ids = [s.create_run(expect=(201,))["id"] for _ in range(3)]
    assert ids == ["SAND-1", "SAND-2", "SAND-3"]
    key = rand_key()
    assert s.post("/api/v1/workspaces/default/projects",
                  json={"name": "second", "key": key}).status_code == 201
    assert s.create_run("default/second")["id"] == f"{key}-1"
    assert s.create_run()["id"] == "SAND-4"
    # Ids survive a restart and are never reused.
    s.restart()
    assert s.create_run()["id"] == "SAND-5"
    assert_error(s.post("/api/v1/projects/default/nope/runs", json={}), 404, "not_found")


def test_run_fields_and_get_run(server):
    custom = "exp-" + new_writer()
    r = server.post("/api/v1/projects/default/sandbox/runs",
                    json={"name": "first", "description": "about it", "custom_run_id": custom,
                          "tags": ["baseline", "resnet", "baseline"]})
    assert r.status_code == 201, r.text
    run = r.json()
    assert run["created"] is True
    assert re.fullmatch(r"SAND-\d+", run["id"])
    assert run["project"] == "default/sandbox"
    assert run["custom_run_id"] == custom
    assert run["name"] == "first"
    assert run["description"] == "about it"
    assert run["state"] == "running"
    assert run["failed"] is False
    assert run["owner"] == "admin"
    assert sorted(run["tags"]) == ["baseline", "resnet"]
    assert isinstance(run["size"], int)
    for k in ("creation_time", "modification_time", "ping_time"):
        assert ISO.match(run[k]), (k, run[k])

    got = server.get_json(f"/api/v1/runs/{run['id']}")
    assert "created" not in got
    assert {k: v for k, v in run.items() if k != "created"} == got

    fields = server.fields(run["id"])
    assert fields["sys/id"]["value"] == run["id"]
    assert fields["sys/name"]["value"] == "first"
    assert fields["sys/state"]["value"] == "running"
    assert sorted(fields["sys/tags"]["value"]) == ["baseline", "resnet"]
    assert list(fields) == sorted(fields), "fields must be ordered by path"

    assert_error(server.get("/api/v1/runs/SAND-999999"), 404, "not_found")
    assert_error(server.get("/api/v1/runs/SAND-999999/fields"), 404, "not_found")
    assert_error(server.get("/api/v1/runs/NOPE-1"), 404, "not_found")


def test_run_body_validation(server):
    base = "/api/v1/projects/default/sandbox/runs"
    assert_error(server.post(base, json={"custom_run_id": "x" * 129}), 400, "invalid_argument")
    assert_error(server.post(base, json={"tags": "notalist"}), 400, "invalid_argument")
    assert_error(server.post(base, json={"tags": [1]}), 400, "invalid_argument")
    assert_error(server.post(base, json={"name": 3}), 400, "invalid_argument")
    assert_error(server.post(base, data=b"[1,2]"), 400, "invalid_argument")
    # No body at all is a run with defaults.
    r = server.post(base)
    assert r.status_code == 201, r.text
    assert r.json()["custom_run_id"] == ""


def test_custom_run_id_returns_the_same_run(server):
    custom = "resume-" + new_writer()
    first = server.create_run(custom_run_id=custom, name="a")
    assert first["created"] is True
    again = server.post("/api/v1/projects/default/sandbox/runs",
                        json={"custom_run_id": custom, "name": "ignored"})
    assert again.status_code == 200, again.text
    assert again.json()["created"] is False
    assert again.json()["id"] == first["id"]
    assert again.json()["name"] == "a"


def test_custom_run_id_concurrent_creation_makes_one_run(server):
    custom = "ddp-" + new_writer()
    n = 8
    barrier = threading.Barrier(n)
    results = [None] * n

    def worker(i):
        sess = requests.Session()
        sess.headers["Authorization"] = "Bearer " + server.token
        barrier.wait()
        r = sess.post(server.url("/api/v1/projects/default/sandbox/runs"),
                      json={"custom_run_id": custom}, timeout=60)
        results[i] = (r.status_code, r.json())

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ids = {body.get("id") for _, body in results}
    assert len(ids) == 1, results
    created = [body["created"] for _, body in results]
    assert created.count(True) == 1, results
    for status, body in results:
        assert status == (201 if body["created"] else 200), (status, body)
    runs = server.get_json("/api/v1/projects/default/sandbox/runs",
                           params={"filter": f'sys/custom_run_id = "{custom}"'})
    assert runs["total"] == 1, runs


# --- the command line ---

def conn(server):
    return ["--url", server.base_url, "--token", server.token]


def test_cli_runs_ls_and_show(fresh_server):
    s = fresh_server
    a = s.create_run(name="alpha")
    b = s.create_run(name="beta")
    s.post_ops(a["id"], [
        {"path": "params/lr", "assign": {"floatValue": 0.25}},
        {"path": "train/loss", "appendFloats": {"values": [3.0, 2.0, 1.5]}},
    ])
    r = cli("runs", *conn(s), "ls", "default/sandbox")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().splitlines()
    assert lines[0].split()[:4] == ["ID", "STATE", "CREATED", "NAME"]
    rows = {line.split()[0]: line for line in lines[1:-1]}
    assert set(rows) == {a["id"], b["id"]}
    assert rows[a["id"]].split()[1] == "running" and rows[a["id"]].rstrip().endswith("alpha")
    assert rows[b["id"]].rstrip().endswith("beta")
    assert lines[-1] == "2 run(s)"

    r = cli("runs", *conn(s), "ls", "default/sandbox", "--columns", "params/lr",
            "--filter", "params/lr > 0.1")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().splitlines()
    assert len(lines) == 3 and lines[1].startswith(a["id"]) and "params/lr=0.25" in lines[1]
    assert lines[-1] == "1 run(s)"

    r = cli("runs", *conn(s), "show", a["id"])
    assert r.returncode == 0, r.stderr
    shown = {line.split()[0]: line.split()[1:] for line in r.stdout.strip().splitlines()}
    assert shown["params/lr"] == ["float", "0.25"]
    assert shown["sys/id"] == ["string", a["id"]]
    assert shown["train/loss"][:3] == ["float_series", "3", "points,"]
    assert "last 1.5" in " ".join(shown["train/loss"])


def test_cli_unknown_run_and_bad_filter_fail_with_one_line(server):
    r = cli("runs", *conn(server), "show", "SAND-987654")
    assert r.returncode != 0
    assert r.stdout == ""
    assert len(r.stderr.strip().splitlines()) == 1 and r.stderr.startswith("nereid: "), r.stderr
    r = cli("runs", *conn(server), "ls", "default/sandbox", "--filter", "params/lr < and")
    assert r.returncode != 0
    assert len(r.stderr.strip().splitlines()) == 1 and "position" in r.stderr, r.stderr
    r = cli("runs", "--url", server.base_url, "--token", "nrd_wrong", "ls", "default/sandbox")
    assert r.returncode != 0
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    r = cli("runs", "--url", "http://127.0.0.1:1", "--token", "t", "show", "SAND-1")
    assert r.returncode != 0
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_cli_version_and_help():
    r = cli("version")
    assert r.returncode == 0 and re.fullmatch(r"nereid \d+\.\d+\.\d+\n", r.stdout), r
    r = cli("--version")
    assert r.returncode == 0 and re.search(r"\d+\.\d+\.\d+", r.stdout), r
    for args in [[], ["server"], ["runs"], ["runs", "ls"], ["runs", "show"], ["version"]]:
        r = cli(*args, "--help")
        assert r.returncode == 0, (args, r.stderr)
        assert "Usage" in r.stdout or "usage" in r.stdout.lower(), (args, r.stdout)
    r = cli("no-such-command")
    assert r.returncode != 0
