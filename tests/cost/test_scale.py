"""scale_to_fit: shrink an architecture into a FLOPs/params budget, keeping its character."""

from __future__ import annotations

import pytest

import nas
from nas.arch import ArchConfig, reference_names
from nas.cost import Budget, BudgetInfeasibleError, count_flops, estimate, scale_to_fit

FIVE_G = 5e9
REFS = reference_names()


def _shape(arch: ArchConfig):
    """What must not change: stages, branches, cells, mixers, FFNs, head type, classes."""
    return (
        arch.num_classes, arch.stem.act, arch.head.type,
        tuple((st.stride, st.fusion, tuple(
            (br.cell, br.paths, br.proto_stride, br.conv_ratio, br.out_width is None,
             br.mixer.model_dump(exclude={"heads"}) if br.mixer else None,
             br.mixer.heads if br.mixer else None, br.ffn)
            for br in st.branches)) for st in arch.stages),
    )


@pytest.fixture(scope="module")
def scaled() -> dict[str, ArchConfig]:
    return {name: scale_to_fit(nas.load_arch(name), "5GFLOPs") for name in REFS}


def test_there_are_ten_references():
    assert len(REFS) == 10


@pytest.mark.parametrize("name", REFS)
def test_every_reference_fits_5gflops_and_keeps_its_design(name, scaled):
    ref, arch = nas.load_arch(name), scaled[name]
    cost = estimate(arch, (512, 512))
    assert cost.flops <= FIVE_G
    assert ArchConfig.from_dict(arch.to_dict()) == arch  # valid by the full validation
    assert _shape(arch) == _shape(ref)
    # depths are only cut when widths alone cannot fit; 5 GFLOPs never needs that
    assert [br.depths for st in arch.stages for br in st.branches] == \
        [br.depths for st in ref.stages for br in st.branches]
    if estimate(ref).flops <= FIVE_G:
        assert arch == ref and arch.name == name
    else:
        assert arch.name == f"{name}_fit5G"
        # the common width factor is the largest that fits: little of the budget is left over
        assert cost.flops >= 0.9 * FIVE_G
        widths = [br.width for st in arch.stages for br in st.branches]
        assert all(w % 8 == 0 for w in widths)
        for st_a, st_r in zip(arch.stages, ref.stages):
            for a, r in zip(st_a.branches, st_r.branches):
                assert a.width <= r.width


@pytest.mark.slow
@pytest.mark.parametrize("name", ["hrvit_b1", "mpvit_tiny"])
def test_scaled_references_fit_by_fvcore_on_the_built_model(name, scaled):
    arch = scaled[name]
    model = nas.build_model(arch)
    flops = count_flops(model, (512, 512))
    assert flops == estimate(arch, (512, 512)).flops
    assert flops <= FIVE_G


def test_an_arch_that_already_fits_is_returned_unchanged():
    arch = nas.load_arch("afformer_tiny")
    assert estimate(arch).flops <= FIVE_G
    out = scale_to_fit(arch, Budget.parse("5GFLOPs"))
    assert out is arch and out.name == "afformer_tiny"


def test_an_impossible_budget_raises_one_line():
    with pytest.raises(BudgetInfeasibleError) as info:
        scale_to_fit(nas.load_arch("hrvit_b1"), "10MFLOPs")
    msg = str(info.value)
    assert "\n" not in msg and msg.startswith("budget infeasible: hrvit_b1 needs at least")


def test_params_and_combined_budgets():
    ref = nas.load_arch("mpvit_small")
    a = scale_to_fit(ref, "3.5M params")
    assert estimate(a).params <= 3.5e6 and a.name == "mpvit_small_fit3.5Mp"
    b = scale_to_fit(ref, ["5GFLOPs", "2M params"])
    cost = estimate(b)
    assert cost.flops <= FIVE_G and cost.params <= 2e6
    assert b.name == "mpvit_small_fit5G_2Mp"


def test_latency_limits_are_ignored():
    ref = nas.load_arch("hrvit_b1")
    assert scale_to_fit(ref, "30ms") is ref
    assert scale_to_fit(ref, "5GFLOPs, 30ms") == scale_to_fit(ref, "5GFLOPs")


def test_deterministic_and_other_input_sizes():
    ref = nas.load_arch("hrvit_b2")
    assert scale_to_fit(ref, "2GFLOPs", (256, 320)) == scale_to_fit(ref, "2GFLOPs", (256, 320))
    assert estimate(scale_to_fit(ref, "2GFLOPs", (256, 320)), (256, 320)).flops <= 2e9


def test_tight_budgets_cut_depth_but_keep_cells():
    ref = nas.load_arch("mpvit_base")
    arch = scale_to_fit(ref, "0.3GFLOPs")
    assert estimate(arch).flops <= 0.3e9
    assert _shape(arch) == _shape(ref)
    ref_depths = [d for st in ref.stages for br in st.branches for d in br.depths]
    depths = [d for st in arch.stages for br in st.branches for d in br.depths]
    assert sum(depths) < sum(ref_depths)
    assert all(1 <= d <= r for d, r in zip(depths, ref_depths))
    assert all(br.width >= 8 for st in arch.stages for br in st.branches)


def test_hybrid_samples_scale_into_budget():
    space = nas.load_space("hybrid")
    for seed in range(8):  # every one of these fits once scaled (no skip on infeasible)
        arch = space.sample(seed)
        out = scale_to_fit(arch, "3GFLOPs")
        assert estimate(out).flops <= 3e9
        assert ArchConfig.from_dict(out.to_dict()) == out
        assert _shape(out) == _shape(arch)
