"""size is exact: it matches a brute-force walk over every answer set of tiny spaces."""

from __future__ import annotations

import pytest

from nas.space import FixedChooser

from .conftest import TINY_LAYOUT, TINY_SLOT, walk_all


@pytest.mark.parametrize("text", [TINY_LAYOUT, TINY_SLOT], ids=["layout", "slot"])
def test_size_matches_brute_force(space_file, text: str) -> None:
    space = space_file(text)
    dims = space.dimensions
    runs, distinct = 0, set()
    for i, (arch, asked) in enumerate(walk_all(space)):
        runs += 1
        distinct.add(arch.to_json(indent=None))
        for label, choices in asked:  # each label always comes with the same choices
            assert dims[label].choices == choices, label
        if i % 7 == 0:  # spot-check the inverse
            params = space.params(arch)
            assert list(params) == [label for label, _ in asked]
            assert space.build(FixedChooser(params)) == arch
    assert runs == len(distinct) == space.size  # distinct answers <-> distinct architectures
    assert 1000 < space.size < 20000


@pytest.mark.parametrize("text", [TINY_LAYOUT, TINY_SLOT], ids=["layout", "slot"])
def test_every_dimension_is_asked_somewhere(space_file, text: str) -> None:
    space = space_file(text)
    seen = {label for _, asked in walk_all(space) for label, _ in asked}
    assert seen == set(space.dimensions)


def test_filtered_questions_get_their_own_labels(space_file) -> None:
    space = space_file(TINY_SLOT)
    dims = space.dimensions
    # width 18/24: no valid cswin heads, so the mixer question drops cswin
    assert dims["stage1.branch1.mixer"].choices == ("cswin", "factorized", "freq")
    assert dims["stage1.branch1.mixer[factorized|freq]"].choices == ("factorized", "freq")
    layout = space_file(TINY_LAYOUT)
    assert layout.dimensions["stage3.branches[1|2]"].choices == (1, 2)
    assert "stage2.fusion" in layout.dimensions  # asked only with 2 active branches
