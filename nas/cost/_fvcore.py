"""Ground-truth cost: fvcore FLOPs and parameter counts of a built model.

Convention (the one MPViT and AFFormer published with): fvcore's ``FlopCountAnalysis`` on the
whole segmentor, backbone + head + final resize; one multiply-add counts as one FLOP; norms
(BatchNorm, LayerNorm, GroupNorm per element), upsampling and pooling add their elementwise terms.
fvcore
leaves out, as 0: activations (GELU, Hardswish, ReLU), softmax, elementwise add/mul (residuals,
``q * conv(v)``), padding and mask arithmetic, and dropout.
"""

from __future__ import annotations

import logging
import warnings
from typing import TYPE_CHECKING

import torch
from torch import nn

if TYPE_CHECKING:
    from nas.arch import ArchConfig

__all__ = ["count_flops", "count_params"]


def _as_model(model_or_arch: nn.Module | ArchConfig) -> nn.Module:
    if isinstance(model_or_arch, nn.Module):
        return model_or_arch
    from nas.models import build_model

    return build_model(model_or_arch)


def count_params(model_or_arch: nn.Module | ArchConfig) -> int:
    """Number of parameters (sum of numel)."""
    return sum(p.numel() for p in _as_model(model_or_arch).parameters())


def count_flops(
    model_or_arch: nn.Module | ArchConfig, input_size: tuple[int, int] = (512, 512),
    batch: int = 1,
) -> int:
    """fvcore FLOPs of one forward pass in eval mode at ``input_size`` (H, W)."""
    model = _as_model(model_or_arch)
    was_training = model.training
    model.eval()
    x = torch.zeros(batch, 3, *input_size)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from fvcore.nn import FlopCountAnalysis

            analysis = FlopCountAnalysis(model, x)
            analysis.unsupported_ops_warnings(False)
            analysis.uncalled_modules_warnings(False)
            logging.getLogger("fvcore").setLevel(logging.ERROR)
            with torch.no_grad():
                return int(analysis.total())
    finally:
        model.train(was_training)
