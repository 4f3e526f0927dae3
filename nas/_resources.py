"""Where the package's data folders (``search_spaces/``, ``runners/``) live.

In a checkout (editable install) they sit beside the package; a wheel carries them inside it as
``nas/_data/<name>`` (see ``pyproject.toml``), so both layouts work.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["data_dir"]

_PKG = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """The folder ``name`` (``"search_spaces"`` or ``"runners"``) shipped with nas."""
    for candidate in (_PKG / "_data" / name, _PKG.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"nas is installed without its {name}/ folder; reinstall nas")
