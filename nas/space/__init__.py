"""The search space: declared once in YAML (``search_spaces/*.yaml``), walked define-by-run.

>>> space = load_space("hybrid")
>>> arch = space.sample(seed=0)             # a valid ArchConfig, reproducible
>>> params = space.params(arch)             # {label: value}, replayable:
>>> space.build(FixedChooser(params)) == arch
True

An Optuna trial plugs in as a chooser: ``choose(label, choices)`` ->
``trial.suggest_categorical(label, choices)``. Questions are asked only when relevant (a window
only for cswin, nothing for a branch without blocks). A label always comes with the same choices:
when earlier answers leave only some values valid (a width that no cswin head count divides),
the question is asked under ``label[v1|v2]``, e.g. ``stage3.branch3.mixer[factorized|freq]``.
This package does not import torch.
"""

from nas.space._choosers import Chooser, FixedChooser, RandomChooser
from nas.space._dims import Dimension, base_label, same_value
from nas.space._load import load_space, space_names
from nas.space._space import SearchSpace

__all__ = [
    "Chooser",
    "Dimension",
    "FixedChooser",
    "RandomChooser",
    "SearchSpace",
    "load_space",
    "base_label",
    "same_value",
    "space_names",
]
