#!/usr/bin/env python3
"""Per-call cost of the Python package (docs/performance.md, "Python client").

    cmake --build build --target nereid nereid_python
    PYTHONPATH=build/python NEREID_BIN=build/nereid /usr/bin/python3 bench/python_bench.py

Measures, as medians over repeats: run["x"].append(v) per call (async mode against a real server
started on a free port), Handler.extend of a 1 M-point numpy array (points/s), and init_run to the
first point acknowledged by the server."""

import argparse
import importlib.util
import os
import statistics
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def start_server(tmp):
    spec = importlib.util.spec_from_file_location("sysconf", os.path.join(ROOT, "tests",
                                                                          "conftest.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    os.makedirs(os.path.join(tmp, "data"))
    return mod.Server(os.path.join(tmp, "data"), tmp)


def extend_bench(nereid, repeats: int) -> None:
    """Handler.extend of a 1 M-point float64 array: wall and CPU time of the call, offline (the
    spool write alone) and async against a real server (the sender competes for the CPU)."""
    tmp = tempfile.mkdtemp(prefix="nereid-pybench-")
    server = start_server(tmp)
    os.environ.update(NEREID_URL=server.base_url, NEREID_API_TOKEN=server.token,
                      NEREID_HOME=os.path.join(tmp, "spool"))
    quiet = dict(capture_stdout=False, capture_stderr=False, capture_hardware_metrics=False,
                 source_files=[], git_ref=False)
    data = np.random.default_rng(1).standard_normal(1_000_000)
    steps = np.arange(1_000_000, dtype=np.float64)
    try:
        for mode in ("offline", "async"):
            run = nereid.init_run(mode=mode, **quiet)
            for label, kw in (("values", {}), ("values+steps", {"steps": steps})):
                wall, cpu = [], []
                for r in range(repeats):
                    h = run[f"bench/{label}{r}"]
                    t0, c0 = time.perf_counter(), time.process_time()
                    h.extend(data, **kw)
                    wall.append(time.perf_counter() - t0)
                    cpu.append(time.process_time() - c0)
                print(f"extend 1M float64 ({label}), {mode}: median "
                      f"{len(data) / statistics.median(wall) / 1e6:.1f} M points/s wall, "
                      f"{len(data) / statistics.median(cpu) / 1e6:.1f} M points/s CPU "
                      f"(process CPU time, sender included)")
            if mode == "async":
                t0 = time.perf_counter()
                run.wait()
                print(f"wait() for the {2 * repeats}M points to be acknowledged: "
                      f"{time.perf_counter() - t0:.2f} s")
            run.stop()
    finally:
        server.terminate()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=200_000, help="append calls per repeat")
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--extend-only", action="store_true",
                    help="only extend of a 1 M-point array, offline and async")
    args = ap.parse_args()
    import nereid

    if args.extend_only:
        return extend_bench(nereid, args.repeats)

    tmp = tempfile.mkdtemp(prefix="nereid-pybench-")
    server = start_server(tmp)
    os.environ.update(NEREID_URL=server.base_url, NEREID_API_TOKEN=server.token,
                      NEREID_HOME=os.path.join(tmp, "spool"))
    quiet = dict(capture_stdout=False, capture_stderr=False, capture_hardware_metrics=False,
                 source_files=[], git_ref=False)
    try:
        run = nereid.init_run(**quiet)
        h = run["bench/append"]
        # Wall time and the calling thread's CPU time (time.thread_time: the sender and preparer
        # threads are not counted, so a loaded machine inflates it less than the wall clock).
        per_call, cpu_per_call = [], []
        for _ in range(args.repeats):
            t0, c0 = time.perf_counter(), time.thread_time()
            for i in range(args.calls):
                h.append(0.5)
            cpu_per_call.append((time.thread_time() - c0) / args.calls * 1e9)
            per_call.append((time.perf_counter() - t0) / args.calls * 1e9)
        run.wait()
        print(f"append (run[path] kept in a variable): median {statistics.median(per_call):.0f} "
              f"ns/call wall, {statistics.median(cpu_per_call):.0f} ns/call thread CPU over "
              f"{args.repeats}x{args.calls} calls")
        per_call, cpu_per_call = [], []
        for _ in range(args.repeats):
            n = args.calls // 4
            t0, c0 = time.perf_counter(), time.thread_time()
            for i in range(n):
                run["bench/append2"].append(0.5)
            cpu_per_call.append((time.thread_time() - c0) / n * 1e9)
            per_call.append((time.perf_counter() - t0) / n * 1e9)
        print(f"append (run['bench/append2'].append each time): median "
              f"{statistics.median(per_call):.0f} ns/call wall, "
              f"{statistics.median(cpu_per_call):.0f} ns/call thread CPU")
        loop = []
        for _ in range(args.repeats):
            t0 = time.thread_time()
            for i in range(args.calls):
                pass
            loop.append((time.thread_time() - t0) / args.calls * 1e9)
        print(f"(the empty Python loop alone: {statistics.median(loop):.0f} ns/iteration CPU)")
        data = np.random.default_rng(1).standard_normal(1_000_000)
        rates = []
        for r in range(args.repeats):
            t0 = time.perf_counter()
            run[f"bench/extend{r}"].extend(data)
            rates.append(len(data) / (time.perf_counter() - t0))
        print(f"extend 1M numpy float64: median {statistics.median(rates) / 1e6:.1f} M points/s "
              f"(call returns; upload continues in the background)")
        t0 = time.perf_counter()
        run.wait()
        print(f"wait() for the {args.repeats}M extended points to be acknowledged: "
              f"{time.perf_counter() - t0:.2f} s")
        run.stop()
        firsts, returns = [], []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            r2 = nereid.init_run(**quiet)
            r2["first"].append(1.0)
            returns.append(time.perf_counter() - t0)
            r2.wait()
            firsts.append(time.perf_counter() - t0)
            r2.stop()
        print(f"init_run + first append returned: median {statistics.median(returns) * 1e3:.1f} ms;"
              f" first point acknowledged by the server: median "
              f"{statistics.median(firsts) * 1e3:.1f} ms")
    finally:
        server.terminate()


if __name__ == "__main__":
    sys.exit(main())
