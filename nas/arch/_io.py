"""Finding and reading architecture configs: reference names and files."""

from __future__ import annotations

from pathlib import Path

from nas._resources import data_dir, find_file
from nas.arch._config import ArchConfig
from nas.errors import ArchError

__all__ = ["load_arch", "reference_names"]


def reference_names() -> list[str]:
    """Names of the reference architectures shipped in ``search_spaces/references/``."""
    return sorted(p.stem for p in (data_dir("search_spaces") / "references").glob("*.yaml"))


def load_arch(name_or_path: str | Path) -> ArchConfig:
    """Load a reference by name (``"afformer_base"``) or any ``.yaml``/``.yml``/``.json`` file."""
    text_name = str(name_or_path)
    found = find_file(text_name, data_dir("search_spaces") / "references")
    if found is None:
        if Path(text_name).suffix or "/" in text_name:
            raise ArchError(f"architecture file {text_name!r} does not exist")
        known = ", ".join(reference_names())
        raise ArchError(f"unknown architecture {text_name!r}: give a config file or one of: "
                        f"{known}")
    path = found
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise ArchError(f"cannot read {text_name!r}: {exc}") from None
    try:
        if path.suffix == ".json":
            return ArchConfig.from_json(text)
        return ArchConfig.from_yaml(text)
    except ArchError as exc:
        raise ArchError(f"{path.name}: {exc}") from None
