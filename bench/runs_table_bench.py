#!/usr/bin/env python3
"""The runs table of a 100k-run project through the HTTP API, on SQLite and on PostgreSQL.

Writes N runs (params/lr, params/opt, a train/loss series summary on 9 runs in 10) straight into
a new store's tables with SQL, the way the PostgreSQL plan test does (creating 100k runs through
the API takes minutes and is not what is measured here), starts `nereid server` on it and prints
the median time of a first page, a next page (cursor) and a page from the middle (offset) for
the queries the runs table makes. Given --nereid more than once (e.g. the build before a change
and after it), every binary is measured on the same store, in turns, --rounds times.

    /usr/bin/python3 bench/runs_table_bench.py [--nereid build/nereid ...] [--runs 100000]
        [--rounds 2] [--backend sqlite|postgres|both]
"""

import argparse
import json
import os
import re
import shutil
import signal
import sqlite3
import statistics
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
CLUSTER = os.path.join(HERE, "..", "tests", "pg", "cluster.sh")

# {ints} is the row source of 1..N: generate_series in PostgreSQL, a recursive CTE in SQLite.
POPULATE = """
INSERT INTO runs(project_id, number, name, created_us, modified_us, ping_us)
  {with_ints} SELECT p.id, g, 'run-' || g, CAST(1000000 AS BIGINT) * g, CAST(1000000 AS BIGINT) * g,
         CAST(1000000 AS BIGINT) * g
  FROM projects p, {ints} WHERE p.key = 'SAND';
UPDATE projects SET next_run_number = {n} + 1 WHERE key = 'SAND';
INSERT INTO fields(run_id, path, type, num) SELECT id, 'params/lr', 0, (number % 100) / 1000.0 FROM runs;
INSERT INTO series(run_id, path, type, count, first_step, last_step, last_ts, last, min, max)
  SELECT id, 'train/loss', 8, 100, 0, 99, 5, ((number * 7919) % 1000) / 1000.0, 0.0, 1.0
  FROM runs WHERE number % 10 <> 0;
INSERT INTO fields(run_id, path, type, int) SELECT run_id, path, 8, id FROM series;
INSERT INTO fields(run_id, path, type, text)
  SELECT id, 'params/opt', 3, 'opt-' || {pad} FROM runs;
ANALYZE;
"""

CASES = [
    ("default sort (creation time)", {}),
    ("sort by train/loss:last", {"sort": "train/loss:last", "columns": "train/loss:last,params/lr"}),
    ("filter params/lr < 0.01", {"filter": "params/lr < 0.01", "columns": "params/lr"}),
    ("filter params/lr < 0.01, sort by train/loss:last",
     {"filter": "params/lr < 0.01", "sort": "train/loss:last"}),
    ('filter params/opt = "opt-007"', {"filter": 'params/opt = "opt-007"'}),
    ("sort by params/lr (a bare path)", {"sort": "params/lr"}),
]


def start_server(nereid, data, store):
    args = [nereid, "server", "--data", data, "--port", "0", "--no-access-log"]
    if store:
        args += ["--store", store]
    log = open(os.path.join(data + ".log"), "w")
    proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        m = re.search(r"http://127\.0\.0\.1:(\d+)/", open(data + ".log").read())
        if m:
            return proc, f"http://127.0.0.1:{m.group(1)}"
        time.sleep(0.1)
    raise SystemExit("server did not start: " + open(data + ".log").read())


