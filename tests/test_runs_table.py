"""The runs table: filters, sorting, columns and paging over ~300 runs, checked against Python."""

import random
import re
import string
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import assert_error, new_writer

N_RUNS = 300
TAGS = ["resnet", "vit", "baseline", "ablation"]
LRS = [0.1, 0.01, 0.001, 0.0001]


@pytest.fixture(scope="module")
def table(server):
    """A project of N_RUNS runs, and the Python model of what each holds."""
    key = "".join(random.choice(string.ascii_uppercase) for _ in range(7))
    ws = "tbl" + key.lower()
    assert server.post("/api/v1/workspaces", json={"name": ws}).status_code == 201
    assert server.post(f"/api/v1/workspaces/{ws}/projects",
                       json={"name": "p", "key": key}).status_code == 201
    project = f"{ws}/p"
    rng = random.Random(11)
    specs = []
    for i in range(N_RUNS):
        optim = rng.choice(["adam", "sgd", "adamw"])
        spec = {
            "i": i,
            "params/bs": rng.choice([16, 32, 64, 128]),
            "params/optim": optim,
            "params/use_aug": rng.random() < 0.5,
            "sys/tags": sorted(t for t in TAGS if rng.random() < 0.4),
            "sys/name": f"run-{i:03d}-{optim}",
            "sys/state": rng.choice(["running", "succeeded", "failed"]),
        }
        if i % 10 != 3:
            spec["params/lr"] = rng.choice(LRS)
        if i % 7 != 5:
            n = rng.randint(1, 20)
            steps = list(range(n))
            values = [round(rng.random(), 6) for _ in range(n)]
            rng.shuffle(steps)  # the last value is the one at the highest step
            spec["loss"] = (steps, values)
            by_step = dict(zip(steps, values))
            spec["train/loss:last"] = by_step[n - 1]
            spec["train/loss:min"] = min(values)
            spec["train/loss:max"] = max(values)
            spec["train/loss:count"] = n
        specs.append(spec)

    def seed(spec):
        run = server.create_run(project, name=spec["sys/name"], tags=spec["sys/tags"])
        ops = [{"path": "params", "assign": {"nested": {"fields": {
            "bs": {"intValue": spec["params/bs"]},
            "optim": {"stringValue": spec["params/optim"]},
            "use_aug": {"boolValue": spec["params/use_aug"]}}}}},
            {"path": "sys/state", "assign": {"stringValue": spec["sys/state"]}}]
        if "params/lr" in spec:
            ops.append({"path": "params/lr", "assign": {"floatValue": spec["params/lr"]}})
        if "loss" in spec:
            steps, values = spec["loss"]
            ops.append({"path": "train/loss", "appendFloats": {"steps": steps, "values": values}})
        server.post_ops(run["id"], ops)
        return run["id"]

    # Four at a time: the server commits concurrent batches together.
    with ThreadPoolExecutor(4) as pool:
        ids = list(pool.map(seed, specs))
    for spec, run_id in zip(specs, ids):
        spec["id"] = run_id
    return project, {s["id"]: s for s in specs}


def list_runs(server, project, **params):
    """Every page, concatenated; checks total and next_cursor on the way."""
    out = []
    cursor = None
    total = None
    pages = 0
    while True:
        q = dict(params)
        if cursor:
            q["cursor"] = cursor
        page = server.get_json(f"/api/v1/projects/{project}/runs", params=q)
        pages += 1
        if total is None:
            total = page["total"]
        else:
            assert "total" not in page, "a cursor page counts the matches again"
        out += page["runs"]
        cursor = page["next_cursor"]
        if not cursor:
            break
        assert pages < 1000
    ids = [r["id"] for r in out]
    assert len(ids) == len(set(ids)), "a run appeared on two pages"
    assert len(ids) == total, (len(ids), total)
    return out


# Filters and their meaning in Python over a spec; `None` marks a missing field, which a
# comparison never matches.
def cmp(key, op, value):
    def f(s):
        v = s.get(key)
        if v is None:
            return False
        return {"<": v < value, "<=": v <= value, ">": v > value, ">=": v >= value,
                "=": v == value, "!=": v != value}[op]
    return f


