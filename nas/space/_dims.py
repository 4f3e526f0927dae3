"""Dimensions (one labelled question of the walk) and the helpers for labels and values."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Dimension", "Value", "base_label", "fmt_value", "same_value", "variant_label"]

Value = int | float | str | bool


@dataclass(frozen=True)
class Dimension:
    """One question of the space: its label, the choices offered under it, and when it is asked.

    ``condition`` is a human-readable note ("" when the question is always asked).
    """

    label: str
    choices: tuple[Value, ...]
    condition: str = ""

    @property
    def base(self) -> str:
        """The label without a ``[...]`` suffix (the question it is a variant of)."""
        return base_label(self.label)


def fmt_value(value: Value) -> str:
    """A value as written in labels and tables (``true``, ``4.0``, ``3:2,5:3``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def variant_label(base: str, offered: Sequence[Value]) -> str:
    """The label for ``base`` when only ``offered`` (a strict subset) may be chosen."""
    return f"{base}[{'|'.join(fmt_value(v) for v in offered)}]"


def base_label(label: str) -> str:
    return label.split("[", 1)[0]


def same_value(a: object, b: object) -> bool:
    """Equality that keeps booleans apart from numbers (``True`` is not ``1`` here)."""
    if isinstance(a, bool) != isinstance(b, bool):
        return False
    return bool(a == b)
