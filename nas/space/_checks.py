"""Load-time checks that every declared value is used by some valid architecture.

A value that no architecture can use (``heads: 3`` with cswin, a width no slot can take, a
``branches`` count the earlier stages never allow, ``window`` where no cswin mixer can occur) is
almost always a mistake in the file, so loading stops with a one-line message naming the place.
Values that are valid only in some slots or at some widths are fine: there the walk filters them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nas.errors import SpaceError
from nas.space._catalog import Catalog
from nas.space._declaration import SLOT_KEYS, SlotOptions, SpaceDecl
from nas.space._dims import fmt_value, same_value
from nas.space._layout import KINDS
from nas.space._rules import conv_problem, ffn_problem, mixer_problem
from nas.space._slots import Menu, slot_condition

__all__ = ["check_usable"]

MenuFn = Callable[[int, int, int], Menu]


def check_usable(
    cat: Catalog,
    decl: SpaceDecl,
    slots: dict[tuple[int, int], SlotOptions],
    menu: MenuFn,
    source: str,
) -> None:
    """Raise :class:`SpaceError` for the first declared value no architecture uses."""
    n = len(decl.stages)
    for b, branch in enumerate(decl.branches, 1):
        usable = cat.usable(f"branch{b}.width")
        for w in branch.width:
            if not _has(usable, w):
                raise SpaceError(
                    f"{source}: branches[{b}].width: {w} never gives a valid "
                    f"architecture ({_width_reason(decl, menu, n, b, w)}); remove it"
                )
    for s, stage in enumerate(decl.stages, 1):
        for kind in KINDS:
            if kind not in stage.model_fields_set:
                continue
            usable = cat.usable(f"stage{s}.{kind}")
            for v in getattr(stage, kind):
                if not _has(usable, v):
                    raise SpaceError(
                        f"{source}: stages[{s}].{kind}: {fmt_value(v)} never gives "
                        f"a valid architecture ({_stage_reason(cat, s, kind, v)}); "
                        "remove it"
                    )
    places = [("slots", decl.slots)]
    places += [(f"overrides[{i}]", ov) for i, ov in enumerate(decl.overrides, 1)]
    for place, d in places:
        for key in SLOT_KEYS:
            values = getattr(d, key)
            mine = [o for o in slots.values() if o.origin.get(key) == place]
            if values is None or not mine:
                continue
            usable = [v for o in mine for base in _bases(o, key) for v in cat.usable(base)]
            if not usable:
                raise SpaceError(
                    f"{source}: {place}.{key}: never used "
                    f"({_unused_reason(cat, mine, key)}); remove it"
                )
            for v in values:
                if not _has(usable, v):
                    raise SpaceError(
                        f"{source}: {place}.{key}: {fmt_value(v)} never gives a valid "
                        f"architecture{_value_reason(cat, mine, key, v)}; remove it"
                    )


def _has(values: Any, v: Any) -> bool:
    return any(same_value(v, u) for u in values)


def _bases(o: SlotOptions, key: str) -> list[str]:
    prefix = f"stage{o.stage}.branch{o.branch}."
    if key == "depth":
        return [f"{prefix}depth{k}" for k in range(1, 10)]
    return [prefix + key]


def _stage_reason(cat: Catalog, s: int, kind: str, v: Any) -> str:
    if kind == "branches" and s > 1:
        most = max(cat.usable(f"stage{s - 1}.branches"), default=1)
        if v > most + 1:
            return (
                f"stage {s - 1} keeps at most {most} branches, so stage {s} has at most {most + 1}"
            )
    if kind == "fusion" and v:
        return "after stage 1, fusion needs at least 2 active branches"
    return "no stage layout with it has valid widths and slots for every branch"


def _width_reason(decl: SpaceDecl, menu: MenuFn, n: int, b: int, w: int) -> str:
    for s in range(b, n + 1):
        mn = menu(s, b, w)
        if not mn.cells:
            why = (
                "no mixer/ffn choice is valid and depth 0 is not offered"
                if not mn.blocks
                else "no cell choice is valid (check conv_ratio)"
            )
            return f"stage {s} cannot build branch {b} at this width: {why}"
    return "no stage layout can use it"


def _unused_reason(cat: Catalog, mine: list[SlotOptions], key: str) -> str:
    if not any(cat.usable(f"stage{o.stage}.branch{o.branch}.cell") for o in mine):
        return "it applies only to slots that are never active; fix its stage/branch"
    cond = slot_condition(key)
    return (
        f"it matters only when {cond}, which never happens in its slots"
        if cond
        else ("its slots never ask it")
    )


def _value_reason(cat: Catalog, mine: list[SlotOptions], key: str, v: Any) -> str:
    for o in mine:
        for w in cat.usable(f"branch{o.branch}.width"):
            problem = _probe(o, key, v, w)  # type: ignore[arg-type]
            if problem:
                return f" (at width {w}: {problem})"
    return " in the slots it applies to"


def _probe(o: SlotOptions, key: str, v: Any, w: int) -> str | None:
    window = (o["window"] or (1,))[0]
    if key == "heads":
        return mixer_problem(w, "cswin", v, window)
    if key == "dim_head":
        if w % v:
            return f"width {w} is not divisible by dim_head {v}"
        return mixer_problem(w, "cswin", w // v, window)
    if key == "hp":
        return mixer_problem(w, "factorized", hp=v)
    if key == "lp" and o["hp"]:
        return mixer_problem(w, "freq", hp=o["hp"][0], lp=v)
    if key == "ratio" and o["ffn"]:
        return next((p for f in o["ffn"] if (p := ffn_problem(w, f, v))), None)
    if key == "conv_ratio":
        return conv_problem(w, v)
    return None
