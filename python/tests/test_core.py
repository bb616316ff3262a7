"""The native module's contract with the Python layer: its stub file, where errors surface, and
that log calls run without the GIL."""

import ast
import os
import re
import subprocess
import sys
import textwrap
import traceback

import numpy as np
import pytest

import nereid
from nereid import _core
from conftest import child_env

STUB = os.path.join(os.path.dirname(os.path.abspath(nereid.__file__)), "_core.pyi")


def stub_signatures():
    """{qualified name: [parameter names]} for every def of _core.pyi, None for a property;
    classes as {name: "class"}."""
    tree = ast.parse(open(STUB).read())
    out = {}

    def params(fn):
        a = fn.args
        return [p.arg for p in a.posonlyargs + a.args + a.kwonlyargs if p.arg != "self"]

    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            out[node.name] = "class"
            for item in node.body:
                if isinstance(item, ast.FunctionDef):
                    is_prop = any(isinstance(d, ast.Name) and d.id == "property"
                                  for d in item.decorator_list)
                    out[f"{node.name}.{item.name}"] = None if is_prop else params(item)
        elif isinstance(node, ast.FunctionDef):
            out[node.name] = params(node)
    return out


def native_params(fn):
    """Parameter names from pybind11's signature line: "name(self: X, a: int, b: str = '') -> Y"."""
    first = fn.__doc__.strip().splitlines()[0]
    inside = first[first.index("(") + 1:first.rindex(") ->")]
    names = re.findall(r"(?:^|, )(\w+):", inside)
    return [n for n in names if n != "self"]


def native_signatures():
    out = {}
    for name in dir(_core):
        obj = getattr(_core, name)
        if name.startswith("_"):
            continue
        if isinstance(obj, type):
            out[name] = "class"
            if issubclass(obj, BaseException):
                continue
            for attr, member in vars(obj).items():
                if attr.startswith("_") and attr != "__init__":
                    continue
                if attr == "__init__" and not (member.__doc__ or "").startswith("__init__("):
                    continue  # pybind11's stand-in for a class Python cannot construct
                key = f"{name}.{attr}"
                out[key] = None if isinstance(member, property) else native_params(member)
        elif callable(obj):
            out[name] = native_params(obj)
    return out


def test_stub_matches_the_native_module():
    stub, native = stub_signatures(), native_signatures()
    assert sorted(set(native) - set(stub)) == [], "in _core but not in _core.pyi"
    assert sorted(set(stub) - set(native)) == [], "in _core.pyi but not in _core"
    wrong = {k: (stub[k], native[k]) for k in stub if stub[k] != native[k]}
    assert wrong == {}, "parameters differ (stub, native)"
    # The exceptions' bases too, since the stub documents what each one can be caught as.
    for node in ast.parse(open(STUB).read()).body:
        if isinstance(node, ast.ClassDef) and node.bases:
            want = [b.id for b in node.bases]
            got = [b.__name__ for b in getattr(_core, node.name).__bases__]
            assert got == want, node.name


def frames_outside_the_package(tb):
    pkg = os.path.dirname(os.path.abspath(nereid.__file__)) + os.sep
    return [f for f in traceback.extract_tb(tb) if not os.path.abspath(f.filename).startswith(pkg)]


def assert_raised_at(excinfo, source_line):
    """The traceback's last frame outside the nereid package is this file's `source_line`."""
    frames = frames_outside_the_package(excinfo.value.__traceback__)
    where = [f"{f.filename}:{f.lineno}: {f.line}" for f in frames]
    assert frames[-1].filename == __file__ and frames[-1].line == source_line, where


def test_a_wrong_call_raises_in_the_callers_frame(make_run):
    run = make_run()
    run["loss"].append(1.0)
    with pytest.raises(nereid.NereidTypeError) as e:
        run["loss"].append("a str into a float series")
    assert_raised_at(e, 'run["loss"].append("a str into a float series")')
    with pytest.raises(nereid.NereidTypeError) as e:
        run["loss"].assign(1.0)
    assert_raised_at(e, 'run["loss"].assign(1.0)')
    with pytest.raises(nereid.NereidTypeError) as e:
        run["cfg"] = [1, 2]
    assert_raised_at(e, 'run["cfg"] = [1, 2]')
    with pytest.raises(nereid.NereidTypeError) as e:
        run["obj"].append(object())
    assert_raised_at(e, 'run["obj"].append(object())')
    with pytest.raises(nereid.NereidTypeError) as e:
        run["mixed"].extend([1.0, "a"])
    assert_raised_at(e, 'run["mixed"].extend([1.0, "a"])')
    with pytest.raises(nereid.NereidTypeError) as e:
        run["tags"].add([1])
    assert_raised_at(e, 'run["tags"].add([1])')
    with pytest.raises(nereid.NereidTypeError) as e:
        run.log_metrics({"loss": "high"}, step=5)
    assert_raised_at(e, 'run.log_metrics({"loss": "high"}, step=5)')
    with pytest.raises(nereid.NereidTypeError) as e:
        run.log_string_series({"notes": 3}, step=1)
    assert_raised_at(e, 'run.log_string_series({"notes": 3}, step=1)')
    # Raised by the native core (the path check), still surfacing at the caller's line.
    with pytest.raises(nereid.NereidValueError) as e:
        run["bad//path"].append(1.0)
    assert_raised_at(e, 'run["bad//path"].append(1.0)')
    with pytest.raises(nereid.NereidValueError) as e:
        run["ok"].extend(np.zeros((2, 2)))
    assert_raised_at(e, 'run["ok"].extend(np.zeros((2, 2)))')


def test_a_log_call_lets_other_threads_run(server, env, tmp_path):
    # The core copies an uploaded file into the spool inside the log call. Given a named pipe,
    # that copy blocks until a writer opens the pipe, writes and closes it; the writer here is
    # the main thread, in Python, which can run only if the log call released the GIL. Holding
    # the GIL would deadlock the two, so the child is killed at the timeout and the test fails.
    fifo = tmp_path / "weights.pipe"
    os.mkfifo(fifo)
    script = tmp_path / "gil.py"
    script.write_text(textwrap.dedent("""
        import sys, threading, nereid
        run = nereid.init_run(capture_stdout=False, capture_stderr=False, git_ref=False,
                              capture_hardware_metrics=False, source_files=[], flush_period=0.2)
        print("RUN_ID=" + run.id, flush=True)
        core_field = run["model/weights"]._field()  # the native call, not Handler's file check
        t = threading.Thread(target=core_field.assign_file_path, args=(sys.argv[1], "w.bin"))
        t.start()
        with open(sys.argv[1], "wb") as pipe:
            pipe.write(b"written by another thread during the log call")
        t.join()
        run.stop()
    """))
    try:
        r = subprocess.run([sys.executable, str(script), str(fifo)], env=child_env(env),
                           cwd=tmp_path, capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail("the log call kept the GIL: the thread feeding it never ran")
    assert r.returncode == 0, r.stderr
    rid = next(line.split("=", 1)[1] for line in r.stdout.splitlines()
               if line.startswith("RUN_ID="))
    got = server.get(f"/api/v1/runs/{rid}/file", params={"path": "model/weights"})
    assert got.content == b"written by another thread during the log call"
