"""What a candidate costs: fvcore FLOPs, params and measured latency (ground truth, built model)."""

from nas.cost._fvcore import count_flops, count_params, parse_size
from nas.cost._latency import Latency, measure_latency
from nas.cost._measure import Measured, measure

__all__ = [
    "Latency",
    "Measured",
    "count_flops",
    "count_params",
    "measure",
    "measure_latency",
    "parse_size",
]
