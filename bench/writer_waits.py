#!/usr/bin/env python3
"""Where the server's writer thread waits on the disk (Linux, root or the server's own user).

    bench/writer_waits.py [--pid PID] [--seconds 60] [--interval-ms 5] [--min-ms 50]

Samples the `nereid-writer` thread of a running `nereid server` every few milliseconds from
/proc: prints each stretch of at least --min-ms spent in state D (waiting for the disk), then the
count of samples per state and the most common kernel stacks seen in state D. Used for
docs/reliability.md ("The goal met"): it showed the long acks were fdatasync waiting for the
virtual disk's cache flush. Without --pid it takes the newest `nereid server` process."""

import argparse
import collections
import glob
import os
import sys
import time


def newest_server():
    best = None
    for proc in glob.glob("/proc/[0-9]*"):
        try:
            cmd = open(proc + "/cmdline", "rb").read().split(b"\0")
            started = os.stat(proc).st_mtime
        except OSError:
            continue
        if len(cmd) > 1 and os.path.basename(cmd[0]) == b"nereid" and cmd[1] == b"server":
            if best is None or started > best[0]:
                best = (started, int(os.path.basename(proc)))
    return best[1] if best else None


def writer_thread(pid):
    for task in glob.glob(f"/proc/{pid}/task/*"):
        try:
            if open(task + "/comm").read().strip() == "nereid-writer":
                return task
        except OSError:
            pass
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pid", type=int)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--interval-ms", type=float, default=5)
    ap.add_argument("--min-ms", type=float, default=50)
    a = ap.parse_args()
    deadline = time.monotonic() + a.seconds
    task = None
    while task is None and time.monotonic() < deadline:  # the server may still be starting
        pid = a.pid or newest_server()
        task = writer_thread(pid) if pid else None
        if task is None:
            time.sleep(0.05)
    if task is None:
        sys.exit("writer_waits: no nereid server with a nereid-writer thread found")
    print(f"writer thread {task}", flush=True)
    states, stacks = collections.Counter(), collections.Counter()
    current, since = None, time.monotonic()
    while time.monotonic() < deadline:
        try:
            stat = open(task + "/stat").read()
        except OSError:
            break  # the server exited
        state = stat[stat.rindex(")") + 2]
        now = time.monotonic()
        states[state] += 1
        if state == "D":
            try:
                stacks[open(task + "/stack").read().strip()] += 1
            except OSError:
                pass
        if state != current:
            if current == "D" and (now - since) * 1000 >= a.min_ms:
                print(f"{time.strftime('%H:%M:%S')} in D for {(now - since) * 1000:.0f} ms", flush=True)
            current, since = state, now
        time.sleep(a.interval_ms / 1000)
    print("samples per state:", dict(states))
    for stack, n in stacks.most_common(5):
        print(f"{n} samples in D at:\n{stack}\n")


if __name__ == "__main__":
    main()
