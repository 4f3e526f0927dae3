"""The ten references are exact points of their family space and of hybrid."""

from __future__ import annotations

import pytest

from nas.arch import load_arch, reference_names
from nas.space import FixedChooser, load_space

from .conftest import FAMILIES

SPACES = {n: load_space(n) for n in ("hybrid", *FAMILIES)}


def test_families_cover_all_references() -> None:
    assert sorted(r for refs in FAMILIES.values() for r in refs) == reference_names()


@pytest.mark.parametrize("ref", reference_names())
def test_reference_in_family_and_hybrid_only(ref: str) -> None:
    arch = load_arch(ref)
    family = next(f for f, refs in FAMILIES.items() if ref in refs)
    for name, space in SPACES.items():
        expected = name in ("hybrid", family)
        assert space.contains(arch) is expected, (ref, name)
        if expected:
            params = space.params(arch)
            rebuilt = space.build(FixedChooser(params), num_classes=arch.num_classes)
            assert rebuilt.name is None
            assert rebuilt == arch.model_copy(update={"name": None})
            assert rebuilt.to_dict() == {k: v for k, v in arch.to_dict().items() if k != "name"}
        else:
            assert space.params(arch) is None


def test_a_changed_reference_is_not_contained() -> None:
    arch = load_arch("hrvit_b1")
    head = arch.head.model_copy(update={"dropout": 0.2})
    assert not SPACES["hybrid"].contains(arch.model_copy(update={"head": head}))
    stem = arch.stem.model_copy(update={"width": 96})
    assert not SPACES["hrvit"].contains(arch.model_copy(update={"stem": stem}))
    assert not SPACES["hybrid"].contains(
        load_arch("hrvit_b1").model_copy(update={"stages": arch.stages[:3]})
    )
