"""User-facing errors.

Every error a user can cause by bad input derives from :class:`NasError`. The CLI turns it into
one line on stderr and exit code 2; library callers can catch it like any ``ValueError``.
"""

from __future__ import annotations

__all__ = ["NasError", "ArchError", "SpaceError"]


class NasError(ValueError):
    """Bad input: the message says what is wrong and how to fix it."""


class ArchError(NasError):
    """An architecture config is malformed or inconsistent."""


class SpaceError(NasError):
    """A search-space declaration is malformed or inconsistent."""
