"""Compute budgets: ``nas search --budget 5GFLOPs --budget "3.5M params, 30ms"``.

A :class:`Budget` is a set of upper :class:`Limit` s, at most one per metric (FLOPs, parameters,
latency in milliseconds). Constraint values follow Optuna's convention: ``cost - limit``, so a
value <= 0 is feasible. Pure Python: no torch import (``nas.cost`` re-exports these names).

Unit prefixes are SI and case-insensitive except ``m``, which must be written ``M`` (mega):
``5mFLOPs`` would read as milli-FLOPs and is rejected as ambiguous.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Literal, cast

from nas.errors import NasError
from nas.metrics import METRICS as _ALL_METRICS

__all__ = ["METRICS", "Budget", "Limit", "Metric", "parse_budgets"]

Metric = Literal["flops", "params", "latency_ms"]
# the metrics a budget can limit: the minimised ones of nas.metrics.METRICS
METRICS: tuple[Metric, ...] = tuple(
    cast(Metric, m.name) for m in _ALL_METRICS.values() if m.direction == "minimize")

_FORMS = (
    "accepted forms: 5GFLOPs, 500MFLOPs, 750KFLOPs, 1.5TFLOPs, 5e9FLOPs, 3.5M params, 800K params, "
    "3500000params, 30ms, 0.03s, 250us; join several with ',', ';' or 'and'"
)
# One limit: an optional number (loose, so malformed ones are reported as such), then an optional
# unit of one or two words ("GFLOPs", "M params"). Whatever follows is trailing garbage.
_LIMIT = re.compile(
    r"(?P<num>[-+]?(?:[\d.]+(?:[eE][-+]?[\d.]*)?|(?i:nan|inf(?:inity)?)\b))?"
    r"\s*(?P<unit>[^\W\d_]+(?:\s+[^\W\d_]+)?)?"
)
_SEP = re.compile(r"[,;]|\s+and\s+", re.IGNORECASE)
_COUNTED = re.compile(r"(?P<prefix>[A-Za-z]?)(?P<word>(?i:flops?|params?))")
_PREFIX = {"": 1, "k": 10**3, "K": 10**3, "M": 10**6, "G": 10**9, "g": 10**9,
           "T": 10**12, "t": 10**12}
_TIME_MS = {"ms": Decimal(1), "s": Decimal(1000), "us": Decimal("0.001"),
            "\u00b5s": Decimal("0.001"), "\u03bcs": Decimal("0.001")}


def _fail(text: str, problem: str) -> NasError:
    return NasError(f"budget {text!r}: {problem}; {_FORMS}")


@dataclass(frozen=True)
class Limit:
    """An upper limit on one metric; latency is in milliseconds."""

    metric: Metric
    value: float

    def __post_init__(self) -> None:
        if self.metric not in METRICS:
            raise NasError(f"budget metric {self.metric!r}: use one of {', '.join(METRICS)}")
        value = self.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise NasError(f"{self.metric} limit {value!r}: give a number, e.g. 5e9")
        if not (math.isfinite(value) and value > 0):
            raise NasError(f"{self.metric} limit {value!r}: must be a finite number > 0")
        object.__setattr__(self, "value", float(value))

    def constraint(self, cost_value: float) -> float:
        """``cost_value - value``: <= 0 is feasible (Optuna's ``constraints_func`` convention)."""
        return float(cost_value) - self.value

    def __str__(self) -> str:
        if self.metric == "latency_ms":
            return f"{self.value:.12g} ms"
        scale, prefix = next(((s, p) for p, s in (("T", 1e12), ("G", 1e9), ("M", 1e6),
                                                   ("K", 1e3)) if self.value >= s), (1, ""))
        number = f"{self.value / scale:.12g}"
        return f"{number} {prefix}FLOPs" if self.metric == "flops" else f"{number}{prefix} params"


def _parse_limit(text: str, part: str) -> Limit:
    """One ``<number><unit>`` item of a budget string (``text`` is quoted in errors)."""
    m = _LIMIT.match(part)
    num, unit = m.group("num"), m.group("unit")
    if m.end() < len(part):
        raise _fail(text, f"unexpected text {part[m.end():]!r} in {part!r}")
    if num is None:
        raise _fail(text, f"{part!r} has no number")
    try:
        number = Decimal(num)
    except InvalidOperation:
        raise _fail(text, f"malformed number {num!r} in {part!r}") from None
    if unit is None:
        raise _fail(text, f"{part!r} has no unit, so it is ambiguous")
    if number.is_nan() or number <= 0:
        raise _fail(text, f"{part!r}: the limit must be a number > 0")
    if number.is_infinite():
        raise _fail(text, f"{part!r}: an infinite limit is no limit; leave it out")
    word = "".join(unit.split())
    counted = _COUNTED.fullmatch(word)
    if word in _TIME_MS:
        metric, scale = "latency_ms", _TIME_MS[word]
    elif counted and counted["prefix"] == "m":
        raise _fail(text, f"{part!r} is ambiguous: lowercase m is milli; write M for mega")
    elif counted and counted["prefix"] in _PREFIX:
        metric = "flops" if counted["word"].lower().startswith("flop") else "params"
        scale = Decimal(_PREFIX[counted["prefix"]])
    elif word in _PREFIX or word == "m":
        p = word.replace("m", "M")
        raise _fail(text, f"{part!r} is ambiguous: say {p}FLOPs or {p} params")
    else:
        raise _fail(text, f"unknown unit {unit!r} in {part!r}")
    try:
        value = float(number * scale)
    except ArithmeticError:  # decimal Overflow / Underflow
        value = math.inf
    if not (math.isfinite(value) and value > 0):
        raise _fail(text, f"{part!r} is out of range")
    return Limit(cast(Metric, metric), value)


@dataclass(frozen=True)
class Budget:
    """Upper limits on a candidate's cost, at most one per metric, kept in ``METRICS`` order."""

    limits: tuple[Limit, ...] = ()

    def __post_init__(self) -> None:
        limits = tuple(self.limits)
        for a in limits:
            if not isinstance(a, Limit):
                raise NasError(f"budget: {a!r} is not a Limit")
            twins = [str(b) for b in limits if b.metric == a.metric]
            if len(twins) > 1:
                raise NasError(f"budget: {a.metric} is limited more than once "
                               f"({' and '.join(twins)}); give each metric once")
        object.__setattr__(self, "limits",
                           tuple(sorted(limits, key=lambda lim: METRICS.index(lim.metric))))

    @classmethod
    def parse(cls, text: str) -> Budget:
        """Parse ``"5GFLOPs"``, ``"3.5M params; 30ms"``, ``"5 GFLOPs and 0.03 s"`` ..."""
        if not isinstance(text, str):
            raise NasError(f"budget {text!r}: give a string, e.g. '5GFLOPs, 30ms'")
        if not text.strip():
            raise _fail(text, "empty budget")
        parts = [p.strip() for p in _SEP.split(text)]
        if "" in parts:
            raise _fail(text, "empty item between separators")
        limits = [_parse_limit(text, p) for p in parts]
        for metric in METRICS:
            twins = [p for p, lim in zip(parts, limits) if lim.metric == metric]
            if len(twins) > 1:
                raise _fail(text, f"{metric} is limited twice ({' and '.join(twins)})")
        return cls(tuple(limits))

    @classmethod
    def from_dict(cls, data: Mapping[str, float]) -> Budget:
        """Inverse of :meth:`to_dict`: ``{"flops": 5e9, "latency_ms": 30.0}``."""
        if not isinstance(data, Mapping):
            raise NasError(f"budget {data!r}: give a mapping like {{'flops': 5e9}}")
        return cls(tuple(Limit(cast(Metric, m), v) for m, v in data.items()))

    def to_dict(self) -> dict[str, float]:
        """JSON-able ``{metric: value}``, latency in milliseconds."""
        return {lim.metric: lim.value for lim in self.limits}

    @property
    def metrics(self) -> tuple[Metric, ...]:
        """The limited metrics, in ``METRICS`` order."""
        return tuple(lim.metric for lim in self.limits)

    def get(self, metric: str) -> Limit | None:
        """The limit on ``metric``, or None when it is not limited."""
        return next((lim for lim in self.limits if lim.metric == metric), None)

    def constraints(self, costs: Mapping[str, float]) -> tuple[float, ...]:
        """``cost - limit`` per limit, in order; <= 0 is feasible. Raises if a cost is missing."""
        missing = [m for m in self.metrics if m not in costs]
        if missing:
            have = ", ".join(map(str, costs)) or "nothing"
            raise NasError(f"budget {self}: no {' or '.join(missing)} measured for this candidate "
                           f"(have: {have}); measure it or drop the limit")
        return tuple(lim.constraint(costs[lim.metric]) for lim in self.limits)

    def feasible(self, costs: Mapping[str, float]) -> bool:
        """True when every constraint is <= 0 (a NaN cost is infeasible)."""
        return all(c <= 0 for c in self.constraints(costs))

    def merge(self, other: Budget) -> Budget:
        """Both budgets' limits; a metric limited by both is an error."""
        return Budget(self.limits + other.limits)

    def __iter__(self) -> Iterator[Limit]:
        return iter(self.limits)

    def __len__(self) -> int:
        return len(self.limits)

    def __str__(self) -> str:
        return ", ".join(map(str, self.limits)) or "no limits"


def parse_budgets(texts: Iterable[str]) -> Budget:
    """Merge repeated ``--budget`` options into one Budget (no options: no limits)."""
    budget = Budget()
    for text in [texts] if isinstance(texts, str) else texts:
        budget = budget.merge(Budget.parse(text))
    return budget