FILTERS = [
    ("params/lr < 0.01", cmp("params/lr", "<", 0.01)),
    ("params/lr <= 0.01 and params/bs >= 64",
     lambda s: cmp("params/lr", "<=", 0.01)(s) and s["params/bs"] >= 64),
    ('params/optim = "adam" or params/optim == "sgd"',
     lambda s: s["params/optim"] in ("adam", "sgd")),
    ('not params/optim = "adam"', lambda s: s["params/optim"] != "adam"),
    ('params/optim != "adam"', lambda s: s["params/optim"] != "adam"),
    ('(params/lr = 0.1 or params/lr = 0.001) and not sys/tags contains "baseline"',
     lambda s: s.get("params/lr") in (0.1, 0.001) and "baseline" not in s["sys/tags"]),
    ('sys/tags contains "resnet"', lambda s: "resnet" in s["sys/tags"]),
    ('sys/tags contains "resnet" and sys/tags contains "vit"',
     lambda s: {"resnet", "vit"} <= set(s["sys/tags"])),
    ("params/lr exists", lambda s: "params/lr" in s),
    ("not params/lr exists", lambda s: "params/lr" not in s),
    ("train/loss exists and params/lr exists", lambda s: "loss" in s and "params/lr" in s),
    ('sys/name =~ "^run-0[0-4]"', lambda s: re.search("^run-0[0-4]", s["sys/name"])),
    ('sys/name matches "sgd$"', lambda s: s["sys/name"].endswith("sgd")),
    ('params/optim =~ "^adam"', lambda s: s["params/optim"].startswith("adam")),
    ("train/loss:last < 0.5", cmp("train/loss:last", "<", 0.5)),
    ("train/loss:min >= 0.2", cmp("train/loss:min", ">=", 0.2)),
    ("train/loss:max > 0.9 and train/loss:min < 0.1",
     lambda s: cmp("train/loss:max", ">", 0.9)(s) and cmp("train/loss:min", "<", 0.1)(s)),
    ("train/loss:count > 10", cmp("train/loss:count", ">", 10)),
    ("params/use_aug = true", lambda s: s["params/use_aug"] is True),
    ("params/use_aug = false and params/bs > 50.5",
     lambda s: s["params/use_aug"] is False and s["params/bs"] > 50.5),
    ('sys/state = "failed"', lambda s: s["sys/state"] == "failed"),
    ('not sys/state = "running" AND params/bs = 32',
     lambda s: s["sys/state"] != "running" and s["params/bs"] == 32),
    ('((params/bs = 16 or params/bs = 128) and (sys/tags contains "vit" or '
     'not sys/tags contains "ablation")) or sys/name = "run-007-adam"',
     lambda s: ((s["params/bs"] in (16, 128)) and
                ("vit" in s["sys/tags"] or "ablation" not in s["sys/tags"]))
     or s["sys/name"] == "run-007-adam"),
    ('not (params/optim = "sgd" or params/bs < 64)',
     lambda s: not (s["params/optim"] == "sgd" or s["params/bs"] < 64)),
    ("params/bs > 1000", lambda s: False),
    ("", lambda s: True),
]


@pytest.mark.parametrize("text,pred", FILTERS, ids=[f[0] or "empty" for f in FILTERS])
def test_filter_matches_python(server, table, text, pred):
    project, specs = table
    want = {rid for rid, s in specs.items() if pred(s)}
    assert want or text == "params/bs > 1000", "the seed data should make this filter match"
    got = list_runs(server, project, filter=text, limit=1000)
    assert {r["id"] for r in got} == want


def sort_value(spec, field):
    return spec.get(field)


@pytest.mark.parametrize("field", ["train/loss:last", "train/loss:max", "params/lr",
                                   "params/bs", "sys/name", "params/optim"])
