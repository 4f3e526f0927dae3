"""User-facing errors.

Every error a user can cause by bad input derives from :class:`NasError`. The CLI turns it into
one line on stderr and exit code 2; library callers can catch it like any ``ValueError``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["NasError", "ArchError", "SpaceError", "validation_message"]


class NasError(ValueError):
    """Bad input: the message says what is wrong and how to fix it."""


class ArchError(NasError):
    """An architecture config is malformed or inconsistent."""


class SpaceError(NasError):
    """A search-space declaration is malformed or inconsistent."""


def _dotted(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc)


def validation_message(exc: Any, where: Callable[[tuple[Any, ...]], str] = _dotted) -> str:
    """One line for the first error of a pydantic ``ValidationError``: ``"<where>: <message>"``,
    ``where`` rendering the error's location (dotted by default)."""
    err = exc.errors()[0]
    place = where(tuple(err["loc"]))
    msg = str(err["msg"]).removeprefix("Value error, ")
    return f"{place}: {msg}" if place else msg
