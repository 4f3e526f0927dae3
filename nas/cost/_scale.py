"""``scale_to_fit(arch, budget)``: shrink an architecture until it fits a FLOPs/params budget.

The shrinking is deterministic and keeps the design's character: the same stages, branches,
cells, mixers (type, heads, windows, kernels, pooling sizes), FFN types and ratios, head type.
Only sizes change, in this order:

1. **Widths**, by one common factor ``f`` in (0, 1]: every width (stem, each branch's
   ``width`` and ``out_width``, the head) becomes the largest width ``<= round(f * w)`` that is a
   multiple of 8 and that the block's validation accepts (heads divide it, cswin's shortcut
   factor divides it, mixcfn's hidden width is even, GroupNorm groups divide the head); where
   no multiple of 8 is that small, the smallest one the block accepts (and never more than
   the original width): widths do not go below 8 channels unless they started there. ``f`` is
   the largest factor that fits, found by bisection (the rounded widths, and so the cost,
   never decrease as ``f`` grows).
2. If even the narrowest widths do not fit: **depths**, one block at a time from the deepest
   block stack (ties: the later stage, then the later branch), never below one block where
   there was one; once every stack has one block, **modules**, the last module of the stage
   with the most modules first. After each cut the width factor is searched again, so the
   result is the least-cut depth with the widest widths that fit.

Costs are the analytic :func:`~nas.cost.estimate` (exact, ~0.5 ms), so a result fits by
fvcore's count too. Latency limits are ignored here (they need a device; gate the result with
a latency predictor afterwards); a budget with no FLOPs or params limit returns ``arch`` as is.
"""

from __future__ import annotations

from collections.abc import Iterable

from nas.arch import ArchConfig, BranchConfig, StageConfig, branch_problems
from nas.budget import Budget, Limit, parse_budgets
from nas.cost._estimate import Cost, estimate
from nas.cost._gate import BudgetInfeasibleError, violation
from nas.metrics import format_metric

__all__ = ["scale_to_fit"]

QUANTUM = 8  # widths are kept multiples of 8 (channel-friendly, as in MobileNet's make_divisible)
_BISECT_STEPS = 40


def scale_to_fit(
    arch: ArchConfig,
    budgets: Budget | str | Iterable[str],
    input_size: tuple[int, int] = (512, 512),
) -> ArchConfig:
    """A valid ArchConfig within every FLOPs/params limit of ``budgets`` at ``input_size``.

    ``arch`` itself (same object, same name) when it already fits; otherwise a shrunk copy
    named ``<name>_fit<budget>`` (e.g. ``hrvit_b1_fit5G``, ``mpvit_tiny_fit5G_3.5Mp``). Raises
    :class:`BudgetInfeasibleError` when even one block per stack, one module per stage and
    the narrowest widths break the budget. See the module docstring for the rules.
    """
    budget = _as_budget(budgets)
    limits = tuple(lim for lim in budget.limits if lim.metric in ("flops", "params"))
    size = (int(input_size[0]), int(input_size[1]))
    if not limits or _fits(estimate(arch, size), limits):
        return arch
    current = arch
    while True:
        fitted = _widest_fit(current, limits, size)
        if fitted is not None:
            data = fitted.to_dict()
            data["name"] = f"{arch.name or 'arch'}_fit{_tag(limits)}"
            return ArchConfig.from_dict(data)
        cut = _cut_depth(current)
        if cut is None:
            low = estimate(_scaled(current, 0.0), size)
            raise BudgetInfeasibleError(
                f"budget infeasible: {arch.name or 'the architecture'} needs at least "
                f"{_describe(limits, low)} at {size[0]}x{size[1]} (narrowest widths, one block "
                f"per stack, one module per stage); raise the budget")
        current = cut


# ---------------------------------------------------------------------------- budget
def _as_budget(budgets: Budget | str | Iterable[str]) -> Budget:
    if isinstance(budgets, Budget):
        return budgets
    return parse_budgets(budgets)


def _fits(cost: Cost, limits: tuple[Limit, ...]) -> bool:
    return violation(Budget(limits), cost) <= 1.0


def _tag(limits: tuple[Limit, ...]) -> str:
    parts = []
    for lim in limits:
        if lim.metric == "flops":
            parts.append(f"{lim.value / 1e9:.4g}G")
        else:
            parts.append(f"{lim.value / 1e6:.4g}Mp")
    return "_".join(parts)


