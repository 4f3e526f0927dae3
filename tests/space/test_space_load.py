"""Loading the shipped spaces: names, paths, labels, sizes, hashes; no torch."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest

from nas._resources import data_dir
from nas.errors import SpaceError
from nas.space import Dimension, SearchSpace, load_space, space_names

NAMES = ["afformer", "hrvit", "hybrid", "mpvit"]


def test_space_names() -> None:
    assert space_names() == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_loads_with_finite_positive_size(name: str) -> None:
    space = load_space(name)
    assert isinstance(space, SearchSpace)
    assert space.name == name
    assert math.isfinite(space.size_log10) and space.size_log10 > 0
    assert math.isclose(space.size_log10, math.log10(space.size))
    dims = space.dimensions
    assert dims and all(isinstance(d, Dimension) for d in dims.values())
    for label, dim in dims.items():
        assert dim.label == label and len(dim.choices) >= 2
        assert all(type(c) in (int, float, str, bool) for c in dim.choices)
    rows = space.describe()
    assert [r["label"] for r in rows] == list(dims)
    for row in rows:
        assert list(row) == ["label", "choices", "condition"]
        assert all(isinstance(x, str) for x in row.values())
    assert rows[0]["choices"] == " | ".join(str(c) for c in dims[rows[0]["label"]].choices)


def test_load_by_name_suffix_and_path() -> None:
    by_name = load_space("hybrid")
    assert load_space("hybrid.yaml").hash == by_name.hash
    assert load_space(data_dir("search_spaces") / "hybrid.yaml").hash == by_name.hash
    assert load_space().name == "hybrid"


def test_unknown_space_name() -> None:
    with pytest.raises(SpaceError, match="unknown search space 'nope'.*hybrid"):
        load_space("nope")


def test_hash_is_stable_and_ignores_comments(tmp_path) -> None:
    text = (data_dir("search_spaces") / "mpvit.yaml").read_text()
    plain = tmp_path / "a.yaml"
    plain.write_text(
        "\n".join(line.split(" #")[0] for line in text.splitlines() if not line.startswith("#"))
    )
    assert load_space(plain).hash == load_space("mpvit").hash
    assert len(load_space("mpvit").hash) == 64
    assert load_space("mpvit").hash != load_space("hrvit").hash


def test_hybrid_labels_are_stable() -> None:
    dims = load_space("hybrid").dimensions
    for label in [
        "stem.width",
        "stage1.fusion",
        "stage2.fusion",
        "stage3.stride",
        "stage3.branches",
        "stage3.modules",
        "branch1.width",
        "branch3.width",
        "stage1.branch1.cell",
        "stage3.branch2.mixer",
        "stage3.branch2.window",
        "stage3.branch2.hp",
        "stage3.branch2.lp",
        "stage3.branch2.ffn",
        "stage3.branch2.ratio",
        "stage3.branch2.depth2",
        "stage2.branch2.paths",
        "stage2.branch2.proto_stride",
        "stage2.branch2.conv_ratio",
        "stage3.branch3.dim_head",
        "head.type",
        "head.width",
    ]:
        assert label in dims, label
    assert dims["stage3.branch2.mixer"].choices == ("cswin", "factorized", "freq")
    # a width that cswin cannot use gets its own label with the filtered list
    assert dims["stage3.branch3.mixer[factorized|freq]"].choices == ("factorized", "freq")
    assert dims["stage3.branches[1|2]"].choices == (1, 2)


def test_hybrid_is_the_largest() -> None:
    sizes = {n: load_space(n).size for n in NAMES}
    assert max(sizes, key=sizes.get) == "hybrid"


def test_no_torch_import() -> None:
    code = (
        "import sys, nas.space; nas.space.load_space('hybrid').sample(0); "
        "sys.exit('torch' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
