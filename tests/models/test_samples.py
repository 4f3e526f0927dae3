"""Every point of every space builds into a working segmentor: 50 seeded samples per space run
forward and backward at sizes that are square, non-square and not multiples of 32."""

from __future__ import annotations

import pytest
import torch

from nas.models import build_model
from nas.space import load_space, space_names

SIZES = [(64, 64), (96, 128), (100, 75)]
N_SAMPLES = 50


@pytest.mark.slow
@pytest.mark.parametrize("space_name", space_names())
@pytest.mark.parametrize("chunk", range(5))
def test_samples_forward_backward(space_name, chunk):
    space = load_space(space_name)
    per_chunk = N_SAMPLES // 5
    for seed in range(chunk * per_chunk, (chunk + 1) * per_chunk):
        arch = space.sample(seed)
        torch.manual_seed(seed)
        model = build_model(arch).train()
        for h, w in SIZES:
            x = torch.randn(2, 3, h, w)
            y = model(x)
            assert y.shape == (2, arch.num_classes, h, w), (seed, arch.to_json(None))
            assert torch.isfinite(y).all(), (seed, (h, w))
            model.zero_grad(set_to_none=True)
            y.square().mean().backward()
            grads = [p.grad for p in model.parameters() if p.grad is not None]
            assert grads and all(torch.isfinite(g).all() for g in grads), (seed, (h, w))
