"""Stage layouts: how many branches each stage keeps active, fusion and modules per stage.

A layout fixes everything the slots depend on (which slots exist, their module counts), so the
number of distinct architectures is a sum over layouts of a product over branches:

    sum_layout prod_b sum_{w in widths(b)} prod_{s in life(b)} slot_settings(s, b, w, modules_s)

where a branch keeps its width from the stage that opens it until it is dropped. Layouts are few
(at most 14 branch patterns for 4 stages, times fusion and module choices), so they are listed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from nas.errors import SpaceError
from nas.space._declaration import SpaceDecl

__all__ = ["Layout", "enumerate_layouts", "stage_candidates"]

MAX_LAYOUTS = 200_000
KINDS = ("branches", "fusion", "modules")


@dataclass(frozen=True)
class Layout:
    """One stage layout: per stage (1-based in names, 0-based in tuples) n, fusion, modules."""

    n: tuple[int, ...]
    fusion: tuple[bool, ...]
    modules: tuple[int, ...]

    def first(self, s: int) -> int:
        """First active branch (1-based) of stage ``s`` (1-based)."""
        return s - self.n[s - 1] + 1

    def life(self, b: int) -> tuple[tuple[int, int], ...]:
        """(stage, modules) for every stage in which branch ``b`` is active."""
        return tuple(
            (s, self.modules[s - 1]) for s in range(b, len(self.n) + 1) if self.first(s) <= b
        )

    @property
    def flat(self) -> tuple[object, ...]:
        """The answers in walk order: n1, fusion1, modules1, n2, ..."""
        return tuple(
            x for s in range(len(self.n)) for x in (self.n[s], self.fusion[s], self.modules[s])
        )


def stage_candidates(decl: SpaceDecl, s: int, kind: str) -> tuple[object, ...]:
    """Declared values of ``kind`` (branches/fusion/modules) at stage ``s`` (1-based)."""
    stage = decl.stages[s - 1]
    if kind == "branches":
        return (1,) if s == 1 else stage.branches or (1,)
    return stage.fusion if kind == "fusion" else stage.modules


def fusion_ok(s: int, n: int, fusion: bool) -> bool:
    """ArchConfig's rule: after stage 1, fusion needs the previous branch active too."""
    return not (fusion and s > 1 and n < 2)


def enumerate_layouts(decl: SpaceDecl, source: str) -> Iterator[Layout]:
    """Every layout allowed by the stage rules (dropped branches never come back)."""
    total = 1
    for s in range(1, len(decl.stages) + 1):
        total *= len(stage_candidates(decl, s, "branches")) * len(decl.stages[s - 1].fusion)
        total *= len(decl.stages[s - 1].modules)
    if total > MAX_LAYOUTS:
        raise SpaceError(
            f"{source}: stages allow {total} combinations of branches, fusion and "
            f"modules (limit {MAX_LAYOUTS}); offer fewer modules choices"
        )
    yield from _extend(decl, 1, 0, ())


def _extend(decl: SpaceDecl, s: int, prev: int, acc: tuple) -> Iterator[Layout]:
    if s > len(decl.stages):
        yield Layout(tuple(a[0] for a in acc), tuple(a[1] for a in acc), tuple(a[2] for a in acc))
        return
    for n in stage_candidates(decl, s, "branches"):
        if n > prev + 1:
            continue
        for f in stage_candidates(decl, s, "fusion"):
            if not fusion_ok(s, n, f):  # type: ignore[arg-type]
                continue
            for m in stage_candidates(decl, s, "modules"):
                yield from _extend(decl, s + 1, n, (*acc, (n, f, m)))  # type: ignore[arg-type]
