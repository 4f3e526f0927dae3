"""Budget-aware sampling from a search space, priced by the analytic cost model.

:func:`sample_within` first draws plain samples (so the space's own distribution is kept where
the budget allows it), a bounded number of times. If none fits, it finds the space's cheapest
point by a greedy descent over the questions of the space and, starting there, takes one random
walk that accepts only changes that stay within budget: always a valid, in-budget architecture,
in bounded time, and no unbounded rejection loop. If even the cheapest point breaks the budget,
it raises :class:`~nas.cost.BudgetInfeasibleError` with that point's cost.

It lives on the search side because it needs both the space (``nas.space``) and the cost model
(``nas.cost``); neither of those packages imports the other.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from nas.arch import ArchConfig
from nas.cost import Budget, BudgetInfeasibleError, Cost, describe_cost, estimate, violation
from nas.errors import NasError
from nas.space import SearchSpace

__all__ = ["SpaceReport", "cheapest", "sample_within", "space_report"]

CostFn = Callable[[ArchConfig], Cost]


class _Replay:
    """A chooser that replays ``fixed`` answers where they are still allowed and asks ``other``
    (a callable) for the rest."""

    def __init__(self, fixed: dict[str, Any], other: Callable[[str, Sequence[Any]], Any]):
        self.fixed, self.other = fixed, other

    def choose(self, label: str, choices: Sequence[Any]) -> Any:
        if label in self.fixed and self.fixed[label] in choices:
            return self.fixed[label]
        return self.other(label, choices)


def _first(label: str, choices: Sequence[Any]) -> Any:
    return choices[0]


def cheapest(
    space: SearchSpace, budget: Budget, input_size: tuple[int, int] = (512, 512),
    cost_fn: CostFn | None = None, sweeps: int = 3, num_classes: int = 150,
) -> tuple[ArchConfig, Cost]:
    """The cheapest point of ``space`` for ``budget`` (minimum of :func:`violation`), by greedy
    coordinate descent over the questions of the space, in walk order (questions that appear
    after a change are answered with their first choice). Bounded: ``sweeps`` passes."""
    cost_fn = cost_fn or (lambda a: estimate(a, input_size))
    arch = space.build(_Replay({}, _first), num_classes)
    best = violation(budget, cost_fn(arch))
    for _ in range(sweeps):
        improved = False
        answers = space.params(arch) or {}
        for label in list(answers):
            if label not in answers:  # gone after an earlier change in this sweep
                continue
            for value in space.dimensions[label].choices:
                cand = space.build(_Replay({**answers, label: value}, _first), num_classes)
                v = violation(budget, cost_fn(cand))
                if v < best - 1e-12:
                    best, arch, improved = v, cand, True
                    answers = space.params(cand) or {}
        if not improved:
            break
    return arch, cost_fn(arch)


def sample_within(
    space: SearchSpace, budget: Budget | str, seed: int, input_size: tuple[int, int] = (512, 512),
    cost_fn: CostFn | None = None, tries: int = 64, num_classes: int = 150,
) -> ArchConfig:
    """A seeded architecture of ``space`` inside every limit of ``budget`` (a Budget or text
    such as ``"5GFLOPs"``); ``BudgetInfeasibleError`` with the cheapest point's cost when
    nothing fits."""
    if isinstance(budget, str):
        budget = Budget.parse(budget)
    cost_fn = cost_fn or (lambda a: estimate(a, input_size))
    if not budget.limits:
        return space.sample(seed, num_classes)
    rng = np.random.default_rng(seed)
    for child in rng.integers(0, 2**31 - 1, size=tries):
        arch = space.sample(int(child), num_classes)
        if violation(budget, cost_fn(arch)) <= 1:
            return arch
    base, base_cost = cheapest(space, budget, input_size, cost_fn, num_classes=num_classes)
    if violation(budget, base_cost) > 1:
        raise BudgetInfeasibleError(
            f"budget infeasible: the cheapest architecture in {space.name}.yaml needs "
            f"{describe_cost(budget, base_cost)}; raise the budget or use a smaller space"
        )
    # one random walk from the cheapest point, keeping only in-budget changes
    current = space.params(base) or {}
    for label in rng.permutation(sorted(current)):
        pick = lambda lab, ch: ch[int(rng.integers(len(ch)))]  # noqa: E731
        fixed = {k: v for k, v in current.items() if k != label}
        cand = space.build(_Replay(fixed, pick), num_classes)
        if violation(budget, cost_fn(cand)) <= 1:
            current = space.params(cand) or current
    arch = space.build(_Replay(current, _first), num_classes)
    return arch if violation(budget, cost_fn(arch)) <= 1 else base


@dataclass(frozen=True)
class SpaceReport:
    """Cost range of a space under a budget (from ``n`` seeded samples) and its cheapest point."""

    space: str
    budget: str
    input_size: tuple[int, int]
    n: int
    feasible: int
    flops: tuple[float, float, float]  # min, median, max over the samples
    params: tuple[float, float, float]
    cheapest: Cost

    def text(self) -> str:
        h, w = self.input_size
        f, p = self.flops, self.params
        return (
            f"cost at {h}x{w} over {self.n} samples: FLOPs {f[0] / 1e9:.2f} / {f[1] / 1e9:.2f} / "
            f"{f[2] / 1e9:.2f} G (min / median / max), params {p[0] / 1e6:.2f} / {p[1] / 1e6:.2f}"
            f" / {p[2] / 1e6:.2f} M\nbudget {self.budget}: {self.feasible}/{self.n} samples "
            f"({self.feasible / self.n:.1%}) fit; cheapest point: "
            f"{self.cheapest.flops / 1e9:.3f} GFLOPs, {self.cheapest.params / 1e6:.2f}M params"
        )


def space_report(
    space: SearchSpace, budget: Budget, input_size: tuple[int, int] = (512, 512), n: int = 500,
) -> SpaceReport:
    """How much of ``space`` fits ``budget``: samples seeds 0..n-1 and prices them analytically."""
    if n < 1:
        raise NasError(f"--n must be >= 1, got {n}")
    costs = [estimate(space.sample(seed), input_size) for seed in range(n)]
    feasible = sum(violation(budget, c) <= 1 for c in costs) if budget.limits else n
    _, low = cheapest(space, budget, input_size) if budget.limits else (None, min(
        costs, key=lambda c: c.flops))
    q = lambda xs: (float(min(xs)), float(np.median(xs)), float(max(xs)))  # noqa: E731
    return SpaceReport(space.name, str(budget), tuple(input_size), n, int(feasible),
                       q([c.flops for c in costs]), q([c.params for c in costs]), low)
