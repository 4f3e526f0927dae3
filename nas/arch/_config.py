"""The one typed architecture config passed between space, cost model, builder and export.

The network is a list of *branches* (feature maps at strides 4, 8, 16 or 32). Stage ``s``
(1-based) opens branch ``s`` and runs a *cell* on each of its active branches, which are
always a contiguous run ending at the newest one (``s - len(branches) + 1 .. s``); a branch that
stops being active keeps its last output as a skip feature for the head. Cells:

* ``hr``: HRViT style: patch embedding (1x1 conv, 3x3 depthwise conv, LN), a block stack, LN.
* ``mp``: MPViT style: a chain of ``paths`` depthwise-separable embeddings, one block stack per
  path, an inverted-residual conv path, concat and a 1x1 conv-BN-Hardswish to ``out_width``.
* ``af``: AFFormer style: a pixel path (conv "Restore" block) at full resolution plus ``paths``
  prototype block stacks on a grid ``proto_stride`` times coarser, added back, then a 1x1
  conv-BN-Hardswish to ``out_width``.

With ``fusion`` on, every module of a stage starts with HRViT's cross-resolution fusion, which
also opens the new branch; otherwise the new branch is opened by a strided embedding of the
previous branch inside its cell.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from nas.errors import ArchError, validation_message

__all__ = [
    "SCHEMA_VERSION",
    "ArchConfig",
    "BranchConfig",
    "FFNConfig",
    "HeadConfig",
    "MixerConfig",
    "StageConfig",
    "StemConfig",
    "des_factor",
]

SCHEMA_VERSION = 1
STRIDES = (4, 8, 16, 32)


def des_factor(width: int) -> int:
    """The inner factor ``p`` of HRViT's diversity-enhanced shortcut for ``width`` channels."""
    e = int(math.log2(width))
    return 2 ** (e - e // 2)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class StemConfig(_Frozen):
    """Two 3x3 stride-2 conv-BN-activation layers to 1/4 resolution (width/2, then width)."""

    width: int = Field(64, ge=2)
    act: Literal["relu", "hardswish"] = "relu"
    bias: bool = False


class MixerConfig(_Frozen):
    """The token mixer of a block.

    ``cswin``: HRViT's cross-shaped window attention (+ diversity-enhanced shortcut), ``heads``
    split between the horizontal and vertical halves, stripes of ``window`` rows/columns.
    ``factorized``: MPViT's factorized attention plus ``q * conv(v)`` with depthwise kernels
    ``hp_kernels`` on ``hp_heads`` heads each. ``freq``: AFFormer's adaptive frequency filter:
    the same high-pass groups plus low-pass groups pooled to ``lp_sizes``.
    """

    type: Literal["cswin", "factorized", "freq"]
    heads: int = Field(8, ge=1)
    window: int | None = Field(None, ge=1)
    hp_kernels: tuple[int, ...] | None = None
    hp_heads: tuple[int, ...] | None = None
    lp_sizes: tuple[int, ...] | None = None


class FFNConfig(_Frozen):
    """The feed-forward part of a block: ``mlp`` (MPViT), ``dwmlp`` (AFFormer: MLP with a 3x3
    depthwise conv inside) or ``mixcfn`` (HRViT: 3x3 and 5x5 depthwise halves)."""

    type: Literal["mlp", "dwmlp", "mixcfn"]
    ratio: float = Field(4.0, gt=0)

    def hidden(self, width: int) -> int:
        return int(width * self.ratio)


class BranchConfig(_Frozen):
    """One active branch of a stage: the cell that processes it and its block stacks."""

    cell: Literal["hr", "mp", "af"]
    width: int = Field(ge=1)
    out_width: int | None = Field(None, ge=1)
    depths: tuple[int, ...] = (1,)
    paths: int = Field(1, ge=1)
    proto_stride: Literal[1, 2, 4] = 1
    conv_ratio: float = Field(1.0, gt=0)
    mixer: MixerConfig | None = None
    ffn: FFNConfig | None = None

    @property
    def output_width(self) -> int:
        return self.out_width if self.out_width is not None else self.width


class StageConfig(_Frozen):
    """A stage: opens a branch at ``stride`` and runs ``modules`` modules over its branches."""

    stride: Literal[4, 8, 16, 32]
    fusion: bool = False
    modules: int = Field(1, ge=1)
    branches: tuple[BranchConfig, ...] = Field(min_length=1)

    def first_branch(self, stage_index: int) -> int:
        """0-based index of the first active branch of stage ``stage_index`` (0-based)."""
        return stage_index - len(self.branches) + 1


class HeadConfig(_Frozen):
    """``segformer``: all-MLP head over every branch (per-branch 1x1 conv to ``width``, resize to
    the finest branch, concat, 1x1 conv-BN-ReLU). ``cls``: AFFormer's head-free classifier on the
    last branch (1x1 conv-GN-ReLU to ``width``). Both end with dropout, a 1x1 conv to the classes
    and a bilinear resize to the input."""

    type: Literal["segformer", "cls"]
    width: int = Field(256, ge=1)
    dropout: float = Field(0.1, ge=0, lt=1)
    gn_groups: int = Field(8, ge=1)


class ArchConfig(_Frozen):
    """A complete segmentor: stem, stages, head, classes. Validated on construction."""

    schema_version: int = SCHEMA_VERSION
    name: str | None = None
    num_classes: int = Field(150, ge=1)
    stem: StemConfig
    stages: tuple[StageConfig, ...] = Field(min_length=1, max_length=4)
    head: HeadConfig

    @model_validator(mode="after")
    def _check(self) -> ArchConfig:
        problems = list(_problems(self))
        if problems:
            raise ValueError(problems[0])
        return self

    # ------------------------------------------------------------------ derived facts
    @property
    def num_branches(self) -> int:
        return len(self.stages)

    @property
    def feature_channels(self) -> tuple[int, ...]:
        """Channels of each branch's final feature (what the head receives)."""
        out: dict[int, int] = {}
        for s, stage in enumerate(self.stages):
            for b, br in enumerate(stage.branches, start=stage.first_branch(s)):
                out[b] = br.output_width
        return tuple(out[b] for b in range(self.num_branches))

    @property
    def feature_strides(self) -> tuple[int, ...]:
        return tuple(st.stride for st in self.stages)

    # ------------------------------------------------------------------ (de)serialisation
    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)

    @classmethod
    def from_dict(cls, data: Any) -> ArchConfig:
        if not isinstance(data, dict):
            raise ArchError(f"an architecture config must be a mapping, got {type(data).__name__}")
        version = data.get("schema_version", SCHEMA_VERSION)
        if version != SCHEMA_VERSION:
            raise ArchError(
                f"schema_version {version!r} is not supported (this nas reads {SCHEMA_VERSION}); "
                "re-export the config with this version of nas"
            )
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise ArchError(validation_message(exc, _describe_loc)) from None

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    @classmethod
    def from_json(cls, text: str) -> ArchConfig:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ArchError(f"malformed JSON at line {exc.lineno}: {exc.msg}") from None
        return cls.from_dict(data)

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False, default_flow_style=None)

    @classmethod
    def from_yaml(cls, text: str) -> ArchConfig:
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}" if mark is not None else ""
            raise ArchError(f"malformed YAML{where}: {getattr(exc, 'problem', exc)}") from None
        return cls.from_dict(data)


