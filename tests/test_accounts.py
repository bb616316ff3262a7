"""Users, tokens, roles and the permission check on every endpoint (the security matrix), plus
the `nereid admin` command line."""

import hashlib
import subprocess

import pytest
import requests

from accounts_util import User, admin_call, make_user
from conftest import NEREID_BIN, assert_error, new_writer

IDENTITIES = ["viewer", "other_contributor", "other_member"]


@pytest.fixture(scope="module")
def world(start_server_module):
    """default/sandbox with a run holding a series and a file; acme/other; one user per role."""
    s = start_server_module()
    admin_call(s, "POST", "/api/v1/workspaces", json={"name": "acme"})
    admin_call(s, "POST", "/api/v1/workspaces/acme/projects", json={"name": "other", "key": "OTH"})
    run = s.create_run(name="matrix")["id"]
    blob = s.upload(b"matrix file")
    s.post_ops(run, [{"path": "loss", "appendFloats": {"values": [1.0, 0.5]}},
                     {"path": "f", "assign": {"file": {"sha256": blob["sha256"],
                                                            "name": "f.txt"}}}])
    users = {
        "viewer": make_user(s, "viewer", project_roles=[("default/sandbox", "viewer")]),
        "contributor": make_user(s, "contrib", project_roles=[("default/sandbox", "contributor")]),
        "owner": make_user(s, "owner", project_roles=[("default/sandbox", "owner")]),
        "other_contributor": make_user(s, "othercontrib",
                                       project_roles=[("acme/other", "contributor")]),
        "other_member": make_user(s, "othermember", workspace_role=("acme", "member")),
        "revoked": make_user(s, "revoked", project_roles=[("default/sandbox", "owner")]),
    }
    tokens = admin_call(s, "GET", "/api/v1/users/revoked/tokens")["tokens"]
    admin_call(s, "DELETE", f"/api/v1/tokens/{tokens[0]['id']}")
    return {"server": s, "run": run, "sha": blob["sha256"], "users": users}


