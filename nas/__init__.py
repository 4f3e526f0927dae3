"""nas: hardware-aware architecture search for efficient vision transformers.

``import nas`` stays light: the subpackages (``nas.cost``, ``nas.search``, ...) and torch-backed
names (``build_model``) load on first use, so the pure-Python parts (``nas.arch``, ``nas.space``,
``nas.budget``, ``nas.metrics``) never import torch. ``import nas; nas.cost.estimate(arch,
(512, 512))`` works without importing ``nas.cost`` first.
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
    "keep_freed_memory",
    "load_arch",
    "load_space",
    "register_timm",
]
__version__ = "0.1.0"

_LAZY = {"build_model": "nas.models", "keep_freed_memory": "nas._allocator",
         "load_space": "nas.space", "register_timm": "nas.export"}
_SUBPACKAGES = ("arch", "budget", "cli", "cost", "data", "errors", "export", "metrics", "models",
                "proxy", "record", "report", "search", "space")


def __getattr__(name: str) -> Any:
    import importlib

    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    if name in _SUBPACKAGES:
        return importlib.import_module(f"nas.{name}")
    raise AttributeError(f"module 'nas' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | set(_SUBPACKAGES))
