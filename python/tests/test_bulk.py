"""Large volumes: a 1 M-point extend read back bit-exact, and the runs table over 1,000 runs."""

import numpy as np

import nereid


def test_million_point_extend_is_bit_exact(make_run):
    rng = np.random.default_rng(7)
    values = rng.standard_normal(1_000_000) * 10.0 ** rng.integers(-300, 300, 1_000_000)
    values[[0, 17, 999_999]] = np.nan
    values[[1, 18]] = np.inf
    values[[2, 19]] = -np.inf
    values[[3, 20]] = -0.0
    values[4] = 5e-324  # smallest subnormal
    run = make_run()
    run["big"].extend(values)
    run.wait()
    df = run["big"].fetch_values()
    assert len(df) == 1_000_000
    assert np.array_equal(df["step"].to_numpy(), np.arange(1_000_000, dtype=np.float64))
    got = df["value"].to_numpy()
    assert np.array_equal(got.view(np.uint64), values.view(np.uint64))


def test_runs_table_over_1000_runs(fresh_server, monkeypatch, tmp_path):
    s = fresh_server
    # 1,000 runs through the HTTP API directly: the table is what is under test, and 1,000
    # sender threads would only measure the machine.
    for i in range(1000):
        rid = s.create_run(name=f"r{i}")["id"]
        s.post_ops(rid, [
            {"path": "params/lr", "assign": {"floatValue": i / 1000.0}},
            {"path": "train/loss", "appendFloats": {"values": [float(i), 1000.0 - i]}},
        ])
    project = nereid.init_project("default/sandbox", api_token=s.token, url=s.base_url)
    table = project.fetch_runs_table(query="params/lr < 0.01",
                                     columns=["params/lr", "train/loss"],
                                     sort_by="train/loss").to_pandas()
    assert len(table) == 10
    # Newest-first default order is replaced by train/loss (its last value), descending.
    assert table["params/lr"].tolist() == [i / 1000.0 for i in range(10)]
    assert table["train/loss"].tolist() == [1000.0 - i for i in range(10)]
    assert table["sys/name"].tolist()[0] == "r0"
    everything = project.fetch_runs_table(columns=["params/lr"], sort_by="params/lr",
                                          ascending=True).to_pandas()
    assert len(everything) == 1000
    assert everything["params/lr"].tolist() == [i / 1000.0 for i in range(1000)]
    limited = project.fetch_runs_table(limit=5).to_pandas()
    assert len(limited) == 5