def measure(base, token):
    def get(params):
        url = base + "/api/v1/projects/default/sandbox/runs?" + urllib.parse.urlencode(params)
        req = urllib.request.Request(url, headers={"Authorization": "Bearer " + token})
        t = time.perf_counter()
        body = urllib.request.urlopen(req).read()
        return (time.perf_counter() - t) * 1000, json.loads(body)

    out = []
    for name, params in CASES:
        params = dict(params, limit=100)
        first = []
        for _ in range(7):
            ms, page = get(params)
            first.append(ms)
        nxt = [get(dict(params, cursor=page["next_cursor"]))[0] for _ in range(5)]
        middle = [get(dict(params, offset=page["total"] // 2)) for _ in range(5)]
        # A server without position paging ignores offset and answers the first page (with its
        # total): nothing to report then.
        mid = None if "total" in middle[0][1] else statistics.median(ms for ms, _ in middle)
        out.append((name, page["total"], statistics.median(first), statistics.median(nxt), mid))
    return out


def measure_each(binaries, rounds, data, store):
    """{binary: [results of each round]}: the binaries in turns on the same store."""
    results = {b: [] for b in binaries}
    for _ in range(rounds):
        for b in binaries:
            proc, base = start_server(b, data, store)
            try:
                results[b].append(measure(base, open(os.path.join(data, "admin.token")).read().strip()))
            finally:
                proc.send_signal(signal.SIGTERM)
                proc.wait(60)
    return results


def sqlite_backend(binaries, n, work, rounds):
    data = os.path.join(work, "sqlite")
    proc, _ = start_server(binaries[0], data, None)  # creates the schema and the default project
    proc.send_signal(signal.SIGTERM)
    proc.wait(60)
    db = sqlite3.connect(os.path.join(data, "nereid.db"))
    db.executescript(POPULATE.format(
        with_ints=f"WITH RECURSIVE ints(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM ints WHERE g < {n})",
        ints="ints", n=n, pad="substr('000' || (number % 100), -3)"))
    db.commit()
    db.close()
    return measure_each(binaries, rounds, data, None)


def postgres_backend(binaries, n, work, rounds):
    url, cluster = subprocess.run(["bash", CLUSTER, "start"], check=True, stdout=subprocess.PIPE,
                                  text=True).stdout.split("\n")[:2]
    try:
        subprocess.run(["psql", "-X", "-q", url, "-c", "CREATE DATABASE bench"], check=True)
        db = url.rsplit("/", 1)[0] + "/bench"
        data = os.path.join(work, "postgres")
        proc, base = start_server(binaries[0], data, db)  # creates the schema
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
        subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", db, "-c",
                        POPULATE.format(with_ints="", ints=f"generate_series(1, {n}) g", n=n,
                                        pad="lpad((number % 100)::text, 3, '0')")], check=True)
        return measure_each(binaries, rounds, data, db)
    finally:
        subprocess.run(["bash", CLUSTER, "stop", cluster], check=False)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nereid", action="append",
                    help="server binary; more than once to compare builds (default build/nereid)")
    ap.add_argument("--runs", type=int, default=100000)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    a = ap.parse_args()
    binaries = a.nereid or [os.path.join(HERE, "..", "build", "nereid")]
    work = tempfile.mkdtemp(prefix="nereid-runs-bench-")
    results = {}
    try:
        if a.backend in ("sqlite", "both"):
            results["SQLite"] = sqlite_backend(binaries, a.runs, work, a.rounds)
        if a.backend in ("postgres", "both"):
            results["PostgreSQL"] = postgres_backend(binaries, a.runs, work, a.rounds)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"runs table of a {a.runs}-run project, 100 rows a page, median of 7 first pages / "
          f"5 next (cursor) / 5 from the middle (offset); load average {os.getloadavg()}")
    ms = lambda x: "n/a" if x is None else f"{x:.1f}"  # noqa: E731
    for backend, by_binary in results.items():
        for b, rounds in by_binary.items():
            for i, res in enumerate(rounds):
                print(f"\n{backend}, {b}, round {i + 1}")
                print("| query | matching runs | first / next / middle |")
                print("|---|---|---|")
                for name, total, first, nxt, mid in res:
                    print(f"| {name} | {total} | {ms(first)} / {ms(nxt)} / {ms(mid)} ms |")


if __name__ == "__main__":
    main()