def endpoints(w):
    """(method, path, json body or raw bytes, {identity: expected status})."""
    run, sha = w["run"], w["sha"]
    batch = {"writerId": new_writer(), "sequence": "1",
             "operations": [{"path": "x", "assign": {"intValue": "1"}}]}
    deny = {i: 403 for i in IDENTITIES}
    read_sandbox = {"viewer": 200, "other_contributor": 403, "other_member": 403}
    everyone = {i: 200 for i in IDENTITIES}
    return [
        ("GET", "/api/v1/workspaces", None, everyone),
        ("POST", "/api/v1/workspaces", {"name": "nope"}, deny),
        ("GET", "/api/v1/workspaces/default/projects", None, read_sandbox),
        ("POST", "/api/v1/workspaces/default/projects", {"name": "nope", "key": "NOPE"}, deny),
        ("GET", "/api/v1/projects/default/sandbox", None, read_sandbox),
        ("POST", "/api/v1/projects/default/sandbox/runs", {"name": "nope"}, deny),
        ("GET", "/api/v1/projects/default/sandbox/runs", None, read_sandbox),
        ("GET", "/api/v1/projects/default/sandbox/fields", None, read_sandbox),
        ("GET", "/api/v1/projects/default/sandbox/runs?trashed=true", None, read_sandbox),
        ("POST", "/api/v1/projects/default/sandbox/runs/trash", {"runs": [run]}, deny),
        ("POST", "/api/v1/projects/default/sandbox/runs/restore", {"runs": [run]}, deny),
        ("POST", "/api/v1/projects/default/sandbox/runs/delete", {"runs": [run]}, deny),
        ("GET", f"/api/v1/runs/{run}", None, read_sandbox),
        ("GET", f"/api/v1/runs/{run}/fields", None, read_sandbox),
        ("POST", f"/api/v1/runs/{run}/batches", batch, deny),
        ("GET", f"/api/v1/runs/{run}/series?path=loss", None, read_sandbox),
        ("GET", f"/api/v1/runs/{run}/series/buckets?path=loss", None, read_sandbox),
        ("GET", f"/api/v1/runs/{run}/file?path=f", None, read_sandbox),
        ("POST", "/api/v1/files", b"some bytes",
         {"viewer": 403, "other_contributor": 201, "other_member": 403}),
        ("GET", f"/api/v1/files/{sha}", None, everyone),
        ("GET", "/api/v1/me", None, everyone),
        ("GET", "/api/v1/limits", None, everyone),
        ("GET", "/api/v1/users", None, deny),
        ("POST", "/api/v1/users", {"name": "mallory"}, deny),
        ("GET", "/api/v1/users/admin", None, deny),
        ("PATCH", "/api/v1/users/admin", {"disabled": True}, deny),
        ("GET", "/api/v1/users/admin/tokens", None, deny),
        ("POST", "/api/v1/users/admin/tokens", {"name": "stolen"}, deny),
        ("DELETE", "/api/v1/tokens/1", None, {i: 404 for i in IDENTITIES}),
        ("GET", "/api/v1/workspaces/default/members", None, read_sandbox),
        ("PUT", "/api/v1/workspaces/default/members/viewer", {"role": "admin"}, deny),
        ("DELETE", "/api/v1/workspaces/default/members/viewer", None, deny),
        ("GET", "/api/v1/projects/default/sandbox/members", None, read_sandbox),
        ("PUT", "/api/v1/projects/default/sandbox/members/viewer", {"role": "owner"}, deny),
        ("DELETE", "/api/v1/projects/default/sandbox/members/viewer", None, deny),
        ("GET", "/api/v1/workspaces/default/limits", None, read_sandbox),
        ("PUT", "/api/v1/workspaces/default/limits", {"quota_bytes": 1}, deny),
        ("GET", "/api/v1/workspaces/default/usage", None, read_sandbox),
        ("GET", "/api/v1/session", None, everyone),
        ("POST", "/api/v1/logout", None, everyone),
        ("PUT", "/api/v1/users/admin/password", {"password": "long enough pw"}, deny),
        ("POST", "/api/v1/projects/default/sandbox/notebooks/checkpoints?path=m.ipynb",
         {"nbformat": 4, "cells": []}, deny),
        ("GET", "/api/v1/projects/default/sandbox/notebooks", None, read_sandbox),
        ("GET", "/api/v1/projects/default/sandbox/notebooks/checkpoints?path=m.ipynb", None,
         {"viewer": 404, "other_contributor": 403, "other_member": 403}),
        ("GET", "/api/v1/projects/default/sandbox/notebooks/checkpoints/" + "0" * 64 +
         "?path=m.ipynb", None, {"viewer": 404, "other_contributor": 403, "other_member": 403}),
        ("GET", "/api/v1/projects/default/sandbox/notebooks/diff?path=m.ipynb&from=a&to=b", None,
         {"viewer": 400, "other_contributor": 403, "other_member": 403}),
    ]


def send(s, method, path, body, headers):
    kw = {"headers": dict(headers), "timeout": 60}
    if isinstance(body, bytes):
        kw["data"] = body
        kw["headers"]["Content-Type"] = "application/octet-stream"
    elif body is not None:
        kw["json"] = body
    return requests.request(method, s.url(path), **kw)


def test_security_matrix(world):
    s, users = world["server"], world["users"]
    bad_headers = {
        "no token": {},
        "malformed token": {"Authorization": "Bearer not-a-token"},
        "unknown token": {"Authorization": "Bearer nrd_" + "0" * 64},
        "revoked token": {"Authorization": "Bearer " + users["revoked"].token},
    }
    failures = []
    for method, path, body, expected in endpoints(world):
        for label, headers in bad_headers.items():
            r = send(s, method, path, body, headers)
            if r.status_code != 401:
                failures.append(f"{label}: {method} {path} -> {r.status_code}")
            else:
                err = assert_error(r, 401, "unauthenticated")
                assert users["revoked"].token not in err["message"]
                if label == "revoked token":
                    assert "revoked" in err["message"]
        for ident in IDENTITIES:
            u = users[ident]
            r = send(s, method, path, body, {"Authorization": "Bearer " + u.token})
            if r.status_code != expected[ident]:
                failures.append(f"{ident}: {method} {path} -> {r.status_code} (expected "
                                f"{expected[ident]}) {r.text[:200]}")
            elif r.status_code >= 400:
                err = assert_error(r, r.status_code)
                assert u.token not in r.text
                if r.status_code == 403:
                    assert err["code"] == "permission_denied"
    assert not failures, "\n".join(failures)
    # Nothing the refused requests tried happened.
    assert s.get_json("/api/v1/users/admin")["disabled"] is False
    assert [m["user"] for m in s.get_json("/api/v1/workspaces/default/members")["members"]] == []
    assert "x" not in s.fields(world["run"])
    assert s.get_json(f"/api/v1/runs/{world['run']}")["trashed"] is False
    assert s.get("/api/v1/me").status_code == 200  # the admin token survived DELETE /tokens/1


