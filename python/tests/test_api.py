"""Every call of the Neptune-shaped API against a real server, read back over HTTP."""

import datetime as dt
import math
import re
import zlib

import numpy as np
import pytest

import nereid
from nereid.types import File


def test_params_series_tags_files_and_fetch(make_run, server, tmp_path):
    run = make_run(name="api", description="d", tags=["t0"])
    run["params"] = {"lr": 0.01, "epochs": 3, "optim": {"name": "adam", "nesterov": True},
                     "skip": None}
    run["notes"] = "text"
    run["when"] = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
    loss = run["train/loss"]
    for v in (0.5, 0.4, 0.3):
        loss.append(v)
    run["train/acc"].append(0.9, step=10)
    run["train/acc"].append(0.95, step=20, timestamp=1_700_000_000.5)
    run["sys/tags"].add(["resnet", "baseline"])
    run["sys/tags"].remove("t0")
    weights = tmp_path / "model.pt"
    weights.write_bytes(b"\x00weights" * 100)
    run["model/weights"].upload(str(weights))
    run["logs"].append("line one")
    run["logs"].append("line two")
    run.wait()
    rid = run.id
    f = server.fields(rid)
    assert f["params/lr"]["value"] == 0.01 and f["params/lr"]["type"] == "float"
    assert f["params/epochs"]["type"] == "int" and f["params/epochs"]["value"] == 3
    assert f["params/optim/name"]["value"] == "adam"
    assert f["params/optim/nesterov"]["value"] is True
    assert "params/skip" not in f
    assert f["notes"]["value"] == "text"
    assert f["when"]["type"] == "datetime"
    assert sorted(f["sys/tags"]["value"]) == ["baseline", "resnet"]
    assert f["sys/name"]["value"] == "api"
    s = server.series(rid, "train/loss")
    assert s["values"] == [0.5, 0.4, 0.3] and s["steps"] == [0, 1, 2]
    acc = server.series(rid, "train/acc")
    assert acc["steps"] == [10, 20] and acc["timestamps_us"][1] == 1_700_000_000_500_000
    assert server.series(rid, "logs")["values"] == ["line one", "line two"]
    r = server.get(f"/api/v1/runs/{rid}/file", params={"path": "model/weights"})
    assert r.status_code == 200 and r.content == weights.read_bytes()

    # Reads through the package.
    assert run["params/lr"].fetch() == 0.01
    assert run["params"].fetch() == {"lr": 0.01, "epochs": 3,
                                     "optim": {"name": "adam", "nesterov": True}}
    assert run["train/loss"].fetch_last() == 0.3
    assert run["sys/tags"].fetch() == {"resnet", "baseline"}
    assert run["sys/id"].fetch() == rid
    df = run["train/loss"].fetch_values()
    assert list(df.columns) == ["step", "value", "timestamp"]
    assert df["value"].tolist() == [0.5, 0.4, 0.3] and df["step"].tolist() == [0, 1, 2]
    assert str(df["timestamp"].dtype).startswith("datetime64")
    out = run["model/weights"].download(str(tmp_path / "back.pt"))
    assert open(out, "rb").read() == weights.read_bytes()
    assert run.exists("params/optim") and not run.exists("params/nothing")
    with pytest.raises(nereid.NotFoundError):
        run["no/such"].fetch()


def test_image_from_numpy_is_a_valid_png(make_run, server):
    run = make_run()
    gray = np.linspace(0, 1, 12, dtype=np.float32).reshape(3, 4)
    rgb = np.zeros((2, 2, 3), dtype=np.uint8)
    rgb[0, 0] = (255, 0, 0)
    run["eval/images"].append(File.as_image(gray))
    run["eval/images"].append(File.as_image(rgb))
    run.wait()
    rid = run.id
    s = server.series(rid, "eval/images")
    assert s["type"] == "file_series" and len(s["values"]) == 2
    png = server.get(f"/api/v1/runs/{rid}/file", params={"path": "eval/images", "step": 0}).content
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    # Decode IHDR and the single IDAT: 4x3 gray, rows prefixed by filter byte 0.
    assert png[16:24] == (4).to_bytes(4, "big") + (3).to_bytes(4, "big")
    idat_len = int.from_bytes(png[33:37], "big")
    assert png[37:41] == b"IDAT"
    raw = zlib.decompress(png[41:41 + idat_len])
    pixels = np.frombuffer(raw, dtype=np.uint8).reshape(3, 5)[:, 1:]
    expect = (np.clip(gray, 0, 1) * 255 + 0.5).astype(np.uint8)
    assert (pixels == expect).all()


