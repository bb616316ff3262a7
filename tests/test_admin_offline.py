"""`nereid admin` on the data directory of a stopped server (--offline): accounts, roles, tokens,
limits and quotas made offline are in force once the server starts; offline admin is refused
while a server holds the directory (and a second server is too); a lost admin token is recovered
without any token."""

import os
import socket
import subprocess

import pytest
import requests

from conftest import NEREID_BIN, assert_error, new_writer


def clean_env():
    """No URL or token from the environment: offline must need neither."""
    env = dict(os.environ)
    env.pop("NEREID_URL", None)
    env.pop("NEREID_API_TOKEN", None)
    return env


def offline(s, *args, cwd=None):
    store = ["--store", s.store_url] if s.store_url else []
    return subprocess.run([NEREID_BIN, "admin", "--offline", "--data", s.data_dir, *store, *args],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60,
                          env=clean_env(), cwd=cwd)


def online(s, *args):
    return subprocess.run([NEREID_BIN, "admin", "--url", s.base_url, "--token", s.token, *args],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60,
                          env=clean_env())


def ok(p):
    assert p.returncode == 0, f"rc {p.returncode}: {p.stderr}"
    return p.stdout


def issued_token(stdout):
    token = stdout.strip().splitlines()[-1]
    assert token.startswith("nrd_"), stdout
    return token


def as_user(s, token):
    session = requests.Session()
    session.headers["Authorization"] = "Bearer " + token
    return session


def test_set_up_offline_then_serve(start_server):
    s = start_server()
    s.terminate()
    ok(offline(s, "users", "add", "alice"))
    ok(offline(s, "users", "add", "vic"))
    ok(offline(s, "workspaces", "add", "lab"))
    ok(offline(s, "projects", "add", "lab/vision", "--key", "VIS"))
    ok(offline(s, "members", "set", "lab/vision", "alice", "contributor"))
    ok(offline(s, "members", "set", "lab/vision", "vic", "viewer"))
    alice_token = issued_token(ok(offline(s, "tokens", "issue", "alice", "--name", "ci")))
    vic_token = issued_token(ok(offline(s, "tokens", "issue", "vic")))
    ok(offline(s, "limits", "user", "alice", "--rpm", "60", "--burst", "4"))
    assert "storage quota of workspace 'lab': 1\n" == ok(offline(s, "limits", "quota", "lab", "1"))
    usage = ok(offline(s, "usage", "lab"))
    assert "workspace lab: 0 bytes used of 1 bytes" in usage and "lab/vision" in usage
    # The server's own validation and errors, word for word.
    dup = offline(s, "users", "add", "alice")
    assert dup.returncode == 1 and "'alice'" in dup.stderr
    bad_role = offline(s, "members", "set", "lab/vision", "vic", "emperor")
    assert bad_role.returncode == 1 and "project role must be" in bad_role.stderr
    users_offline = ok(offline(s, "users", "ls"))
    members_offline = ok(offline(s, "members", "ls", "lab/vision"))

    s.start()
    # Same output online as offline.
    assert ok(online(s, "users", "ls")) == users_offline
    assert ok(online(s, "members", "ls", "lab/vision")) == members_offline
    dup_online = online(s, "users", "add", "alice")
    assert (dup_online.returncode, dup_online.stderr) == (dup.returncode, dup.stderr)
    # The roles hold: the viewer reads but cannot create runs, the contributor can.
    vic = as_user(s, vic_token)
    assert vic.get(s.url("/api/v1/projects/lab/vision"), timeout=60).status_code == 200
    assert_error(vic.post(s.url("/api/v1/projects/lab/vision/runs"), json={}, timeout=60), 403)
    alice = as_user(s, alice_token)
    r = alice.post(s.url("/api/v1/projects/lab/vision/runs"), json={}, timeout=60)
    assert r.status_code in (200, 201), r.text
    run = r.json()["id"]
    assert run.startswith("VIS-")
    # The quota (1 byte) refuses data.
    r = alice.post(s.url(f"/api/v1/runs/{run}/batches"), timeout=60,
                   json={"writerId": new_writer(), "sequence": "1",
                         "operations": [{"path": "x", "appendFloats": {"values": [1.0] * 100}}]})
    assert_error(r, 507, "quota_exceeded")
    # The rate limit (60/min, burst 4): two requests spent above, the next two fit, then 429.
    r = alice.get(s.url("/api/v1/limits"), timeout=60)
    lim = r.json()["rate_limit"]
    assert (lim["requests_per_minute"], lim["burst"], lim["source"]) == (60, 4, "user")
    assert r.headers["RateLimit-Limit"] == "60"
    statuses = [alice.get(s.url("/api/v1/limits"), timeout=60).status_code for _ in range(3)]
    assert 429 in statuses, statuses


