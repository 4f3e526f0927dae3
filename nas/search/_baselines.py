"""The published designs as baselines: each reference that fits the budget as it is, the others
shrunk to fit (``nas.cost.scale_to_fit``), all trained with the search's proxy schedule."""

from __future__ import annotations

from nas.arch import ArchConfig, load_arch, reference_names
from nas.cost import BudgetInfeasibleError
from nas.search._settings import SearchSettings

__all__ = ["baseline_archs"]


def baseline_archs(settings: SearchSettings, num_classes: int) -> list[tuple[str, ArchConfig]]:
    """(name, architecture) per reference, in a stable order; a reference that cannot be made
    to fit (e.g. under a latency-only budget it cannot meet) is left out. Duplicates (two
    references shrunk to the same network) are kept once."""
    from nas.cost import scale_to_fit

    out: list[tuple[str, ArchConfig]] = []
    seen: set[str] = set()
    for name in reference_names():
        arch = ArchConfig.model_validate({**load_arch(name).model_dump(),
                                          "num_classes": num_classes})
        try:  # FLOPs/params limits; a latency limit is left to the gate
            fitted = scale_to_fit(arch, settings.budget, settings.input_size)
        except BudgetInfeasibleError:
            continue
        key = fitted.model_copy(update={"name": ""}).to_json(indent=None)
        if key in seen:
            continue
        seen.add(key)
        out.append((fitted.name or name, fitted))
    return out
