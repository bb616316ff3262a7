"""The client's memory stays flat during an outage: logging 100k points/s into a server that
refuses connections, the harness's RSS stays under the bound documented in docs/client.md and
does not grow with time (the backlog goes to disk). CI runs 12 s; the issue's 5-minute version:
NEREID_OUTAGE_RSS_SECONDS=300 ctest -R system_tests (or pytest tests/test_client_memory.py)."""

import os
import time

from client_helpers import harness_bin, new_custom_id, start_harness  # noqa: F401

RSS_BOUND_KIB = 64 * 1024  # docs/client.md: "about 30-60 MiB with the defaults"
# Under AddressSanitizer (./nereid.sh sanitize) the allocator's quarantine and shadow memory count
# in RSS but are not the client's: the bound scales, the flatness check below does not.
ASAN_SCALE = 1.5
SEGMENT_KIB = 8 * 1024  # RunOptions::segment_bytes, the harness's default


def built_with_asan(path):
    with open(path, "rb") as f:
        return b"__asan_init" in f.read()


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_rss_flat_during_outage(server, harness_bin, tmp_path):
    seconds = float(os.environ.get("NEREID_OUTAGE_RSS_SECONDS", "12"))
    rate = 100_000
    p = start_harness("http://127.0.0.1:9", server.token, tmp_path, "--custom-id",
                      new_custom_id(), "--points", str(int(rate * seconds)), "--rate", str(rate),
                      "--hang", "--stop-timeout-ms", "100")
    samples = []
    try:
        t0 = time.monotonic()
        while time.monotonic() - t0 < seconds:
            time.sleep(0.5)
            assert p.poll() is None, p.stdout.read()
            samples.append(rss_kib(p.pid))
    finally:
        p.kill()
        p.wait()
    spool_bytes = sum(f.stat().st_size for f in tmp_path.rglob("seg-*.nrs"))
    assert spool_bytes > 0.5 * rate * seconds * 40, spool_bytes  # the backlog went to disk
    third = max(1, len(samples) // 3)
    print(f"RSS KiB: first third max {max(samples[:third])}, last third max "
          f"{max(samples[-third:])}, overall max {max(samples)}; spool {spool_bytes} bytes")
    bound = RSS_BOUND_KIB * (ASAN_SCALE if built_with_asan(harness_bin) else 1)
    assert max(samples) < bound, samples
    # Resident memory moves by whole segments (8 MiB): the next one is faulted in ahead of need
    # and a finished one is unmapped, so two samples can differ by two segments without anything
    # growing. Keeping the backlog in memory would add rate * seconds * 40 bytes (48 MB in 12 s).
    assert max(samples[-third:]) <= max(samples[:third]) + 2 * SEGMENT_KIB, samples
