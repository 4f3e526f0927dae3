"""Confusion-matrix segmentation metrics.

IoU of class c = TP / (TP + FP + FN) over all evaluated pixels (ignored pixels excluded).
mIoU is the mean over the classes that occur in the ground truth or in the prediction; a class
absent from both has no IoU (None) and is left out of the mean (the usual convention: a class
that is predicted but absent from the ground truth counts with IoU 0).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from nas.data import IGNORE_INDEX

__all__ = ["SegMetrics", "confusion_matrix", "constant_miou", "metrics_from_confusion"]


def confusion_matrix(
    pred: torch.Tensor, target: torch.Tensor, num_classes: int, ignore_index: int = IGNORE_INDEX
) -> torch.Tensor:
    """(K, K) int64 counts, rows = ground truth, columns = prediction; ignored pixels dropped."""
    t = target.reshape(-1).long()
    p = pred.reshape(-1).long()
    keep = t != ignore_index
    t, p = t[keep], p[keep]
    if t.numel() and (int(t.max()) >= num_classes or int(t.min()) < 0):
        raise ValueError(f"target label {int(t.max())} outside 0..{num_classes - 1}")
    idx = t * num_classes + p
    return torch.bincount(idx, minlength=num_classes * num_classes).reshape(
        num_classes, num_classes).cpu()


@dataclass(frozen=True)
class SegMetrics:
    miou: float | None
    per_class_iou: list[float | None]
    pixel_acc: float | None


def metrics_from_confusion(conf: torch.Tensor) -> SegMetrics:
    """mIoU, per-class IoU (None for classes absent from prediction and ground truth) and pixel
    accuracy from a confusion matrix (None when it counts no pixel)."""
    conf = conf.double()
    tp = conf.diag()
    union = conf.sum(0) + conf.sum(1) - tp
    per = [float(tp[c] / union[c]) if union[c] > 0 else None for c in range(conf.shape[0])]
    present = [v for v in per if v is not None]
    total = float(conf.sum())
    return SegMetrics(
        miou=sum(present) / len(present) if present else None,
        per_class_iou=per,
        pixel_acc=float(tp.sum()) / total if total > 0 else None,
    )


def constant_miou(train_masks, val_masks, num_classes: int,
                  ignore_index: int = IGNORE_INDEX) -> float:
    """The mIoU of the trivial solution: predicting the most frequent class of the training
    masks at every validation pixel (what a network scores before it has learned anything).
    Masks: a (N, H, W) tensor or a list of (H, W) tensors."""
    def counts(masks) -> torch.Tensor:
        total = torch.zeros(num_classes, dtype=torch.int64)
        for m in (masks if isinstance(masks, list) else [masks]):
            m = m.reshape(-1).long()
            total += torch.bincount(m[m != ignore_index], minlength=num_classes)[:num_classes]
        return total

    majority = int(counts(train_masks).argmax())
    val = counts(val_masks)
    conf = torch.zeros(num_classes, num_classes, dtype=torch.int64)
    conf[:, majority] = val  # every pixel predicted as the majority class
    miou = metrics_from_confusion(conf).miou
    return 0.0 if miou is None else miou
