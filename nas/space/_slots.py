"""One slot (a branch inside a stage): what it offers at a given width, how many distinct
settings that makes, the questions it asks, and the reverse (answers read from a BranchConfig).

Within a slot every filter depends on the branch width only, so the :class:`Menu` for a width
lists exactly the values offered by each question; the walk, the counts and the list of
dimensions all read the same menu.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from nas.arch import BranchConfig
from nas.errors import SpaceError
from nas.space._declaration import SlotOptions, hp_groups, hp_key, lp_sizes
from nas.space._rules import conv_problem, ffn_problem, mixer_problem

__all__ = ["Menu", "make_menu", "slot_answers", "slot_condition", "slot_questions", "walk_slot"]

Ask = Callable[[str, tuple[Any, ...]], Any]

# When each slot question is asked (besides the slot being active): (cell, depth, mixer) parts.
_WHEN: dict[str, tuple[tuple[str, ...] | None, bool, tuple[str, ...] | None]] = {
    "cell": (None, False, None),
    "paths": (("mp", "af"), False, None),
    "proto_stride": (("af",), True, None),
    "conv_ratio": (("mp", "af"), False, None),
    "mixer": (None, True, None),
    "heads": (None, True, ("cswin",)),
    "dim_head": (None, True, ("cswin",)),
    "window": (None, True, ("cswin",)),
    "hp": (None, True, ("factorized", "freq")),
    "lp": (None, True, ("freq",)),
    "ffn": (None, True, None),
    "ratio": (None, True, None),
}


def slot_condition(key: str, opts: SlotOptions | None = None) -> str:
    """When ``key`` is asked in a slot; parts always true under ``opts`` are left out."""
    if key.startswith("depth"):
        return ""
    cells, blocks, mixers = _WHEN[key]
    parts = []
    if cells and (opts is None or not set(opts["cell"]) <= set(cells)):
        parts.append(f"cell is {' or '.join(cells)}")
    mixer_part = mixers and (opts is None or not set(opts["mixer"]) <= set(mixers))
    if key == "proto_stride" and (opts is None or 0 in opts["depth"]):
        parts.append("every module has blocks")
    elif blocks and not mixer_part and (opts is None or 0 in opts["depth"]):
        parts.append("some module has blocks")
    if mixer_part:
        parts.append(f"mixer is {' or '.join(mixers)}")  # (a mixer implies blocks)
    return " and ".join(parts)


@dataclass(frozen=True)
class Menu:
    """The values each question of one slot offers at one width (all filters applied)."""

    opts: SlotOptions
    width: int
    cells: tuple[str, ...]
    depths: tuple[int, ...]
    paths: tuple[int, ...]
    conv_ratio: tuple[float, ...]
    proto_stride: tuple[int, ...]
    mixers: tuple[str, ...]
    heads: tuple[int, ...]  # values of opts.heads_key
    window: tuple[int, ...]
    hp: dict[str, tuple[str, ...]]  # per mixer type (factorized, freq)
    lp: tuple[str, ...]
    ffns: tuple[str, ...]
    ratios: dict[str, tuple[float, ...]]  # per ffn type
    blocks: int  # distinct (mixer, ffn) settings

    def count(self, cell: str, modules: int) -> int:
        """Distinct settings of this slot with ``cell`` and ``modules`` modules."""
        zero = int(0 in self.opts["depth"])
        pos = sum(1 for d in self.opts["depth"] if d > 0)
        if self.blocks == 0:
            inner = zero
        else:
            all_pos = pos**modules
            mixed = (zero + pos) ** modules - all_pos - zero
            protos = len(self.proto_stride) if cell == "af" else 1
            inner = zero + mixed * self.blocks + all_pos * self.blocks * protos
        if cell == "hr":
            return inner
        return len(self.paths) * len(self.conv_ratio) * inner

    def total(self, modules: int) -> int:
        return sum(self.count(c, modules) for c in self.cells)

    @property
    def can_block(self) -> bool:
        """Whether blocks are possible (then mixer and ffn are asked, and proto_stride for af)."""
        return self.blocks > 0 and any(d > 0 for d in self.depths)


def make_menu(opts: SlotOptions, width: int) -> Menu:
    """Filter the declared choices of ``opts`` to those valid at ``width``."""
    o, w = opts, width
    window = o["window"]
    heads: list[int] = []
    if "cswin" in o["mixer"]:
        for v in o[o.heads_key]:
            h = v if o.heads_key == "heads" else (w // v if w % v == 0 else 0)
            if h and mixer_problem(w, "cswin", h, window[0]) is None:
                heads.append(v)
    hp = {
        kind: tuple(k for k in o["hp"] if mixer_problem(w, "factorized", hp=k) is None)
        for kind in ("factorized",)
        if kind in o["mixer"]
    }
    lp: tuple[str, ...] = ()
    if "freq" in o["mixer"]:
        ok = {
            (h, k) for h in o["hp"] for k in o["lp"] if mixer_problem(w, "freq", hp=h, lp=k) is None
        }
        hp["freq"] = tuple(h for h in o["hp"] if any(p[0] == h for p in ok))
        lp = tuple(k for k in o["lp"] if any(p[1] == k for p in ok))
        if len(ok) != len(hp["freq"]) * len(lp):
            raise SpaceError(
                f"{o.where}: at width {w} the valid high-pass and low-pass groups "
                "depend on each other, which the space cannot express; "
                "narrow hp or lp for this slot"
            )
    counts = {
        "cswin": len(heads) * len(window),
        "factorized": len(hp.get("factorized", ())),
        "freq": len(hp.get("freq", ())) * len(lp),
    }
    mixers = tuple(m for m in o["mixer"] if counts[m])
    ratios = {f: tuple(r for r in o["ratio"] if ffn_problem(w, f, r) is None) for f in o["ffn"]}
    ffns = tuple(f for f in o["ffn"] if ratios[f])
    blocks = sum(counts[m] for m in mixers) * sum(len(ratios[f]) for f in ffns)
    depths = o["depth"] if blocks else tuple(d for d in o["depth"] if d == 0)
    conv = tuple(r for r in o["conv_ratio"] if conv_problem(w, r) is None)
    menu = Menu(
        o,
        w,
        (),
        depths,
        o["paths"],
        conv,
        o["proto_stride"],
        mixers,
        tuple(heads),
        window,
        hp,
        lp,
        ffns,
        ratios,
        blocks,
    )
    return replace(menu, cells=tuple(c for c in o["cell"] if menu.count(c, 1) > 0))


def slot_questions(menu: Menu, modules: int) -> Iterator[tuple[str, tuple[Any, ...], str]]:
    """Every (key, offered values, note) the walk may ask in this slot, in walk order."""
    if not menu.cells:
        return
    yield "cell", menu.cells, ""
    for k in range(1, modules + 1):
        yield f"depth{k}", menu.depths, ""
    if {"mp", "af"} & set(menu.cells):
        yield "paths", menu.paths, ""
        if "af" in menu.cells and menu.can_block:
            yield "proto_stride", menu.proto_stride, ""
        yield "conv_ratio", menu.conv_ratio, ""
    if not menu.can_block:
        return
    yield "mixer", menu.mixers, ""
    if "cswin" in menu.mixers:
        yield menu.opts.heads_key, menu.heads, ""
        yield "window", menu.window, ""
    for kind in ("factorized", "freq"):
        if kind in menu.mixers:
            yield "hp", menu.hp[kind], f"mixer={kind}"
    if "freq" in menu.mixers:
        yield "lp", menu.lp, ""
    yield "ffn", menu.ffns, ""
    for f in menu.ffns:
        yield "ratio", menu.ratios[f], f"ffn={f}"


def walk_slot(ask: Ask, menu: Menu, modules: int, out_width: int) -> dict[str, Any]:
    """Ask this slot's questions; return the BranchConfig fields."""
    width = menu.width
    cell = ask("cell", menu.cells)
    depths = [ask(f"depth{k}", menu.depths) for k in range(1, modules + 1)]
    br: dict[str, Any] = {
        "cell": cell,
        "width": width,
        "depths": depths,
        "paths": 1,
        "proto_stride": 1,
        "conv_ratio": 1.0,
    }
    if cell != "hr":
        br["out_width"] = out_width
        br["paths"] = ask("paths", menu.paths)
        if cell == "af" and all(depths):
            br["proto_stride"] = ask("proto_stride", menu.proto_stride)
        br["conv_ratio"] = ask("conv_ratio", menu.conv_ratio)
    if not any(depths):
        return br
    kind = ask("mixer", menu.mixers)
    if kind == "cswin":
        key = menu.opts.heads_key
        v = ask(key, menu.heads)
        heads = v if key == "heads" else width // v
        br["mixer"] = {"type": kind, "heads": heads, "window": ask("window", menu.window)}
    else:
        kernels, hh = hp_groups(ask("hp", menu.hp[kind]))
        mixer: dict[str, Any] = {
            "type": kind,
            "heads": sum(hh),
            "hp_kernels": kernels,
            "hp_heads": hh,
        }
        if kind == "freq":
            mixer["lp_sizes"] = lp_sizes(ask("lp", menu.lp))
        br["mixer"] = mixer
    ffn = ask("ffn", menu.ffns)
    br["ffn"] = {"type": ffn, "ratio": ask("ratio", menu.ratios[ffn])}
    return br


def slot_answers(br: BranchConfig) -> dict[str, Any]:
    """The answers (by slot key) that would make the walk build ``br``."""
    a: dict[str, Any] = {
        "cell": br.cell,
        "paths": br.paths,
        "proto_stride": br.proto_stride,
        "conv_ratio": br.conv_ratio,
    }
    a.update({f"depth{k}": d for k, d in enumerate(br.depths, 1)})
    mx = br.mixer
    if mx is not None:
        a["mixer"] = mx.type
        if mx.type == "cswin":
            a["heads"] = mx.heads
            if br.width % mx.heads == 0:
                a["dim_head"] = br.width // mx.heads
            a["window"] = mx.window
        elif mx.hp_kernels is not None and mx.hp_heads is not None:
            a["hp"] = hp_key(mx.hp_kernels, mx.hp_heads)
            if mx.lp_sizes is not None:
                a["lp"] = ",".join(str(x) for x in mx.lp_sizes)
    if br.ffn is not None:
        a["ffn"] = br.ffn.type
        a["ratio"] = br.ffn.ratio
    return a
