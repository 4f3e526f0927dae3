"""The typed architecture config (:class:`ArchConfig`) and how to load one."""

from nas.arch._config import (
    SCHEMA_VERSION,
    ArchConfig,
    BranchConfig,
    FFNConfig,
    HeadConfig,
    MixerConfig,
    StageConfig,
    StemConfig,
    des_factor,
)
from nas.arch._io import load_arch, reference_names

__all__ = [
    "SCHEMA_VERSION",
    "ArchConfig",
    "BranchConfig",
    "FFNConfig",
    "HeadConfig",
    "MixerConfig",
    "StageConfig",
    "StemConfig",
    "des_factor",
    "load_arch",
    "reference_names",
]
