"""Search strategies as objects: what the loop asks for the next candidate.

A strategy (in the spirit of Optuna's ``BaseSampler``) has two methods the runners call:
``propose(study, trials)`` returns the next candidate to train as a :class:`Proposal` (the
labels and values of the space that build it, plus attributes for the trial), and ``observe``
hears about finished trials. The study stays the single store: a proposal is queued into it as
fixed parameters (``study.enqueue_trial``) and asked by whichever worker is free, and everything
a strategy needs to continue (which architectures exist, which trials were parents, what was
predicted) is read back from the trials, so resume and several workers need no other state.

Registered implementations (``STRATEGY_TYPES``): ``evolution`` (the default, see
``_evolution``), ``random`` (uniform within the budget) and the Optuna samplers ``nsga2`` and
``tpe`` (see :class:`OptunaStrategy`).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import optuna
from optuna.trial import FrozenTrial, TrialState

from nas.arch import ArchConfig
from nas.cost import Budget, BudgetInfeasibleError
from nas.search._settings import STRATEGIES, SearchSettings
from nas.search._within import sample_within

if TYPE_CHECKING:
    from nas.space import SearchSpace

__all__ = [
    "A_DRAWS",
    "A_DUPLICATE",
    "A_HASH",
    "A_SAMPLER",
    "CONSTRAINTS_KEY",
    "STRATEGY_TYPES",
    "Draws",
    "OptunaStrategy",
    "Proposal",
    "RandomStrategy",
    "SearchContext",
    "Strategy",
    "arch_hash",
    "make_strategy",
    "register",
    "seen_hashes",
]

# user attributes written by the strategies (the trials table ignores the ones it does not know)
A_HASH, A_DRAWS, A_SAMPLER, A_SEEDED = "arch_hash", "draws", "sampler_attrs", "seeded"
A_DUPLICATE = "duplicate_of"  # a trial dropped because a lower-numbered one holds its network
# where Optuna keeps a trial's constraints (``optuna.study._constrained_optimization``); the list
# form is the one both Optuna's samplers and optuna-dashboard (0.21) read
CONSTRAINTS_KEY = "constraints"


def arch_hash(arch: ArchConfig) -> str:
    """A canonical hash of an architecture (its name left out): equal networks, equal hash."""
    data = arch.to_dict()
    data.pop("name", None)
    text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:24]


_HASH_CACHE: dict[str, str] = {}


def seen_hashes(trials: Sequence[FrozenTrial]) -> set[str]:
    """The architectures already in the study (any state, every worker, every invocation)."""
    out = set()
    for t in trials:
        h = t.user_attrs.get(A_HASH)
        if h is None and t.user_attrs.get("arch_json"):
            text = t.user_attrs["arch_json"]
            h = _HASH_CACHE.get(text)
            if h is None:
                h = _HASH_CACHE[text] = arch_hash(ArchConfig.from_json(text))
        if h is not None:
            out.add(h)
    return out


@dataclass
class Draws:
    """What one proposal cost: candidates drawn, how many fit the budget, duplicates skipped."""

    proposed: int = 0
    in_budget: int = 0
    duplicates: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"proposed": self.proposed, "in_budget": self.in_budget,
                "duplicates": self.duplicates, "seconds": round(self.seconds, 4)}


@dataclass
class Proposal:
    """A candidate to train: the labels/values that build it and the trial's attributes."""

    params: dict[str, Any]
    attrs: dict[str, Any] = field(default_factory=dict)


@dataclass
class SearchContext:
    """What a strategy knows: the settings, the space, the number of classes and how to price an
    architecture (the analytic cost model, plus the latency predictor when a budget or an
    objective needs it)."""

    settings: SearchSettings
    space: SearchSpace
    num_classes: int
    price: Callable[[ArchConfig], dict[str, float]]
    worker: int = 0

    @property
    def budget(self) -> Budget:
        return self.settings.budget

    def constraints(self, metrics: dict[str, float]) -> list[float]:
        return list(self.budget.constraints(metrics)) if self.budget.limits else [0.0]

    def fits(self, metrics: dict[str, float]) -> bool:
        return all(c <= 0 for c in self.constraints(metrics))

    def values(self, miou: float, metrics: dict[str, float]) -> list[float]:
        """Objective values in the study's units: mIoU, GFLOPs, M params, ms."""
        scale = {"flops": 1e-9, "params": 1e-6, "latency": 1.0}
        key = {"flops": "flops", "params": "params", "latency": "latency_ms"}
        return [miou if o.name == "miou" else float(metrics[key[o.name]]) * scale[o.name]
                for o in self.settings.objective_list]

    def seed(self, *parts: int) -> int:
        """A seed from the run's seed, this worker and ``parts`` (e.g. the trials so far)."""
        s = self.settings.seed * 1_000_003 + self.worker * 7919
        for i, p in enumerate(parts):
            s = s * 104_729 + (i + 1) * 31 + int(p)
        return s % (2**31 - 1)

    def static_budget(self) -> Budget:
        """The limits the analytic model prices exactly (FLOPs, params)."""
        return Budget(tuple(lim for lim in self.budget.limits
                            if lim.metric in ("flops", "params")))

    def draw_within(self, seed: int) -> ArchConfig:
        """A uniform draw of the space inside the FLOPs/params limits (``sample_within``)."""
        return sample_within(self.space, self.static_budget(), seed, self.settings.input_size,
                             num_classes=self.num_classes)

    def proposal(self, arch: ArchConfig, draws: Draws, **attrs: Any) -> Proposal | None:
        params = self.space.params(arch)
        if params is None:
            return None
        return Proposal(params, {A_HASH: arch_hash(arch), A_DRAWS: draws.to_dict(), **attrs})


