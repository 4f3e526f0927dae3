"""``register_timm(path_or_dir)``: exported architectures as timm models.

After ``nas.register_timm("results/x/export")``, ``timm.create_model("nas_<name>",
num_classes=K)`` returns the segmentor (``pretrained=True`` loads the exported safetensors
beside the config; a different ``num_classes`` gets a fresh classifier, timm's convention), and
``features_only=True`` (with optional ``out_indices``, default every branch) returns the
backbone as timm feature extractors do: ``forward`` gives a list of maps and ``feature_info`` is
a ``timm`` FeatureInfo (``.channels()``, ``.reduction()``). With ``pretrained=True`` the default
is the branches the weights were trained for (the head's inputs: every branch for a SegFormer
head, the last one for a CLS head, whose other final cells were never built).
"""

from __future__ import annotations

import re
import sys
import types
import warnings
from pathlib import Path
from typing import Any

from nas.errors import NasError

__all__ = ["register_timm", "timm_name"]

_MODULE = "nas_timm_models"  # the (synthetic) module timm files the entrypoints under
_SUFFIXES = (".yaml", ".yml", ".json")


def timm_name(arch_name: str) -> str:
    """``nas_<name>`` with only lower-case letters, digits and ``_`` (timm splits on ``.``)."""
    return "nas_" + (re.sub(r"[^a-z0-9_]+", "_", arch_name.lower()).strip("_") or "arch")


def register_timm(path_or_dir: str | Path) -> list[str]:
    """Register one exported config or every config in a folder; return the timm names."""
    from nas.arch import load_arch

    path = Path(path_or_dir)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix in _SUFFIXES and p.is_file())
        if not files:
            raise NasError(f"{path} holds no exported architecture (.yaml/.json); run "
                           "'nas export RUN_DIR --out DIR' first")
    elif path.is_file():
        files = [path]
    else:
        raise NasError(f"{path} does not exist; give an exported config or its folder")
    names = []
    for f in files:
        arch = load_arch(f)
        name = timm_name(arch.name or f.stem)
        weights = f.with_suffix(".safetensors")
        _register(name, f, arch, weights if weights.is_file() else None)
        names.append(name)
    return names


def _register(name: str, source: Path, arch: Any, weights: Path | None) -> None:
    from timm.models import register_model
    from timm.models._registry import _model_entrypoints

    mod = sys.modules.get(_MODULE)
    if mod is None:
        mod = types.ModuleType(_MODULE, "timm entrypoints of architectures exported by nas")
        mod.__all__ = []
        sys.modules[_MODULE] = mod

    def entry(pretrained: bool = False, **kwargs: Any) -> Any:
        return _create(arch, name, weights, pretrained, kwargs)

    entry.__name__ = entry.__qualname__ = name
    entry.__module__ = _MODULE
    entry.__doc__ = f"{name}: exported by nas from {source}"
    entry._nas_source = str(source)  # type: ignore[attr-defined]
    setattr(mod, name, entry)
    previous = _model_entrypoints.get(name)
    with warnings.catch_warnings():
        if previous is not None and hasattr(previous, "_nas_source"):
            warnings.simplefilter("ignore")  # re-registering our own export: no noise
        register_model(entry)


def _feature_class():
    """The feature-extractor class (defined lazily: torch and timm load on first use)."""
    import torch
    from timm.models._features import FeatureInfo
    from torch import nn

    from nas.models import Backbone

    class NasFeatures(nn.Module):
        """The backbone returning the branches ``out_indices`` (timm's features_only)."""

        def __init__(self, arch: Any, out_indices: tuple[int, ...]):
            super().__init__()
            self.backbone = Backbone(arch, tuple(out_indices))
            built = dict(zip(out_indices, self.backbone.feature_info))
            # branches not in out_indices are not built here: they name no module
            info = [{"num_chs": c, "reduction": s,
                     "module": f"backbone.{built[b]['module']}" if b in built else ""}
                    for b, (c, s) in enumerate(zip(arch.feature_channels, arch.feature_strides))]
            self.feature_info = FeatureInfo(info, tuple(out_indices))

        def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
            return self.backbone(x)

    return NasFeatures


