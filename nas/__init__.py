"""nas: hardware-aware architecture search for efficient vision transformers.

``import nas`` stays light: torch-backed names (``build_model``) load on first use, so the
pure-Python parts (``nas.arch``, ``nas.space``) never import torch.
"""

from __future__ import annotations

from typing import Any

from nas.arch import ArchConfig, load_arch
from nas.errors import ArchError, NasError, SpaceError

__all__ = [
    "ArchConfig",
    "ArchError",
    "NasError",
    "SpaceError",
    "build_model",
    "load_arch",
    "load_space",
    "register_timm",
]
__version__ = "0.1.0"

_LAZY = {"build_model": "nas.models", "load_space": "nas.space", "register_timm": "nas.export"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'nas' has no attribute {name!r}")
