"""Choosers: who answers the questions of a define-by-run walk through a search space.

A chooser is anything with ``choose(label, choices) -> one of choices`` (NNI/Optuna style): a
seeded random generator, a replayed dict, or (in the search backends) an Optuna trial wrapped as
``trial.suggest_categorical(label, choices)``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, TypeVar

import numpy as np

from nas.errors import SpaceError
from nas.space._dims import fmt_value, same_value

__all__ = ["Chooser", "FixedChooser", "RandomChooser"]

T = TypeVar("T")


class Chooser(Protocol):
    """Answers one question: return one element of ``choices`` for ``label``.

    The walk asks a label always with the same ``choices`` list, so an Optuna trial can answer
    with ``trial.suggest_categorical(label, choices)``.
    """

    def choose(self, label: str, choices: Sequence[T]) -> T: ...


class RandomChooser:
    """Uniform choice per question from ``numpy.random.default_rng(seed)`` (no global state)."""

    def __init__(self, seed: int | np.random.Generator | None = None) -> None:
        self._rng = np.random.default_rng(seed)

    def choose(self, label: str, choices: Sequence[T]) -> T:
        return choices[int(self._rng.integers(len(choices)))]


class FixedChooser:
    """Replays ``params`` (label -> value), e.g. from ``SearchSpace.params`` or a finished trial.

    Raises :class:`SpaceError` when a label is missing or its value is not among the choices.
    ``used`` holds the labels that were asked, so callers can spot leftovers.
    """

    def __init__(self, params: Mapping[str, Any]) -> None:
        self._params = dict(params)
        self.used: list[str] = []

    def choose(self, label: str, choices: Sequence[T]) -> T:
        if label not in self._params:
            raise SpaceError(
                f"no value for {label!r} in the given params; add it with one of: "
                f"{', '.join(fmt_value(c) for c in choices)}"  # type: ignore[arg-type]
            )
        value = self._params[label]
        for choice in choices:
            if same_value(choice, value):
                self.used.append(label)
                return choice
        raise SpaceError(
            f"{label}: {value!r} is not a choice here; use one of: "
            f"{', '.join(fmt_value(c) for c in choices)}"  # type: ignore[arg-type]
        )

    def unused(self) -> list[str]:
        """Labels in ``params`` that no question asked for (so far)."""
        return [label for label in self._params if label not in self.used]
