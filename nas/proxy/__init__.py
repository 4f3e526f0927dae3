"""The proxy trainer: a short, seeded training run that scores a candidate by validation mIoU.

>>> from nas.data import load_data
>>> result = train(load_arch("afformer_tiny"), load_data("synthetic", "train"),
...                load_data("synthetic", "val"), DEFAULT_SCHEDULE, seed=0)
>>> result.status, result.miou
"""

from nas.proxy._checkpoint import CHECKPOINT_FILE, load_checkpoint, save_checkpoint
from nas.proxy._full import FullResult, Paused, train_full
from nas.proxy._io import load_weights, save_metrics, save_weights
from nas.proxy._metrics import (
    SegMetrics,
    confusion_matrix,
    constant_miou,
    metrics_from_confusion,
)
from nas.proxy._recipe import SCORE_KINDS, curve_score
from nas.proxy._run import (
    METRICS_FILE,
    WEIGHTS_FILE,
    check_out_dir,
    default_out_dir,
    load_splits,
    load_test_split,
    train_to_dir,
)
from nas.proxy._schedule import (
    DEFAULT_SCHEDULE,
    FULL_SCHEDULE,
    SCHEDULES,
    FullSchedule,
    Schedule,
    get_schedule,
)
from nas.proxy._train import ProxyResult, Pruned, evaluate, prepare_data, train
from nas.proxy._zero_cost import ZERO_COST_SCORES, naswot, synflow, zero_cost_scores, zico

__all__ = [
    "CHECKPOINT_FILE",
    "DEFAULT_SCHEDULE",
    "FULL_SCHEDULE",
    "METRICS_FILE",
    "WEIGHTS_FILE",
    "ZERO_COST_SCORES",
    "FullResult",
    "FullSchedule",
    "Paused",
    "ProxyResult",
    "Pruned",
    "SCHEDULES",
    "SCORE_KINDS",
    "Schedule",
    "SegMetrics",
    "check_out_dir",
    "confusion_matrix",
    "constant_miou",
    "curve_score",
    "default_out_dir",
    "evaluate",
    "get_schedule",
    "load_checkpoint",
    "load_splits",
    "load_test_split",
    "load_weights",
    "metrics_from_confusion",
    "naswot",
    "prepare_data",
    "save_checkpoint",
    "save_metrics",
    "save_weights",
    "synflow",
    "train",
    "train_full",
    "train_to_dir",
    "zero_cost_scores",
    "zico",
]