def test_type_errors_raise_at_the_call(make_run):
    run = make_run()
    run["train/loss"].append(1.0)
    with pytest.raises(TypeError) as e:
        run["train/loss"].append("not a number")
    assert "train/loss" in str(e.value) and "float series" in str(e.value)
    assert isinstance(e.value, nereid.NereidTypeError)
    with pytest.raises(TypeError):
        run["train/loss"].assign(2.0)
    with pytest.raises(TypeError):
        run["x"] = [1, 2, 3]
    with pytest.raises(TypeError):
        run["y"].append(object())
    with pytest.raises(TypeError):
        run["z"].extend([1.0, "a"])
    run["name"] = "s"
    with pytest.raises(TypeError):
        run["name"].append(1.0)
    with pytest.raises(ValueError) as e:
        run["bad//path"].append(1.0)
    assert "path" in str(e.value)
    with pytest.raises(ValueError):
        run["ok/path"].append(1.0, timestamp=123.0)  # a timestamp needs a step
    # The failed calls changed nothing; the good series goes on.
    run["train/loss"].append(2.0)
    run.wait()
    assert run["train/loss"].fetch_values()["value"].tolist() == [1.0, 2.0]


def test_numpy_scalars_tensors_and_lists(make_run):
    run = make_run()
    run["a"].append(np.float32(0.5))
    run["a"].append(np.int64(2))
    run["a"].append(np.array(3.0))  # 0-d
    run["a"].extend([4, 5.5])
    run["b"].extend(np.arange(5, dtype=np.int32), steps=np.arange(5) * 10)
    run["c"].extend(["x", "y"])
    run["m"].append({"p": 1.0, "q": 2.0}, step=1)
    run["n"] = np.float64(0.25)
    run.wait()
    assert run["a"].fetch_values()["value"].tolist() == [0.5, 2.0, 3.0, 4.0, 5.5]
    b = run["b"].fetch_values()
    assert b["step"].tolist() == [0, 10, 20, 30, 40] and b["value"].tolist() == [0, 1, 2, 3, 4]
    assert run["c"].fetch_values()["value"].tolist() == ["x", "y"]
    assert run["m/q"].fetch_last() == 2.0
    assert run["n"].fetch() == 0.25


def test_extend_with_steps_and_timestamps_goes_in_one_call(make_run):
    import datetime as dt

    run = make_run()
    values = np.array([1.5, -0.0, np.inf])
    steps = np.array([10.0, 11.0, 12.0])
    run["t"].extend(values, steps=steps, timestamps=np.array([1.7e9, 1.7e9 + 0.5, 1.7e9 + 1]))
    stamps64 = np.array(["2025-01-02T03:04:05.000001", "2025-01-02T03:04:06", "2025-01-02"],
                        dtype="datetime64[us]")
    run["u"].extend([1, 2, 3], steps=[1, 2, 3], timestamps=stamps64)
    d = dt.datetime(2024, 5, 6, 7, 8, 9, tzinfo=dt.timezone.utc)
    run["w"].extend([4.0], steps=[4], timestamps=[d])
    with pytest.raises(nereid.NereidValueError, match="timestamps need steps"):
        run["v"].extend(values, timestamps=[1.0, 2.0, 3.0])
    with pytest.raises(nereid.NereidValueError, match="as long as values"):
        run["v"].extend(values, steps=steps, timestamps=[1.0, 2.0])
    run.wait()
    t = run["t"].fetch_values()
    assert t["step"].tolist() == [10.0, 11.0, 12.0]
    assert np.array_equal(t["value"].to_numpy().view(np.uint64), values.view(np.uint64))
    got = [ts.timestamp() for ts in t["timestamp"]]
    assert got == [1.7e9, 1.7e9 + 0.5, 1.7e9 + 1]
    u = run["u"].fetch_values()
    want = stamps64.astype(np.int64).tolist()  # µs
    assert [round(ts.timestamp() * 1e6) for ts in u["timestamp"]] == want
    assert run["w"].fetch_values()["timestamp"][0].timestamp() == d.timestamp()


