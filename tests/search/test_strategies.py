"""The conformance suite of the search strategies (as Optuna tests every sampler through shared
cases): every registered strategy runs the real loop on a planted objective, a cheap
deterministic function of the ArchConfig in place of proxy training (``run_search(score=)``),
with a known optimum inside the budget. No training, so it is fast."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from nas.arch import ArchConfig
from nas.search import STRATEGY_TYPES, hypervolume, run_search, sample_within
from nas.search._evolution import EvolutionStrategy
from nas.space import base_label, load_space

BUDGET_G = 2.0
SPACE = load_space("hybrid")
# the planted optimum: an architecture inside the budget (the synthetic data has 16 classes)
TARGET = sample_within(SPACE, f"{BUDGET_G}GFLOPs", seed=12345, num_classes=16)
TARGET_ANSWERS = {base_label(k): v for k, v in SPACE.params(TARGET).items()}


def planted(arch: ArchConfig) -> float:
    """Share of the target's answers that ``arch`` gives (1.0 only at the target)."""
    answers = {base_label(k): v for k, v in (SPACE.params(arch) or {}).items()}
    keys = set(answers) | set(TARGET_ANSWERS)
    same = sum(answers.get(k, object()) == TARGET_ANSWERS.get(k, object()) for k in keys)
    return same / len(keys)


@pytest.fixture(autouse=True)
def small_pool(monkeypatch):
    """A smaller surrogate (pool of 64 children, not 1000; 30 trees, not 100): the same code,
    quicker."""
    monkeypatch.setattr(EvolutionStrategy, "pool_size", 64)
    monkeypatch.setattr(EvolutionStrategy, "n_trees", 30)


def _run(tiny, strategy: str, trials: int, seed: int = 0, **kw):
    s = tiny(name=f"{strategy}-{seed}", strategy=strategy, trials=trials, seed=seed,
             budgets=(f"{BUDGET_G}GFLOPs",), **kw)
    if "out" not in kw:  # one folder per run
        s = s.replace(out=s.run_dir.parent / s.name)
    if "storage" not in kw:  # the journal itself (no SQLite copy at the end: quicker)
        s = s.replace(storage=f"journal:{s.run_dir / 'study.journal'}")
    return run_search(s, quiet=True, score=planted)


def _trained(df):
    """Trained search trials (a trial dropped as another worker's duplicate is not)."""
    return df[df["state"].isin(["COMPLETE", "PRUNED", "FAIL"]) & ~df["baseline"]
              & ~df["reason"].str.startswith("duplicate")]


@pytest.mark.parametrize("strategy", sorted(STRATEGY_TYPES))
def test_every_strategy_respects_the_budget_and_never_trains_a_duplicate(tiny, strategy):
    result = _run(tiny, strategy, trials=12)
    df = result.trials
    trained = _trained(df)
    assert result.status == "finished" and len(trained) == 12
    assert (trained["gflops"] <= BUDGET_G).all() and trained["feasible"].all()
    assert df["arch_json"].is_unique, "an architecture was evaluated twice"
    bad = df[df["state"] == "INFEASIBLE"]
    if strategy in ("evolution", "random"):
        assert bad.empty, "this strategy should create no over-budget trial"
    assert (bad["epochs_run"] == 0).all() and (bad["gflops"] > BUDGET_G).all()


@pytest.mark.parametrize("strategy", sorted(STRATEGY_TYPES))
def test_every_strategy_resumes_without_replaying(tiny, strategy):
    first = _run(tiny, strategy, trials=6).trials
    again = _run(tiny, strategy, trials=12, resume=True).trials
    assert len(_trained(again)) == 12
    old = set(first["arch_json"])
    new = again[~again["number"].isin(first["number"])]
    assert len(new) >= 6 and not (set(new["arch_json"]) & old)
    assert again["arch_json"].is_unique


def test_two_workers_on_one_study_train_each_network_once(tiny, tmp_path):
    """Two loops (threads here, processes in use) on one journal, with the same seed, so that
    they propose the same children: every network is still trained once."""
    storage = f"journal:{tmp_path / 'shared.journal'}"
    results = []

    def work(name):
        results.append(_run(tiny, "evolution", trials=10, storage=storage, out=tmp_path / name))

    first = threading.Thread(target=work, args=("a",))
    first.start()
    while not (tmp_path / "a" / "run.json").exists() and first.is_alive():
        first.join(0.05)
    second = threading.Thread(target=work, args=("b",))
    second.start()
    first.join()
    second.join()
    df = results[-1].trials
    trained = _trained(df)
    assert trained["arch_json"].is_unique and len(trained) >= 10


def _hv(df) -> float:
    ok = df[(df["state"] == "COMPLETE") & df["feasible"] & ~df["baseline"]]
    return hypervolume(ok[["miou", "gflops"]].to_numpy(), ["maximize", "minimize"],
                       [0.0, BUDGET_G])


def test_the_default_beats_random_search_on_several_seeds(tiny, capsys):
    ratios = []
    for seed in (0, 1, 2):
        evo = _run(tiny, "evolution", trials=30, seed=seed).trials
        rnd = _run(tiny, "random", trials=30, seed=seed).trials
        best_e, best_r = evo["miou"].max(), rnd["miou"].max()
        ratios.append(_hv(evo) / _hv(rnd))
        with capsys.disabled():
            print(f"\nplanted objective, 30 trials, seed {seed}: hypervolume evolution "
                  f"{_hv(evo):.4f} vs random {_hv(rnd):.4f} (x{ratios[-1]:.2f}), best score "
                  f"{best_e:.3f} vs {best_r:.3f}")
    assert min(ratios) >= 1.10 and np.mean(ratios) >= 1.2, ratios
