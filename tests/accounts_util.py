"""Helpers for the accounts, permissions and rate-limit tests: users with tokens and roles."""

import requests


class User:
    """A user with one API token and a session that sends it."""

    def __init__(self, server, name, token):
        self.server = server
        self.name = name
        self.token = token
        self.session = requests.Session()
        self.session.headers["Authorization"] = "Bearer " + token

    def get(self, path, **kw):
        return self.session.get(self.server.url(path), timeout=60, **kw)

    def request(self, method, path, **kw):
        return self.session.request(method, self.server.url(path), timeout=60, **kw)


def admin_call(server, method, path, expect=(200, 201), **kw):
    r = server.session.request(method, server.url(path), timeout=60, **kw)
    assert r.status_code in expect, f"{method} {path} -> {r.status_code} {r.text[:500]}"
    return r.json()


def make_user(server, name, kind="user", workspace_role=None, project_roles=(), rate=None):
    """Creates `name` (admin token), gives roles, issues a token; returns a User.

    workspace_role: (workspace, role) or None. project_roles: [(project, role)].
    rate: (per_minute, burst) or None.
    """
    admin_call(server, "POST", "/api/v1/users", json={"name": name, "kind": kind})
    if workspace_role:
        ws, role = workspace_role
        admin_call(server, "PUT", f"/api/v1/workspaces/{ws}/members/{name}", json={"role": role})
    for project, role in project_roles:
        admin_call(server, "PUT", f"/api/v1/projects/{project}/members/{name}", json={"role": role})
    if rate:
        admin_call(server, "PATCH", f"/api/v1/users/{name}",
                   json={"rate_limit": {"requests_per_minute": rate[0], "burst": rate[1]}})
    t = admin_call(server, "POST", f"/api/v1/users/{name}/tokens", json={"name": "test"})
    return User(server, name, t["token"])