def _create(arch: Any, name: str, weights: Path | None, pretrained: bool,
            kwargs: dict[str, Any]) -> Any:
    from nas.arch import ArchConfig, head_inputs

    for k in ("pretrained_cfg", "pretrained_cfg_overlay", "cache_dir", "pretrained_model_args"):
        kwargs.pop(k, None)
    num_classes = kwargs.pop("num_classes", None)
    features_only = kwargs.pop("features_only", False)
    out_indices = kwargs.pop("out_indices", None)
    in_chans = kwargs.pop("in_chans", 3)
    drop_rate = kwargs.pop("drop_rate", None)
    device, dtype = kwargs.pop("device", None), kwargs.pop("dtype", None)
    if kwargs:
        raise TypeError(f"{name}: unsupported arguments {sorted(kwargs)}")
    if in_chans != 3:
        raise ValueError(f"{name}: in_chans must be 3 (the stem is built for RGB)")
    if pretrained and weights is None:
        raise RuntimeError(f"{name}: no weights exported beside its config; export with "
                           "'nas export ... --weights' or use pretrained=False")
    d = arch.to_dict()
    if drop_rate is not None:
        d["head"]["dropout"] = float(drop_rate)
    state = _state(weights) if pretrained else None
    if features_only:
        n = len(arch.stages)
        if out_indices is None:  # every branch; with weights, the ones they were trained for
            idx = tuple(head_inputs(arch)) if state is not None else tuple(range(n))
        elif isinstance(out_indices, int):
            idx = tuple(range(n - out_indices, n))
        else:
            idx = tuple(int(i) % n for i in out_indices)
        model = _feature_class()(arch, idx)
        if state is not None:
            sub = {k[len("backbone."):]: v for k, v in state.items() if k.startswith("backbone.")}
            missing = set(model.backbone.state_dict()) - set(sub)
            if missing:
                raise RuntimeError(
                    f"{name}: the exported weights do not cover out_indices {list(idx)} (they "
                    f"were trained for the branches the head reads, {list(head_inputs(arch))})")
            model.backbone.load_state_dict({k: sub[k] for k in model.backbone.state_dict()},
                                           strict=True)
    else:
        from nas.models import build_model

        k = int(num_classes) if num_classes is not None else arch.num_classes
        d["num_classes"] = k
        model = build_model(ArchConfig.from_dict(d))
        if state is not None:
            if k != arch.num_classes:  # a new classifier: timm's fine-tuning convention
                state = {n_: v for n_, v in state.items() if not n_.startswith("head.classifier.")}
                res = model.load_state_dict(state, strict=False)
                bad = [m for m in res.missing_keys if not m.startswith("head.classifier.")]
                if bad or res.unexpected_keys:
                    wrong = bad or res.unexpected_keys
                    raise RuntimeError(f"{name}: weights do not match: {wrong}")
            else:
                model.load_state_dict(state, strict=True)
        model.num_classes = k
    model.pretrained_cfg = model.default_cfg = _cfg(arch, name, weights)
    if device is not None or dtype is not None:
        model = model.to(device=device, dtype=dtype)
    return model


def _state(weights: Path) -> dict[str, Any]:
    from safetensors.torch import load_file

    return load_file(str(weights))


def _cfg(arch: Any, name: str, weights: Path | None) -> dict[str, Any]:
    from nas.data import IMAGENET_MEAN, IMAGENET_STD
    from nas.export._select import weights_metadata
    from nas.metrics import parse_size

    h, w = 512, 512
    if weights is not None:
        text = weights_metadata(weights).get("input", "")
        if re.fullmatch(r"\d+x\d+", text):
            h, w = parse_size(text)
    return {"architecture": name, "input_size": (3, h, w), "mean": IMAGENET_MEAN,
            "std": IMAGENET_STD, "num_classes": arch.num_classes, "interpolation": "bilinear",
            "file": str(weights) if weights is not None else None}
