"""A throw-away PostgreSQL cluster for the system tests (tests/pg/cluster.sh), started on first
use and stopped when the test process exits, and a fresh database per caller."""

import atexit
import itertools
import os
import subprocess
import threading

_CLUSTER_SH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pg", "cluster.sh")
_lock = threading.Lock()
_cluster = {}
_names = itertools.count()


def admin_url() -> str:
    """The URL of the cluster's maintenance database (NEREID_TEST_PG_URL, or a new cluster)."""
    with _lock:
        if "url" not in _cluster:
            env_url = os.environ.get("NEREID_TEST_PG_URL")
            if env_url:
                _cluster["url"] = env_url
            else:
                out = subprocess.run(["bash", _CLUSTER_SH, "start"], check=True,
                                     stdout=subprocess.PIPE, text=True).stdout.split("\n")
                _cluster["url"], _cluster["dir"] = out[0], out[1]
                atexit.register(lambda: subprocess.run(
                    ["bash", _CLUSTER_SH, "stop", _cluster["dir"]], check=False))
        return _cluster["url"]


def psql(url: str, sql: str) -> str:
    return subprocess.run(["psql", "-X", "-q", "-At", url, "-c", sql], check=True,
                          stdout=subprocess.PIPE, text=True).stdout


def new_database() -> str:
    """Creates an empty database and returns its URL."""
    base = admin_url()
    name = f"nereid_sys_{os.getpid()}_{next(_names)}"
    psql(base, f"CREATE DATABASE {name}")
    return base.rsplit("/", 1)[0] + "/" + name
