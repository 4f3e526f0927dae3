"""The structure an :class:`ArchConfig` unfolds into, computed once and shared by the builder and
the analytic cost model (so the topology rules live in one place).

A plan is a list of modules; each module is an optional fusion followed by one cell per active
branch. Every cell knows its input channels, and the stride of the embedding that opens a new
branch when no fusion does.

Only what the outputs need is kept: a liveness pass from the requested outputs (by default the
branches the head reads: all of them for a SegFormer head, the last one for a CLS head) drops
cells whose result nothing reads and fusion outputs nobody consumes, so no module is built or
counted that would compute a value and throw it away.
"""

from __future__ import annotations

from dataclasses import dataclass

from nas.arch._config import ArchConfig, BranchConfig

__all__ = ["CellPlan", "FusionPlan", "ModulePlan", "Plan", "head_inputs", "plan"]

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
    outputs: tuple[int, ...]  # branches the backbone returns
    dropped: int  # cells dropped because nothing reads their result

    @property
    def output_channels(self) -> tuple[int, ...]:
        return tuple(self.channels[b] for b in self.outputs)


def head_inputs(arch: ArchConfig) -> tuple[int, ...]:
    """Branches the head reads: all for ``segformer``, the last for ``cls``."""
    n = len(arch.stages)
    return (n - 1,) if arch.head.type == "cls" else tuple(range(n))


def plan(arch: ArchConfig, outputs: tuple[int, ...] | None = None) -> Plan:
    """Unfold ``arch`` into modules computing ``outputs`` (default: :func:`head_inputs`).
    Branch 0 starts as the stem output (stride 4)."""
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
    outputs = head_inputs(arch) if outputs is None else tuple(outputs)
    kept, dropped = _live(modules, outputs)
    return Plan(
        arch.stem.width, kept, tuple(chans[b] for b in range(n)),
        tuple(strides[b] for b in range(n)), outputs, dropped,
    )


def _live(modules: list[ModulePlan], outputs: tuple[int, ...]
          ) -> tuple[tuple[ModulePlan, ...], int]:
    """Backward liveness: keep the cells whose result is read later (or returned) and the fusion
    outputs those cells read; count the dropped cells."""
    live = set(outputs)
    kept: list[ModulePlan] = []
    dropped = 0
    for mp in reversed(modules):
        cells = tuple(c for c in mp.cells if c.branch in live)
        dropped += len(mp.cells) - len(cells)
        sources = {c.source for c in cells}
        live -= {c.branch for c in cells}
        fusion = mp.fusion
        if fusion is not None:
            outs = tuple(o for o in fusion.outputs if o[0] in sources)
            fusion = FusionPlan(fusion.inputs, outs) if outs else None
            if fusion is not None:
                live |= {b for b, _, _ in fusion.inputs}
        else:
            live |= sources
        if cells:
            kept.append(ModulePlan(fusion, cells))
    return tuple(reversed(kept)), dropped