@pytest.mark.parametrize("order", ["asc", "desc"])
def test_sort_missing_last_and_paging(server, table, field, order):
    project, specs = table
    got = list_runs(server, project, sort=field, order=order, limit=23,
                    columns=field)
    assert {r["id"] for r in got} == set(specs), "paging must visit every run exactly once"
    keys = [sort_value(specs[r["id"]], field) for r in got]
    present = [k for k in keys if k is not None]
    n_missing = len(keys) - len(present)
    assert all(k is None for k in keys[len(present):]), "runs lacking the field come last"
    assert present == sorted(present, reverse=(order == "desc"))
    assert n_missing == sum(1 for s in specs.values() if s.get(field) is None)
    for r in got:
        assert r["columns"].get(field) == sort_value(specs[r["id"]], field), r


SYS_SORTS = {  # sort field -> the run JSON's value for it
    "sys/id": lambda r: int(r["id"].rsplit("-", 1)[1]),
    "sys/state": lambda r: r["state"],
    "sys/creation_time": lambda r: r["creation_time"],
    "sys/failed": lambda r: r["failed"],
    "sys/size": lambda r: r["size"],
}


@pytest.mark.parametrize("field", sorted(SYS_SORTS))
@pytest.mark.parametrize("order", ["asc", "desc"])
def test_sys_sort_pages_by_value_then_number(server, table, field, order):
    """Sorts by a run column (walked in index order) page through every run once, ties (every
    run has state "running") broken by run number in the same direction."""
    project, specs = table
    got = list_runs(server, project, sort=field, order=order, limit=23)
    assert sorted(r["id"] for r in got) == sorted(specs), "every run exactly once"
    keys = [(SYS_SORTS[field](r), int(r["id"].rsplit("-", 1)[1])) for r in got]
    assert keys == sorted(keys, reverse=(order == "desc"))


def test_default_sort_is_newest_first(server, table):
    project, specs = table
    got = list_runs(server, project, limit=50)
    times = [r["creation_time"] for r in got]
    assert times == sorted(times, reverse=True)
    asc = list_runs(server, project, order="asc", limit=1000)
    assert [r["creation_time"] for r in asc] == sorted(times)
    assert {r["id"] for r in got} == set(specs)
    # The default page size is 100.
    page = server.get_json(f"/api/v1/projects/{project}/runs")
    assert len(page["runs"]) == 100 and page["total"] == N_RUNS and page["next_cursor"]


def test_columns(server, table):
    project, specs = table
    cols = ["params/lr", "params/bs", "params/optim", "params/use_aug", "train/loss:last",
            "train/loss:min", "train/loss:max", "train/loss:count", "sys/tags", "sys/state",
            "no/such/field"]
    got = list_runs(server, project, columns=",".join(cols), limit=1000)
    assert len(got) == N_RUNS
    for r in got:
        spec = specs[r["id"]]
        assert r["name"] == spec["sys/name"]
        assert sorted(r["tags"]) == spec["sys/tags"]
        assert r["state"] == spec["sys/state"]
        for c in cols:
            want = spec.get(c)
            assert r["columns"].get(c) == want, (r["id"], c, r["columns"].get(c), want)
    # Without `columns`, no columns.
    page = server.get_json(f"/api/v1/projects/{project}/runs", params={"limit": 5})
    assert all(r.get("columns", {}) == {} for r in page["runs"])


def test_filter_sort_and_paging_together(server, table):
    project, specs = table
    pred = lambda s: "loss" in s and s["params/bs"] >= 32  # noqa: E731
    want = sorted((s for s in specs.values() if pred(s)), key=lambda s: s["train/loss:min"])
    got = list_runs(server, project, filter="train/loss exists and params/bs >= 32",
                    sort="train/loss:min", order="asc", limit=9)
    assert [specs[r["id"]]["train/loss:min"] for r in got] == [s["train/loss:min"] for s in want]
    assert {r["id"] for r in got} == {s["id"] for s in want}


