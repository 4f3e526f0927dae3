"""Where the package's data folders (``search_spaces/``, ``runners/``) live.

In a checkout (editable install) they sit beside the package; a wheel carries them inside it as
``nas/_data/<name>`` (see ``pyproject.toml``), so both layouts work.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["data_dir", "find_file"]

_PKG = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """The folder ``name`` (``"search_spaces"`` or ``"runners"``) shipped with nas."""
    for candidate in (_PKG / "_data" / name, _PKG.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"nas is installed without its {name}/ folder; reinstall nas")


def find_file(name_or_path: str | Path, folder: Path, suffixes: tuple[str, ...] = (".yaml",),
              any_stem: bool = False) -> Path | None:
    """The one name-or-path rule of the loaders (architectures, spaces, runner profiles): an
    existing file as given; else a file shipped in ``folder`` named like it (a bare name, with
    or without a suffix; with ``any_stem``, the stem of any path); None when neither."""
    text = str(name_or_path)
    path = Path(text)
    if path.is_file():
        return path
    bare = "/" not in text and "\\" not in text and path.suffix in ("", *suffixes)
    if bare or (any_stem and path.suffix in suffixes):
        for suffix in suffixes:
            shipped = folder / f"{path.stem if path.suffix else path.name}{suffix}"
            if shipped.is_file():
                return shipped
    return None
