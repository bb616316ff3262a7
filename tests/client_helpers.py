"""Helpers for the client system tests: run the C++ client_harness and `nereid sync`, and check
that a run holds exactly the expected points."""

import os
import subprocess
import uuid

import pytest

HARNESS = os.environ.get("NEREID_CLIENT_HARNESS", "/work/main/build/src/client/client_harness")
NEREID_BIN = os.environ.get("NEREID_BIN", "/work/main/build/nereid")


@pytest.fixture
def harness_bin():
    if not os.access(HARNESS, os.X_OK):
        pytest.fail(f"no client_harness at {HARNESS}; build it or set NEREID_CLIENT_HARNESS")
    return HARNESS


def new_custom_id():
    return "t-" + uuid.uuid4().hex[:12]


def client_env(url, token, home):
    env = dict(os.environ)
    env.update(NEREID_URL=url, NEREID_API_TOKEN=token, NEREID_HOME=str(home))
    env.pop("NEREID_MODE", None)
    env.pop("NEREID_PROJECT", None)
    return env


def run_harness(url, token, home, *args, timeout=120):
    """Runs the harness to completion; returns (returncode, stdout)."""
    p = subprocess.run([HARNESS, "--project", "default/sandbox", *args], env=client_env(
        url, token, home), stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    return p.returncode, p.stdout.decode(errors="replace") + p.stderr.decode(errors="replace")


def start_harness(url, token, home, *args):
    """Starts the harness; returns the Popen (stdout piped, line by line)."""
    return subprocess.Popen([HARNESS, "--project", "default/sandbox", *args],
                            env=client_env(url, token, home), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


class _LineReader:
    """Reads a child's piped stdout line by line with a deadline. It reads the raw descriptor
    and keeps its own buffer: select() on a buffered file object misses lines that a previous
    readline() already pulled into Python's buffer (two lines printed together, then a wait for
    the second that never ends)."""

    def __init__(self, proc):
        self.fd = proc.stdout.fileno()
        self.pending = b""
        self.eof = False

    def next_line(self, deadline):
        """The next whole line (decoded, with its newline), or None at the deadline or EOF."""
        import select
        import time
        while b"\n" not in self.pending:
            if self.eof:
                break
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            r, _, _ = select.select([self.fd], [], [], min(left, 0.5))
            if r:
                chunk = os.read(self.fd, 65536)
                if not chunk:
                    self.eof = True
                self.pending += chunk
        if b"\n" in self.pending:
            line, _, self.pending = self.pending.partition(b"\n")
            return line.decode(errors="replace") + "\n"
        if self.pending:  # a last line without a newline
            line, self.pending = self.pending, b""
            return line.decode(errors="replace")
        return None


def line_reader(proc):
    """The one _LineReader of a Popen started with stdout=PIPE (made on first use)."""
    reader = getattr(proc, "_nereid_line_reader", None)
    if reader is None:
        reader = proc._nereid_line_reader = _LineReader(proc)
    return reader


def read_lines_for(proc, seconds):
    """The lines the process prints within `seconds` (fewer if it closes its output)."""
    import time
    deadline = time.monotonic() + seconds
    reader = line_reader(proc)
    got = []
    while (line := reader.next_line(deadline)) is not None:
        got.append(line)
    return got


def wait_for_line(proc, prefix, timeout=120):
    import time
    deadline = time.monotonic() + timeout
    reader = line_reader(proc)
    seen = []
    while (line := reader.next_line(deadline)) is not None:
        seen.append(line)
        if line.startswith(prefix):
            return line.strip()
    raise AssertionError(f"harness never printed {prefix!r}; output: {''.join(seen)[-2000:]}")


def nereid_sync(url, token, home, *args, timeout=300):
    p = subprocess.run([NEREID_BIN, "sync", str(home), "--url", url, "--token", token, *args],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
    return p.returncode, p.stdout.decode(errors="replace")


def run_id_of(server, custom_id):
    """The id of the run with this custom id (creating it would return the existing one)."""
    r = server.create_run(custom_run_id=custom_id)
    return r["id"]


def assert_exact_points(server, run_id, path, expected_values):
    """Every expected value arrived exactly once, with its step equal to its value."""
    s = server.series(run_id, path, limit=100000)
    got = sorted(zip(s["steps"], s["values"]))
    want = sorted((float(v), float(v)) for v in expected_values)
    assert len(got) == len(want), f"{len(got)} points stored, {len(want)} expected"
    assert got == want
