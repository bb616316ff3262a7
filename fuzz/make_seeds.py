#!/usr/bin/env python3
"""Writes the seed corpora of the batch and filter fuzzers (fuzz/corpus/<target>/) from examples
that cover each operation and value kind. Run from the repository root:
    python3 fuzz/make_seeds.py
The series_chunk seeds come from `build-fuzz/fuzz/make_series_seeds fuzz/corpus/series_chunk`."""

import json
import os
import shutil
import struct
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))
import pbwire  # noqa: E402

SHA = "ab" * 32
BATCHES = {
    "params_nested": {"writerId": "w1", "sequence": "1", "operations": [
        {"path": "params", "assign": {"nested": {"fields": {
            "lr": {"floatValue": 0.01}, "epochs": {"intValue": "10"}, "amp": {"boolValue": True},
            "optim": {"nested": {"fields": {"name": {"stringValue": "adam"}}}}}}}},
        {"path": "sys/tags", "addStrings": {"values": ["resnet", "baseline"]}},
        {"path": "sys/state", "assign": {"stringValue": "succeeded"}}]},
    "series": {"writerId": "w2", "sequence": "7", "operations": [
        {"path": "train/loss", "appendFloats": {"steps": [0, 1, 2], "timestampsUs": ["1", "2", "3"],
                                                "values": [2.3, "NaN", "-Infinity"]}},
        {"path": "logs/stdout", "appendStrings": {"values": ["epoch 1", "ünïcode ✓"]}}]},
    "files": {"writerId": "w3", "sequence": "2", "operations": [
        {"path": "model", "assign": {"file": {"sha256": SHA, "name": "model.pt"}}},
        {"path": "eval/img", "appendFiles": {"files": [{"sha256": SHA, "name": "a.png"}]}},
        {"path": "artifacts", "addFiles": {"files": [{"sha256": SHA, "name": "b.txt"}]}},
        {"path": "labels", "assign": {"stringSet": {"values": ["a", "b"]}}},
        {"path": "when", "assign": {"datetimeUs": "1700000000000000"}},
        {"path": "sys/tags", "removeStrings": {"values": ["old"]}}]},
}
FILTERS = [
    'params/lr < 0.01',
    '(params/lr < 0.01 or sys/tags contains "resnet") and train/loss:last < 0.3',
    'not sys/state = "failed" and sys/failed = false',
    'sys/name =~ "^res(net)?[0-9]+$"',
    'sys/name matches "a|b"',
    '`weird path/with space` exists',
    'train/loss:count >= 10 and train/loss:min != -1.5e-3',
    'params/name == "a\\"b\\u00e9"',
    'train/acc:MAX > 0.9 or train/acc:last <= 1',
    'not not (a = 1)',
]


NOTEBOOK = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
    {"cell_type": "markdown", "metadata": {}, "source": ["# Title\n", "text"]},
    {"cell_type": "code", "metadata": {}, "execution_count": 1, "source": "print(1)",
     "outputs": [{"output_type": "stream", "name": "stdout", "text": ["1\n"]},
                 {"output_type": "execute_result", "execution_count": 1, "metadata": {},
                  "data": {"text/plain": ["2"]}},
                 {"output_type": "error", "ename": "E", "evalue": "v", "traceback": ["t"]}]},
    {"cell_type": "raw", "metadata": {}, "source": ""}]}

HTTP = {
    "target_runs": "/api/v1/projects/w/p/runs?filter=a%20%3E%201&sort=-train%2Floss&x=a+b",
    "target_file": "/api/v1/projects/w/p/runs/r1/files/a%2Fb.txt?name=..%2F..%2Fx&download=1",
    "range_span": "bytes=0-99",
    "range_suffix": "bytes=-5",
    "range_open": "bytes = 10- ",
    "cookie": "x=1; nereid_session=abc; y",
    "disposition": "r\u00e9sum\u00e9 \"q\"\r\n.pdf",
}


def spool_record(rtype, payload, flags=0, crc=1):
    """One spool record (docs/formats/spool.md); the fuzzer's fix-up mode replaces a non-zero
    CRC by the right one."""
    rec = struct.pack("<IIBBH", crc, len(payload), rtype, flags, 0) + payload
    return rec + b"\0" * (-len(rec) % 8)


