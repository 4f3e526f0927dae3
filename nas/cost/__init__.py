"""What a candidate costs: fvcore FLOPs and params (ground truth, needs the model built)."""

from nas.cost._fvcore import count_flops, count_params, parse_size
from nas.cost._measure import Measured, measure

__all__ = ["Measured", "count_flops", "count_params", "measure", "parse_size"]
