"""Tiny real searches (synthetic data, a proxy run of a second or two)."""

import json

import optuna
import pandas as pd
import pytest

from nas.arch import ArchConfig
from nas.cost import count_flops, count_params
from nas.models import build_model
from nas.search import run_search
from nas.search._evaluate import weights_path

DOC_COLUMNS = {"number", "state", "baseline", "baseline_name", "feasible", "violation", "flops",
               "gflops", "params", "mparams", "latency_ms", "miou", "pixel_acc", "miou_e1",
               "miou_e2", "epochs_run", "duration_s", "train_s", "images_per_s",
               "datetime_start", "datetime_complete", "reason", "arch_json", "pareto",
               "latency_measured_ms"}


@pytest.fixture(scope="module")
def with_baselines(tmp_path_factory, make_settings):
    s = make_settings(tmp_path_factory.mktemp("search"), name="base", baselines=True)
    return s, run_search(s, quiet=True)


def test_a_run_leaves_every_documented_file(with_baselines):
    s, result = with_baselines
    run = s.run_dir
    assert result.status == "finished"
    for name in ("study.db", "trials.parquet", "trials.csv", "run.json", "search.log"):
        assert (run / name).is_file(), name
    df = pd.read_parquet(run / "trials.parquet")
    assert DOC_COLUMNS <= set(df.columns)
    assert any(c.startswith("p.") for c in df.columns)
    assert len(pd.read_csv(run / "trials.csv")) == len(df)
    info = json.loads((run / "run.json").read_text())
    assert info["status"] == "finished" and info["seed"] == 0 and info["budgets"] == ["2GFLOPs"]
    assert info["versions"]["optuna"] and info["space_hash"] and info["machine"]["cpus"]
    study = optuna.load_study(study_name="base", storage=f"sqlite:///{run / 'study.db'}")
    assert len(study.trials) == len(df)
    # the front: YAML that rebuilds the network, weights kept for it (and only for it)
    front = df[df["pareto"]]
    assert len(front) >= 1
    assert sorted(p.name for p in (run / "pareto").iterdir()) == sorted(
        f"trial-{n}.yaml" for n in front["number"])
    kept = sorted(p.name for p in (run / "weights").iterdir())
    assert kept == sorted(f"trial-{n}.safetensors" for n in front["number"])
    for row in front.itertuples():
        arch = ArchConfig.from_yaml((run / "pareto" / f"trial-{row.number}.yaml").read_text())
        assert arch == ArchConfig.from_json(row.arch_json)
        assert count_params(build_model(arch)) == row.params


def test_baselines_are_stored_beside_the_search(with_baselines):
    s, result = with_baselines
    df = result.trials
    base = df[df["baseline"]]
    assert len(base) >= 5  # the references, scaled to fit where needed
    assert base["baseline_name"].str.len().min() > 0
    assert (base["state"] == "COMPLETE").all() and base["feasible"].all()
    assert {"afformer_tiny", "afformer_small"} <= {n.split("_fit")[0] for n in
                                                   base["baseline_name"]}
    # interleaved, a search candidate first: a run cut short by --time holds both kinds
    assert df["baseline"].iloc[:4].tolist() == [False, True, False, True]
    search = df[~df["baseline"]]
    assert search["state"].isin(["COMPLETE", "PRUNED", "FAIL"]).sum() == 4  # the target


def test_complete_trials_are_within_budget_by_fvcore(with_baselines):
    s, result = with_baselines
    df = result.trials
    done = df[(df["state"] == "COMPLETE")]
    assert done["feasible"].all()
    for row in done.sort_values("gflops").head(3).itertuples():  # fvcore is slow: the cheapest
        model = build_model(ArchConfig.from_json(row.arch_json)).eval()
        assert count_flops(model, (512, 512)) == row.flops <= 2e9


def test_infeasible_candidates_are_recorded_and_never_trained(tiny, tmp_path):
    s = tiny(trials=3, strategy="nsga2", population=2, budgets=("0.6GFLOPs",),
             storage=f"journal:{tmp_path / 'study.journal'}")
    result = run_search(s, quiet=True)
    df = result.trials
    bad = df[df["state"] == "INFEASIBLE"]
    assert len(bad) >= 1, "expected over-budget proposals at 0.6 GFLOPs"
    assert (bad["gflops"] > 0.6).all() and (~bad["feasible"]).all()
    assert bad["reason"].str.startswith("over budget: flops").all()
    assert (bad["epochs_run"] == 0).all() and bad["miou"].isna().all()
    assert bad["miou_e1"].isna().all()
    for n in bad["number"]:
        assert not weights_path(s.run_dir, n).exists()
    trained = df[df["state"].isin(["COMPLETE", "PRUNED", "FAIL"])]
    assert len(trained) == 3 and (trained["gflops"] <= 0.6).all()


def test_a_failing_candidate_does_not_stop_the_search(tiny, monkeypatch):
    import nas.search._evaluate as ev

    real, calls = ev.train, []

    def flaky(*args, **kw):
        calls.append(1)
        if len(calls) % 2 == 0:
            raise RuntimeError("injected failure")
        return real(*args, **kw)

    monkeypatch.setattr(ev, "train", flaky)
    result = run_search(tiny(trials=4, strategy="random"), quiet=True)
    df = result.trials
    assert result.status == "finished"
    failed = df[df["state"] == "FAIL"]
    assert len(failed) == 2 and failed["reason"].str.contains("injected failure").all()
    assert (df["state"] == "COMPLETE").sum() == 2


def test_resume_continues_to_the_target_without_repeats(tiny):
    first = run_search(tiny(trials=2, strategy="random"), quiet=True)
    assert first.counts.trained == 2
    again = run_search(tiny(trials=5, strategy="random", resume=True), quiet=True)
    df = again.trials
    assert again.counts.trained == 5
    assert df["number"].is_unique and len(df) == 5
    assert df["arch_json"].is_unique  # no candidate evaluated twice
    info = json.loads((tiny().run_dir / "run.json").read_text())
    assert len(info["invocations"]) == 2


def test_same_seed_same_search(tmp_path):
    from nas.proxy import DEFAULT_SCHEDULE
    from nas.search import SearchSettings

    tiny = DEFAULT_SCHEDULE.replace(epochs=1, n_train=8, n_val=8, train_size=(64, 64),
                                    batch_size=8, threads=1)
    runs = [run_search(SearchSettings(name=f"s{i}", out=tmp_path / f"s{i}", trials=2,
                                      time_s=None, baselines=False, budgets=("2GFLOPs",),
                                      schedule=tiny, seed=3, data="synthetic:64,16"),
                       quiet=True).trials for i in range(2)]
    cols = ["number", "state", "arch_json", "miou", "flops"]
    pd.testing.assert_frame_equal(runs[0][cols], runs[1][cols])
