from __future__ import annotations

import json

import pydantic
import pytest

from nas.arch import ArchConfig, load_arch, reference_names
from nas.errors import ArchError

REFS = reference_names()


def test_ten_references_ship():
    assert REFS == sorted([
        "hrvit_b1", "hrvit_b2", "hrvit_b3", "mpvit_tiny", "mpvit_xsmall", "mpvit_small",
        "mpvit_base", "afformer_tiny", "afformer_small", "afformer_base",
    ])


@pytest.mark.parametrize("name", REFS)
def test_yaml_and_json_round_trip_is_identity(name):
    arch = load_arch(name)
    assert ArchConfig.from_yaml(arch.to_yaml()) == arch
    assert ArchConfig.from_json(arch.to_json()) == arch
    assert ArchConfig.from_yaml(arch.to_yaml()).to_yaml() == arch.to_yaml()
    assert json.loads(arch.to_json())["schema_version"] == 1


def test_load_by_path(tmp_path):
    arch = load_arch("afformer_base")
    (tmp_path / "a.json").write_text(arch.to_json())
    (tmp_path / "a.yaml").write_text(arch.to_yaml())
    assert load_arch(tmp_path / "a.json") == arch
    assert load_arch(str(tmp_path / "a.yaml")) == arch


def test_derived_feature_facts():
    assert load_arch("mpvit_tiny").feature_channels == (96, 176, 216, 216)
    assert load_arch("afformer_base").feature_strides == (4, 8, 8, 8)
    assert load_arch("hrvit_b2").feature_channels == (48, 96, 240, 384)


def _edit(name, fn):
    d = load_arch(name).to_dict()
    fn(d)
    return d


BAD = [
    # (reference, edit, expected message fragment)
    ("hrvit_b1", lambda d: d["stages"][2]["branches"][1].update(width=100),
     "stage 3, branch 2: width 100 is not divisible by 8"),
    ("mpvit_tiny", lambda d: d["stages"][2]["branches"][0].update(width=100),
     "stage 3, branch 3: width 100 is not divisible by 8 heads"),
    ("hrvit_b1", lambda d: d["stages"][1]["branches"][0].update(depths=[1, 1]),
     "stage 2, branch 1: depths [1, 1] needs one entry per module (1)"),
    ("hrvit_b1", lambda d: d["stages"][1].update(stride=16),
     "stage 2: stride 16 must equal 4 or 8"),
    ("hrvit_b1", lambda d: d["stages"][0].update(stride=8), "stage 1: stride must be 4"),
    ("afformer_tiny", lambda d: d["stages"][1]["branches"][0]["mixer"].update(hp_heads=[2, 3, 2]),
     "hp_heads [2, 3, 2] must sum to heads (8)"),
    ("afformer_tiny", lambda d: d["stages"][1]["branches"][0]["mixer"].update(lp_sizes=[1, 2, 3]),
     "width 64 is not divisible by 3 low-pass groups"),
    ("hrvit_b1", lambda d: d["stages"][0]["branches"][0]["mixer"].pop("window"),
     "a cswin mixer needs a window size"),
    ("hrvit_b1", lambda d: d["stages"][1]["branches"][1]["mixer"].update(heads=3, type="cswin"),
     "width 64 is not divisible by 3 heads"),
    ("hrvit_b1", lambda d: d["stages"][1].update(branches=d["stages"][1]["branches"] * 2),
     "stage 2: 4 branches given but stage 2 has at most 2"),
    ("hrvit_b1", lambda d: d["stages"][0]["branches"][0]["ffn"].update(ratio=1.53125),
     "mixcfn hidden width 49 (width x ratio) must be even"),
    ("afformer_tiny", lambda d: d["stages"][0]["branches"][0].update(proto_stride=2),
     "an af cell without blocks (depth 0) needs proto_stride 1"),
    ("hrvit_b1", lambda d: d["stages"][0]["branches"][0].update(colour="red"),
     "stage 1, branch 1, colour: Extra inputs are not permitted"),
    ("hrvit_b1", lambda d: d["stem"].update(act="gelu"), "stem, act: Input should be 'relu' or"),
    ("hrvit_b1", lambda d: d.update(schema_version=7), "schema_version 7 is not supported"),
    ("hrvit_b1", lambda d: d["stages"][3]["branches"][3].pop("mixer"),
     "stage 4, branch 4: a branch with blocks needs both mixer and ffn"),
]


@pytest.mark.parametrize("name,edit,fragment", BAD, ids=[b[2][:40] for b in BAD])
def test_invalid_configs_name_the_field_and_fix(name, edit, fragment):
    with pytest.raises(ArchError) as info:
        ArchConfig.from_dict(_edit(name, edit))
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)


def test_bad_text_inputs(tmp_path):
    with pytest.raises(ArchError, match="malformed YAML at line"):
        ArchConfig.from_yaml("stem: [\n")
    with pytest.raises(ArchError, match="malformed JSON"):
        ArchConfig.from_json("{")
    with pytest.raises(ArchError, match="must be a mapping"):
        ArchConfig.from_yaml("- 1\n- 2\n")
    with pytest.raises(ArchError, match="unknown architecture 'hrvit_b9'"):
        load_arch("hrvit_b9")
    with pytest.raises(ArchError, match="does not exist"):
        load_arch(tmp_path / "missing.yaml")


def test_frozen():
    arch = load_arch("hrvit_b1")
    with pytest.raises(pydantic.ValidationError, match="frozen"):
        arch.num_classes = 3  # type: ignore[misc]