def _describe_loc(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    i = 0
    while i < len(loc):
        key = loc[i]
        if key in ("stages", "branches") and i + 1 < len(loc) and isinstance(loc[i + 1], int):
            parts.append(f"{key[:-1] if key == 'stages' else 'branch'} {loc[i + 1] + 1}")
            i += 2
            continue
        parts.append(str(key))
        i += 1
    return ", ".join(parts)


def _problems(arch: ArchConfig):
    """Yield every inconsistency as a message that names the place and the fix."""
    if arch.stem.width % 2:
        yield f"stem: width {arch.stem.width} must be even (the first conv has width/2)"
    prev_first = 0
    for s, stage in enumerate(arch.stages):
        where = f"stage {s + 1}"
        expected = STRIDES[0] if s == 0 else None
        if s == 0 and stage.stride != expected:
            yield f"{where}: stride must be 4 (the stem ends at 1/4), got {stage.stride}"
        if s > 0:
            prev = arch.stages[s - 1].stride
            if stage.stride not in (prev, 2 * prev):
                yield f"{where}: stride {stage.stride} must equal {prev} or {2 * prev}"
        if len(stage.branches) > s + 1:
            yield (
                f"{where}: {len(stage.branches)} branches given but stage {s + 1} has at most "
                f"{s + 1} (branches 1..{s + 1})"
            )
            return
        first = stage.first_branch(s)
        if first < prev_first:
            yield (
                f"{where}: branch {first + 1} was dropped in an earlier stage and cannot become "
                f"active again; give at most {s + 1 - prev_first} branches"
            )
        prev_first = first
        if stage.fusion and s > 0 and len(stage.branches) < 2:
            yield (f"{where}: fusion needs the previous branch active; give >= 2 branches or "
                   "fusion: false")
        for b, br in enumerate(stage.branches, start=first):
            yield from (f"{where}, branch {b + 1}: {m}" for m in branch_problems(br, stage))
    if arch.head.type == "cls" and arch.head.width % arch.head.gn_groups:
        yield f"head: width {arch.head.width} is not divisible by gn_groups {arch.head.gn_groups}"


def branch_problems(br: BranchConfig, stage: StageConfig) -> Iterator[str]:
    """Why ``br`` is not a valid branch of ``stage`` (nothing when it is)."""
    if len(br.depths) != stage.modules:
        yield f"depths {list(br.depths)} needs one entry per module ({stage.modules})"
    if any(d < 0 for d in br.depths):
        yield f"depths {list(br.depths)} must be >= 0"
    if br.cell == "hr":
        if br.paths != 1:
            yield f"paths must be 1 for an hr cell, got {br.paths}"
        if br.proto_stride != 1:
            yield "proto_stride applies to af cells only; remove it"
        if br.out_width is not None and br.out_width != br.width:
            yield "out_width applies to mp/af cells only; remove it"
    if br.cell == "mp" and br.proto_stride != 1:
        yield "proto_stride applies to af cells only; remove it"
    if br.cell == "af" and br.proto_stride != 1 and 0 in br.depths:
        yield "an af cell without blocks (depth 0) needs proto_stride 1"
    if br.cell in ("mp", "af") and int(br.width * br.conv_ratio) < 1:
        yield f"conv_ratio {br.conv_ratio} leaves no channels in the conv path"
    if not any(br.depths):
        return
    if br.mixer is None or br.ffn is None:
        yield "a branch with blocks needs both mixer and ffn"
        return
    yield from _mixer_problems(br.mixer, br.width)
    hidden = br.ffn.hidden(br.width)
    if hidden < 1:
        yield f"ffn ratio {br.ffn.ratio} gives no hidden channels"
    elif br.ffn.type == "mixcfn" and hidden % 2:
        yield f"mixcfn hidden width {hidden} (width x ratio) must be even"


def _mixer_problems(mx: MixerConfig, width: int):
    if width % mx.heads:
        yield f"width {width} is not divisible by {mx.heads} heads"
        return
    if mx.type == "cswin":
        if mx.window is None:
            yield "a cswin mixer needs a window size"
        if mx.heads != 1 and mx.heads % 2:
            yield f"cswin splits heads between two halves: heads must be 1 or even, got {mx.heads}"
        if width % 2:
            yield f"width {width} must be even for cswin's two halves"
        p = des_factor(width)
        if width % p:
            yield (f"width {width} is not divisible by {p} (the shortcut's factor); "
                   f"try {width - width % p}")
        for name in ("hp_kernels", "hp_heads", "lp_sizes"):
            if getattr(mx, name) is not None:
                yield f"{name} applies to factorized/freq mixers only; remove it"
        return
    if mx.window is not None:
        yield "window applies to cswin mixers only; remove it"
    if mx.hp_kernels is None or mx.hp_heads is None:
        yield f"a {mx.type} mixer needs hp_kernels and hp_heads"
        return
    if len(mx.hp_kernels) != len(mx.hp_heads) or not mx.hp_kernels:
        yield "hp_kernels and hp_heads need the same, non-zero length"
    elif sum(mx.hp_heads) != mx.heads:
        yield f"hp_heads {list(mx.hp_heads)} must sum to heads ({mx.heads})"
    if any(k < 1 or k % 2 == 0 for k in mx.hp_kernels):
        yield f"hp_kernels {list(mx.hp_kernels)} must be odd and >= 1"
    if any(h < 1 for h in mx.hp_heads):
        yield f"hp_heads {list(mx.hp_heads)} must be >= 1"
    if mx.type == "freq":
        if not mx.lp_sizes:
            yield "a freq mixer needs lp_sizes (low-pass pooling grid sizes)"
        elif width % len(mx.lp_sizes):
            yield f"width {width} is not divisible by {len(mx.lp_sizes)} low-pass groups"
        elif any(p < 1 for p in mx.lp_sizes):
            yield f"lp_sizes {list(mx.lp_sizes)} must be >= 1"
    elif mx.lp_sizes is not None:
        yield "lp_sizes applies to freq mixers only; remove it"