def test_roles_allow_what_they_should(world):
    s, users = world["server"], world["users"]
    contrib, owner, viewer = users["contributor"], users["owner"], users["viewer"]
    r = contrib.request("POST", "/api/v1/projects/default/sandbox/runs", json={"name": "c"})
    assert r.status_code == 201, r.text
    assert r.json()["owner"] == "contrib"
    run = r.json()["id"]
    r = contrib.request("POST", f"/api/v1/runs/{run}/batches",
                        json={"writerId": new_writer(), "sequence": "1",
                              "operations": [{"path": "a", "assign": {"intValue": "3"}}]})
    assert r.status_code == 200, r.text
    assert viewer.get(f"/api/v1/runs/{run}/fields").status_code == 200
    assert_error(contrib.request("PUT", "/api/v1/projects/default/sandbox/members/viewer",
                                 json={"role": "owner"}), 403, "permission_denied")
    r = owner.request("PUT", "/api/v1/projects/default/sandbox/members/othermember",
                      json={"role": "viewer"})
    assert r.status_code == 200, r.text
    assert users["other_member"].get(f"/api/v1/runs/{run}").status_code == 200
    r = owner.request("DELETE", "/api/v1/projects/default/sandbox/members/othermember")
    assert r.status_code == 200
    assert_error(users["other_member"].get(f"/api/v1/runs/{run}"), 403, "permission_denied")
    # Workspace admins own every project of their workspace.
    wa = make_user(s, "wsadmin", workspace_role=("acme", "admin"))
    r = wa.request("POST", "/api/v1/workspaces/acme/projects", json={"name": "new", "key": "NEWP"})
    assert r.status_code == 201, r.text
    r = wa.request("POST", "/api/v1/projects/acme/new/runs", json={})
    assert r.status_code == 201
    assert_error(wa.request("POST", "/api/v1/projects/default/sandbox/runs", json={}), 403)
    names = [w["name"] for w in wa.get("/api/v1/workspaces").json()["workspaces"]]
    assert names == ["acme"]


def test_tokens_shown_once_hashed_revocable(world, tmp_path):
    s = world["server"]
    u = make_user(s, "tokenuser", project_roles=[("default/sandbox", "viewer")])
    second = u.request("POST", "/api/v1/users/tokenuser/tokens", json={"name": "laptop"})
    assert second.status_code == 201
    tok = second.json()["token"]
    assert tok.startswith("nrd_") and len(tok) == 68 and tok != u.token
    listed = u.get("/api/v1/users/tokenuser/tokens").json()["tokens"]
    assert len(listed) == 2 and all("token" not in t for t in listed)
    assert {t["name"] for t in listed} == {"test", "laptop"}
    # Only hashes reach the database.
    hashes = {row[0] for row in s.db_rows("SELECT hash FROM tokens")}
    assert hashlib.sha256(tok.encode()).hexdigest() in hashes
    raw = s.database_dump()
    assert tok.encode() not in raw and u.token.encode() not in raw
    # A user revokes their own token; the other keeps working.
    laptop_id = next(t["id"] for t in listed if t["name"] == "laptop")
    other = User(s, "tokenuser", tok)
    assert other.get("/api/v1/me").json()["user"] == "tokenuser"
    r = u.request("DELETE", f"/api/v1/tokens/{laptop_id}")
    assert r.status_code == 200 and r.json()["revoked"] is True
    err = assert_error(other.get("/api/v1/me"), 401, "unauthenticated")
    assert "revoked" in err["message"]
    assert u.get("/api/v1/me").status_code == 200


def test_disabled_user_is_refused_until_enabled(world):
    s = world["server"]
    u = make_user(s, "tobedisabled", project_roles=[("default/sandbox", "viewer")])
    assert u.get("/api/v1/me").status_code == 200
    admin_call(s, "PATCH", "/api/v1/users/tobedisabled", json={"disabled": True})
    err = assert_error(u.get("/api/v1/me"), 401, "unauthenticated")
    assert "disabled" in err["message"]
    admin_call(s, "PATCH", "/api/v1/users/tobedisabled", json={"disabled": False})
    assert u.get("/api/v1/me").status_code == 200


