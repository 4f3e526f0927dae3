"""The analytic cost model equals fvcore and numel, with no model built."""

from __future__ import annotations

import inspect

import pytest
import torch
from torch import nn

import nas.models
from nas.arch import load_arch, reference_names
from nas.cost import count_flops, count_params, estimate
from nas.models import build_model
from nas.space import load_space, space_names

# figures.md, Table 2 (backbones) and Table 3 (segmentors, incl. Cityscapes variants)
BACKBONE_512 = {
    "hrvit_b1": (7_758_008, 10_745_806_848), "mpvit_base": (74_364_976, 85_915_845_680),
    "afformer_tiny": (2_032_948, 2_747_264_000), "afformer_base": (2_843_548, 4_025_428_496),
}
SEGMENTOR_GFLOPS = [  # (name, classes, input, GFLOPs to 3 decimals)
    ("afformer_base", 150, (512, 512), 4.572), ("hrvit_b3", 150, (512, 512), 71.163),
    ("afformer_base", 19, (1024, 2048), 34.376), ("afformer_tiny", 19, (1024, 2048), 24.151),
    ("hrvit_b1", 19, (512, 512), 15.468), ("afformer_small", 19, (512, 512), 3.275),
]


@pytest.mark.parametrize("name", sorted(BACKBONE_512))
def test_estimate_backbone_equals_figures(name):
    cost = estimate(load_arch(name), (512, 512))
    assert (cost.backbone_params, cost.backbone_flops) == BACKBONE_512[name]


@pytest.mark.parametrize("name,classes,size,gflops", SEGMENTOR_GFLOPS)
def test_estimate_segmentor_equals_figures(name, classes, size, gflops):
    arch = load_arch(name).model_copy(update={"num_classes": classes})
    assert round(estimate(arch, size).flops / 1e9, 3) == gflops


def _check(arch, sizes):
    model = build_model(arch).eval()
    params = count_params(model)
    for size in sizes:
        est = estimate(arch, size)
        assert est.params == params
        assert est.flops == count_flops(model, size), (size, arch.to_json(None))


@pytest.mark.slow
@pytest.mark.parametrize("name", reference_names())
def test_references_equal_fvcore_at_odd_sizes(name):
    _check(load_arch(name), [(100, 75), (200, 130)])


SIZES = [(100, 75), (64, 96), (200, 130), (128, 96), (33, 250)]


@pytest.mark.slow
@pytest.mark.parametrize("space_name", space_names())
@pytest.mark.parametrize("chunk", range(3))
def test_samples_equal_fvcore(space_name, chunk):
    """30 seeded samples per space, each at two sizes (non-square, not multiples of 32)."""
    space = load_space(space_name)
    for seed in range(chunk * 10, chunk * 10 + 10):
        _check(space.sample(seed), [SIZES[seed % 5], SIZES[(seed + 2) % 5]])


def test_estimate_builds_nothing(monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("estimate() must not build modules or allocate tensors")

    monkeypatch.setattr(nn.Module, "__init__", forbidden)
    monkeypatch.setattr(torch, "empty", forbidden)
    assert estimate(load_arch("hrvit_b2"), (360, 480)).params == 20_809_782


def _module_classes():
    for _, mod in inspect.getmembers(nas.models, inspect.ismodule):
        for _, cls in inspect.getmembers(mod, inspect.isclass):
            if issubclass(cls, nn.Module) and cls.__module__.startswith("nas.models"):
                yield cls


# composites priced by walking the plan (nas.models.units / analytic_cost), not by a formula
COMPOSITES = {"Segmentor", "Backbone", "_Module", "_FusionUnit", "_HeadUnit"}


def test_every_block_owns_its_cost_formula():
    classes = {cls.__name__: cls for cls in _module_classes()}
    assert len(classes) > 15
    missing = [n for n, c in classes.items() if n not in COMPOSITES and "cost" not in vars(c)]
    assert not missing, f"modules without a cost() formula: {missing}"
