"""Crash consistency: kill -9 of the server under load from real C++ clients, N cycles, and kill -9
of the clients followed by `nereid sync`.

The writers are src/client/client_harness in --chunk mode: point i of a writer has value and step
i; it prints "INTENT k" before logging the chunk that ends at point k, "DONE k" once those log
calls returned and, with --ack, "ACKED k" once Run::Wait said the server acknowledged them.

NEREID_CRASH_CYCLES sets the number of server kills (default 50, about a minute here); the long
run recorded in docs/reliability.md used NEREID_CRASH_CYCLES=500.
"""

import os
import random
import select
import socket
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
import uuid

import pytest

from client_helpers import HARNESS, client_env, harness_bin, nereid_sync  # noqa: F401
from conftest import Server

CYCLES = int(os.environ.get("NEREID_CRASH_CYCLES", "50"))
CHECK_EVERY = max(10, CYCLES // 10)
# The bound on a restart (process start to /api/v1/health answering 200) after a kill -9.
STARTUP_BOUND_S = 10.0
# Longer than the client's 30 s backoff cap: an acknowledgement must come within one retry.
ACK_WAIT_S = 40.0
PATH = "c/x"


def seeded_rng():
    seed = int(os.environ.get("NEREID_CRASH_SEED", time.time_ns() % 1_000_000_007))
    print(f"NEREID_CRASH_SEED={seed}")  # shown with a failure, to replay its random moments
    return random.Random(seed)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def database_path(data_dir) -> str:
    for root, _, files in os.walk(data_dir):
        if "nereid.db" in files:
            return os.path.join(root, "nereid.db")
    raise AssertionError(f"no nereid.db under {data_dir}")


INTEGRITY_CHECK = """
import sqlite3, sys
db = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True, timeout=30)
print(repr(db.execute("PRAGMA integrity_check").fetchall()))
"""


def integrity_check(data_dir, prefix=()):
    """PRAGMA integrity_check on the database as the server left it, read-only: the WAL is read,
    not checkpointed, so after a kill the check sees what the restarted server will recover.
    `prefix` runs the check inside another mount namespace (tests/small_disk.py): SQLite resolves
    symlinks, so a /proc/<pid>/root path would lead it back to this namespace."""
    if prefix:
        r = subprocess.run(
            [*prefix, sys.executable, "-c", INTEGRITY_CHECK, data_dir + "/nereid.db"],
            capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        assert r.stdout.strip() == "[('ok',)]", f"integrity_check: {r.stdout[:2000]}"
        return
    db = sqlite3.connect(f"file:{database_path(data_dir)}?mode=ro", uri=True, timeout=30)
    try:
        rows = db.execute("PRAGMA integrity_check").fetchall()
    finally:
        db.close()
    assert rows == [("ok",)], f"integrity_check: {rows[:20]}"


class Writer:
    """A client_harness process and what it has printed so far.

    progress() first reads whatever the harness has already written to the pipe, so a value read
    from it is never older than a line printed before the call: the mid-run check reads the stored
    points, then INTENT, and a line still waiting in the pipe (a reader thread starved of the CPU
    or the GIL on a loaded machine) would make points logged after it look never logged."""

    def __init__(self, url, token, home, custom_id, *args):
        self.custom_id = custom_id
        self.proc = subprocess.Popen(
            [HARNESS, "--project", "default/sandbox", "--custom-id", custom_id, "--path", PATH,
             *args], env=client_env(url, token, home), stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.fd = self.proc.stdout.fileno()
        os.set_blocking(self.fd, False)
        self.pending = b""
        self.last = {"INTENT": 0, "DONE": 0, "ACKED": 0}
        self.lines = []
        self.lock = threading.Lock()
        # Keeps the pipe from filling up between calls (the harness would block on printing).
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _drain_locked(self):
        """Takes every complete line now in the pipe; False at end of file."""
        while True:
            try:
                chunk = os.read(self.fd, 65536)
            except BlockingIOError:
                return True
            if not chunk:
                if self.pending:  # a last line without its newline
                    chunk, self.pending = b"\n", self.pending
                else:
                    return False
            *complete, self.pending = (self.pending + chunk).split(b"\n")
            for raw in complete:
                line = raw.decode() + "\n"
                self.lines.append(line)
                tag, _, rest = line.strip().partition(" ")
                if tag in self.last:
                    self.last[tag] = int(rest)

    def _read(self):
        while True:
            select.select([self.fd], [], [])
            with self.lock:
                if not self._drain_locked():
                    return

    def progress(self):
        with self.lock:
            self._drain_locked()
            return dict(self.last)

    def wait_for_progress(self, timeout=60):
        deadline = time.monotonic() + timeout
        while self.progress()["DONE"] == 0:
            assert time.monotonic() < deadline, f"{self.custom_id} logs nothing: {self.output()}"
            assert self.proc.poll() is None, f"{self.custom_id} exited: {self.output()}"
            time.sleep(0.01)

    def output(self):
        with self.lock:
            return "".join(self.lines[-40:])

    def finish(self, timeout=90):
        """Closes stdin (the harness then stops the run, delivering everything) and waits."""
        self.proc.stdin.close()
        self.proc.wait(timeout)
        self.reader.join(10)
        assert self.proc.returncode == 0, self.output()
        with self.lock:
            stops = [x for x in self.lines if x.startswith("STOP ")]
        assert stops == ["STOP ok\n"], self.output()

    def kill9(self):
        self.proc.kill()
        self.proc.wait()
        self.reader.join(10)  # everything printed before the kill has been read


def stored_values(server, custom_id):
    """The values of the writer's series (empty if the run or series does not exist yet)."""
    run_id = server.create_run(custom_run_id=custom_id)["id"]
    r = server.get(f"/api/v1/runs/{run_id}/series", params={"path": PATH, "limit": 1})
    if r.status_code == 404:
        return []
    return server.series(run_id, PATH, limit=100000)["values"]


def assert_prefix(values, at_least, at_most, who):
    """The stored points are exactly points 0..m-1, each once, with at_least <= m <= at_most."""
    ints = sorted(int(v) for v in values)
    assert len(ints) == len(set(ints)), f"{who}: {len(ints) - len(set(ints))} points stored twice"
    m = len(ints)
    assert ints == list(range(m)), f"{who}: stored points are not 0..{m - 1} (a gap or extras)"
    assert at_least <= m <= at_most, f"{who}: {m} points stored, expected {at_least}..{at_most}"
    return m


@pytest.fixture
def crash_server(tmp_path, nereid_bin):
    (tmp_path / "data").mkdir()
    s = Server(tmp_path / "data", tmp_path, port=free_port())
    yield s
    if s.proc is not None:
        s.terminate()


def test_server_kill9_cycles_keep_every_acknowledged_point(crash_server, harness_bin, tmp_path):
    s = crash_server
    rng = seeded_rng()
    home = tmp_path / "spool"
    tag = uuid.uuid4().hex[:8]
    # Two writers wait for every chunk's ack (their ACKED lines are the ack ledger); the third
    # logs without waiting, so a spool backlog builds up while the server is down.
    common = ("--chunk", "100", "--until-stdin-closes", "--flush-ms", "50",
              "--stop-timeout-ms", "60000")
    writers = [Writer(s.base_url, s.token, home, f"crash-{tag}-{i}", *common, "--ack")
               for i in range(2)]
    writers.append(Writer(s.base_url, s.token, home, f"crash-{tag}-2", *common,
                          "--rate", "3000"))
    startups = []
    acked_total_at_kills = []
    try:
        for cycle in range(CYCLES):
            # Each cycle first sees an acknowledgement come through the restarted server, so no
            # kill lands on writers still backing off from the previous one (on a slow machine, or
            # under the sanitizers, back-to-back kills could otherwise keep every writer in
            # backoff and make the cycles vacuous).
            deadline = time.monotonic() + ACK_WAIT_S
            last = acked_total_at_kills[-1] if acked_total_at_kills else 0
            while sum(w.progress()["ACKED"] for w in writers) <= last:
                assert time.monotonic() < deadline, \
                    f"cycle {cycle}: no acknowledgement within {ACK_WAIT_S:.0f} s of the restart"
                time.sleep(0.02)
            # Then a random moment: right after an ack (writers mid-batch), or well into steady
            # ingest.
            time.sleep(rng.choice([0.0, rng.uniform(0.0, 0.2), rng.uniform(0.2, 1.5)]))
            before = [w.progress() for w in writers]
            s.kill9()
            acked_total_at_kills.append(sum(p["ACKED"] for p in before))
            integrity_check(s.data_dir)
            t0 = time.monotonic()
            s.start()
            startups.append(time.monotonic() - t0)
            assert startups[-1] < STARTUP_BOUND_S, f"restart {cycle} took {startups[-1]:.1f} s"
            # Reading back millions of points takes a while: about ten mid-run checks per run.
            if cycle % CHECK_EVERY == CHECK_EVERY - 1 or cycle == CYCLES - 1:
                # Every point acknowledged before the kill is there once; nothing not yet
                # logged is.
                for w, p in zip(writers, before):
                    assert_prefix_superset(stored_values(s, w.custom_id), p["ACKED"],
                                           w.progress()["INTENT"], w.custom_id)
        for w in writers:
            w.finish()
    finally:
        for w in writers:
            if w.proc.poll() is None:
                w.kill9()
    for w in writers:
        p = w.progress()
        assert p["INTENT"] == p["DONE"]
        assert_prefix(stored_values(s, w.custom_id), p["DONE"], p["DONE"], w.custom_id)
    integrity_check(s.data_dir)
    # Not vacuous: acknowledgements kept coming between the kills.
    assert all(b > a for a, b in zip(acked_total_at_kills, acked_total_at_kills[1:])), \
        acked_total_at_kills[-10:]
    report = (f"{CYCLES} server kill -9 cycles; restart to health 200: median "
              f"{statistics.median(startups) * 1000:.0f} ms, max {max(startups) * 1000:.0f} ms; "
              f"points per writer: {[w.progress()['DONE'] for w in writers]}")
    print(report)


def assert_prefix_superset(values, acked, intent, who):
    """Mid-run check: no duplicates, every point < acked present, none >= intent."""
    ints = [int(v) for v in values]
    assert len(ints) == len(set(ints)), f"{who}: points stored twice"
    have = set(ints)
    missing = [i for i in range(acked) if i not in have]
    assert not missing, f"{who}: acknowledged points lost: {missing[:10]} ({len(missing)})"
    extra = [i for i in have if i < 0 or i >= intent]
    assert not extra, f"{who}: points never logged: {extra[:10]}"


def test_writer_kill9_then_sync_delivers_every_returned_log_call(fresh_server, harness_bin,
                                                                 tmp_path):
    """docs/client.md: after kill -9, every record whose log call returned survives in the spool
    and `nereid sync` delivers it exactly once; the record being written at the kill is torn and
    skipped. With one logging thread that means: the stored points are 0..m-1 with
    DONE <= m <= INTENT."""
    s = fresh_server
    rng = seeded_rng()
    dead_url = f"http://127.0.0.1:{free_port()}"  # nobody listens: the whole run stays spooled
    rounds = 4
    for rnd in range(rounds):
        home = tmp_path / f"spool{rnd}"
        tag = uuid.uuid4().hex[:8]
        writers = []
        for i in range(4):
            url = s.base_url if i % 2 == 0 else dead_url
            writers.append(Writer(url, s.token, home, f"kill-{tag}-{i}", "--chunk",
                                  str(rng.choice([1, 7, 100, 1000])), "--until-stdin-closes",
                                  "--rate", str(rng.choice([2000, 20000, 200000])),
                                  "--flush-ms", "50", "--segment-bytes", str(64 << 10)))
        try:
            for w in writers:
                w.wait_for_progress()
                time.sleep(rng.uniform(0.0, 0.6))
                w.kill9()
        finally:
            for w in writers:
                if w.proc.poll() is None:
                    w.kill9()
        rc, out = nereid_sync(s.base_url, s.token, home)
        assert rc == 0, out
        for w in writers:
            p = w.progress()
            assert p["DONE"] > 0, f"{w.custom_id} logged nothing before the kill: {w.output()}"
            assert_prefix(stored_values(s, w.custom_id), p["DONE"], p["INTENT"], w.custom_id)
        # Everything was delivered: a second sync finds nothing to send, and sends nothing twice.
        rc, out = nereid_sync(s.base_url, s.token, home)
        assert rc == 0, out
        for w in writers:
            p = w.progress()
            assert_prefix(stored_values(s, w.custom_id), p["DONE"], p["INTENT"], w.custom_id)
