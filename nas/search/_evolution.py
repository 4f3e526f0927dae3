"""``evolution``, the default strategy: constrained, surrogate-assisted evolution.

* Parents: the non-dominated feasible trials that are points of the space (search trials, the
  seeded first population, and the baselines that the space contains), read from the study.
  Ageing keeps a run from collapsing onto one family: a trial breeds at most ``max_children``
  children, and the younger (fewer children so far) are picked more often; when the front is
  exhausted, the next non-dominated ranks step in.
* Children: mutation of 1-3 dimensions of one parent (a dimension the change makes appear is
  drawn fresh, one it makes disappear is dropped: the walk of the space asks only what is
  relevant) or crossover over the union of both parents' labels (each question answered by one
  parent or the other, at random; fresh where neither has it).
* Repair: each child is priced by the analytic cost model (``nas.cost.estimate``, about a
  millisecond) and redrawn until it fits every limit, before any trial exists; a child whose
  architecture is already in the study (any state, any worker, any invocation) is skipped.
* Pre-screen: once enough trials are trained, a pool of ``pool_size`` repaired children is
  ranked by the surrogate (``_surrogate``: hypervolume gain of the optimistic prediction) and
  the best is trained; a fixed share (``random_share``) of the proposals is a random pool member
  instead (exploration, and an unbiased sample for the surrogate's held-out rank correlation).

Hand-written because no library does it: the operators must walk our conditional space, and the
repair needs our exact cost model. The model itself is scikit-learn's.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import optuna
from optuna.trial import FrozenTrial, TrialState

from nas.arch import ArchConfig
from nas.cost import BudgetInfeasibleError
from nas.metrics import pareto_mask
from nas.search._strategy import (
    Draws,
    Proposal,
    SearchContext,
    Strategy,
    arch_hash,
    register,
    seen_hashes,
)
from nas.search._surrogate import Surrogate, encode, held_out_rank
from nas.space import base_label, same_value

__all__ = ["A_PARENTS", "A_SURROGATE", "EvolutionStrategy", "surrogate_summary"]

A_PARENTS, A_SURROGATE = "parents", "surrogate"
_MISSING = object()


class _Mutate:
    """Replays ``parent`` (by base label) except for the ``mutated`` questions, which get a new
    value, and the questions the parent never had, which are drawn fresh."""

    def __init__(self, parent: dict[str, Any], mutated: set[str], rng: np.random.Generator):
        self.parent, self.mutated, self.rng = parent, mutated, rng

    def choose(self, label: str, choices: Sequence[Any]) -> Any:
        base = base_label(label)
        old = self.parent.get(base, _MISSING)
        if base in self.mutated:
            other = [c for c in choices if not same_value(c, old)] or list(choices)
            return other[int(self.rng.integers(len(other)))]
        for c in choices:
            if same_value(c, old):
                return c
        return choices[int(self.rng.integers(len(choices)))]


class _Cross:
    """Each question answered by parent ``a`` or ``b`` (at random among those that have a valid
    answer), fresh where neither has one: crossover over the union of both parents' labels."""

    def __init__(self, a: dict[str, Any], b: dict[str, Any], rng: np.random.Generator):
        self.a, self.b, self.rng = a, b, rng

    def choose(self, label: str, choices: Sequence[Any]) -> Any:
        base = base_label(label)
        options = []
        for parent in (self.a, self.b):
            v = parent.get(base, _MISSING)
            options.extend(c for c in choices if same_value(c, v))
        pool = options or list(choices)
        return pool[int(self.rng.integers(len(pool)))]