class Strategy:
    """The interface: ``first`` (the seeded first population), ``propose``, ``observe``."""

    name: ClassVar[str] = ""

    def __init__(self, ctx: SearchContext) -> None:
        self.ctx = ctx

    def sampler(self, n_existing: int) -> optuna.samplers.BaseSampler:
        """The sampler of the real study: it only replays the fixed parameters of proposals."""
        return optuna.samplers.RandomSampler(seed=self.ctx.seed(n_existing))

    def first(self, n: int, seen: set[str]) -> list[Proposal]:
        """``n`` distinct candidates drawn uniformly inside the budget (the first population)."""
        out: list[Proposal] = []
        for i in range(4 * n):
            if len(out) >= n:
                break
            try:
                arch = self.ctx.draw_within(self.ctx.seed(10_007, i))
            except BudgetInfeasibleError:
                break
            h = arch_hash(arch)
            if h in seen or not self.ctx.fits(self.ctx.price(arch)):
                continue
            prop = self.ctx.proposal(arch, Draws(1, 1), **{A_SEEDED: True})
            if prop is not None:
                seen.add(h)
                out.append(prop)
        return out

    def propose(self, study: optuna.Study, trials: Sequence[FrozenTrial]) -> Proposal | None:
        raise NotImplementedError

    def observe(self, trials: Sequence[FrozenTrial]) -> None:
        """Finished trials (all of them, read once per step); nothing by default."""


STRATEGY_TYPES: dict[str, type[Strategy]] = {}


def register(cls: type[Strategy]) -> type[Strategy]:
    """Class decorator: make ``cls`` available as ``--strategy cls.name``."""
    if cls.name not in STRATEGIES:
        raise ValueError(f"strategy {cls.name!r} is not listed in nas.search.STRATEGIES")
    STRATEGY_TYPES[cls.name] = cls
    return cls


def make_strategy(ctx: SearchContext) -> Strategy:
    import nas.search._evolution  # noqa: F401 - registers the default

    return STRATEGY_TYPES[ctx.settings.strategy](ctx)


@register
class RandomStrategy(Strategy):
    """Random search within the budget: uniform draws of the space priced analytically and
    redrawn until they fit (``sample_within``, about a millisecond per draw), never an
    over-budget trial; draws already in the study are skipped."""

    name = "random"

    def propose(self, study: optuna.Study, trials: Sequence[FrozenTrial]) -> Proposal | None:
        t0, draws, seen = time.perf_counter(), Draws(), seen_hashes(trials)
        for i in range(200):
            arch = self.ctx.draw_within(self.ctx.seed(len(trials), i))
            draws.proposed += 1
            if arch_hash(arch) in seen:
                draws.duplicates += 1
                continue
            if not self.ctx.fits(self.ctx.price(arch)):  # a latency limit the draw missed
                continue
            draws.in_budget += 1
            draws.seconds = time.perf_counter() - t0
            prop = self.ctx.proposal(arch, draws)
            if prop is not None:
                return prop
        return None