def test_context_manager_stop_and_state(make_run, server):
    with make_run() as run:
        run["x"].append(1.0)
    rid = run.id
    f = server.fields(rid)
    assert f["sys/state"]["value"] == "succeeded"
    assert server.series(rid, "x")["values"] == [1.0]
    with pytest.raises(nereid.RunStoppedError):
        run["x"].append(2.0)
    run.stop()  # again: nothing

    with pytest.raises(ZeroDivisionError):
        with make_run() as run2:
            run2["y"].append(1.0)
            1 / 0
    f2 = server.fields(run2.id)
    assert f2["sys/state"]["value"] == "failed" and f2["sys/failed"]["value"] is True


def test_neptune_scale_shapes(make_run, server, tmp_path):
    run = make_run()
    run.log_configs({"cfg": {"bs": 32, "opt": "sgd"}})
    run.log_metrics({"m/loss": 0.5, "m/acc": 0.1}, step=1)
    run.log_metrics({"m/loss": 0.4, "m/acc": 0.2}, step=2,
                    timestamp=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc))
    run.log_string_series({"m/msg": "hello"}, step=1)
    run.add_tags(["a", "b"])
    run.remove_tags(["b"])
    p = tmp_path / "cfg.yaml"
    p.write_text("bs: 32\n")
    run.assign_files({"files/cfg": str(p)})
    run.log_files({"files/samples": File(content=b"abc", name="s.txt")}, step=3)
    run.wait_for_submission()
    run.wait_for_processing()
    rid = run.id
    run.close()
    f = server.fields(rid)
    assert f["cfg/bs"]["value"] == 32 and f["cfg/opt"]["value"] == "sgd"
    loss = server.series(rid, "m/loss")
    assert loss["steps"] == [1, 2] and loss["values"] == [0.5, 0.4]
    assert loss["timestamps_us"][1] == 1767225600 * 1_000_000
    assert server.series(rid, "m/msg")["values"] == ["hello"]
    assert f["sys/tags"]["value"] == ["a"]
    assert f["files/cfg"]["type"] == "file"
    assert server.series(rid, "files/samples")["steps"] == [3]
    with pytest.raises(TypeError):
        run.log_configs({"x": {"y": 1}}, flatten=False)


def test_unsupported_calls_name_the_call(make_run):
    run = make_run()
    with pytest.raises(NotImplementedError) as e:
        run["x"].log(1.0)
    assert "log" in str(e.value)
    with pytest.raises(NotImplementedError) as e:
        run.fetch_attribute_definitions()
    assert "fetch_attribute_definitions" in str(e.value)
    with pytest.raises(NotImplementedError):
        nereid.init_run(no_such_argument=1)
    import nereid.compat.neptune as neptune

    with pytest.raises(NotImplementedError) as e:
        neptune.init_model()
    assert "init_model" in str(e.value)
    with pytest.raises(NotImplementedError) as e:
        neptune.management.add_project_member("ws/p", "alice", "contributor")
    assert "add_project_member" in str(e.value)


def test_neptune_compat_script_runs_unmodified(server, env, monkeypatch):
    # What a Neptune 1.x script does, with only the import line changed.
    monkeypatch.setenv("NEPTUNE_PROJECT", "default/sandbox")
    monkeypatch.setenv("NEPTUNE_API_TOKEN", server.token)
    monkeypatch.delenv("NEREID_API_TOKEN")
    import nereid.compat.neptune as neptune

    run = neptune.init_run(name="compat", capture_hardware_metrics=False, capture_stdout=False,
                           capture_stderr=False, source_files=[], git_ref=False,
                           fail_on_exception=True)
    run["parameters"] = {"lr": 0.1}
    for i in range(3):
        run["train/loss"].append(1.0 / (i + 1))
    run["img"].upload(neptune.types.File.as_image(np.ones((2, 2))))
    run.stop()
    f = server.fields(run.id)
    assert f["parameters/lr"]["value"] == 0.1 and f["train/loss"]["count"] == 3
    assert f["img"]["type"] == "file"

    from nereid.compat.neptune_scale import Run

    srun = Run(run_id="scale-compat-1", experiment_name="scale",
               enable_console_log_capture=False)
    srun.log_metrics({"loss": 1.0}, step=0)
    srun.close()
    assert server.fields(srun.id)["sys/custom_run_id"]["value"] == "scale-compat-1" or \
        server.get_json(f"/api/v1/runs/{srun.id}")["custom_run_id"] == "scale-compat-1"
    with pytest.raises(NotImplementedError):
        Run(run_id="x", fork_run_id="y")