@pytest.mark.parametrize("params", [
    {},
    {"sort": "sys/state", "order": "asc"},  # ties: three states among 300 runs
    {"sort": "params/lr", "order": "desc"},  # ties, and runs without it last
    {"sort": "train/loss:last", "filter": "params/optim = \"adam\""},
])
def test_offset_page_is_a_slice_of_the_list(server, table, params):
    """?offset=N returns the rows from position N of the same list the cursor pages give, no
    total, and a next_cursor that continues from its last row."""
    project, _ = table
    whole = [r["id"] for r in list_runs(server, project, limit=1000, **params)]
    url = f"/api/v1/projects/{project}/runs"
    for offset in (1, 29, 150, len(whole) - 5, len(whole), len(whole) + 10):
        page = server.get_json(url, params=dict(params, offset=offset, limit=20))
        assert "total" not in page
        assert [r["id"] for r in page["runs"]] == whole[offset:offset + 20], offset
        if offset + 20 >= len(whole):
            assert page["next_cursor"] is None
            continue
        nxt = server.get_json(url, params=dict(params, cursor=page["next_cursor"], limit=20))
        assert [r["id"] for r in nxt["runs"]] == whole[offset + 20:offset + 40], offset
    first = server.get_json(url, params=dict(params, offset=0, limit=5))
    assert first["total"] == len(whole)  # offset 0 is the first page


def test_offset_bad_values(server, table):
    project, _ = table
    url = f"/api/v1/projects/{project}/runs"
    for bad in ("-1", "x", "1.5", "1000001"):
        r = server.get(url, params={"offset": bad})
        assert_error(r, 400)
        assert "offset" in r.json()["error"]["message"], r.text
    cursor = server.get_json(url, params={"limit": 2})["next_cursor"]
    r = server.get(url, params={"offset": 4, "cursor": cursor})
    assert_error(r, 400)
    assert "'offset' and 'cursor' cannot be combined" in r.json()["error"]["message"]


def test_runs_appear_only_in_their_project(server, table):
    project, specs = table
    sandbox = list_runs(server, "default/sandbox", limit=1000, filter="params/use_aug exists")
    assert not ({r["id"] for r in sandbox} & set(specs))


def test_project_field_list(server, table):
    """GET .../fields lists the union of the runs' (path, type) pairs, sys/ fields included."""
    project, specs = table
    numbers = sorted(specs, key=lambda i: int(i.split("-")[1]))
    # A path only two runs have, logged with a different type in each.
    server.post_ops(numbers[-1], [{"path": "late/only", "assign": {"stringValue": "x"}}])
    server.post_ops(numbers[0], [{"path": "late/only", "assign": {"floatValue": 1.5}}])
    union = set()
    for run_id in specs:
        for f in server.fields(run_id).values():
            union.add((f["path"], f["type"]))
    body = server.get_json(f"/api/v1/projects/{project}/fields")
    assert body["truncated"] is False
    listed = [(f["path"], f["type"]) for f in body["fields"]]
    paths = [p.encode() for p, _ in listed]
    assert paths == sorted(paths)
    assert set(listed) >= union
    # Beyond the runs' own fields only sys/custom_run_id (no run here has one).
    assert set(listed) - union == {("sys/custom_run_id", "string")}
    assert ("late/only", "float") in listed and ("late/only", "string") in listed

    body = server.get_json(f"/api/v1/projects/{project}/fields", params={"prefix": "params/"})
    assert [f["path"] for f in body["fields"]] == ["params/bs", "params/lr", "params/optim",
                                                   "params/use_aug"]
    assert [f["type"] for f in body["fields"]] == ["int", "float", "string", "bool"]
    body = server.get_json(f"/api/v1/projects/{project}/fields",
                           params={"prefix": "params/", "limit": 2})
    assert len(body["fields"]) == 2 and body["truncated"] is True
    assert server.get_json(f"/api/v1/projects/{project}/fields",
                           params={"prefix": "nothing"}) == {"fields": [], "truncated": False}
    for bad in ("0", "10001", "x"):
        r = server.get(f"/api/v1/projects/{project}/fields", params={"limit": bad})
        assert r.status_code == 400, r.text
        assert "limit" in r.json()["error"]["message"]
    r = server.get(f"/api/v1/projects/{project.split('/')[0]}/missing/fields")
    assert r.status_code == 404
