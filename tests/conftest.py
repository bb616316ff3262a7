"""Fixtures that start the real `nereid` binary on a free loopback port and talk HTTP to it.

`server` is one server per test module (tests make their own runs, so they do not collide);
`fresh_server` is a new server with an empty data directory for tests that need one (run
numbering); `start_server(*flags)` starts extra servers (e.g. with --body-limit). Every server is
stopped with SIGTERM at teardown.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import time
import uuid

import pytest
import requests

NEREID_BIN = os.environ.get(
    "NEREID_BIN", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "build", "nereid"))
PORT_LINE = re.compile(r"serving the (?:UI and )?(?:HTTP )?API at http://127\.0\.0\.1:(\d+)/")
START_TIMEOUT = 30.0


def zstd_compress(data: bytes, level: int = 3) -> bytes:
    """zstd frame of `data`, with the python module if present, else the zstd command."""
    try:
        import zstandard  # type: ignore

        return zstandard.ZstdCompressor(level=level).compress(data)
    except ImportError:
        exe = shutil.which("zstd")
        if exe is None:
            pytest.fail("neither the python 'zstandard' module nor the 'zstd' command is installed")
        return subprocess.run(
            [exe, f"-{level}", "-q", "-c", "--no-check"], input=data, stdout=subprocess.PIPE, check=True
        ).stdout


def new_writer() -> str:
    return "w-" + uuid.uuid4().hex[:16]


class Server:
    """A running `nereid server` and an authenticated requests.Session to it."""

    def __init__(self, data_dir, log_dir, extra_args=(), port=0, prefix=(), seen_data_dir=None):
        self.data_dir = str(data_dir)
        self.port = port  # 0: a free one, new at every start
        self.prefix = list(prefix)  # e.g. nsenter into the namespace that holds data_dir
        # Where this process sees data_dir (it differs when only the server's namespace has it).
        self.seen_data_dir = str(seen_data_dir or data_dir)
        self.log_dir = str(log_dir)
        self.extra_args = list(extra_args)
        # NEREID_TEST_STORE=postgres: the same tests against the PostgreSQL backend, each server
        # on a fresh database of a throw-away cluster (tests/pg_util.py).
        if os.environ.get("NEREID_TEST_STORE") == "postgres" and "--store" not in self.extra_args:
            import pg_util

            self.extra_args += ["--store", pg_util.new_database()]
        self.store_url = None
        if "--store" in self.extra_args:
            self.store_url = self.extra_args[self.extra_args.index("--store") + 1]
        self.proc = None
        self.base_url = None
        self.token = None
        self.session = None
        self.starts = 0
        self.start()

    # --- process control ---

    def start(self):
        self.starts += 1
        out_path = os.path.join(self.log_dir, f"stdout.{self.starts}.log")
        err_path = os.path.join(self.log_dir, f"stderr.{self.starts}.log")
        self.stdout_path, self.stderr_path = out_path, err_path
        # Files, not pipes: nobody reads the logs while the tests run, and a full pipe would
        # block the server.
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            self.proc = subprocess.Popen(
                [*self.prefix, NEREID_BIN, "server", "--data", self.data_dir, "--port",
                 str(self.port), "--host", "127.0.0.1", "--no-access-log", *self.extra_args],
                stdout=out, stderr=err, stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + START_TIMEOUT
        port = None
        while port is None:
            with open(out_path, "r", errors="replace") as f:
                m = PORT_LINE.search(f.read())
            if m:
                port = int(m.group(1))
                break
            if self.proc.poll() is not None:
                raise RuntimeError(f"nereid server exited with {self.proc.returncode}: "
                                   f"{self.logs()}")
            if time.monotonic() > deadline:
                self.proc.kill()
                raise RuntimeError(f"nereid server did not print its port: {self.logs()}")
            time.sleep(0.02)
        self.base_url = f"http://127.0.0.1:{port}"
        while True:
            try:
                if requests.get(self.base_url + "/api/v1/health", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"/api/v1/health never answered 200: {self.logs()}")
            time.sleep(0.02)
        with open(os.path.join(self.seen_data_dir, "admin.token")) as f:
            self.token = f.read().strip()
        self.session = requests.Session()
        self.session.headers["Authorization"] = "Bearer " + self.token

    def logs(self) -> str:
        text = ""
        for p in (getattr(self, "stdout_path", None), getattr(self, "stderr_path", None)):
            if p and os.path.exists(p):
                with open(p, errors="replace") as f:
                    text += f.read()[-4000:]
        return text

    def terminate(self, timeout=60.0) -> int:
        """SIGTERM and wait; returns the exit code."""
        if self.proc is None:
            return 0
        if self.session is not None:
            self.session.close()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise RuntimeError("nereid server did not stop within %ss of SIGTERM" % timeout)
        self.proc = None
        return rc

    def kill9(self):
        if self.session is not None:
            self.session.close()
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.proc = None

    def restart(self):
        """Stops gracefully (or not at all after kill9) and starts again on the same data."""
        if self.proc is not None:
            rc = self.terminate()
            assert rc == 0, f"server exited with {rc} on SIGTERM: {self.logs()}"
        self.start()

    # --- HTTP helpers ---

    def db_rows(self, sql: str) -> list:
        """Rows of a read-only query on the server's database (SQLite file or PostgreSQL)."""
        if self.store_url and self.store_url.startswith("postgres"):
            import pg_util

            out = pg_util.psql(self.store_url, sql)
            return [tuple(line.split("|")) for line in out.splitlines()]
        import sqlite3

        db = sqlite3.connect(f"file:{os.path.join(self.seen_data_dir, 'nereid.db')}?mode=ro",
                             uri=True)
        try:
            return list(db.execute(sql))
        finally:
            db.close()

    def database_dump(self) -> bytes:
        """Every byte the database holds: the SQLite files, or a pg_dump of the database."""
        if self.store_url and self.store_url.startswith("postgres"):
            return subprocess.run(["pg_dump", "--no-owner", self.store_url], check=True,
                                  stdout=subprocess.PIPE).stdout
        raw = b""
        for name in ("nereid.db", "nereid.db-wal"):
            path = os.path.join(self.seen_data_dir, name)
            if os.path.exists(path):
                with open(path, "rb") as f:
                    raw += f.read()
        return raw

    def url(self, path: str) -> str:
        return self.base_url + path

    def get(self, path, **kw):
        return self.session.get(self.url(path), timeout=60, **kw)

    def post(self, path, **kw):
        return self.session.post(self.url(path), timeout=60, **kw)

    def get_json(self, path, **kw):
        r = self.get(path, **kw)
        assert r.status_code == 200, f"GET {path} -> {r.status_code} {r.text[:500]}"
        return r.json()

    def create_run(self, project="default/sandbox", expect=(200, 201), **body) -> dict:
        r = self.post(f"/api/v1/projects/{project}/runs", json=body)
        assert r.status_code in expect, f"create run -> {r.status_code} {r.text[:500]}"
        return r.json()

    def post_batch_raw(self, run_id, batch: dict):
        return self.post(f"/api/v1/runs/{run_id}/batches", data=json.dumps(batch),
                         headers={"Content-Type": "application/json"})

    def post_batch(self, run_id, batch: dict, expect=200) -> dict:
        r = self.post_batch_raw(run_id, batch)
        assert r.status_code == expect, f"batch -> {r.status_code} {r.text[:500]}"
        return r.json()

    def post_ops(self, run_id, ops, writer=None, sequence=1) -> dict:
        """One batch of `ops` from a new writer (or `writer`)."""
        return self.post_batch(run_id, {"writerId": writer or new_writer(),
                                        "sequence": str(sequence), "operations": ops})

    def fields(self, run_id, prefix=None) -> dict:
        params = {"prefix": prefix} if prefix else None
        data = self.get_json(f"/api/v1/runs/{run_id}/fields", params=params)
        return {f["path"]: f for f in data["fields"]}

    def series(self, run_id, path, **params) -> dict:
        """Every page of a series, concatenated: {"steps", "timestamps_us", "values", "type"}."""
        out = {"steps": [], "timestamps_us": [], "values": []}
        cursor = None
        while True:
            q = dict(params, path=path)
            if cursor:
                q["cursor"] = cursor
            page = self.get_json(f"/api/v1/runs/{run_id}/series", params=q)
            out["type"] = page["type"]
            for k in ("steps", "timestamps_us", "values"):
                out[k] += page[k]
            cursor = page.get("next_cursor")
            if not cursor:
                return out

    def upload(self, data: bytes) -> dict:
        r = self.post("/api/v1/files", data=data,
                      headers={"Content-Type": "application/octet-stream"})
        assert r.status_code == 201, f"upload -> {r.status_code} {r.text[:500]}"
        return r.json()


