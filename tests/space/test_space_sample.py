"""Sampling: deterministic, always valid, replayable; labels keep their choice lists."""

from __future__ import annotations

import pytest

from nas.arch import ArchConfig
from nas.space import FixedChooser, RandomChooser, load_space

from .conftest import Recorder

NAMES = ["afformer", "hrvit", "hybrid", "mpvit"]
SEEDS = range(200)


@pytest.fixture(scope="module", params=NAMES)
def space(request):
    return load_space(request.param)


def test_sample_is_deterministic(space) -> None:
    assert space.sample(7) == space.sample(7)
    assert space.sample(7).to_json() == space.sample(7).to_json()
    assert len({space.sample(s).to_json() for s in range(20)}) > 15


def test_samples_are_valid_and_round_trip(space) -> None:
    dims = space.dimensions
    for seed in SEEDS:
        rec = Recorder(RandomChooser(seed))
        arch = space.build(rec)
        assert arch == space.sample(seed)
        assert arch.name is None and arch.num_classes == 150
        assert ArchConfig.from_json(arch.to_json()) == arch  # valid, serialisable
        # every asked label is a declared dimension with exactly its choice list
        for label, choices in rec.asked:
            assert dims[label].choices == choices, label
        params = space.params(arch)
        assert params == rec.answers
        assert list(params) == [lab for lab, _ in rec.asked]  # in walk order
        assert space.contains(arch)
        assert space.build(FixedChooser(params)) == arch


def test_num_classes_is_a_build_argument(space) -> None:
    arch = space.build(RandomChooser(3), num_classes=19)
    assert arch.num_classes == 19
    assert space.contains(arch)
    assert space.contains(arch.model_copy(update={"name": "renamed"}))


def test_random_chooser_uses_its_own_generator() -> None:
    import numpy as np

    np.random.seed(0)
    a = RandomChooser(5).choose("x", list(range(100)))
    np.random.seed(1)
    assert RandomChooser(5).choose("x", list(range(100))) == a


def test_hybrid_samples_leave_the_families() -> None:
    hybrid = load_space("hybrid")
    families = {n: load_space(n) for n in ("hrvit", "mpvit", "afformer")}
    outside = 0
    for seed in range(30):
        arch = hybrid.sample(seed)
        cells = {br.cell for st in arch.stages for br in st.branches}
        if cells != {"hr"}:
            assert not families["hrvit"].contains(arch)
        if cells != {"mp"}:
            assert not families["mpvit"].contains(arch)
        outside += not any(f.contains(arch) for f in families.values())
    assert outside >= 25


def test_hybrid_mixes_cells_mixers_and_branches() -> None:
    hybrid = load_space("hybrid")
    seen = set()
    for seed in range(200):
        arch = hybrid.sample(seed)
        for st in arch.stages:
            for br in st.branches:
                seen.add(("cell", br.cell))
                if br.mixer:
                    seen.add(("mixer", br.mixer.type))
                    seen.add(("cell-mixer", br.cell, br.mixer.type))
            seen.add(("branches", len(st.branches)))
            seen.add(("fusion", st.fusion))
        seen.add(("head", arch.head.type))
    for cell in ("hr", "mp", "af"):
        for mixer in ("cswin", "factorized", "freq"):
            assert ("cell-mixer", cell, mixer) in seen
    assert {("branches", n) for n in range(1, 5)} <= seen
    assert {("head", "segformer"), ("head", "cls"), ("fusion", True), ("fusion", False)} <= seen
