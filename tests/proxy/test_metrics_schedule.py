"""Confusion-matrix metrics and the Schedule type."""

from __future__ import annotations

import json

import pytest
import torch

from nas.errors import NasError
from nas.proxy import DEFAULT_SCHEDULE, Schedule, confusion_matrix, metrics_from_confusion


def test_confusion_ignores_255():
    target = torch.tensor([[0, 1, 255], [2, 2, 255]])
    pred = torch.tensor([[0, 2, 1], [2, 2, 0]])
    conf = confusion_matrix(pred, target, 3)
    assert conf.tolist() == [[1, 0, 0], [0, 0, 1], [0, 0, 2]]


def test_miou_excludes_classes_absent_from_prediction_and_truth():
    # classes: 0 right, 1 wrong (predicted as 2), 2 predicted twice more, 3 absent everywhere,
    # 4 predicted but absent from the truth (counts, IoU 0)
    target = torch.tensor([0, 0, 1, 2, 2])
    pred = torch.tensor([0, 4, 2, 2, 2])
    m = metrics_from_confusion(confusion_matrix(pred, target, 5))
    assert m.per_class_iou[3] is None
    assert m.per_class_iou[0] == pytest.approx(1 / 2)
    assert m.per_class_iou[1] == 0.0
    assert m.per_class_iou[2] == pytest.approx(2 / 3)
    assert m.per_class_iou[4] == 0.0
    assert m.miou == pytest.approx((0.5 + 0 + 2 / 3 + 0) / 4)
    assert m.pixel_acc == pytest.approx(3 / 5)
    empty = metrics_from_confusion(torch.zeros(3, 3, dtype=torch.long))
    assert empty.miou is None and empty.pixel_acc is None


def test_confusion_rejects_out_of_range_targets():
    with pytest.raises(ValueError):
        confusion_matrix(torch.tensor([0]), torch.tensor([7]), 3)


def test_schedule_replace_and_round_trip():
    s = DEFAULT_SCHEDULE.replace(epochs=7, lr=None, train_size=(64, 80))
    assert s.epochs == 7 and s.lr == DEFAULT_SCHEDULE.lr and s.train_size == (64, 80)
    again = Schedule.from_dict(json.loads(json.dumps(s.to_dict())))
    assert again == s and isinstance(again.train_size, tuple)
    with pytest.raises(NasError, match="unknown field"):
        s.replace(epoch=3)


@pytest.mark.parametrize("bad", [
    {"epochs": 0}, {"batch_size": 0}, {"train_size": (16, 16)}, {"eval_size": (8, 64)},
    {"lr": 0.0}, {"n_train": 0}, {"scale_range": (1.5, 0.5)}, {"grad_clip": 0.0},
    {"threads": 0}, {"min_lr_ratio": 2.0},
    # non-finite floats pass a bare "> 0" check: `nas search --lr inf` used to train with them
    {"lr": float("inf")}, {"lr": float("nan")}, {"weight_decay": float("nan")},
    {"warmup_epochs": float("inf")}, {"grad_clip": float("inf")},
    {"head_lr_mult": float("inf")}, {"scale_range": (0.5, float("inf"))},
])
def test_schedule_rejects_bad_values(bad):
    with pytest.raises(NasError, match="schedule"):
        Schedule(**bad)


def test_constant_miou_is_the_majority_class_prediction():
    import torch

    from nas.proxy import confusion_matrix, constant_miou, metrics_from_confusion

    train = torch.tensor([[0, 0, 0, 1], [0, 2, 255, 0]], dtype=torch.uint8)  # class 0 majority
    val = [torch.tensor([[0, 1], [1, 2]], dtype=torch.uint8), torch.tensor([[255, 0]],
                                                                          dtype=torch.uint8)]
    pred = [torch.zeros_like(v) for v in val]
    conf = sum(confusion_matrix(p, v, 3) for p, v in zip(pred, val))
    expected = metrics_from_confusion(conf).miou  # IoU(0) = 2/5, classes 1 and 2 at 0
    assert constant_miou(train, val, 3) == expected
    assert abs(expected - (2 / 5) / 3) < 1e-12
