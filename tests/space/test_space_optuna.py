"""An Optuna trial works as a chooser: no dynamic value spaces, replayable best params."""

from __future__ import annotations

import warnings

import pytest

from nas.space import FixedChooser, load_space

optuna = pytest.importorskip("optuna")


class TrialChooser:
    def __init__(self, trial) -> None:
        self.trial = trial

    def choose(self, label, choices):
        return self.trial.suggest_categorical(label, choices)


@pytest.mark.parametrize("name", ["hybrid", "afformer"])
def test_optuna_study_over_a_space(name: str) -> None:
    space = load_space(name)
    optuna.logging.set_verbosity(optuna.logging.WARNING)

    def objective(trial) -> float:
        arch = space.build(TrialChooser(trial))
        return sum(br.width * sum(br.depths) for st in arch.stages for br in st.branches)

    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. a label asked with changing choices
        study.optimize(objective, n_trials=40)
    best = study.best_trial
    arch = space.build(FixedChooser(best.params))
    assert space.params(arch) == best.params
    assert set(best.params) <= set(space.dimensions)
