#!/usr/bin/env python3
"""Writes the seed corpora of the batch and filter fuzzers (fuzz/corpus/<target>/) from examples
that cover each operation and value kind. Run from the repository root:
    python3 fuzz/make_seeds.py
The series_chunk seeds come from `build-fuzz/fuzz/make_series_seeds fuzz/corpus/series_chunk`."""

import json
import os
import shutil
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


if __name__ == "__main__":
    main()
