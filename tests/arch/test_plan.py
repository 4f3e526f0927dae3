"""The structural plan shared by the builder and the cost model, and its liveness pass."""

from __future__ import annotations

from nas.arch import load_arch
from nas.arch._plan import head_inputs, plan


def test_hrvit_b1_unfolds_into_six_modules_with_fusion():
    p = plan(load_arch("hrvit_b1"))
    assert len(p.modules) == 6 and all(m.fusion is not None for m in p.modules)
    assert [len(m.cells) for m in p.modules] == [1, 2, 3, 3, 4, 4]
    assert p.modules[1].fusion.outputs[-1] == (1, 64, 8)  # fusion opens branch 2
    assert p.outputs == (0, 1, 2, 3) and p.dropped == 0


def test_sequential_cells_open_branches_with_strided_embeddings():
    p = plan(load_arch("mpvit_tiny"))
    assert [(c.branch, c.source, c.stride, c.cin) for m in p.modules for c in m.cells] == [
        (0, 0, 1, 64), (1, 0, 2, 96), (2, 1, 2, 176), (3, 2, 2, 216)]


def test_cls_head_drops_cells_nothing_reads():
    d = load_arch("hrvit_b1").to_dict()
    d["head"] = {"type": "cls", "width": 64}
    arch = type(load_arch("hrvit_b1")).from_dict(d)
    assert head_inputs(arch) == (3,)
    p = plan(arch)
    # the last module's branches 1-3 feed nothing: its fusion keeps only the output it needs
    assert p.dropped == 3
    assert len(p.modules[-1].cells) == 1
    assert [o[0] for o in p.modules[-1].fusion.outputs] == [3]
    full = plan(arch, outputs=(0, 1, 2, 3))
    assert full.dropped == 0 and len(full.modules[-1].cells) == 4
