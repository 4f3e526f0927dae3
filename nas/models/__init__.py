"""Building blocks of the three families and the builder (``build_model``)."""

from nas.models._builder import Backbone, Segmentor, Stem, build_model

__all__ = ["Backbone", "Segmentor", "Stem", "build_model"]
