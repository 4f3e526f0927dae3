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
    branch_problems,
    des_factor,
)
from nas.arch._io import load_arch, reference_names
from nas.arch._plan import ModulePlan, Plan, head_inputs, plan

__all__ = [
    "SCHEMA_VERSION",
    "ArchConfig",
    "BranchConfig",
    "FFNConfig",
    "HeadConfig",
    "MixerConfig",
    "ModulePlan",
    "Plan",
    "StageConfig",
    "StemConfig",
    "branch_problems",
    "des_factor",
    "head_inputs",
    "load_arch",
    "plan",
    "reference_names",
]
