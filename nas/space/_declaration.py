"""The YAML declaration of a search space: schema, parsing, and the options of every slot.

Every setting is a list of choices, or a scalar for a fixed value. Positions in messages are
1-based (``stages[3]`` is stage 3). See ``search_spaces/hybrid.yaml`` for a commented example.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from nas.errors import SpaceError, validation_message
from nas.space._dims import fmt_value, same_value

__all__ = [
    "SLOT_KEYS",
    "SlotOptions",
    "SpaceDecl",
    "hp_groups",
    "hp_key",
    "lp_sizes",
    "parse_declaration",
    "resolve_slots",
]

SLOT_KEYS = (
    "cell",
    "depth",
    "paths",
    "proto_stride",
    "conv_ratio",
    "mixer",
    "heads",
    "dim_head",
    "window",
    "hp",
    "lp",
    "ffn",
    "ratio",
)
# Used where a slot key is never declared (the ArchConfig defaults).
_BUILTIN: dict[str, tuple[Any, ...]] = {
    "depth": (1,),
    "paths": (1,),
    "proto_stride": (1,),
    "conv_ratio": (1.0,),
    "ratio": (4.0,),
}


# ----------------------------------------------------------------------------- value types
def _listify(value: Any) -> Any:
    return tuple(value) if isinstance(value, (list, tuple)) else (value,)


def _distinct(values: tuple[Any, ...]) -> tuple[Any, ...]:
    if not values:
        raise ValueError("empty choice list; give at least one value")
    for i, v in enumerate(values):
        if any(same_value(v, w) for w in values[:i]):
            raise ValueError(f"{fmt_value(v)} is listed twice; list each choice once")
    return values


def _parse_hp(value: Any) -> str:
    """``"3:2,5:3,7:3"`` (kernel:heads per high-pass group) -> its canonical spelling."""
    hint = "write high-pass groups as 'kernel:heads,...', e.g. '3:2,5:3,7:3'"
    if not isinstance(value, str):
        raise ValueError(hint)
    groups: list[tuple[int, int]] = []
    for part in value.split(","):
        k, sep, h = part.strip().partition(":")
        if not sep or not k.strip().isdigit() or not h.strip().isdigit():
            raise ValueError(f"{value!r}: {hint}")
        kernel, heads = int(k), int(h)
        if kernel % 2 == 0 or heads < 1:
            raise ValueError(f"{value!r}: kernels must be odd and heads >= 1")
        if any(kernel == g[0] for g in groups):
            raise ValueError(f"{value!r}: kernel {kernel} appears twice; merge its heads")
        groups.append((kernel, heads))
    return ",".join(f"{k}:{h}" for k, h in groups)


def _parse_lp(value: Any) -> str:
    """``"1,2,3,6"`` (pooled grid size per low-pass group) -> its canonical spelling."""
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    hint = "write low-pass groups as pooled sizes 'a,b,...', e.g. '1,2,3,6'"
    if not isinstance(text, str):
        raise ValueError(hint)
    parts = [p.strip() for p in text.split(",")]
    if not all(p.isdigit() and int(p) >= 1 for p in parts):
        raise ValueError(f"{value!r}: {hint} (sizes >= 1)")
    return ",".join(str(int(p)) for p in parts)


def hp_groups(key: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """``"3:2,5:3"`` -> ``((3, 5), (2, 3))`` (kernels, heads)."""
    pairs = [tuple(int(x) for x in part.split(":")) for part in key.split(",")]
    return tuple(p[0] for p in pairs), tuple(p[1] for p in pairs)


def hp_key(kernels: tuple[int, ...], heads: tuple[int, ...]) -> str:
    return ",".join(f"{k}:{h}" for k, h in zip(kernels, heads, strict=True))


def lp_sizes(key: str) -> tuple[int, ...]:
    return tuple(int(x) for x in key.split(","))


def _choices(item: Any) -> Any:
    return Annotated[tuple[item, ...], BeforeValidator(_listify), AfterValidator(_distinct)]


_Int0 = Annotated[int, Field(strict=True, ge=0)]
_Int1 = Annotated[int, Field(strict=True, ge=1)]
_Pos = Annotated[float, Field(gt=0)]
_Bool = Annotated[bool, Field(strict=True)]
Ints0 = _choices(_Int0)
Ints1 = _choices(_Int1)
Floats = _choices(_Pos)
Bools = _choices(_Bool)
Cells = _choices(Literal["hr", "mp", "af"])
Mixers = _choices(Literal["cswin", "factorized", "freq"])
Ffns = _choices(Literal["mlp", "dwmlp", "mixcfn"])
Protos = _choices(Literal[1, 2, 4])
Strides = _choices(Literal["double", "keep"])
Acts = _choices(Literal["relu", "hardswish"])
Heads = _choices(Literal["segformer", "cls"])
HPs = _choices(Annotated[str, BeforeValidator(_parse_hp)])
LPs = _choices(Annotated[str, BeforeValidator(_parse_lp)])
Selector = Annotated[tuple[_Int1, ...], BeforeValidator(_listify)]


# ----------------------------------------------------------------------------- schema
class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class StemDecl(_Model):
    width: Ints1 = (64,)
    act: Acts = ("relu",)
    bias: Bools = (False,)


class StageDecl(_Model):
    stride: Strides | None = None  # stage 2+: relative to the previous stage; default double
    branches: Ints1 | None = None  # active branches (the newest ones); default 1
    fusion: Bools = (False,)
    modules: Ints1 = (1,)


class BranchDecl(_Model):
    width: Ints1


class SlotDecl(_Model):
    cell: Cells | None = None
    depth: Ints0 | None = None
    paths: Ints1 | None = None
    proto_stride: Protos | None = None
    conv_ratio: Floats | None = None
    mixer: Mixers | None = None
    heads: Ints1 | None = None
    dim_head: Ints1 | None = None
    window: Ints1 | None = None
    hp: HPs | None = None
    lp: LPs | None = None
    ffn: Ffns | None = None
    ratio: Floats | None = None

    @model_validator(mode="after")
    def _one_heads_key(self) -> SlotDecl:
        if self.heads is not None and self.dim_head is not None:
            raise ValueError("give heads or dim_head, not both")
        return self


class OverrideDecl(SlotDecl):
    stage: Selector | None = None
    branch: Selector | None = None

    @model_validator(mode="after")
    def _selects(self) -> OverrideDecl:
        if self.stage is None and self.branch is None:
            raise ValueError("an override needs stage and/or branch to say which slots it changes")
        if all(getattr(self, k) is None for k in SLOT_KEYS):
            raise ValueError("an override changes nothing; give some of: " + ", ".join(SLOT_KEYS))
        return self


class HeadDecl(_Model):
    type: Heads = ("segformer",)
    width: Ints1 = (256,)
    dropout: float = Field(0.1, ge=0, lt=1)
    gn_groups: int = Field(8, ge=1, strict=True)


class SpaceDecl(_Model):
    schema_version: Literal[1] = 1
    name: str | None = None
    description: str = ""
    stem: StemDecl = StemDecl()
    stages: tuple[StageDecl, ...] = Field(min_length=1, max_length=4)
    branches: tuple[BranchDecl, ...]
    slots: SlotDecl = SlotDecl()
    overrides: tuple[OverrideDecl, ...] = ()
    head: HeadDecl = HeadDecl()

    @model_validator(mode="after")
    def _check(self) -> SpaceDecl:
        n = len(self.stages)
        if len(self.branches) != n:
            raise ValueError(f"branches: give one entry per stage ({n}), got {len(self.branches)}")
        first = self.stages[0]
        if first.stride is not None:
            raise ValueError(
                "stages[1].stride: stage 1 runs at stride 4 (after the stem); remove it"
            )
        if first.branches not in (None, (1,)):
            raise ValueError("stages[1].branches: stage 1 has exactly one branch; remove it")
        for s, stage in enumerate(self.stages, 1):
            too_many = [b for b in stage.branches or () if b > s]
            if too_many:
                raise ValueError(
                    f"stages[{s}].branches: stage {s} has at most {s} branches, got {too_many[0]}"
                )
        for i, ov in enumerate(self.overrides, 1):
            bad = [x for x in (*(ov.stage or ()), *(ov.branch or ())) if x > n]
            if bad:
                raise ValueError(
                    f"overrides[{i}]: there are only {n} stages/branches, got {bad[0]}"
                )
            if not any(True for _ in _selected(ov, n)):
                raise ValueError(
                    f"overrides[{i}]: selects no slot (branch b exists in stages "
                    "b and later); fix stage/branch"
                )
        return self


def _selected(ov: OverrideDecl, n: int):
    for s in ov.stage or range(1, n + 1):
        for b in ov.branch or range(1, s + 1):
            if b <= s:
                yield s, b


# ----------------------------------------------------------------------------- parsing
_ALLOWED = {
    "": SpaceDecl,
    "stem": StemDecl,
    "stages": StageDecl,
    "branches": BranchDecl,
    "slots": SlotDecl,
    "overrides": OverrideDecl,
    "head": HeadDecl,
}


def parse_declaration(text: str, source: str) -> SpaceDecl:
    """Parse YAML ``text`` (from ``source``, used in messages) into a checked declaration."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", exc)
        raise SpaceError(f"{source}: malformed YAML{where}: {problem}") from None
    if not isinstance(data, dict):
        raise SpaceError(
            f"{source}: a search space must be a YAML mapping with stages, branches "
            "and slots (see search_spaces/hybrid.yaml)"
        )
    try:
        return SpaceDecl.model_validate(data)
    except ValidationError as exc:
        raise SpaceError(f"{source}: {_one_line(exc)}") from None


