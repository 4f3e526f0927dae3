"""Latency predicted from a :class:`~nas.cost.LatencyTable`: an architecture's units looked up
(or, for units the table lacks, measured now or estimated by the unit model), summed, and passed
through the table's fitted correction."""

from __future__ import annotations

from nas.arch import ArchConfig
from nas.cost._latency_table import HW, LatencyTable, profile_units
from nas.errors import NasError
from nas.metrics import size_text
from nas.models import units

__all__ = ["MISSING", "predict_latency", "unit_sum", "unit_sums"]


MISSING = ("error", "measure", "model")
"""What :func:`predict_latency` does with units the table lacks: raise, time them now (and add
them), or estimate them with the table's :class:`~nas.cost.UnitModel` (then timed later)."""


def unit_sum(arch: ArchConfig, table: LatencyTable, input_size: HW | None = None,
             missing: str = "error", warmup: int = 5, runs: int = 20) -> tuple[float, int]:
    """(sum of the unit medians in ms, number of units) of ``arch``. Units not in the table:
    NasError, or with ``missing="model"`` the unit model's estimate (measured instead while
    the table is too small to fit one)."""
    by_kind, n = unit_sums(arch, table, input_size, missing, warmup, runs)
    return sum(by_kind.values()), n


def unit_sums(arch: ArchConfig, table: LatencyTable, input_size: HW | None = None,
              missing: str = "error", warmup: int = 5, runs: int = 20
              ) -> tuple[dict[str, float], int]:
    """Like :func:`unit_sum`, with the sum split by unit kind (``stem``, ``cell:hr``, ...)."""
    size = _table_size(table, input_size)
    parts = units(arch, size)
    todo = table.missing(parts)
    estimated: dict[str, float] = {}
    if todo and missing == "model":
        from nas.cost._unit_model import UnitModel

        model = UnitModel.fit(table)
        if model is None:
            profile_units(todo, table, warmup=warmup, runs=runs)
        else:
            estimated = dict(zip((u.key for u in todo), model.predict(todo).tolist(),
                                 strict=True))
        todo = []
    if todo:
        raise NasError(
            f"{len(todo)} of {len(parts)} units of {arch.name or 'this architecture'} at "
            f"{size_text(size)} are not in the latency table {table.path or table.fingerprint}; "
            f"run `nas profile --device {table.device} --threads {table.threads} --input "
            f"{size_text(size)}` on this machine, or pass extend=True to measure them now")
    by_kind: dict[str, float] = {}
    for u in parts:
        ms = table.entries[u.key].median_ms if u.key in table.entries else estimated[u.key]
        by_kind[u.kind] = by_kind.get(u.kind, 0.0) + ms
    return by_kind, len(parts)


def predict_latency(arch: ArchConfig, table: LatencyTable, input_size: HW | None = None, *,
                    corrected: bool = True, extend: bool = False, missing: str | None = None,
                    device: str | None = None, threads: int | None = None, warmup: int = 5,
                    runs: int = 20) -> float:
    """Predicted milliseconds per forward pass of ``build_model(arch)`` (batch 1) on the table's
    device setting: the sum of its unit medians, through the table's correction when it has one
    and ``corrected``. Units missing from the table (``missing``, see :data:`MISSING`): raise
    NasError (``"error"``, the default), are measured now with ``warmup``/``runs`` and added
    (``"measure"``, or ``extend=True``; ``device``/``threads`` must match the table's), or are
    estimated by the unit model (``"model"``: instant, nothing is added). A table of another
    machine's fingerprint is refused (:meth:`LatencyTable.check_machine`)."""
    missing = ("measure" if extend else "error") if missing is None else missing
    if missing not in MISSING:
        raise NasError(f"missing={missing!r}: use one of {', '.join(MISSING)}")
    size = _table_size(table, input_size)
    table.check_machine()
    if missing == "measure":
        profile_units(units(arch, size), table, device, threads, warmup, runs)
    by_kind, n = unit_sums(arch, table, size, "model" if missing == "model" else "error",
                           warmup, runs)
    total = sum(by_kind.values())
    correction = table.correction
    return correction(total, n, by_kind) if corrected and correction is not None else total


def _table_size(table: LatencyTable, input_size: HW | None) -> HW:
    size = table.input_size if input_size is None else (int(input_size[0]), int(input_size[1]))
    if size != table.input_size:
        raise NasError(f"the latency table {table.path or table.fingerprint} is for input "
                       f"{table.meta['input']}, not {size_text(size)}; use the table of that "
                       "size (LatencyTable.open(..., input_size=...))")
    return size
