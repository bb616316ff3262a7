"""The trash from Python: Project.trash_runs/restore_runs/delete_runs and the Neptune-shaped
nereid.management calls, against a real server."""

import pytest

import nereid
from nereid import management


def _runs(server, n):
    return [server.create_run()["id"] for _ in range(n)]


def test_project_trash_restore_delete(server, env):
    a, b, c = _runs(server, 3)
    project = nereid.init_project(project="default/sandbox")
    assert project.trash_runs([a, b]) == [a, b]
    ids = {r["sys/id"] for r in project.fetch_runs_table()}
    assert a not in ids and b not in ids and c in ids
    trash = {r["sys/id"]: r for r in project.fetch_trash()}
    assert a in trash and trash[a]["sys/trashed_time"]
    assert project.restore_runs(b) == [b]
    assert b in {r["sys/id"] for r in project.fetch_runs_table()}
    with pytest.raises(nereid.NereidValueError) as e:
        project.delete_runs([a, c])  # c is not in the trash
    assert c in str(e.value)
    with pytest.raises(nereid.NotFoundError) as e:
        project.trash_runs(["SAND-99999"])
    assert "SAND-99999" in str(e.value)
    done = project.delete_runs([a])
    assert done["deleted"] == [a] and done["freed_bytes"] >= 0
    assert a not in {r["sys/id"] for r in project.fetch_trash()}


def test_neptune_management_shapes(server, env):
    a, b, c = _runs(server, 3)
    management.trash_objects("default/sandbox", a)
    management.trash_objects("sandbox", [b, c], workspace="default")
    assert management.delete_objects_from_trash("default/sandbox", [a])["deleted"] == [a]
    assert management.restore_objects_from_trash("default/sandbox", [c]) == [c]
    done = management.clear_trash("default/sandbox")
    assert b in done["deleted"] and c not in done["deleted"]
    assert nereid.init_project(project="default/sandbox").fetch_trash().to_rows() == []
    import nereid.compat.neptune as neptune

    assert neptune.management.trash_objects is management.trash_objects
    with pytest.raises(NotImplementedError):
        management.create_project("default/x")
