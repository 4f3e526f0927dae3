"""SearchSpace: the define-by-run walk over a declared space, and everything derived from it.

Walk order (labels in brackets; ``s`` stage, ``b`` branch, both 1-based):

1. stem: ``stem.width``, ``stem.act``, ``stem.bias``;
2. per stage: ``stage{s}.stride`` (double/keep, from stage 2), ``stage{s}.branches`` (how many
   of the newest branches stay active), ``stage{s}.fusion``, ``stage{s}.modules``;
3. per branch: ``branch{b}.width`` (kept for the branch's whole life);
4. per active slot: ``stage{s}.branch{b}.`` + ``cell``, ``depth{k}`` (module k), ``paths``,
   ``proto_stride``, ``conv_ratio``, ``mixer``, ``heads`` or ``dim_head``, ``window``, ``hp``,
   ``lp``, ``ffn``, ``ratio``, each only when relevant;
5. head: ``head.type``, ``head.width``.

Every question offers only values that still lead to a valid architecture (look-ahead from exact
counts), so sampling never rejects and never dead-ends. A question left with one value is not
asked. Label rule: a question that offers all of its usable values is asked under its base label
(``stage3.branch2.mixer``); one whose choices earlier answers have narrowed is asked under the base
label suffixed with exactly the values left (``stage3.branch2.mixer[factorized|freq]``), so a
label always comes with the same choice list (see ``_catalog``). Distinct answers give distinct
architectures, so the size of the space is the number of answer sets, counted exactly.
mp/af cells write ``out_width`` = the width of the branch the next stage opens (newest branch of
a non-final stage) or their own width (otherwise), as the MPViT/AFFormer references do.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from functools import partial
from typing import Any

from nas.arch import ArchConfig
from nas.errors import ArchError, SpaceError
from nas.space._catalog import Catalog
from nas.space._checks import check_usable
from nas.space._choosers import Chooser, RandomChooser
from nas.space._declaration import SLOT_KEYS, SpaceDecl, resolve_slots
from nas.space._dims import Dimension, base_label, fmt_value, same_value, variant_label
from nas.space._layout import KINDS, Layout, enumerate_layouts, stage_candidates
from nas.space._rules import head_problem, stem_problem
from nas.space._slots import (
    Menu,
    make_menu,
    slot_answers,
    slot_condition,
    slot_questions,
    walk_slot,
)

__all__ = ["SearchSpace"]


class SearchSpace:
    """A search space declared in YAML (see :func:`nas.space.load_space`)."""

    def __init__(self, decl: SpaceDecl, source: str = "<space>") -> None:
        self._decl = decl
        self._source = source
        self.name: str = decl.name or source.rsplit("/", 1)[-1].removesuffix(".yaml")
        self.description: str = decl.description
        self._n = len(decl.stages)
        self._slots = resolve_slots(decl, source)
        self._menus: dict[tuple[int, int, int], Menu] = {}
        self._stem = self._stem_choices()
        self._head = self._head_choices()
        self._analyze_layouts()
        self._catalog = self._build_catalog()
        check_usable(self._catalog, decl, self._slots, self._menu, source)
        if not self._size:
            raise SpaceError(
                f"{source}: the space holds no valid architecture (no stage layout "
                "has a valid width and slot settings for every branch); widen the "
                "choices"
            )
        self._usable = {b: self._catalog.usable(b) for b in self._catalog.bases()}
        self._dims = self._catalog.dimensions()

    # ------------------------------------------------------------------ public API
    @property
    def dimensions(self) -> dict[str, Dimension]:
        """Every label the walk can ask, in walk order, with its choices and condition."""
        return dict(self._dims)

    @property
    def size(self) -> int:
        """Number of distinct architectures (exact)."""
        return self._size

    @property
    def size_log10(self) -> float:
        return math.log10(self._size)

    @property
    def hash(self) -> str:
        """sha256 of the canonical declaration (comments and layout of the file ignored)."""
        data = self._decl.model_dump(mode="json")
        text = json.dumps(data, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def build(self, chooser: Chooser, num_classes: int = 150) -> ArchConfig:
        """Walk the space, asking ``chooser`` each question; return the architecture."""
        return self._walk(chooser, num_classes)[0]

    def sample(self, seed: int, num_classes: int = 150) -> ArchConfig:
        """A random architecture, reproducible from ``seed`` (always valid)."""
        return self.build(RandomChooser(seed), num_classes)

    def params(self, arch: ArchConfig) -> dict[str, Any] | None:
        """The labels and values that build ``arch`` (name ignored), or None if not in the space."""
        if len(arch.stages) != self._n:
            return None
        try:
            built, record = self._walk(_Answers(self._answers(arch)), arch.num_classes)
        except _Mismatch:
            return None
        want, got = arch.to_dict(), built.to_dict()
        want.pop("name", None)
        got.pop("name", None)
        return record if got == want else None

    def contains(self, arch: ArchConfig) -> bool:
        return self.params(arch) is not None

    def describe(self) -> list[dict[str, str]]:
        """Rows ``{"label", "choices", "condition"}`` (all strings) for a table of dimensions."""
        return [
            {
                "label": d.label,
                "choices": " | ".join(fmt_value(c) for c in d.choices),
                "condition": d.condition,
            }
            for d in self._dims.values()
        ]

    def __repr__(self) -> str:
        return (
            f"SearchSpace({self.name!r}, {len(self._dims)} dimensions, "
            f"10^{self.size_log10:.1f} architectures)"
        )

    # ------------------------------------------------------------------ the walk
    def _walk(self, chooser: Chooser, num_classes: int) -> tuple[ArchConfig, dict[str, Any]]:
        record: dict[str, Any] = {}
        ask = partial(self._ask, chooser, record)
        stem = {k: ask(f"stem.{k}", v) for k, v in self._stem.items()}
        strides, prefix = [4], ()
        for s in range(1, self._n + 1):
            if s > 1:
                step = ask(f"stage{s}.stride", self._strides(s))
                strides.append(strides[-1] * (2 if step == "double" else 1))
            for kind in KINDS:
                prefix = (*prefix, ask(f"stage{s}.{kind}", self._offer(prefix, s, kind)))
        layout = Layout(prefix[0::3], prefix[1::3], prefix[2::3])
        widths = {
            b: ask(f"branch{b}.width", self._widths[b, layout.life(b)])
            for b in range(1, self._n + 1)
        }
        stages = []
        for s in range(1, self._n + 1):
            branches = []
            for b in range(layout.first(s), s + 1):
                out = widths[b + 1] if b == s < self._n else widths[b]
                slot_ask = partial(_prefixed, ask, f"stage{s}.branch{b}.")
                menu = self._menu(s, b, widths[b])
                branches.append(walk_slot(slot_ask, menu, layout.modules[s - 1], out))
            stages.append(
                {
                    "stride": strides[s - 1],
                    "fusion": layout.fusion[s - 1],
                    "modules": layout.modules[s - 1],
                    "branches": branches,
                }
            )
        kind = ask("head.type", tuple(self._head))
        d = self._decl.head
        head = {
            "type": kind,
            "width": ask("head.width", self._head[kind]),
            "dropout": d.dropout,
            "gn_groups": d.gn_groups,
        }
        data = {"num_classes": num_classes, "stem": stem, "stages": stages, "head": head}
        try:
            return ArchConfig.from_dict(data), record
        except ArchError as exc:
            raise SpaceError(
                f"space {self.name!r} built an invalid architecture ({exc}); "
                "this is a bug in nas.space, please report it"
            ) from None

    def _ask(
        self, chooser: Chooser, record: dict[str, Any], base: str, offered: tuple[Any, ...]
    ) -> Any:
        if len(offered) == 1:
            return offered[0]
        if not offered:
            raise SpaceError(f"space {self.name!r}: no valid choice left for {base} (a bug)")
        label = base if offered == self._usable.get(base) else variant_label(base, offered)
        value = chooser.choose(label, offered)
        for choice in offered:
            if same_value(choice, value):
                record[label] = choice
                return choice
        raise SpaceError(
            f"{label}: the chooser answered {value!r}; expected one of: "
            f"{', '.join(fmt_value(c) for c in offered)}"
        )

    def _strides(self, s: int) -> tuple[str, ...]:
        return self._decl.stages[s - 1].stride or ("double",)

    def _offer(self, prefix: tuple[Any, ...], s: int, kind: str) -> tuple[Any, ...]:
        return tuple(
            v for v in stage_candidates(self._decl, s, kind) if (*prefix, v) in self._prefixes
        )

    def _menu(self, s: int, b: int, width: int) -> Menu:
        key = (s, b, width)
        if key not in self._menus:
            self._menus[key] = make_menu(self._slots[s, b], width)
        return self._menus[key]

    def _answers(self, arch: ArchConfig) -> dict[str, Any]:
        a: dict[str, Any] = {f"stem.{k}": getattr(arch.stem, k) for k in ("width", "act", "bias")}
        for s, st in enumerate(arch.stages, 1):
            if s > 1:
                same = st.stride == arch.stages[s - 2].stride
                a[f"stage{s}.stride"] = "keep" if same else "double"
            a.update(
                {
                    f"stage{s}.branches": len(st.branches),
                    f"stage{s}.fusion": st.fusion,
                    f"stage{s}.modules": st.modules,
                }
            )
            for b, br in enumerate(st.branches, st.first_branch(s - 1) + 1):
                if b == s:
                    a[f"branch{b}.width"] = br.width
                a.update({f"stage{s}.branch{b}.{k}": v for k, v in slot_answers(br).items()})
        a.update({"head.type": arch.head.type, "head.width": arch.head.width})
        return a

    # ------------------------------------------------------------------ analysis
    def _stem_choices(self) -> dict[str, tuple[Any, ...]]:
        d = self._decl.stem
        for w in d.width:
            problem = stem_problem(w, d.act[0], d.bias[0])
            if problem:
                raise SpaceError(
                    f"{self._source}: stem.width: {w} is invalid ({problem}); remove it"
                )
        return {"width": d.width, "act": d.act, "bias": d.bias}

    def _head_choices(self) -> dict[str, tuple[int, ...]]:
        d = self._decl.head
        ok = {
            t: tuple(w for w in d.width if head_problem(t, w, d.dropout, d.gn_groups) is None)
            for t in d.type
        }
        for w in d.width:
            if not any(w in v for v in ok.values()):
                problem = head_problem(d.type[0], w, d.dropout, d.gn_groups)
                raise SpaceError(
                    f"{self._source}: head.width: {w} is invalid for every head "
                    f"type ({problem}); remove it"
                )
        for t, widths in ok.items():
            if not widths:
                problem = head_problem(t, d.width[0], d.dropout, d.gn_groups)
                raise SpaceError(
                    f"{self._source}: head.type: {t} accepts none of the head "
                    f"widths ({problem}); add a width it accepts or remove it"
                )
        return ok

    def _analyze_layouts(self) -> None:
        self._widths: dict[tuple[int, tuple[tuple[int, int], ...]], tuple[int, ...]] = {}
        factors: dict[tuple[int, tuple[tuple[int, int], ...]], int] = {}
        self._layouts: list[Layout] = []
        self._prefixes: set[tuple[Any, ...]] = set()
        total = 0
        for layout in enumerate_layouts(self._decl, self._source):
            count = 1
            for b in range(1, self._n + 1):
                key = (b, layout.life(b))
                if key not in factors:
                    self._branch_factor(key, factors)
                count *= factors[key]
            if count:
                total += count
                self._layouts.append(layout)
                flat = layout.flat
                self._prefixes.update(flat[:i] for i in range(1, len(flat) + 1))
        stem = math.prod(len(v) for v in self._stem.values())
        strides = math.prod(len(self._strides(s)) for s in range(2, self._n + 1))
        self._size = total * stem * strides * sum(len(v) for v in self._head.values())

    def _branch_factor(
        self, key: tuple[int, tuple[tuple[int, int], ...]], factors: dict[Any, int]
    ) -> None:
        b, life = key
        ok, total = [], 0
        for w in self._decl.branches[b - 1].width:
            n = math.prod(self._menu(s, b, w).total(m) for s, m in life)
            if n:
                ok.append(w)
                total += n
        self._widths[key] = tuple(ok)
        factors[key] = total

    def _build_catalog(self) -> Catalog:
        cat = Catalog()
        for k, v in self._stem.items():
            cat.declare(f"stem.{k}", v)
            cat.offer(f"stem.{k}", v)
        for s in range(1, self._n + 1):
            if s > 1:
                cat.declare(f"stage{s}.stride", self._strides(s))
                cat.offer(f"stage{s}.stride", self._strides(s))
            for kind in KINDS:
                cat.declare(f"stage{s}.{kind}", stage_candidates(self._decl, s, kind))
        for prefix in [(), *self._prefixes]:
            k = len(prefix)
            if k == 3 * self._n:
                continue
            s, kind = k // 3 + 1, KINDS[k % 3]
            if kind == "branches":
                driver = (f"stage{s - 1}.branches", prefix[k - 3] if s > 1 else 0)
            else:
                driver = (f"stage{s}.branches", prefix[3 * (s - 1)])
            drivers = [driver] if s > 1 else []
            cat.offer(f"stage{s}.{kind}", self._offer(prefix, s, kind), *drivers)
        lives = {(b, lay.life(b)) for lay in self._layouts for b in range(1, self._n + 1)}
        for b in range(1, self._n + 1):
            cat.declare(f"branch{b}.width", self._decl.branches[b - 1].width)
        for b, life in sorted(lives):
            cat.offer(f"branch{b}.width", self._widths[b, life])
        self._catalog_slots(cat, lives)
        cat.declare("head.type", self._decl.head.type)
        cat.offer("head.type", tuple(self._head))
        cat.declare("head.width", self._decl.head.width)
        for t, widths in self._head.items():
            cat.offer("head.width", widths, ("head.type", t))
        return cat

    def _catalog_slots(self, cat: Catalog, lives: set[Any]) -> None:
        contexts = sorted(
            {(s, b, m, w) for b, life in lives for w in self._widths[b, life] for s, m in life}
        )
        for s in range(1, self._n + 1):
            ms = [lay.modules[s - 1] for lay in self._layouts]
            for b in range(1, s + 1):
                opts = self._slots[s, b]
                active = all(lay.first(s) <= b for lay in self._layouts)
                when = "" if active else f"stage{s}.branches >= {s - b + 1}"
                prefix = f"stage{s}.branch{b}."
                for key in SLOT_KEYS:
                    if key == "depth":
                        for k in range(1, max(ms, default=1) + 1):
                            more = f"stage{s}.modules >= {k}" if min(ms, default=1) < k else ""
                            cond = "; ".join(x for x in (when, more) if x)
                            cat.declare(f"{prefix}depth{k}", opts["depth"], cond)
                    elif key == opts.heads_key or key not in ("heads", "dim_head"):
                        cond = "; ".join(x for x in (when, slot_condition(key, opts)) if x)
                        cat.declare(prefix + key, opts[key], cond)
        for s, b, m, w in contexts:
            menu = self._menu(s, b, w)
            for key, offered, note in slot_questions(menu, m):
                drivers = [(f"branch{b}.width", w)]
                if note:
                    drivers.append(tuple(note.split("=")))  # type: ignore[arg-type]
                cat.offer(f"stage{s}.branch{b}.{key}", offered, *drivers)


class _Mismatch(Exception):
    """The target architecture needs an answer the space does not offer."""


class _Answers:
    """Answers each question from a dict keyed by base label (used by ``params``)."""

    def __init__(self, answers: Mapping[str, Any]) -> None:
        self._answers = answers

    def choose(self, label: str, choices: Any) -> Any:
        value = self._answers.get(base_label(label), _Mismatch)
        for choice in choices:
            if same_value(choice, value):
                return choice
        raise _Mismatch(label)


def _prefixed(ask: Any, prefix: str, key: str, offered: tuple[Any, ...]) -> Any:
    return ask(prefix + key, offered)