def _where(loc: tuple[Any, ...]) -> str:
    """``stages[2].branches[1]`` (1-based) from a pydantic location; internal names dropped."""
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts[-1:] = [f"{parts[-1]}[{item + 1}]"] if parts else [f"[{item + 1}]"]
        elif re.fullmatch(r"[a-z_][a-z0-9_]*", str(item)):
            parts.append(str(item))
    return ".".join(parts)


def _one_line(exc: ValidationError) -> str:
    err = exc.errors()[0]
    if err["type"] != "extra_forbidden":
        return validation_message(exc, _where)
    loc = list(err["loc"])
    key = str(loc.pop()) if loc else ""
    where = _where(tuple(loc))
    model = _ALLOWED.get(where.rsplit(".", 1)[-1].split("[")[0] if where else "", SlotDecl)
    allowed = ", ".join(model.model_fields)
    place = f"{where}: " if where else ""
    return f"{place}unknown key {key!r}; allowed here: {allowed}"


# ----------------------------------------------------------------------------- slots
@dataclass(frozen=True)
class SlotOptions:
    """The declared choices of one (stage, branch) slot after defaults and overrides.

    ``origin`` names the place that set each key (``slots`` or ``overrides[i]``); builtin
    defaults have no origin.
    """

    stage: int
    branch: int
    values: dict[str, tuple[Any, ...]]
    origin: dict[str, str]

    def __getitem__(self, key: str) -> tuple[Any, ...]:
        return self.values.get(key, ())

    @property
    def heads_key(self) -> str:
        return "dim_head" if "dim_head" in self.values else "heads"

    @property
    def where(self) -> str:
        return f"stage {self.stage}, branch {self.branch}"


