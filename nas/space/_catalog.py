"""The catalogue of questions: for each base label, every distinct list of values it can be
asked with, and what leads to each list. It yields the flat ``dimensions`` of a space and, per
base label, the *usable* values (those some valid architecture uses).

Label rule: a question is asked under its base label (``stage3.branch2.mixer``) when it offers
all its usable values, and under ``base[v1|v2|...]`` (``stage3.branch2.mixer[factorized|freq]``)
when earlier answers leave only ``v1, v2, ...``. So a label always comes with the same choices.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from nas.space._dims import Dimension, Value, fmt_value, same_value, variant_label

__all__ = ["Catalog"]

Driver = tuple[str, Any]


class Catalog:
    def __init__(self) -> None:
        self._declared: dict[str, tuple[Value, ...]] = {}
        self._static: dict[str, str] = {}
        self._seen: dict[str, dict[tuple[Value, ...], set[Driver]]] = {}

    def declare(self, base: str, declared: Iterable[Value], condition: str = "") -> None:
        """Register ``base`` (in walk order) with its declared values and static condition."""
        self._declared.setdefault(base, tuple(declared))
        self._static.setdefault(base, condition)
        self._seen.setdefault(base, {})

    def offer(self, base: str, offered: tuple[Value, ...], *drivers: Driver) -> None:
        """Record that ``base`` may be asked with ``offered`` when ``drivers`` hold."""
        self._seen[base].setdefault(tuple(offered), set()).update(drivers)

    def usable(self, base: str) -> tuple[Value, ...]:
        """Declared values of ``base`` that some offered list contains (declared order)."""
        lists = self._seen.get(base, {})
        return tuple(
            v
            for v in self._declared.get(base, ())
            if any(any(same_value(v, x) for x in lst) for lst in lists)
        )

    def bases(self) -> list[str]:
        return list(self._declared)

    def declared(self, base: str) -> tuple[Value, ...]:
        return self._declared.get(base, ())

    def dimensions(self) -> dict[str, Dimension]:
        """Every label the walk can ask (lists of one value are implied, not asked)."""
        dims: dict[str, Dimension] = {}
        for base in self._declared:
            usable = self.usable(base)
            lists = sorted(self._seen[base].items(), key=lambda kv: kv[0] != usable)
            many = sum(len(offered) > 1 for offered, _ in lists) > 1
            for offered, drivers in lists:
                if len(offered) < 2:
                    continue
                label = base if offered == usable else variant_label(base, offered)
                when = _describe(drivers) if many or offered != usable else ""
                cond = "; ".join(x for x in (self._static[base], when) if x)
                dims[label] = Dimension(label, offered, cond)
        return dims


def _describe(drivers: set[Driver]) -> str:
    if not drivers:
        return "for some stage layouts"
    by_name: dict[str, list[Any]] = {}
    for name, value in drivers:
        by_name.setdefault(name, []).append(value)
    parts = []
    for name, values in sorted(by_name.items()):
        values = sorted(set(values), key=lambda v: (isinstance(v, str), v))
        text = ", ".join(fmt_value(v) for v in values)
        parts.append(f"{name} = {text}" if len(values) == 1 else f"{name} in {text}")
    return "when " + " and ".join(parts)
