"""nas: hardware-aware architecture search for efficient vision transformers."""

from nas.arch import ArchConfig, load_arch
from nas.errors import ArchError, NasError, SpaceError

__all__ = ["ArchConfig", "ArchError", "NasError", "SpaceError", "load_arch"]
__version__ = "0.1.0"
