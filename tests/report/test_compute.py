"""The report's computed data (not pixels): every section, fronts, hypervolume, baselines,
importance, on the hand-written run folder."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from nas.metrics import hypervolume, pareto_mask
from nas.report import SECTIONS, compute_report, load_run, param_importance


@pytest.fixture(scope="module")
def data(built_run):
    return compute_report(built_run)


def test_every_section_has_data(data, built_run) -> None:
    assert data.sections == SECTIONS
    assert set(data.summary) >= {"run", "command", "objectives", "budget", "input"}
    assert data.summary["budget"] == "30 GFLOPs"
    assert not data.counts.empty and len(data.fronts) >= 2  # FLOPs and params (no latency)
    assert len(data.front_table) and len(data.baselines) == 2
    assert data.hypervolume.final > 0 and len(data.hypervolume.by_time) > 1
    assert data.importance.reason is None and data.importance.targets
    assert set(data.members) == set(data.front_table["trial"])
    assert all(a is not None for a in data.members.values())
    assert len(data.findings) >= 4


def test_counts_match_the_table(data, built_run) -> None:
    df = pd.read_csv(built_run / "trials.csv")
    c = data.counts.set_index("state")
    for state in ("COMPLETE", "PRUNED", "INFEASIBLE", "FAIL"):
        assert c.loc[state, "total"] == (df["state"] == state).sum()
        assert c.loc[state, "baseline"] == ((df["state"] == state) & df["baseline"]).sum()
    assert c.loc["all", "total"] == len(df)


def test_front_table_is_the_runs_front(data, built_run) -> None:
    df = pd.read_csv(built_run / "trials.csv")
    assert sorted(data.front_table["trial"]) == sorted(df.loc[df["pareto"], "number"])
    assert (data.front_table["baseline"] != "").sum() == df.loc[df["pareto"], "baseline"].sum()


def test_flops_front_is_non_dominated_and_states_are_kept_apart(data) -> None:
    fr = next(f for f in data.fronts if f.metric == "flops")
    assert fr.budget == pytest.approx(30.0) and fr.x_label == "GFLOPs"
    pts = fr.points
    assert {"search", "front", "baseline", "pruned", "failed", "infeasible"} <= set(pts["kind"])
    assert pts.loc[pts["kind"] == "infeasible", "y"].isna().all()
    assert (pts.loc[pts["kind"] == "infeasible", "x"] > 30.0).all()
    scored = pts[pts["kind"].isin(["search", "front", "baseline"]) & pts["y"].notna()]
    mask = pareto_mask(scored[["y", "x"]].to_numpy(), ["maximize", "minimize"])
    assert set(scored.loc[mask, "number"]) == set(pts.loc[pts["on_front"], "number"])


def test_hypervolume_curves(data, built_run) -> None:
    hv = data.hypervolume
    assert np.all(np.diff(hv.by_trial["hypervolume"]) >= -1e-12)
    assert np.all(np.diff(hv.by_time["seconds"]) >= 0)
    assert hv.by_time["hypervolume"].iloc[-1] == pytest.approx(hv.final)
    run = load_run(built_run)
    done = run.completed()
    vals = np.stack([done["miou"], done["flops"] / 30e9], axis=1)
    assert hv.final == pytest.approx(hypervolume(vals, ["maximize", "minimize"], [0.0, 1.0]))
    assert hv.reference == {"miou": 0.0, "flops": 30e9}
    assert hv.baselines is not None and hv.verdict


def test_baselines_compared_at_equal_cost(data, built_run) -> None:
    run = load_run(built_run)
    b = data.baselines.set_index("baseline")
    ok = b.loc["afformer_tiny"]
    base = run.baselines[run.baselines["baseline_name"] == "afformer_tiny"].iloc[0]
    cheaper = run.completed()[run.completed()["flops"] <= base["flops"]]
    best = cheaper.loc[cheaper["miou"].idxmax()]
    assert ok["search at equal cost"] == best["number"]
    assert ok["delta mIoU"] == pytest.approx(best["miou"] - base["miou"])
    assert ok["beaten"] == (best["miou"] > base["miou"])
    failed = b.loc["hrvit_b1"]
    assert failed["state"] == "FAIL" and failed["beaten"] is None


def test_importance_targets_sum_to_one(data, built_run) -> None:
    import optuna

    imp = data.importance
    assert {"front (all objectives)", "mIoU", "FLOPs"} <= set(imp.targets)
    study = optuna.load_study(study_name="fixture", storage=f"sqlite:///{built_run}/study.db")
    names = {k for t in study.trials for k in t.params}
    for vals in imp.targets.values():
        assert math.isclose(sum(vals.values()), 1.0, rel_tol=1e-6)
        assert set(vals) <= names
    assert "PED-ANOVA" in imp.evaluator and imp.n_trials == len(load_run(built_run).completed())


def test_importance_states_why_it_is_missing(built_run, tmp_path) -> None:
    run = load_run(built_run)
    few = param_importance(run, min_trials=1000)
    assert few.targets == {} and "only" in few.reason and "1000" in few.reason
    import shutil

    bare = shutil.copytree(built_run, tmp_path / "bare")
    (bare / "study.db").unlink()
    none = compute_report(bare)
    assert none.importance.targets == {} and "study.db" in none.importance.reason
    assert any("Parameter importance" in f for f in none.findings)
