"""Helpers for the search-space tests: tiny spaces written to tmp files, exhaustive walks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nas.arch import ArchConfig
from nas.space import SearchSpace, load_space

FAMILIES = {
    "hrvit": ["hrvit_b1", "hrvit_b2", "hrvit_b3"],
    "mpvit": ["mpvit_tiny", "mpvit_xsmall", "mpvit_small", "mpvit_base"],
    "afformer": ["afformer_tiny", "afformer_small", "afformer_base"],
}

# Stage layouts: branch counts, fusion, modules, stride keep, and a width (48) that cswin cannot
# use, so depth and width questions get filtered.
TINY_LAYOUT = """
name: tiny_layout
stem: {width: 16}
stages:
  - {fusion: false}
  - {stride: [double, keep], branches: [1, 2], fusion: [true, false], modules: [1, 2]}
  - {stride: double, branches: [1, 2, 3], fusion: [true, false]}
branches:
  - width: [16, 48]
  - width: 32
  - width: [32, 48]
slots:
  cell: hr
  depth: [0, 1]
  mixer: cswin
  dim_head: 16
  window: 1
  ffn: mlp
  ratio: 2
overrides:
  - {stage: 3, branch: [1, 2], depth: 1}
head: {type: [segformer, cls], width: [16, 20]}
"""

# One slot with every kind of question: cells, proto_stride, three mixers, filter groups,
# mixcfn's even hidden width; widths 18/24/32 filter heads, hp, lp and ratio differently.
TINY_SLOT = """
name: tiny_slot
stages:
  - {modules: [1, 2]}
branches:
  - width: [18, 24, 32]
slots:
  cell: [hr, mp, af]
  depth: [0, 1]
  paths: [1, 2]
  proto_stride: [1, 2]
  conv_ratio: [0.5, 1.0]
  mixer: [cswin, factorized, freq]
  dim_head: [8, 16]
  window: 1
  hp: ["3:2,5:2", "3:1"]
  lp: ["1,2", "1,2,3"]
  ffn: [mlp, mixcfn]
  ratio: [1.5, 2]
head: {width: 16}
"""


def write_space(tmp_path: Path, text: str, name: str = "space.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.fixture
def space_file(tmp_path: Path):
    """``space_file(text)`` -> loaded SearchSpace from a tmp YAML file."""

    def load(text: str) -> SearchSpace:
        return load_space(write_space(tmp_path, text))

    return load


class Recorder:
    """Wraps a chooser and records every (label, choices) it is asked."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.asked: list[tuple[str, tuple[Any, ...]]] = []
        self.answers: dict[str, Any] = {}

    def choose(self, label: str, choices: Any) -> Any:
        self.asked.append((label, tuple(choices)))
        self.answers[label] = self.inner.choose(label, choices)
        return self.answers[label]


class _Odometer:
    """Follows ``path`` (extending it with first choices) and records the questions."""

    def __init__(self, path: list[list[int]]) -> None:
        self.path = path
        self.asked: list[tuple[str, tuple]] = []

    def choose(self, label: str, choices: Any) -> Any:
        pos = len(self.asked)
        self.asked.append((label, tuple(choices)))
        if pos == len(self.path):
            self.path.append([0, len(choices)])
        return choices[self.path[pos][0]]


def walk_all(space: SearchSpace) -> Iterator[tuple[ArchConfig, list[tuple[str, tuple]]]]:
    """Every answer set of the define-by-run walk, depth first (the odometer method)."""
    path: list[list[int]] = []  # [index chosen, number of choices] per question asked
    while True:
        odometer = _Odometer(path)
        arch = space.build(odometer)
        yield arch, odometer.asked
        del path[len(odometer.asked) :]
        while path and path[-1][0] + 1 >= path[-1][1]:
            path.pop()
        if not path:
            return
        path[-1][0] += 1
