"""Building blocks of the three families and the builder (``build_model``)."""

from nas.models._builder import Backbone, Segmentor, Stem, analytic_cost, build_model
from nas.models._tally import Tally

__all__ = ["Backbone", "Segmentor", "Stem", "Tally", "analytic_cost", "build_model"]