class OptunaStrategy(Strategy):
    """An Optuna sampler as a strategy. The sampler proposes on an in-memory copy of the study
    (the finished trials that are points of the space: baselines outside it, which have no
    parameters, would empty the intersection search space of NSGA-II and TPE), so that walking
    the space costs no storage writes; an over-budget proposal is stored in the study in one
    write (``study.add_trial``: COMPLETE, constraint values in the system attribute Optuna's
    samplers and optuna-dashboard read, so both see it as infeasible and ``best_trials`` leaves
    it out) and the sampler is asked again, until a feasible new architecture comes out.

    What Optuna's samplers cannot do on this conditional space: NSGA-II crosses over only the
    labels every parent shares (its ``IntersectionSearchSpace``: about 23 of the 160 labels of
    ``hybrid.yaml``; the other 134 are conditional and a variant label such as
    ``stage3.branch3.mixer[factorized|freq]`` is a different parameter from
    ``stage3.branch3.mixer``), and draws the rest at random; TPE (multivariate, grouped by the
    labels that occur together) models each group separately. Neither knows the cost model, so
    most of their proposals fall outside a tight budget (about 92% at 5 GFLOPs@512).
    """

    max_attempts = 2000

    def make_sampler(self, seed: int) -> optuna.samplers.BaseSampler:
        raise NotImplementedError

    def first(self, n: int, seen: set[str]) -> list[Proposal]:
        props = super().first(n, seen)
        key = self._generation_key()
        if key:  # the seeded population is NSGA-II's generation 0 (it breeds generation 1)
            for p in props:
                p.attrs[A_SAMPLER] = {key: 0}
        return props

    def _generation_key(self) -> str | None:
        return None

    def propose(self, study: optuna.Study, trials: Sequence[FrozenTrial]) -> Proposal | None:
        t0, draws, ctx = time.perf_counter(), Draws(), self.ctx
        seen = seen_hashes(trials)
        mirror = optuna.create_study(directions=ctx.settings.directions,
                                     sampler=self.make_sampler(ctx.seed(len(trials))))
        mirror.add_trials([t for t in trials if t.state in (TrialState.COMPLETE,
                                                            TrialState.PRUNED) and t.params])
        rejected: list[FrozenTrial] = []
        from nas.search._evaluate import (
            A_ARCH,
            A_CONSTRAINTS,
            A_COST,
            A_INFEASIBLE,
            A_REASON,
            OptunaChooser,
        )

        try:
            for _ in range(self.max_attempts):
                t = mirror.ask()
                arch = ctx.space.build(OptunaChooser(t), num_classes=ctx.num_classes)
                draws.proposed += 1
                h = arch_hash(arch)
                if h in seen:
                    draws.duplicates += 1
                    mirror.tell(t, state=TrialState.FAIL)
                    continue
                seen.add(h)
                metrics = ctx.price(arch)
                cons = ctx.constraints(metrics)
                system = mirror._storage.get_trial_system_attrs(t._trial_id)  # noqa: SLF001
                sampler_attrs = {k: v for k, v in system.items() if k.endswith(":generation")}
                if all(c <= 0 for c in cons):
                    draws.in_budget += 1
                    draws.seconds = time.perf_counter() - t0
                    return Proposal(dict(t.params), {A_HASH: h, A_DRAWS: draws.to_dict(),
                                                     A_SAMPLER: sampler_attrs})
                values = ctx.values(0.0, metrics)
                mirror._storage.set_trial_system_attr(  # noqa: SLF001 - no public API
                    t._trial_id, CONSTRAINTS_KEY, tuple(cons))  # noqa: SLF001
                mirror.tell(t, values)
                over = ", ".join(f"{lim.metric} {metrics[lim.metric]:.4g} > {lim.value:.4g}"
                                 for lim, c in zip(ctx.budget.limits, cons, strict=True) if c > 0)
                rejected.append(optuna.trial.create_trial(
                    values=values, params=dict(t.params), distributions=dict(t.distributions),
                    system_attrs={**sampler_attrs, CONSTRAINTS_KEY: tuple(cons)},
                    user_attrs={A_HASH: h, A_ARCH: arch.to_json(indent=None), A_COST: metrics,
                                A_CONSTRAINTS: cons, A_INFEASIBLE: True,
                                A_REASON: f"over budget: {over}"}))
                if len(rejected) >= 50:
                    _store(study, rejected)
            return None
        finally:
            _store(study, rejected)


def _store(study: optuna.Study, trials: list[FrozenTrial]) -> None:
    """Store over-budget proposals, one write each (no per-parameter writes)."""
    from nas.search._signals import no_interrupts

    with no_interrupts():
        for t in trials:
            study.add_trial(t)
    trials.clear()


@register
class NSGA2Strategy(OptunaStrategy):
    """Optuna's NSGA-II (constrained domination; the seeded population is generation 0)."""

    name = "nsga2"

    def make_sampler(self, seed: int) -> optuna.samplers.BaseSampler:
        return optuna.samplers.NSGAIISampler(seed=seed,
                                             population_size=self.ctx.settings.population_size)

    def _generation_key(self) -> str | None:
        return optuna.samplers.NSGAIISampler._get_generation_key()  # noqa: SLF001


@register
class TPEStrategy(OptunaStrategy):
    """Optuna's TPE, multivariate and grouped (``group=True`` models the labels that occur
    together jointly: the way TPE handles a conditional space); infeasible trials go to its
    "above" set by their constraint values."""

    name = "tpe"

    def make_sampler(self, seed: int) -> optuna.samplers.BaseSampler:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.samplers.TPESampler(
                seed=seed, n_startup_trials=min(10, self.ctx.settings.population_size),
                multivariate=True, group=True)
