"""Run liveness: a running run whose last ping is older than --not-responding-after is reported
as "not responding" in reads and filters, and is running again once pings resume. Time is moved
with the test-only clock skew file, never by sleeping."""

from conftest import new_writer


def set_skew(path, seconds):
    with open(path, "w") as f:
        f.write(str(seconds))


def states(s, filter_text):
    runs = s.get_json("/api/v1/projects/default/sandbox/runs", params={"filter": filter_text,
                                                                       "limit": 1000})["runs"]
    return {r["id"]: r["state"] for r in runs}


def test_not_responding_derived_at_read_time(start_server, tmp_path, monkeypatch):
    skew = tmp_path / "skew"
    set_skew(skew, 0)
    monkeypatch.setenv("NEREID_TEST_CLOCK_SKEW_FILE", str(skew))
    s = start_server("--not-responding-after", "300")
    quiet = s.create_run(name="quiet")["id"]
    alive = s.create_run(name="alive")["id"]
    done = s.create_run(name="done")["id"]
    s.post_ops(done, [{"path": "sys/state", "assign": {"stringValue": "succeeded"}}])
    assert s.get_json(f"/api/v1/runs/{quiet}")["state"] == "running"

    set_skew(skew, 299)  # within the threshold
    assert s.get_json(f"/api/v1/runs/{quiet}")["state"] == "running"
    set_skew(skew, 301)
    s.post_ops(alive, [])  # a heartbeat: an empty batch updates the ping time
    assert s.get_json(f"/api/v1/runs/{quiet}")["state"] == "not responding"
    assert s.get_json(f"/api/v1/runs/{alive}")["state"] == "running"
    assert s.get_json(f"/api/v1/runs/{done}")["state"] == "succeeded"
    fields = s.fields(quiet, prefix="sys")
    assert fields["sys/state"]["value"] == "not responding"

    assert set(states(s, 'sys/state = "not responding"')) == {quiet}
    running = states(s, 'sys/state = "running"')
    assert alive in running and quiet not in running and done not in running
    others = states(s, 'sys/state != "not responding"')
    assert alive in others and done in others and quiet not in others
    listed = states(s, "")
    assert listed[quiet] == "not responding" and listed[alive] == "running"

    # Pings resume: running again.
    s.post_ops(quiet, [])
    assert s.get_json(f"/api/v1/runs/{quiet}")["state"] == "running"
    assert states(s, 'sys/state = "not responding"') == {}


def test_threshold_is_configurable(start_server, tmp_path, monkeypatch):
    skew = tmp_path / "skew"
    set_skew(skew, 0)
    monkeypatch.setenv("NEREID_TEST_CLOCK_SKEW_FILE", str(skew))
    s = start_server("--not-responding-after", "30")
    run = s.create_run()["id"]
    set_skew(skew, 31)
    assert s.get_json(f"/api/v1/runs/{run}")["state"] == "not responding"
    s.post_ops(run, [])
    assert s.get_json(f"/api/v1/runs/{run}")["state"] == "running"
