"""The unit model: estimates for units a latency table lacks (made-up entries where only the
arithmetic matters, no timing), and predict_latency's ``missing`` modes."""

from __future__ import annotations

import math

import pytest

from nas.arch import load_arch
from nas.cost import Entry, LatencyTable, UnitModel, predict_latency
from nas.cost._latency_table import unit_features
from nas.errors import NasError
from nas.models import units
from nas.space import load_space

SIZE = (64, 64)


def _law(u) -> float:
    """A made-up latency law of the kind the model can express: a power of the work per kind."""
    kind, flops, _, elems = unit_features(u)
    scale = {"stem": 2.0, "head": 3.0}.get(kind, 1.0)
    return scale * 1e-3 * (1 + flops) ** 0.5 * (1 + elems) ** 0.1


def _table(archs) -> LatencyTable:
    table = LatencyTable.new("cpu", 1, SIZE)
    for arch in archs:
        for u in units(arch, SIZE):
            ms = _law(u)
            table.entries[u.key] = Entry(ms, ms, ms, 3, *unit_features(u))
    return table


def test_the_model_learns_a_power_law_and_estimates_unseen_units():
    space = load_space("hybrid")
    table = _table([space.sample(s) for s in range(12)])
    model = UnitModel.fit(table)
    assert model is not None and model.n == len(table) and model.rel_rmse < 0.05
    fresh = [u for u in units(space.sample(99), SIZE) if u.key not in table]
    assert fresh
    got = model.predict(fresh)
    for u, ms in zip(fresh, got, strict=True):
        assert ms == pytest.approx(_law(u), rel=0.15)
    assert UnitModel.fit(table) is model  # cached until the table grows


def test_too_small_a_table_has_no_model_and_old_entries_are_ignored():
    table = LatencyTable.new("cpu", 1, SIZE)
    for i in range(20):  # entries from a table written before features were stored
        table.entries[f"k{i}"] = Entry(1.0, 1.0, 1.0, 3)
    assert UnitModel.fit(table) is None


def test_predict_latency_missing_modes(tmp_path):
    space = load_space("hybrid")
    table = _table([space.sample(s) for s in range(12)])
    arch = space.sample(99)
    parts = units(arch, SIZE)
    n_before = len(table)
    with pytest.raises(NasError, match="not in the latency table"):
        predict_latency(arch, table)
    estimate = predict_latency(arch, table, missing="model")
    assert len(table) == n_before  # an estimate adds nothing
    assert estimate == pytest.approx(sum(_law(u) for u in parts), rel=0.15)
    assert math.isfinite(estimate)
    with pytest.raises(NasError, match="missing='guess'"):
        predict_latency(arch, table, missing="guess")
    # "measure" times the missing units (really) and adds them with their features
    small = LatencyTable.new("cpu", 1, SIZE, tmp_path / "t.json")
    ms = predict_latency(load_arch("afformer_tiny"), small, missing="measure", warmup=0, runs=1)
    assert ms > 0 and all(e.kind and e.elems for e in small.entries.values())
    assert LatencyTable.load(tmp_path / "t.json").entries == small.entries


def test_model_mode_measures_while_the_table_is_too_small_for_a_model():
    table = LatencyTable.new("cpu", 1, SIZE)
    arch = load_arch("afformer_tiny")
    predict_latency(arch, table, missing="model")  # nothing to learn from yet: measured
    assert len(table) == len({u.key for u in units(arch, SIZE)})
