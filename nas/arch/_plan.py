"""The structure an :class:`ArchConfig` unfolds into, computed once and shared by the builder and
the analytic cost model (so the topology rules live in one place).

A plan is a list of modules; each module is an optional fusion followed by one cell per active
branch. Every cell knows its input channels, and the stride of the embedding that opens a new
branch when no fusion does.
"""

from __future__ import annotations

from dataclasses import dataclass

from nas.arch._config import ArchConfig, BranchConfig

__all__ = ["CellPlan", "FusionPlan", "ModulePlan", "Plan", "plan"]

Port = tuple[int, int, int]  # (branch, channels, stride)


@dataclass(frozen=True)
class FusionPlan:
    inputs: tuple[Port, ...]
    outputs: tuple[Port, ...]


@dataclass(frozen=True)
class CellPlan:
    branch: int  # 0-based
    source: int  # branch whose feature (after fusion, if any) feeds the cell
    cin: int
    cfg: BranchConfig
    depth: int
    stride: int  # stride of the opening embedding (1 unless it opens the branch)


@dataclass(frozen=True)
class ModulePlan:
    fusion: FusionPlan | None
    cells: tuple[CellPlan, ...]


@dataclass(frozen=True)
class Plan:
    stem_width: int
    modules: tuple[ModulePlan, ...]
    channels: tuple[int, ...]  # final feature channels per branch
    strides: tuple[int, ...]


def plan(arch: ArchConfig) -> Plan:
    """Unfold ``arch`` into modules. Branch 0 starts as the stem output (stride 4)."""
    chans = {0: arch.stem.width}
    strides = {0: 4}
    modules: list[ModulePlan] = []
    for s, stage in enumerate(arch.stages):
        active = list(range(stage.first_branch(s), s + 1))
        for m in range(stage.modules):
            opening = s not in chans
            cin = dict(chans)
            fusion = None
            if stage.fusion:
                ins = tuple((b, chans[b], strides[b]) for b in active if b in chans)
                new = ((s, stage.branches[-1].width, stage.stride),) if opening else ()
                fusion = FusionPlan(ins, ins + new)
                cin.update({b: c for b, c, _ in fusion.outputs})
            cells = []
            for b, br in zip(active, stage.branches):
                if b in cin:
                    cells.append(CellPlan(b, b, cin[b], br, br.depths[m], 1))
                else:  # opened by a strided embedding of the previous branch
                    step = stage.stride // strides[s - 1]
                    cells.append(CellPlan(b, s - 1, cin[s - 1], br, br.depths[m], step))
            modules.append(ModulePlan(fusion, tuple(cells)))
            for b, br in zip(active, stage.branches):
                chans[b] = br.output_width
            strides[s] = stage.stride
    n = len(arch.stages)
    return Plan(
        arch.stem.width, tuple(modules), tuple(chans[b] for b in range(n)),
        tuple(strides[b] for b in range(n)),
    )
