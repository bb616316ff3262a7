"""Runs examples/pytorch_train.py against a real server and checks what arrived."""

import os
import subprocess
import sys

from conftest import ROOT, child_env
from test_lifecycle import run_id_from


def test_pytorch_example_logs_everything(server, env, tmp_path):
    script = os.path.join(ROOT, "examples", "pytorch_train.py")
    r = subprocess.run([sys.executable, script, "--epochs", "3"], env=child_env(env),
                       cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    rid = run_id_from(r.stdout)
    f = server.fields(rid)
    assert f["sys/state"]["value"] == "succeeded"
    assert f["params/lr"]["value"] == 0.05 and f["params/model/classes"]["value"] == 4
    steps_per_epoch = (4000 + 63) // 64
    loss = server.series(rid, "train/loss")
    assert loss["steps"] == list(range(3 * steps_per_epoch))
    assert loss["values"][-1] < loss["values"][0]  # it learned
    acc = server.series(rid, "eval/accuracy")
    assert acc["steps"] == [0, 1, 2] and acc["values"][-1] > 0.8
    assert f["eval/final_accuracy"]["value"] == acc["values"][-1]
    assert server.series(rid, "eval/confusion")["type"] == "file_series"
    png = server.get(f"/api/v1/runs/{rid}/file", params={"path": "eval/confusion", "step": 2})
    assert png.content[:8] == b"\x89PNG\r\n\x1a\n"
    model = server.get(f"/api/v1/runs/{rid}/file", params={"path": "model/weights"})
    assert model.status_code == 200 and len(model.content) > 500
    # Automatic capture was on: the epoch lines were teed into monitoring/stdout.
    out = server.series(rid, "monitoring/stdout")["values"]
    assert any(line.startswith("epoch 2: accuracy") for line in out)
    # The entry script is captured by default (outside the working directory: by its name).
    assert f["source_code/files/pytorch_train.py"]["type"] == "file"
