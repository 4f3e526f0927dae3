"""Finding and loading search-space files: by name from ``search_spaces/``, or by path."""

from __future__ import annotations

from pathlib import Path

from nas._resources import data_dir, find_file
from nas.errors import SpaceError
from nas.space._declaration import parse_declaration
from nas.space._space import SearchSpace

__all__ = ["load_space", "space_names"]


def space_names() -> list[str]:
    """Names of the spaces shipped in ``search_spaces/`` (``hybrid`` is the default)."""
    return sorted(p.stem for p in data_dir("search_spaces").glob("*.yaml"))


def load_space(name_or_path: str | Path = "hybrid") -> SearchSpace:
    """Load a shipped space by name (``"hybrid"``, ``"hrvit.yaml"``) or any YAML file by path."""
    text_name = str(name_or_path)
    path = find_file(text_name, data_dir("search_spaces"))
    if path is None:
        raise SpaceError(
            f"unknown search space {text_name!r}: give a YAML file or one of: "
            f"{', '.join(space_names())}"
        )
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise SpaceError(f"cannot read {text_name!r}: {exc}") from None
    return SearchSpace(parse_declaration(text, path.name), path.name)