def spool_seeds():
    """Inputs of the spool fuzzer: a mode byte (see spool_fuzzer.cc) and the folder content."""
    path = b"train/loss"
    floatp = spool_record(2, struct.pack("<ddq", 0.5, 3.0, 1000) + path, flags=1)
    stringp = spool_record(3, struct.pack("<dqI", 1.0, 2000, 10) + b"logs/print" + b"hello")
    assign = spool_record(4, struct.pack("<BI", 1, 9) + b"params/lr" + struct.pack("<d", 0.1))
    assign_s = spool_record(4, struct.pack("<BI", 4, 4) + b"name" + b"run-a")
    sha = b"ab" * 32
    fileref = struct.pack("<I", 64) + sha + struct.pack("<I", 5) + b"m.bin" + struct.pack("<I", 0)
    assign_f = spool_record(4, struct.pack("<BI", 6, 5) + b"model" + fileref)
    strings = spool_record(5, struct.pack("<I", 8) + b"sys/tags" + struct.pack("<I", 1) + b"a")
    filep = spool_record(7, struct.pack("<dqI", 2.0, 3000, 6) + b"images" + fileref, flags=1)
    end = spool_record(1, b"")
    records = floatp + stringp + assign + assign_s + assign_f + strings + filep
    # Multi-point records (type 8): u32 n, f64 values[n], f64 steps[n] (flag 1), i64 times[n]
    # (flag 2) or one i64 time, path.
    vals = [0.5, -0.0, float("nan"), float("inf")]
    fpoints = spool_record(8, struct.pack("<I4d4dq", 4, *vals, 1, 2, 3, 4, 5000) + path, flags=1)
    fpoints_t = spool_record(8, struct.pack("<I3d3q", 3, 1.0, 2.0, 3.0, 10, 20, 30) + b"a",
                             flags=2)
    fpoints_bad = spool_record(8, struct.pack("<I2dq", 1000, 1.0, 2.0, 7) + path)
    many = floatp + fpoints + fpoints_t
    seeds = {
        "one_segment": bytes([1]) + records,
        "float_points": bytes([1]) + many + records,
        "float_points_torn": bytes([1]) + fpoints + spool_record(8, fpoints[12:], crc=0)
        + fpoints_t,
        "float_points_bad_count": bytes([1]) + fpoints_bad + fpoints,
        "float_points_two_segments": bytes([1 | 4 | 8]) + b"B 1 1 32 2 64\nA 0 1 32\n\0"
        + fpoints + end + fpoints_t + floatp,
        "unwritten_tail": bytes([1]) + records + spool_record(2, b"x" * 32, crc=0) + floatp,
        "live": bytes([3]) + records,
        "two_segments": bytes([1 | 8]) + floatp + end + floatp + stringp,
        "ledger_pending": bytes([1 | 4]) + b"B 1 1 32 1 96\nA 0 1 32\n\0" + records,
        "ledger_acked": bytes([1 | 4]) + b"A 3 1 64\nB 4 1 64\n\0" + records,
        "raw": bytes([0]) + b"NRDSPOOL" + struct.pack("<IIqQ", 1, 1, 0, 0) + records,
    }
    return seeds


def write(target, name, data):
    d = os.path.join(ROOT, "fuzz", "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def main():
    for name, b in BATCHES.items():
        write("batch_json", name + ".json", json.dumps(b, ensure_ascii=False).encode())
        pb = pbwire.encode_batch(b)
        write("batch_protobuf", name + ".pb", pb)
        if shutil.which("zstd"):
            z = subprocess.run(["zstd", "-q", "-c", "--no-check"], input=pb,
                               stdout=subprocess.PIPE, check=True).stdout
            write("batch_protobuf", name + ".pb.zst", z)
    for i, f in enumerate(FILTERS):
        write("filter", f"filter_{i:02d}", f.encode())
    for name, data in spool_seeds().items():
        write("spool", name, data)
    nb = json.dumps(NOTEBOOK).encode()
    changed = dict(NOTEBOOK, cells=[NOTEBOOK["cells"][1], dict(NOTEBOOK["cells"][0], source="x")])
    write("notebook", "notebook.ipynb", nb)
    write("notebook", "two_notebooks", nb + b"\0" + json.dumps(changed).encode())
    write("notebook", "nbformat3", b'{"nbformat": 3, "worksheets": []}')
    for name, text in HTTP.items():
        write("http", name, text.encode())


if __name__ == "__main__":
    main()