def resolve_slots(decl: SpaceDecl, source: str) -> dict[tuple[int, int], SlotOptions]:
    """Apply ``slots`` then every matching override (in file order) to each slot."""
    n = len(decl.stages)
    places = [("slots", decl.slots, None)]
    places += [
        (f"overrides[{i}]", ov, set(_selected(ov, n))) for i, ov in enumerate(decl.overrides, 1)
    ]
    out: dict[tuple[int, int], SlotOptions] = {}
    for s in range(1, n + 1):
        for b in range(1, s + 1):
            values = dict(_BUILTIN)
            origin: dict[str, str] = {}
            for place, d, where in places:
                if where is not None and (s, b) not in where:
                    continue
                for key in SLOT_KEYS:
                    v = getattr(d, key)
                    if v is None:
                        continue
                    if key in ("heads", "dim_head"):
                        for k in ("heads", "dim_head"):
                            values.pop(k, None)
                            origin.pop(k, None)
                    values[key] = v
                    origin[key] = place
            opts = SlotOptions(s, b, values, origin)
            _check_required(opts, source)
            out[s, b] = opts
    return out


def _check_required(o: SlotOptions, source: str) -> None:
    def need(key: str, why: str) -> None:
        if key not in o.values:
            raise SpaceError(
                f"{source}: {o.where} {why} but has no {key} choices; add {key} to "
                "slots or to an override for this slot"
            )

    need("cell", "needs a cell")
    if any(d > 0 for d in o["depth"]):
        need("mixer", "can have blocks (depth > 0)")
        need("ffn", "can have blocks (depth > 0)")
        if "cswin" in o["mixer"]:
            if "heads" not in o.values and "dim_head" not in o.values:
                need("heads", "can use a cswin mixer")
            need("window", "can use a cswin mixer")
        if {"factorized", "freq"} & set(o["mixer"]):
            need("hp", "can use a factorized/freq mixer")
        if "freq" in o["mixer"]:
            need("lp", "can use a freq mixer")