def _describe(limits: tuple[Limit, ...], cost: Cost) -> str:
    values = cost.metrics()
    return ", ".join(f"{format_metric(lim.metric, values[lim.metric])} (limit {lim})"
                     for lim in limits)


# ---------------------------------------------------------------------------- widths
def _round_width(target: float, original: int, ok) -> int:
    """The largest multiple of QUANTUM <= round(target) accepted by ``ok``; failing that, the
    smallest accepted multiple of QUANTUM, at most ``original`` (valid, and kept when it is
    the narrower)."""
    for k in range(int(round(target)) // QUANTUM, 0, -1):
        if ok(k * QUANTUM):
            return k * QUANTUM
    return next((w for w in range(QUANTUM, original, QUANTUM) if ok(w)), original)


def _any(width: int) -> bool:
    return True


def _branch_width_ok(br: BranchConfig, stage: StageConfig):
    def ok(width: int) -> bool:
        cand = br.model_copy(update={"width": width})
        return next(iter(branch_problems(cand, stage)), None) is None
    return ok


def _scale_branch(br: BranchConfig, stage: StageConfig, f: float) -> BranchConfig:
    update: dict = {"width": _round_width(br.width * f, br.width, _branch_width_ok(br, stage))}
    if br.out_width is not None:
        update["out_width"] = _round_width(br.out_width * f, br.out_width, _any)
    return br.model_copy(update=update)


def _scaled(arch: ArchConfig, f: float) -> ArchConfig:
    """``arch`` with every width scaled by ``f`` <= 1 and rounded (see the module docstring);
    not validated as a whole (``model_copy``): callers validate what they return."""
    w = arch.stem.width
    stem = arch.stem.model_copy(update={"width": _round_width(w * f, w, lambda v: v % 2 == 0)})
    stages = tuple(
        st.model_copy(update={"branches": tuple(_scale_branch(b, st, f) for b in st.branches)})
        for st in arch.stages)
    groups = arch.head.gn_groups if arch.head.type == "cls" else 1
    head = arch.head.model_copy(
        update={"width": _round_width(arch.head.width * f, arch.head.width,
                                      lambda v: v % groups == 0)})
    return arch.model_copy(update={"stem": stem, "stages": stages, "head": head})


def _widest_fit(arch: ArchConfig, limits: tuple[Limit, ...], size) -> ArchConfig | None:
    """``arch`` at the largest common width factor that fits, or None if none does."""
    if not _fits(estimate(_scaled(arch, 0.0), size), limits):
        return None
    lo, hi = 0.0, 1.0
    if _fits(estimate(arch, size), limits):
        return arch
    for _ in range(_BISECT_STEPS):
        mid = (lo + hi) / 2
        if _fits(estimate(_scaled(arch, mid), size), limits):
            lo = mid
        else:
            hi = mid
    # validate the result (model_copy skips validation)
    return ArchConfig.from_dict(_scaled(arch, lo).to_dict())


# ---------------------------------------------------------------------------- depths
def _cut_depth(arch: ArchConfig) -> ArchConfig | None:
    """One step down in depth: one block off the deepest stack, or once every stack has at
    most one block, the last module of the stage with the most modules. None at the floor."""
    best = None  # (depth, stage, branch, module)
    for s, st in enumerate(arch.stages):
        for b, br in enumerate(st.branches):
            for m, d in enumerate(br.depths):
                if d > 1 and (best is None or d >= best[0]):
                    best = (d, s, b, m)
    stages = list(arch.stages)
    if best is not None:
        _, s, b, m = best
        st = stages[s]
        branches = list(st.branches)
        depths = list(branches[b].depths)
        depths[m] -= 1
        branches[b] = branches[b].model_copy(update={"depths": tuple(depths)})
        stages[s] = st.model_copy(update={"branches": tuple(branches)})
    else:
        most = max(st.modules for st in stages)
        if most <= 1:
            return None
        s = max(i for i, st in enumerate(stages) if st.modules == most)
        st = stages[s]
        branches = tuple(br.model_copy(update={"depths": br.depths[:-1]}) for br in st.branches)
        stages[s] = st.model_copy(update={"modules": st.modules - 1, "branches": branches})
    return arch.model_copy(update={"stages": tuple(stages)})