def assert_error(r, status, code=None):
    """A JSON error of the documented shape: {"error": {"code", "message"}}."""
    assert r.status_code == status, (
        f"{r.request.method} {r.request.url} -> {r.status_code} (expected {status}): {r.text[:500]}")
    assert r.headers.get("Content-Type", "").startswith("application/json"), r.headers
    try:
        body = r.json()
    except ValueError:
        raise AssertionError(f"error body is not JSON: {r.text[:300]!r}")
    assert isinstance(body.get("error"), dict), body
    assert isinstance(body["error"].get("code"), str) and body["error"]["code"], body
    assert isinstance(body["error"].get("message"), str) and body["error"]["message"], body
    if code is not None:
        assert body["error"]["code"] == code, body
    return body["error"]


@pytest.fixture(scope="session")
def nereid_bin():
    if not os.access(NEREID_BIN, os.X_OK):
        pytest.fail(f"no nereid binary at {NEREID_BIN}; build it or set NEREID_BIN")
    return NEREID_BIN


@pytest.fixture(scope="module")
def start_server_module(tmp_path_factory, nereid_bin):
    servers = []

    def start(*extra_args):
        base = tmp_path_factory.mktemp("nereid")
        (base / "data").mkdir()
        s = Server(base / "data", base, extra_args)
        servers.append(s)
        return s

    yield start
    for s in servers:
        if s.proc is not None:
            s.terminate()


@pytest.fixture
def start_server(tmp_path_factory, nereid_bin):
    servers = []

    def start(*extra_args):
        base = tmp_path_factory.mktemp("nereid")
        (base / "data").mkdir()
        s = Server(base / "data", base, extra_args)
        servers.append(s)
        return s

    yield start
    for s in servers:
        if s.proc is not None:
            s.terminate()


@pytest.fixture(scope="module")
def server(start_server_module):
    return start_server_module()


@pytest.fixture
def fresh_server(start_server):
    return start_server()
