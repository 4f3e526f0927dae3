"""Is one setting valid? Asked of :class:`ArchConfig` itself, so the rules live in one place.

Each probe builds the smallest architecture that differs from a known-valid one only in the
setting under test and returns ArchConfig's message (without its location) or ``None``. The space
relies on the rules being separable: mixer, ffn, conv ratio, stem and head settings are valid or
not on their own, given the branch width. Results are cached.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from nas.arch import ArchConfig
from nas.errors import ArchError
from nas.space._declaration import hp_groups, lp_sizes

__all__ = ["conv_problem", "ffn_problem", "head_problem", "mixer_problem", "stem_problem"]

_STEM = {"width": 16, "act": "relu", "bias": False}
_HEAD = {"type": "segformer", "width": 16}
_MIXER = {"type": "factorized", "heads": 1, "hp_kernels": [3], "hp_heads": [1]}  # any width
_FFN = {"type": "mlp", "ratio": 1.0}  # any width
_BRANCH = {"cell": "hr", "width": 16, "depths": [0]}
_WHERE = re.compile(r"^(stage \d+(, branch \d+)?|stem|head)(, [a-z_]+)*: ")


def _problem(
    branch: dict[str, Any] | None = None,
    stem: dict[str, Any] | None = None,
    head: dict[str, Any] | None = None,
) -> str | None:
    data = {
        "stem": stem or _STEM,
        "stages": [{"stride": 4, "branches": [branch or _BRANCH]}],
        "head": head or _HEAD,
    }
    try:
        ArchConfig.from_dict(data)
    except ArchError as exc:
        return _WHERE.sub("", str(exc))
    return None


@cache
def mixer_problem(
    width: int, kind: str, heads: int = 1, window: int = 1, hp: str = "", lp: str = ""
) -> str | None:
    """Problem of a ``kind`` mixer (cswin: ``heads``/``window``; else ``hp``/``lp`` keys)."""
    mixer: dict[str, Any] = {"type": kind}
    if kind == "cswin":
        mixer.update(heads=heads, window=window)
    else:
        kernels, hh = hp_groups(hp)
        mixer.update(heads=sum(hh), hp_kernels=list(kernels), hp_heads=list(hh))
        if kind == "freq":
            mixer["lp_sizes"] = list(lp_sizes(lp))
    return _problem({"cell": "hr", "width": width, "depths": [1], "mixer": mixer, "ffn": _FFN})


@cache
def ffn_problem(width: int, kind: str, ratio: float) -> str | None:
    ffn = {"type": kind, "ratio": ratio}
    return _problem({"cell": "hr", "width": width, "depths": [1], "mixer": _MIXER, "ffn": ffn})


@cache
def conv_problem(width: int, ratio: float) -> str | None:
    """Problem of an mp/af cell with conv path ratio ``ratio``."""
    return _problem(
        {"cell": "mp", "width": width, "out_width": width, "depths": [0], "conv_ratio": ratio}
    )


@cache
def stem_problem(width: int, act: str, bias: bool) -> str | None:
    return _problem(stem={"width": width, "act": act, "bias": bias})


@cache
def head_problem(kind: str, width: int, dropout: float, gn_groups: int) -> str | None:
    return _problem(head={"type": kind, "width": width, "dropout": dropout, "gn_groups": gn_groups})
