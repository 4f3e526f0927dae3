"""The proxy separates models: synthetic needs more than per-pixel colour, and a short CamVid run
beats predicting the majority class everywhere."""

from __future__ import annotations

import torch
from torch import nn

from nas.data import load_data
from nas.proxy import Schedule, confusion_matrix, metrics_from_confusion, train


def test_synthetic_needs_context(small_arch):
    spec = "synthetic:128,32,size=64"
    tr, va = load_data(spec, "train"), load_data(spec, "val")
    sched = Schedule(epochs=8, batch_size=8, train_size=(64, 64), n_train=None, n_val=None,
                     lr=4e-3, threads=1)
    torch.manual_seed(0)
    pixel = train(nn.Conv2d(3, 6, 1), tr, va, sched, seed=0)  # a per-pixel linear classifier
    real = train(small_arch, tr, va, sched, seed=0)
    assert pixel.status == real.status == "ok"
    assert real.miou > pixel.miou + 0.05, (real.epoch_miou, pixel.epoch_miou)
    assert real.miou > 1.3 * pixel.miou


def test_short_camvid_run_beats_majority_class(small_arch, camvid_root):
    spec = f"camvid:{camvid_root}"
    size = (60, 80)
    tr = load_data(spec, "train", size=size, limit=96)
    va = load_data(spec, "val", size=size, limit=24)
    # the baseline: the most frequent training class predicted everywhere
    majority = int(tr.class_pixel_counts().argmax())
    base = metrics_from_confusion(confusion_matrix(torch.full_like(va.masks, majority), va.masks,
                                                   11)).miou
    sched = Schedule(epochs=4, batch_size=8, train_size=(48, 64), n_train=None, n_val=None,
                     lr=4e-3, threads=1)
    r = train(small_arch, tr, va, sched, seed=0)
    assert r.status == "ok" and r.num_classes == 11
    assert r.miou > base + 0.05, (r.epoch_miou, base)
