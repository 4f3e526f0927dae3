"""A latency-budgeted search end to end: a table built on the fly, every candidate priced by the
predictor before training, none over budget trained, the front timed whole at the end and shown
measured beside predicted in the report."""

import statistics

import pandas as pd
import pytest

from nas.arch import ArchConfig
from nas.cost import LatencyTable, predict_latency
from nas.record import MEASURED_LATENCY
from nas.report import compute_report
from nas.search import run_search
from nas.space import load_space

SIZE = (64, 64)


@pytest.fixture(scope="module")
def latency_run(tmp_path_factory, make_settings):
    tmp = tmp_path_factory.mktemp("latency")
    # a limit that the space straddles: the median prediction of a few samples on this machine
    table = LatencyTable.open(tmp / "latency", "cpu", 1, SIZE)
    space = load_space("hybrid")
    preds = [predict_latency(space.sample(s), table, missing="measure", warmup=1, runs=3)
             for s in range(5)]
    limit = round(statistics.median(preds), 2)
    s = make_settings(tmp, name="lat", trials=3, budgets=(f"{limit}ms",), input_size=SIZE,
                      latency_dir=tmp / "latency")
    return s, limit, run_search(s, quiet=True)


def test_only_candidates_predicted_within_the_budget_are_trained(latency_run):
    s, limit, result = latency_run
    df = result.trials
    assert result.status == "finished"
    trained = df[df["state"] == "COMPLETE"]
    assert len(trained) == 3
    assert (trained["latency_ms"] <= limit).all(), trained["latency_ms"].tolist()
    over = df[df["state"] == "INFEASIBLE"]
    assert (over["latency_ms"] > limit).all()
    assert not over["miou"].notna().any()  # never trained
    # the table grew during the search (every unit of every priced candidate is in it now, with
    # what the unit model learns from), and the stored figure is the table's exact prediction,
    # not the unit model's estimate that steered the proposals
    table = LatencyTable.open(s.latency_dir, "cpu", 1, SIZE)
    assert all(e.kind and e.elems > 0 for e in table.entries.values())
    for row in df.itertuples():
        exact = predict_latency(ArchConfig.from_json(row.arch_json), table)
        assert row.latency_ms == pytest.approx(exact, rel=1e-9)


def test_the_front_is_measured_and_reported_beside_the_prediction(latency_run):
    s, _, result = latency_run
    measured = pd.read_csv(s.run_dir / MEASURED_LATENCY)
    front = result.trials[result.trials["pareto"]]
    assert sorted(measured["number"]) == sorted(front["number"])
    assert (measured["latency_measured_ms"] > 0).all()
    assert measured["latency_error"].tolist() == pytest.approx(
        (measured["latency_ms"] / measured["latency_measured_ms"] - 1).tolist())
    on_disk = pd.read_parquet(s.run_dir / "trials.parquet")
    assert on_disk.loc[on_disk["pareto"], "latency_measured_ms"].notna().all()
    assert on_disk.loc[~on_disk["pareto"], "latency_measured_ms"].isna().all()
    table = compute_report(s.run_dir, importance=False).front_table
    assert {"latency ms", "measured ms"} <= set(table.columns)
    assert table["measured ms"].notna().all()
