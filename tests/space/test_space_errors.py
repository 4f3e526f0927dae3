"""Bad declarations and bad replays fail with one helpful line."""

from __future__ import annotations

import pytest

from nas.errors import SpaceError
from nas.space import FixedChooser, load_space

from .conftest import TINY_SLOT

# A valid base to break: one stage, one hr cswin slot.
BASE = """
stages:
  - {modules: 1}
branches:
  - width: [32, 64]
slots:
  cell: hr
  depth: [0, 1]
  mixer: cswin
  heads: [1, 2]
  window: [1, 2]
  ffn: mixcfn
  ratio: [2, 4]
"""


def _error(space_file, text: str) -> str:
    with pytest.raises(SpaceError) as info:
        space_file(text)
    message = str(info.value)
    assert "\n" not in message and message.startswith("space.yaml: ")
    return message


def test_base_is_valid(space_file) -> None:
    assert space_file(BASE).size == 2 * (1 + 2 * 2 * 2)


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda t: t + "stages: [\n", "malformed YAML at line"),
        (lambda t: "- just\n- a list\n", "must be a YAML mapping"),
        (lambda t: t.replace("window:", "windw:"), "slots: unknown key 'windw'; allowed here: "),
        (lambda t: t + "colour: red\n", "unknown key 'colour'"),
        (
            lambda t: t.replace("modules: 1", "modules: 1, extra: 2"),
            "stages[1]: unknown key 'extra'",
        ),
        (lambda t: t.replace("window: [1, 2]", "window: []"), "slots.window: empty choice list"),
        (lambda t: t.replace("ratio: [2, 4]", "ratio: [2, 2.0]"), "listed twice"),
        (
            lambda t: t.replace("window: [1, 2]", "window: [0, 2]"),
            "slots.window[1]: Input should be greater than or equal to 1",
        ),
        (lambda t: t.replace("cell: hr", "cell: [hr, vit]"), "slots.cell[2]: Input should be"),
        (
            lambda t: t.replace("heads: [1, 2]", "heads: [1, 3]"),
            "slots.heads: 3 never gives a valid architecture (at width 32: width 32 is not",
        ),
        (
            lambda t: t.replace("heads: [1, 2]", "dim_head: [32, 7]"),
            "slots.dim_head: 7 never gives a valid architecture",
        ),
        (
            lambda t: t.replace("heads: [1, 2]", "heads: 1\n  dim_head: 8"),
            "give heads or dim_head, not both",
        ),
        (lambda t: t.replace("  window: [1, 2]\n", ""), "has no window choices; add window"),
        (
            lambda t: t.replace("mixer: cswin", "mixer: factorized\n  hp: '3:1'"),
            "slots.heads: never used (it matters only when",
        ),
        (lambda t: t + "  hp: ['3:2,4:2']\n", "kernels must be odd"),
        (
            lambda t: t.replace("width: [32, 64]", "width: [32, 64, 33]").replace("[0, 1]", "1"),
            "branches[1].width: 33 never gives a valid architecture (stage 1 cannot build branch 1 "
            "at this width: no mixer/ffn choice is valid and depth 0 is not offered)",
        ),
        (lambda t: t + "stem: {width: 15}\n", "stem.width: 15 is invalid"),
        (
            lambda t: t + "head: {type: cls, width: [20]}\n",
            "head.width: 20 is invalid for every head type",
        ),
        (
            lambda t: t.replace("  - {modules: 1}", "  - {modules: 1, stride: double}"),
            "stage 1 runs at stride 4",
        ),
        (
            lambda t: t.replace("  - width: [32, 64]", "  - width: 32\n  - width: 64"),
            "give one entry per stage (1), got 2",
        ),
        (
            lambda t: t + "overrides:\n  - {stage: 1, branch: 2, depth: 1}\n",
            "there are only 1 stages/branches",
        ),
        (lambda t: t + "overrides:\n  - {stage: 1}\n", "an override changes nothing"),
        (
            lambda t: t.replace("depth: [0, 1]", "depth: 1").replace(
                "width: [32, 64]", "width: 33"
            ),
            "branches[1].width: 33 never gives a valid architecture",
        ),  # the whole space is empty
    ],
    ids=lambda v: v[:40] if isinstance(v, str) else "edit",
)
def test_bad_declarations(space_file, edit, expected: str) -> None:
    assert expected in _error(space_file, edit(BASE))


def test_impossible_stage_choices(space_file) -> None:
    three = """
stages:
  - {}
  - {branches: 1}
  - {branches: [1, 3]}
branches: [{width: 32}, {width: 32}, {width: 32}]
slots: {cell: mp, depth: 0}
"""
    assert "stages[3].branches: 3 never gives a valid architecture (stage 2 keeps at most 1" in (
        _error(space_file, three)
    )
    fused = three.replace("[1, 3]", "1, fusion: [false, true]")
    assert "stages[3].fusion: true never gives" in _error(space_file, fused)


def test_override_for_slots_never_active(space_file) -> None:
    text = """
stages: [{}, {branches: 1}]
branches: [{width: 32}, {width: 32}]
slots: {cell: mp, depth: 0}
overrides:
  - {stage: 2, branch: 1, paths: [1, 2]}
"""
    assert "overrides[1].paths: never used (it applies only to slots that are never active" in (
        _error(space_file, text)
    )


def test_fixed_chooser_errors(space_file) -> None:
    space = space_file(TINY_SLOT)
    params = space.params(space.sample(1))
    label = next(iter(params))
    missing = {k: v for k, v in params.items() if k != label}
    with pytest.raises(SpaceError, match=f"no value for '{label}'"):
        space.build(FixedChooser(missing))
    with pytest.raises(SpaceError, match=f"{label}: 999 is not a choice here; use one of"):
        space.build(FixedChooser({**params, label: 999}))
    chooser = FixedChooser({**params, "extra.label": 1})
    space.build(chooser)
    assert chooser.unused() == ["extra.label"]


def test_fixed_chooser_keeps_bools_apart_from_ints() -> None:
    chooser = FixedChooser({"x": True, "y": 1})
    with pytest.raises(SpaceError, match="x: True is not a choice"):
        chooser.choose("x", [1, 2])
    assert chooser.choose("y", [True, 1]) == 1 and chooser.choose("y", [True, 1]) is not True


def test_params_from_another_space_do_not_replay() -> None:
    hybrid, mpvit = load_space("hybrid"), load_space("mpvit")
    with pytest.raises(SpaceError):
        hybrid.build(FixedChooser(mpvit.params(mpvit.sample(0))))