def test_service_account_and_validation(world):
    s = world["server"]
    ci = make_user(s, "ci-bot", kind="service", project_roles=[("default/sandbox", "contributor")])
    me = ci.get("/api/v1/me").json()
    assert me["kind"] == "service" and me["is_admin"] is False
    assert me["projects"] == [{"project": "default/sandbox", "role": "contributor"}]
    assert ci.request("POST", "/api/v1/projects/default/sandbox/runs", json={}).status_code == 201
    assert_error(s.post("/api/v1/users", json={"name": "ci-bot"}), 409, "already_exists")
    assert_error(s.post("/api/v1/users", json={"name": "x", "kind": "robot"}), 400)
    assert_error(s.post("/api/v1/users", json={"name": "bad name/"}), 400)
    r = s.session.put(s.url("/api/v1/projects/default/sandbox/members/ci-bot"),
                      json={"role": "emperor"})
    assert_error(r, 400, "invalid_argument")
    r = s.session.put(s.url("/api/v1/projects/default/sandbox/members/nobody"),
                      json={"role": "viewer"})
    assert_error(r, 404, "not_found")


def test_last_used_time_survives_restart(start_server):
    s = start_server()
    u = make_user(s, "lastused", project_roles=[("default/sandbox", "viewer")])
    before = admin_call(s, "GET", "/api/v1/users/lastused/tokens")["tokens"][0]
    assert before["last_used"] is None
    assert u.get("/api/v1/me").status_code == 200
    s.restart()  # SIGTERM flushes the pending last-used times
    after = admin_call(s, "GET", "/api/v1/users/lastused/tokens")["tokens"][0]
    assert after["last_used"] is not None and after["last_used"] >= after["creation_time"]


def admin_cli(s, *args):
    return subprocess.run([NEREID_BIN, "admin", "--url", s.base_url, "--token", s.token, *args],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=30)


def test_admin_cli(start_server):
    s = start_server()
    steps = [
        ("users", "add", "erin"),
        ("users", "add", "build", "--service"),
        ("workspaces", "add", "lab"),
        ("projects", "add", "lab/vision", "--key", "VIS"),
        ("members", "set", "lab", "erin", "admin"),
        ("members", "set", "lab/vision", "build", "contributor"),
        ("limits", "user", "build", "--rpm", "120", "--burst", "10"),
        ("limits", "workspace", "lab", "--rpm", "5000"),
        ("limits", "quota", "lab", "1000000"),
    ]
    for step in steps:
        p = admin_cli(s, *step)
        assert p.returncode == 0, (step, p.stderr)
    p = admin_cli(s, "tokens", "issue", "build", "--name", "ci")
    assert p.returncode == 0, p.stderr
    token = p.stdout.strip().splitlines()[-1]
    build = User(s, "build", token)
    r = build.request("POST", "/api/v1/projects/lab/vision/runs", json={})
    assert r.status_code == 201, r.text
    assert r.headers["RateLimit-Limit"] == "120"
    p = admin_cli(s, "users", "ls")
    assert "erin" in p.stdout and "service" in p.stdout
    p = admin_cli(s, "members", "ls", "lab/vision")
    assert "build" in p.stdout and "contributor" in p.stdout
    p = admin_cli(s, "tokens", "ls", "build")
    assert "ci" in p.stdout and token not in p.stdout
    limits = admin_call(s, "GET", "/api/v1/workspaces/lab/limits")
    assert limits == {"workspace": "lab", "quota_bytes": 1000000,
                      "rate_limit": {"requests_per_minute": 5000, "burst": 1000}}
    token_id = admin_call(s, "GET", "/api/v1/users/build/tokens")["tokens"][0]["id"]
    assert admin_cli(s, "tokens", "revoke", str(token_id)).returncode == 0
    assert build.get("/api/v1/me").status_code == 401
    p = admin_cli(s, "users", "disable", "erin")
    assert p.returncode == 0
    p = admin_cli(s, "members", "set", "lab", "erin", "emperor")
    assert p.returncode == 1 and "admin" in p.stderr  # names the valid roles
    p = subprocess.run([NEREID_BIN, "admin", "--url", s.base_url, "--token", token, "users", "ls"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=30)
    assert p.returncode == 1 and "revoked" in p.stderr and token not in p.stderr
