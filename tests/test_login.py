"""Web login: argon2id passwords, an HttpOnly SameSite session cookie, CSRF protection for
cookie-authenticated state changes, throttled login attempts, logout."""

import subprocess

import requests

from accounts_util import admin_call, make_user
from conftest import NEREID_BIN, assert_error

PASSWORD = "correct horse battery staple"


def login(s, user, password, session=None):
    sess = session or requests.Session()
    r = sess.post(s.url("/api/v1/login"), json={"user": user, "password": password}, timeout=60)
    return sess, r


def test_login_cookie_csrf_logout(fresh_server):
    s = fresh_server
    make_user(s, "alice", project_roles=[("default/sandbox", "contributor")])
    admin_call(s, "PUT", "/api/v1/users/alice/password", json={"password": PASSWORD})
    browser, r = login(s, "alice", PASSWORD)
    assert r.status_code == 200, r.text
    cookie = r.headers["Set-Cookie"]
    assert cookie.startswith("nereid_session=nrs_")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # only with --secure-cookies
    csrf = r.json()["csrf_token"]
    assert PASSWORD not in r.text
    # Reads work with the cookie alone.
    me = browser.get(s.url("/api/v1/me"), timeout=60)
    assert me.status_code == 200 and me.json()["user"] == "alice"
    assert browser.get(s.url("/api/v1/session"), timeout=60).json() == {
        "user": "alice", "is_admin": False, "via": "session", "csrf_token": csrf}
    # A state change with the cookie but without the CSRF header is refused, and changes nothing.
    url = s.url("/api/v1/projects/default/sandbox/runs")
    r = browser.post(url, json={"name": "forged"}, timeout=60)
    err = assert_error(r, 403, "permission_denied")
    assert "X-CSRF-Token" in err["message"]
    r = browser.post(url, json={"name": "forged"}, headers={"X-CSRF-Token": "0" * 64}, timeout=60)
    assert_error(r, 403, "permission_denied")
    runs = s.get_json("/api/v1/projects/default/sandbox/runs")["runs"]
    assert all(run["name"] != "forged" for run in runs)
    r = browser.post(url, json={"name": "mine"}, headers={"X-CSRF-Token": csrf}, timeout=60)
    assert r.status_code == 201 and r.json()["owner"] == "alice"
    # Logout ends the session.
    r = browser.post(s.url("/api/v1/logout"), headers={"X-CSRF-Token": csrf}, timeout=60)
    assert r.status_code == 200
    assert "Max-Age=0" in r.headers["Set-Cookie"]
    stale = requests.get(s.url("/api/v1/me"), cookies={"nereid_session": cookie.split(";")[0]
                                                       .split("=", 1)[1]}, timeout=60)
    assert_error(stale, 401, "unauthenticated")


def test_wrong_password_unknown_user_and_service_accounts(fresh_server):
    s = fresh_server
    make_user(s, "bob")
    admin_call(s, "PUT", "/api/v1/users/bob/password", json={"password": PASSWORD})
    messages = set()
    for user, password in [("bob", "wrong password!"), ("nobody", PASSWORD), ("admin", PASSWORD)]:
        _, r = login(s, user, password)
        messages.add(assert_error(r, 401, "unauthenticated")["message"])
        assert password not in r.text
    assert messages == {"wrong user name or password"}  # names cannot be probed
    make_user(s, "robot", kind="service")
    r = s.session.put(s.url("/api/v1/users/robot/password"), json={"password": PASSWORD})
    assert_error(r, 400, "invalid_argument")
    r = s.session.put(s.url("/api/v1/users/bob/password"), json={"password": "short"})
    assert_error(r, 400, "invalid_argument")
    admin_call(s, "PATCH", "/api/v1/users/bob", json={"disabled": True})
    _, r = login(s, "bob", PASSWORD)
    assert_error(r, 401, "unauthenticated")


def test_users_change_their_own_password_with_the_current_one(fresh_server):
    s = fresh_server
    carol = make_user(s, "carol")
    r = carol.request("PUT", "/api/v1/users/carol/password", json={"password": PASSWORD})
    assert r.status_code == 200  # no password yet: none to confirm
    r = carol.request("PUT", "/api/v1/users/carol/password",
                      json={"password": "another long one", "current_password": "nope nope"})
    assert_error(r, 403, "permission_denied")
    r = carol.request("PUT", "/api/v1/users/carol/password",
                      json={"password": "another long one", "current_password": PASSWORD})
    assert r.status_code == 200
    assert login(s, "carol", "another long one")[1].status_code == 200
    assert_error(carol.request("PUT", "/api/v1/users/admin/password",
                               json={"password": PASSWORD}), 403, "permission_denied")


def test_login_attempts_are_throttled(fresh_server):
    s = fresh_server
    make_user(s, "dave")
    admin_call(s, "PUT", "/api/v1/users/dave/password", json={"password": PASSWORD})
    # A wrong password costs an argon2id hash, over a second on a loaded machine, so an attempt
    # may come after a refill (one per 6 s): try until the refusal, bounded.
    statuses = []
    while len(statuses) < 12 and (not statuses or statuses[-1].status_code != 429):
        statuses.append(login(s, "dave", "bad password %d" % len(statuses))[1])
    codes = [r.status_code for r in statuses]
    assert codes[:5] == [401] * 5, codes
    limited = statuses[-1]
    err = assert_error(limited, 429, "rate_limited")
    assert "login attempts" in err["message"] and int(limited.headers["Retry-After"]) >= 1
    # Even the right password, sent right after the refusal, waits until the throttle allows
    # another try (a refused attempt costs no hash, so this follows within milliseconds).
    _, r = login(s, "dave", PASSWORD)
    assert r.status_code == 429
    # Another user is not throttled by dave's attempts.
    make_user(s, "erin")
    admin_call(s, "PUT", "/api/v1/users/erin/password", json={"password": PASSWORD})
    assert login(s, "erin", PASSWORD)[1].status_code == 200


def test_secure_cookie_flag(start_server):
    s = start_server("--secure-cookies")
    make_user(s, "frank")
    admin_call(s, "PUT", "/api/v1/users/frank/password", json={"password": PASSWORD})
    _, r = login(s, "frank", PASSWORD)
    assert r.status_code == 200 and "Secure" in r.headers["Set-Cookie"]


def test_admin_cli_sets_a_password_from_standard_input(fresh_server):
    """`nereid admin users passwd NAME` is how a user gets a password: read from stdin (never an
    argument, which `ps` would show), checked by the server."""
    s = fresh_server
    make_user(s, "carol", project_roles=[("default/sandbox", "viewer")])
    make_user(s, "robot", kind="service")

    def passwd(name, stdin):
        return subprocess.run([NEREID_BIN, "admin", "--url", s.base_url, "--token", s.token,
                               "users", "passwd", name], input=stdin, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, timeout=30)

    p = passwd("carol", PASSWORD + "\n")
    assert p.returncode == 0 and "password of 'carol' set" in p.stdout, p.stderr
    assert PASSWORD not in p.stdout + p.stderr
    _, r = login(s, "carol", PASSWORD)
    assert r.status_code == 200, r.text
    p = passwd("carol", "short\n")
    assert p.returncode == 1 and "8" in p.stderr, p.stderr  # the server names the minimum length
    p = passwd("robot", PASSWORD + "\n")
    assert p.returncode == 1 and "service accounts have no password" in p.stderr
    p = passwd("carol", "")
    assert p.returncode == 1 and "no password on standard input" in p.stderr
