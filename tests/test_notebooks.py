"""Notebooks: upload .ipynb checkpoints (content-addressed), list, fetch, diff cell by cell,
clear 4xx for bad files, permissions, and `nereid notebook upload`."""

import json
import subprocess

from accounts_util import make_user
from conftest import NEREID_BIN, assert_error

BASE = "/api/v1/projects/default/sandbox/notebooks"


def notebook(cells):
    return {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells}


def code(source, *outputs):
    return {"cell_type": "code", "source": source, "metadata": {}, "execution_count": 1,
            "outputs": [{"output_type": "stream", "name": "stdout", "text": o} for o in outputs]}


def md(source):
    return {"cell_type": "markdown", "source": source, "metadata": {}}


def upload(s, path, nb, expect=201, session=None):
    sess = session or s.session
    body = nb if isinstance(nb, bytes) else json.dumps(nb).encode()
    r = sess.post(s.url(f"{BASE}/checkpoints"), params={"path": path}, data=body, timeout=60)
    assert r.status_code == expect, r.text
    return r.json()


def test_upload_list_fetch_diff(server):
    v1 = notebook([md("# Train"), code(["import torch\n", "x = 1"], "1\n"), code("old()")])
    v2 = notebook([md("# Train"), code("setup()"), code(["import torch\n", "x = 1"], "2\n"),
                   code("new()")])
    c1 = upload(server, "exp/train.ipynb", v1)
    assert c1["created"] is True and c1["number"] == 1 and c1["cells"] == 3
    assert c1["created_by"] == "admin" and len(c1["id"]) == 64
    again = upload(server, "exp/train.ipynb", v1, expect=200)  # same content: same checkpoint
    assert again["created"] is False and again["id"] == c1["id"]
    c2 = upload(server, "exp/train.ipynb", v2)
    assert c2["number"] == 2 and c2["id"] != c1["id"]
    upload(server, "other.ipynb", v1)  # another notebook may hold the same content

    listed = server.get_json(BASE)["notebooks"]
    by_path = {n["path"]: n for n in listed}
    assert by_path["exp/train.ipynb"]["checkpoints"] == 2
    assert by_path["other.ipynb"]["checkpoints"] == 1
    cps = server.get_json(f"{BASE}/checkpoints", params={"path": "exp/train.ipynb"})["checkpoints"]
    assert [c["id"] for c in cps] == [c1["id"], c2["id"]]

    r = server.get(f"{BASE}/checkpoints/{c1['id']}", params={"path": "exp/train.ipynb"})
    assert r.status_code == 200
    assert json.loads(r.content) == v1
    assert "train.ipynb" in r.headers.get("Content-Disposition", "")

    d = server.get_json(f"{BASE}/diff", params={"path": "exp/train.ipynb", "from": c1["id"],
                                                "to": c2["id"]})
    statuses = [c["status"] for c in d["cells"]]
    assert statuses == ["unchanged", "added", "modified", "modified"], d
    assert d["cells"][1]["source"]["to"] == "setup()"
    assert d["cells"][2]["outputs"] == {"from": ["1\n"], "to": ["2\n"]}
    assert d["cells"][3]["source"] == {"from": "old()", "to": "new()"}
    assert d["summary"] == {"unchanged": 1, "added": 1, "modified": 2, "removed": 0}


def test_bad_notebooks_are_clear_4xx(server):
    cases = [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "JSON object"),
        (json.dumps({"nbformat": 3, "worksheets": []}).encode(), "nbformat 3"),
        (json.dumps({"nbformat": 4}).encode(), "'cells'"),
        (json.dumps(notebook([{"cell_type": "code", "metadata": {}}])).encode(),
         "cell 0 has no 'source'"),
        (json.dumps(notebook([{"cell_type": "weird", "source": ""}])).encode(), "weird"),
    ]
    for body, words in cases:
        r = server.post(f"{BASE}/checkpoints", params={"path": "bad.ipynb"}, data=body)
        err = assert_error(r, 400, "invalid_argument")
        assert words in err["message"], (words, err)
    assert_error(server.post(f"{BASE}/checkpoints", data=json.dumps(notebook([])).encode()), 400)
    names = [n["path"] for n in server.get_json(BASE)["notebooks"]]
    assert "bad.ipynb" not in names
    c = upload(server, "ok.ipynb", notebook([]))
    assert_error(server.get(f"{BASE}/diff", params={"path": "ok.ipynb", "from": c["id"],
                                                    "to": "0" * 64}), 404, "not_found")
    assert_error(server.get(f"{BASE}/diff", params={"path": "ok.ipynb", "from": c["id"],
                                                    "to": "nope"}), 400)
    assert_error(server.get(f"{BASE}/checkpoints", params={"path": "never.ipynb"}), 404)


def test_notebook_permissions(server):
    viewer = make_user(server, "nbviewer", project_roles=[("default/sandbox", "viewer")])
    contrib = make_user(server, "nbcontrib", project_roles=[("default/sandbox", "contributor")])
    nb = json.dumps(notebook([code("print(1)")])).encode()
    r = viewer.session.post(server.url(f"{BASE}/checkpoints"), params={"path": "p.ipynb"}, data=nb)
    assert_error(r, 403, "permission_denied")
    c = upload(server, "p.ipynb", nb, session=contrib.session)
    assert c["created_by"] == "nbcontrib"
    assert viewer.get(BASE).status_code == 200
    r = viewer.get(f"{BASE}/checkpoints/{c['id']}", params={"path": "p.ipynb"})
    assert r.status_code == 200


def test_cli_notebook_upload(server, tmp_path):
    path = tmp_path / "analysis.ipynb"
    path.write_text(json.dumps(notebook([md("hi"), code("1+1")])))
    p = subprocess.run([NEREID_BIN, "notebook", "--url", server.base_url, "--token", server.token,
                        "upload", str(path), "--project", "default/sandbox"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    assert "uploaded checkpoint 1 of notebook 'analysis.ipynb'" in p.stdout
    cps = server.get_json(f"{BASE}/checkpoints", params={"path": "analysis.ipynb"})["checkpoints"]
    assert len(cps) == 1 and cps[0]["id"] in p.stdout
    bad = tmp_path / "bad.ipynb"
    bad.write_text("not a notebook")
    p = subprocess.run([NEREID_BIN, "notebook", "--url", server.base_url, "--token", server.token,
                        "upload", str(bad), "--project", "default/sandbox"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=30)
    assert p.returncode == 1 and "not valid JSON" in p.stderr