@register
class EvolutionStrategy(Strategy):
    name = "evolution"
    pool_size = 1000  # repaired children ranked by the surrogate per proposal
    random_share = 0.25  # share of proposals drawn at random from the pool
    crossover_rate = 0.3
    max_children = 8  # ageing: children a trial may breed
    min_fit = 8  # trained trials before the surrogate ranks the pool
    repair_tries = 20  # redraws per pool slot before giving up on it
    n_trees = 100  # of the surrogate's random forest

    def __init__(self, ctx: SearchContext) -> None:
        super().__init__(ctx)
        self.surrogate = Surrogate(seed=ctx.seed(17), n_estimators=self.n_trees)
        self._fitted_on = -1
        self._feats: dict[str, np.ndarray] = {}
        self.rank: dict[str, Any] = {"n": 0, "kendall_tau": None, "spearman": None}

    # ------------------------------------------------------------------ propose
    def propose(self, study: optuna.Study, trials: Sequence[FrozenTrial]) -> Proposal | None:
        t0, draws = time.perf_counter(), Draws()
        rng = np.random.default_rng(self.ctx.seed(len(trials), 3))
        seen = seen_hashes(trials)
        parents = self._parents(trials)
        if not parents:
            return self._fresh(rng, seen, draws, t0)
        fitted = self._fit(trials)
        pool = self._pool(parents, rng, seen, draws, self.pool_size if fitted else 1)
        if not pool:
            return self._fresh(rng, seen, draws, t0)
        attrs: dict[str, Any] = {}
        pick = int(rng.integers(len(pool)))
        how = "random" if fitted else "unranked"
        if fitted:
            feats = np.stack([self._features(a, m) for a, m, _ in pool])
            mean, std = self.surrogate.predict(feats)
            if rng.random() >= self.random_share:
                front, directions, reference = self._front(trials)
                costs = np.array([self.ctx.values(0.0, m)[1:] for _, m, _ in pool])
                gains = self.surrogate.acquisition(mean, std, costs, front, directions,
                                                   reference)
                pick, how = int(np.argmax(gains)), "surrogate"
            attrs = {"pred": float(mean[pick]), "std": float(std[pick]),
                     "n_fit": self.surrogate.n_trials, "pool": len(pool)}
        attrs.update(pick=how, **{k: v for k, v in self.rank.items()})
        arch, metrics, parent_numbers = pool[pick]
        draws.seconds = time.perf_counter() - t0
        return self.ctx.proposal(arch, draws, **{A_PARENTS: parent_numbers,
                                                 A_SURROGATE: attrs})

    def _fresh(self, rng: np.random.Generator, seen: set[str], draws: Draws, t0: float
               ) -> Proposal | None:
        """No parent yet: a uniform draw inside the budget."""
        for _ in range(200):
            try:
                arch = self.ctx.draw_within(int(rng.integers(2**31 - 1)))
            except BudgetInfeasibleError:
                return None
            draws.proposed += 1
            if arch_hash(arch) in seen:
                draws.duplicates += 1
                continue
            if self.ctx.fits(self.ctx.price(arch)):
                draws.in_budget += 1
                draws.seconds = time.perf_counter() - t0
                return self.ctx.proposal(arch, draws, **{A_SURROGATE: {"pick": "fresh"}})
        return None

    # ------------------------------------------------------------------ parents
    def _parents(self, trials: Sequence[FrozenTrial]) -> list[tuple[FrozenTrial, float]]:
        """(trial, selection weight): the non-dominated feasible points of the space, younger
        ones weighted up, those with ``max_children`` children retired."""
        done = [t for t in trials if t.state == TrialState.COMPLETE and t.values and t.params
                and all(c <= 0 for c in t.user_attrs.get("constraints") or [0.0])
                and not t.user_attrs.get("infeasible")]
        if not done:
            return []
        children: dict[int, int] = {}
        for t in trials:
            for p in t.user_attrs.get(A_PARENTS) or []:
                children[p] = children.get(p, 0) + 1
        values = np.array([t.values for t in done], dtype=float)
        left = np.ones(len(done), dtype=bool)
        out: list[tuple[FrozenTrial, float]] = []
        while left.any() and len(out) < 3:
            idx = np.flatnonzero(left)
            front = idx[pareto_mask(values[idx], self.ctx.settings.directions)]
            for i in front:
                n = children.get(done[i].number, 0)
                if n < self.max_children:
                    out.append((done[i], 1.0 / (1.0 + n)))
            left[front] = False
        return out

    def _pool(self, parents: list[tuple[FrozenTrial, float]], rng: np.random.Generator,
              seen: set[str], draws: Draws, size: int) -> list[tuple[ArchConfig, dict, list]]:
        weights = np.array([w for _, w in parents])
        weights /= weights.sum()
        params = [{base_label(k): v for k, v in t.params.items()} for t, _ in parents]
        pool: list[tuple[ArchConfig, dict, list]] = []
        in_pool: set[str] = set()
        for _ in range(size * self.repair_tries):
            if len(pool) >= size:
                break
            if len(parents) >= 2 and rng.random() < self.crossover_rate:
                i, j = rng.choice(len(parents), size=2, replace=False, p=weights)
                chooser: Any = _Cross(params[i], params[j], rng)
                used = [parents[i][0].number, parents[j][0].number]
            else:
                i = int(rng.choice(len(parents), p=weights))
                labels = sorted(params[i])
                k = int(rng.integers(1, 4))
                mutated = set(rng.choice(labels, size=min(k, len(labels)), replace=False))
                chooser, used = _Mutate(params[i], mutated, rng), [parents[i][0].number]
            arch = self.ctx.space.build(chooser, num_classes=self.ctx.num_classes)
            draws.proposed += 1
            h = arch_hash(arch)
            if h in seen or h in in_pool:
                draws.duplicates += 1
                continue
            metrics = self.ctx.price(arch)
            if not self.ctx.fits(metrics):
                continue  # repaired by redrawing: never becomes a trial
            draws.in_budget += 1
            in_pool.add(h)
            pool.append((arch, metrics, used))
        return pool

    # ------------------------------------------------------------------ surrogate
    def _features(self, arch: ArchConfig, metrics: dict[str, float]) -> np.ndarray:
        h = arch_hash(arch)
        if h not in self._feats:
            self._feats[h] = encode(arch, metrics)
        return self._feats[h]

    def _fit(self, trials: Sequence[FrozenTrial]) -> bool:
        rows = []
        for t in trials:
            ua = t.user_attrs
            if t.state not in (TrialState.COMPLETE, TrialState.PRUNED) or not ua.get(
                    "trained") or not ua.get("arch_json") or not ua.get("epoch_miou"):
                continue
            arch = ArchConfig.from_json(ua["arch_json"])
            rows.append((self._features(arch, ua.get("cost") or {}), ua["epoch_miou"]))
        self.rank = surrogate_summary(trials)
        if len(rows) < self.min_fit:
            return False
        if len(rows) != self._fitted_on:
            self.surrogate.fit(rows)
            self._fitted_on = len(rows)
        return self.surrogate.model is not None

    def _front(self, trials: Sequence[FrozenTrial]):
        s = self.ctx.settings
        done = [t.values for t in trials if t.state == TrialState.COMPLETE and t.values
                and not t.user_attrs.get("infeasible")]
        front = np.array(done, dtype=float).reshape(-1, len(s.directions))
        limits = {}
        for metric in ("flops", "params", "latency_ms"):
            lim = s.budget.get(metric)
            limits[metric] = lim.value if lim is not None else float("nan")
        reference = self.ctx.values(0.0, limits)
        for j in range(1, len(reference)):  # an unlimited cost: 10% beyond the worst seen
            if not np.isfinite(reference[j]):
                reference[j] = float(front[:, j].max()) * 1.1 if len(front) else 1.0
        return front, s.directions, reference


def surrogate_summary(trials: Sequence[FrozenTrial]) -> dict[str, Any]:
    """The surrogate's held-out rank correlation so far: its prediction for each trial (made
    when the trial was proposed, before it was trained) against the mIoU the trial reached."""
    pairs = []
    for t in trials:
        sur = t.user_attrs.get(A_SURROGATE) or {}
        if ("pred" in sur and t.state == TrialState.COMPLETE and t.values
                and not t.user_attrs.get("infeasible")):
            pairs.append((float(sur["pred"]), float(t.values[0])))
    return held_out_rank(pairs)