def test_nan_inf_and_negative_zero_roundtrip_single_points(make_run):
    run = make_run()
    vals = [math.nan, math.inf, -math.inf, -0.0, 5e-324, 1.7976931348623157e308]
    for v in vals:
        run["s"].append(v)
    run.wait()
    got = run["s"].fetch_values()["value"].to_numpy()
    assert np.array_equal(got.view(np.uint64), np.array(vals).view(np.uint64))


def test_the_smaller_neptune_calls(make_run, server, tmp_path):
    import io

    from nereid.utils import stringify_unsupported

    run = make_run(tags=["small"])
    run["cfg"] = stringify_unsupported({"layers": [64, 32], "act": None, "lr": 0.1,
                                        "when": dt.datetime(2026, 1, 1)})
    run.log_configs({"opt": {"betas": (0.9, 0.99)}}, cast_unsupported=True)
    with pytest.raises(TypeError):
        run.log_configs({"opt2": {"betas": (0.9, 0.99)}})  # without the cast: refused
    p = tmp_path / "notes.md"
    p.write_text("# notes\n")
    run["files/path"].upload(File.from_path(str(p)))
    run["files/content"].upload(File.from_content("some text"))
    run["files/stream"].upload(File.from_stream(io.BytesIO(b"\x00\x01"), extension="bin"))
    run.assign({"a": 1, "b": {"c": "d"}}, wait=True)  # wait: on the server when it returns
    assert server.fields(run.id)["b/c"]["value"] == "d"
    run["s"].append(1.0, wait=True)
    assert server.series(run.id, "s")["values"] == [1.0]
    run.sync()
    assert server.get(run.get_url()[len(server.base_url):]).status_code == 200  # the run's page
    f = server.fields(run.id)
    assert f["cfg/layers"]["value"] == "[64, 32]" and f["cfg/lr"]["value"] == 0.1
    assert f["cfg/act"]["value"] == "None" and f["cfg/when"]["type"] == "datetime"
    assert f["opt/betas"]["value"] == "(0.9, 0.99)"
    assert "opt2/betas" not in f
    for path, want in (("files/path", b"# notes\n"), ("files/content", b"some text"),
                       ("files/stream", b"\x00\x01")):
        assert server.get(f"/api/v1/runs/{run.id}/file", params={"path": path}).content == want
    assert f["files/content"]["value"]["name"].endswith(".txt")
    run.terminate()  # neptune-scale: ends the run as aborted
    assert server.fields(run.id)["sys/state"]["value"] == "aborted"

    # fetch_runs_table's Neptune filters: tag, state, id.
    done = make_run(tags=["small", "done"])
    done.stop()
    live = make_run(tags=["small"])
    live.wait()
    table = nereid.init_project().fetch_runs_table
    ids = lambda t: sorted(t.to_pandas()["sys/id"].tolist())  # noqa: E731
    assert ids(table(tag="done")) == [done.id]
    assert ids(table(tag="small", state="active")) == [live.id]
    assert ids(table(tag="small", state="inactive")) == sorted([run.id, done.id])
    assert ids(table(tag="small", state=["aborted", "succeeded"])) == sorted([run.id, done.id])
    assert ids(table(id=[live.id, done.id])) == sorted([live.id, done.id])