def test_refused_while_a_server_runs(start_server):
    s = start_server()
    if s.store_url:
        pytest.skip("PostgreSQL: offline admin is allowed beside running servers")
    before = s.get_json("/api/v1/users")
    p = offline(s, "users", "add", "mallory")
    assert p.returncode == 1
    assert p.stderr == (f"nereid: a server is running on {s.data_dir} (pid {s.proc.pid}); "
                        "stop it or use --url\n"), p.stderr
    assert p.stdout == ""
    assert s.get_json("/api/v1/users") == before
    # The lock also keeps a second server off the same directory.
    second = subprocess.run([NEREID_BIN, "server", "--data", s.data_dir, "--port", "0",
                             "--no-access-log"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert second.returncode == 1
    assert f"another server is running on {s.data_dir} (pid {s.proc.pid})" in second.stderr
    # And a migration, which would copy a store a live server is still changing.
    mig = subprocess.run([NEREID_BIN, "admin", "migrate-store", "--from", s.data_dir, "--to",
                          "postgres://nobody@127.0.0.1:1/none"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, timeout=60, env=clean_env())
    assert mig.returncode == 1
    assert f"server (pid {s.proc.pid}) is using {s.data_dir}; stop it first" in mig.stderr
    assert s.get("/api/v1/health").status_code == 200
    # Killed without cleanup, the server leaves no stale lock behind.
    s.kill9()
    ok(offline(s, "users", "add", "mallory"))
    assert "mallory" in ok(offline(s, "users", "ls"))


def test_lost_admin_token_recovered_offline(start_server):
    s = start_server()
    lost = s.token
    s.terminate()
    os.remove(os.path.join(s.data_dir, "admin.token"))
    new = issued_token(ok(offline(s, "tokens", "issue", "admin", "--name", "recovered")))
    listing = ok(offline(s, "tokens", "ls", "admin"))
    old_id = next(line.split()[0] for line in listing.splitlines()[1:]
                  if line.split()[1] == "admin.token")
    ok(offline(s, "tokens", "revoke", old_id))
    with open(os.path.join(s.data_dir, "admin.token"), "w") as f:  # where the fixture reads it
        f.write(new + "\n")
    s.start()
    assert s.token == new
    assert s.get_json("/api/v1/users")["users"]
    assert_error(as_user(s, lost).get(s.url("/api/v1/users"), timeout=60), 401)


def test_no_server_answering_means_offline(start_server, tmp_path):
    with socket.socket() as probe:
        probe.settimeout(1)
        if probe.connect_ex(("127.0.0.1", 4870)) == 0:
            pytest.skip("something listens on the default port 4870")
    s = start_server()
    if s.store_url:
        pytest.skip("automatic offline is for the embedded store of a data directory")
    s.terminate()
    p = subprocess.run([NEREID_BIN, "admin", "--data", s.data_dir, "users", "ls"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60,
                       env=clean_env())
    assert p.returncode == 0, p.stderr
    assert f"no server answers at http://127.0.0.1:4870; working offline on {s.data_dir}" in p.stderr
    assert p.stdout.splitlines()[1].startswith("admin ")
    # No data directory and no server: the online error, not an empty store made by a typo.
    missing = str(tmp_path / "nope")
    p = subprocess.run([NEREID_BIN, "admin", "--data", missing, "users", "ls"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60,
                       env=clean_env())
    assert p.returncode == 1 and not os.path.exists(missing)
    p = subprocess.run(
        [NEREID_BIN, "admin", "--offline", "--data", missing, "users", "ls"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60, env=clean_env())
    assert p.returncode == 1 and f"no data directory {missing}" in p.stderr
    assert not os.path.exists(missing)
