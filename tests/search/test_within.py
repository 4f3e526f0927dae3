"""Budget-aware sampling (nas.search.sample_within, cheapest, space_report) and the gate."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nas.cost import Budget, BudgetInfeasibleError, estimate, violation
from nas.search import cheapest, sample_within, space_report
from nas.space import load_space

HYBRID = load_space("hybrid")
# witnesses, independent of the gate: seeded plain samples and their analytic cost. A budget
# that one of them meets is feasible, so the gate may not call it infeasible.
WITNESSES = [estimate(HYBRID.sample(s)) for s in range(300)]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31 - 1), gflops=st.floats(0.05, 40.0),
       mparams=st.one_of(st.none(), st.floats(0.02, 20.0)))
def test_sample_within_never_exceeds_the_budget(seed, gflops, mparams):
    text = f"{gflops}GFLOPs" + (f", {mparams}M params" if mparams else "")
    budget = Budget.parse(text)
    try:
        arch = sample_within(HYBRID, budget, seed=seed)
    except BudgetInfeasibleError as exc:
        fits = [c for c in WITNESSES if c.flops <= gflops * 1e9
                and (mparams is None or c.params <= mparams * 1e6)]
        assert not fits, f"called infeasible, but sampled architectures fit: {fits[:1]}"
        assert "budget infeasible: the cheapest architecture in hybrid.yaml needs" in str(exc)
        return
    cost = estimate(arch)
    assert cost.flops <= gflops * 1e9
    assert mparams is None or cost.params <= mparams * 1e6
    assert HYBRID.contains(arch)


def test_sample_within_is_seeded_and_varied():
    a = [sample_within(HYBRID, "5GFLOPs", seed=s) for s in range(6)]
    b = [sample_within(HYBRID, "5GFLOPs", seed=s) for s in range(6)]
    assert a == b
    assert len({x.to_json() for x in a}) > 3


def test_tight_budget_falls_back_to_the_walk_from_the_cheapest_point():
    """Plain samples almost never fit 0.5 GFLOPs; the fallback still returns in-budget ones."""
    archs = [sample_within(HYBRID, "0.5GFLOPs", seed=s) for s in range(3)]
    assert all(estimate(a).flops <= 0.5e9 for a in archs)


def test_infeasible_budget_reports_the_cheapest_point():
    with pytest.raises(BudgetInfeasibleError) as info:
        sample_within(load_space("hrvit"), "5GFLOPs", seed=0)
    msg = str(info.value)
    assert msg.startswith("budget infeasible: the cheapest architecture in hrvit.yaml needs")
    assert "GFLOPs at 512x512" in msg


def test_violation_and_report():
    b = Budget.parse("5GFLOPs, 3M params")
    cost = estimate(load_space("afformer").sample(0))
    assert violation(b, cost) == max(cost.flops / 5e9, cost.params / 3e6)
    rep = space_report(HYBRID, Budget.parse("5GFLOPs"), n=40)
    flops = sorted(c.flops for c in WITNESSES[:40])  # seeds 0..39, as the report samples
    assert rep.feasible == sum(f <= 5e9 for f in flops)
    assert rep.flops == (flops[0], (flops[19] + flops[20]) / 2, flops[-1])
    # the cheapest point is no dearer than any sample and is itself within the space
    arch, low = cheapest(HYBRID, Budget.parse("5GFLOPs"))
    assert HYBRID.contains(arch) and low.flops <= min(c.flops for c in WITNESSES)
    assert rep.cheapest == low
    assert "fit; cheapest point" in rep.text()