def test_as_image_takes_tensors_and_every_numeric_dtype():
    torch = pytest.importorskip("torch")
    gray = np.linspace(0, 1, 6, dtype=np.float32).reshape(2, 3)
    assert File.as_image(torch.from_numpy(gray)).content == File.as_image(gray).content
    rgb = np.arange(2 * 2 * 3, dtype=np.uint8).reshape(2, 2, 3) * 20
    assert File.as_image(torch.from_numpy(rgb)).content == File.as_image(rgb).content
    # bool -> 0/255, integers clipped to 0..255 (not scaled), one channel squeezed.
    assert File.as_image(np.array([[True, False]])).content == \
        File.as_image(np.array([[255, 0]], dtype=np.uint8)).content
    assert File.as_image(np.array([[-5, 300]], dtype=np.int64)).content == \
        File.as_image(np.array([[0, 255]], dtype=np.uint8)).content
    assert File.as_image(np.zeros((2, 2, 1))).content == File.as_image(np.zeros((2, 2))).content
    with pytest.raises(nereid.NereidTypeError):
        File.as_image(np.array([["a"]]))
    with pytest.raises(nereid.NereidValueError, match="(H, W)"):
        File.as_image(np.zeros((2, 2, 2)))
    with pytest.raises(nereid.NereidValueError):
        File(path="a", content=b"b")


def test_non_finite_steps_and_times_raise_and_the_run_goes_on(make_run, server):
    run = make_run()
    bad = [
        lambda: run["f"].append(1.0, step=math.nan),
        lambda: run["s"].append("text", step=math.inf),  # once went to the server, which
        lambda: run["i"].append(File(content=b"x"), step=math.nan),  # refused the whole batch
        lambda: run["f"].extend([1.0, 2.0], steps=[1.0, math.nan]),
        lambda: run["f"].append(1.0, step=1, timestamp=math.nan),
        lambda: run["f"].append(1.0, step=1, timestamp=1e300),
        lambda: run["f"].extend([1.0], steps=[1.0], timestamps=[-math.inf]),
    ]
    for call in bad:
        with pytest.raises(nereid.NereidValueError, match="finite"):
            call()
    run["f"].append(3.0, step=5)
    run["s"].append("after", step=5)
    run.wait(timeout=60)  # nothing poisoned the spool: everything after arrives
    assert server.series(run.id, "f")["values"] == [3.0]
    assert server.series(run.id, "s")["values"] == ["after"]
    assert "i" not in server.fields(run.id)


def test_writes_the_server_would_refuse_raise_at_the_call(make_run, server):
    # Each of these, sent, made the server refuse its whole batch: the run stalled behind it.
    run = make_run()
    refused = [
        (lambda: run.assign({"sys/state": "done"}), "'sys/state' takes one of"),
        (lambda: run["sys/id"].assign("MINE-1"), "set by the server"),
        (lambda: run["sys/name"].assign(5), "'sys/name' takes a string"),
        (lambda: run["sys/tags"].assign("x"), "'sys/tags' is a string set"),
        (lambda: run["notes"].append("x" * ((1 << 20) + 1)), "the limit is 1048576"),
        (lambda: run["notes2"].assign("bad \udcff byte"), "not valid UTF-8"),
        (lambda: run["tags"].add(["ok", "\ud800"]), "not valid UTF-8"),
        (lambda: run["model"].upload(File(content=b"w", name="")), "has no name"),
        (lambda: run["imgs"].append(File(content=b"w", name="a/b.png")), "contains '/'"),
        (lambda: run["big"].assign(2**64), "64 bits"),
    ]
    for call, why in refused:
        with pytest.raises(nereid.NereidValueError, match=re.escape(why)):
            call()
    run["notes"].append(2.0)  # a refused write fixed no kind: notes may still be a float series
    run["sys/name"] = "renamed"  # what the server takes under sys/ still goes
    run["sys/tags"].add("kept")
    run["after"].append(1.0)
    run.wait(timeout=60)
    f = server.fields(run.id)
    assert f["sys/name"]["value"] == "renamed" and f["sys/tags"]["value"] == ["kept"]
    assert server.series(run.id, "after")["values"] == [1.0]
    assert server.series(run.id, "notes")["values"] == [2.0]
    assert not {"notes2", "tags", "model", "imgs", "big"} & set(f)
