"""The proxy trainer: a short, seeded training run that scores a candidate by validation mIoU.

>>> from nas.data import load_data
>>> result = train(load_arch("afformer_tiny"), load_data("synthetic", "train"),
...                load_data("synthetic", "val"), DEFAULT_SCHEDULE, seed=0)
>>> result.status, result.miou
"""

from nas.proxy._io import load_weights, save_metrics, save_weights
from nas.proxy._metrics import SegMetrics, confusion_matrix, metrics_from_confusion
from nas.proxy._run import (
    METRICS_FILE,
    WEIGHTS_FILE,
    check_out_dir,
    default_out_dir,
    load_splits,
    train_to_dir,
)
from nas.proxy._schedule import DEFAULT_SCHEDULE, Schedule
from nas.proxy._train import ProxyResult, Pruned, evaluate, prepare_data, train

__all__ = [
    "DEFAULT_SCHEDULE",
    "METRICS_FILE",
    "WEIGHTS_FILE",
    "ProxyResult",
    "Pruned",
    "Schedule",
    "SegMetrics",
    "check_out_dir",
    "confusion_matrix",
    "default_out_dir",
    "evaluate",
    "load_splits",
    "load_weights",
    "metrics_from_confusion",
    "prepare_data",
    "save_metrics",
    "save_weights",
    "train",
    "train_to_dir",
]
