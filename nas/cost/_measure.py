"""Build a model and measure it: params, fvcore FLOPs, output and feature shapes."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch

from nas.arch import ArchConfig
from nas.cost._fvcore import count_flops, count_params

__all__ = ["Measured", "measure"]


@dataclass(frozen=True)
class Measured:
    """What ``nas build`` reports for one architecture at one input size."""

    name: str | None
    input: tuple[int, int]
    params: int
    backbone_params: int
    head_params: int
    flops: int
    output_shape: tuple[int, ...]
    features: tuple[dict, ...]  # per branch: channels, stride, shape

    def to_dict(self) -> dict:
        d = asdict(self)
        d["input"] = f"{self.input[0]}x{self.input[1]}"
        return d


def measure(arch: ArchConfig, input_size: tuple[int, int] = (512, 512)) -> Measured:
    """Build ``arch`` and measure params, fvcore FLOPs and shapes at ``input_size`` (batch 1)."""
    from nas.cost._latency import seeded
    from nas.models import build_model

    with seeded(0):  # the caller's RNG state is kept
        model = build_model(arch).eval()
    x = torch.zeros(1, 3, *input_size)
    with torch.no_grad():
        feats = model.backbone(x)
        out = model.head(feats)
        out = torch.nn.functional.interpolate(out, size=input_size, mode="bilinear")
    info = model.backbone.feature_info
    return Measured(
        name=arch.name,
        input=tuple(input_size),
        params=count_params(model),
        backbone_params=count_params(model.backbone),
        head_params=count_params(model.head),
        flops=count_flops(model, input_size),
        output_shape=tuple(out.shape),
        features=tuple(
            {"channels": f["num_chs"], "stride": f["reduction"], "shape": list(t.shape)}
            for f, t in zip(info, feats)
        ),
    )
