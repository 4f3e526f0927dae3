"""Building blocks of the three families and the builder (``build_model``)."""

from nas.models._builder import (
    Backbone,
    Segmentor,
    Stem,
    Unit,
    analytic_cost,
    build_model,
    units,
)
from nas.models._tally import Tally

__all__ = [
    "Backbone",
    "Segmentor",
    "Stem",
    "Tally",
    "Unit",
    "analytic_cost",
    "build_model",
    "units",
]
