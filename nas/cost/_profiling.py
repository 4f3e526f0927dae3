"""``nas profile``: extend this device's latency table with the units of the references and of
seeded samples of a space, optionally fitting the predictor's correction on a calibration set."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nas.arch import ArchConfig
from nas.cost._gate import SpaceLike
from nas.cost._latency import check_timing, seeded
from nas.cost._latency_table import (
    HW,
    Correction,
    LatencyTable,
    Progress,
    _now,
    profile_units,
    unit_sum,
)
from nas.errors import NasError
from nas.metrics import size_text
from nas.models import build_model, units

__all__ = ["ProfileResult", "fit_correction", "profile", "sample_archs"]


def fit_correction(table: LatencyTable, archs: Sequence[ArchConfig], *,
                   measured: Sequence[float] | None = None, form: str = "auto",
                   warmup: int = 5, runs: int = 20, extend: bool = True,
                   progress: Progress | None = None, save: bool = True) -> Correction:
    """Fit the table's correction on ``archs`` (the calibration set: keep it apart from the
    architectures you evaluate on), store it in the table (saved when it has a path) and return
    it. Whole models are measured with :func:`~nas.cost.measure_latency` unless ``measured`` (ms,
    one per arch) is given. Fits minimise the relative error (least squares).

    ``form``: ``"linear"`` (``a * sum + b * n_units + c``; 5 archs or more), ``"scale"``
    (``a * sum``), ``"none"`` (``a = 1``), or ``"auto"``: the one of these with the lowest
    leave-one-out error, since with few, noisy calibration points the linear form overfits."""

    from nas.cost._latency import measure_latency

    archs = list(archs)
    if not archs:
        raise NasError("fit_correction needs at least one calibration architecture")
    if measured is not None and len(measured) != len(archs):
        raise NasError(f"{len(measured)} measurements for {len(archs)} architectures")
    forms = ("none", "scale", "linear") if len(archs) >= 5 else ("none", "scale")
    if form != "auto" and form not in forms:
        raise NasError(f"correction form {form!r}: use auto, none, scale or linear (linear needs "
                       f"5 calibration architectures or more, got {len(archs)})")
    if measured is None:
        table.check_machine()  # timings of this machine go into this machine's table only
    size = table.input_size
    sums, counts = [], []
    for arch in archs:
        if extend:
            profile_units(units(arch, size), table, warmup=warmup, runs=runs)
        total, n_units = unit_sum(arch, table, size)
        sums.append(total)
        counts.append(n_units)
    if measured is None:
        measured = []
        for i, arch in enumerate(archs):
            if progress is not None:
                progress("calibrate", i, len(archs))
            with seeded(0, table.device):
                model = build_model(arch)
            lat = measure_latency(model, size, table.device, table.threads,
                                  warmup=warmup, runs=runs)
            measured.append(lat.median_ms)
        if progress is not None:
            progress("calibrate", len(archs), len(archs))
    x = np.stack([np.asarray(sums, float), np.asarray(counts, float), np.ones(len(archs))], 1)
    m = np.asarray(measured, dtype=float)
    if not (np.all(np.isfinite(m)) and np.all(m > 0)):
        raise NasError("measured latencies must be finite and > 0")
    loo = {f: _loo_error(f, x, m) for f in forms}
    chosen = min(forms, key=lambda f: loo[f]) if form == "auto" else form
    a, b, c = _fit(chosen, x, m)
    rel_rmse = float(np.sqrt(np.mean(((x @ np.array([a, b, c]) - m) / m) ** 2)))
    corr = Correction(a, b, c, chosen, len(archs), rel_rmse, loo[chosen], _now())
    table.correction = corr
    if save and table.path is not None:
        table.save()
    return corr


def _fit(form: str, x, m) -> tuple[float, float, float]:
    """Least squares on the relative error: minimise sum(((x @ coef) - m) / m) ** 2)."""

    if form == "none":
        return 1.0, 0.0, 0.0
    if form == "scale":
        r = x[:, 0] / m
        return float(r.sum() / (r * r).sum()), 0.0, 0.0
    a, b, c = np.linalg.lstsq(x / m[:, None], np.ones_like(m), rcond=None)[0]
    return float(a), float(b), float(c)


def _loo_error(form: str, x, m) -> float:
    """Leave-one-out relative RMSE of ``form`` (its in-sample error for ``none``)."""

    errs = []
    for i in range(len(m)):
        keep = np.arange(len(m)) != i
        coef = np.array(_fit(form, x[keep], m[keep]) if form != "none" else (1.0, 0.0, 0.0))
        errs.append((x[i] @ coef - m[i]) / m[i])
    return float(np.sqrt(np.mean(np.square(errs))))


def sample_archs(space: SpaceLike, n: int = 50, seed: int = 0, input_size: HW = (512, 512),
                 max_flops: float | None = None, max_draws: int | None = None,
                 ) -> list[tuple[int, ArchConfig]]:
    """Up to ``n`` (seed, arch) samples of ``space`` drawn with seeds ``seed, seed+1, ...``, keeping
    only those within ``max_flops`` (analytic, segmentor, at ``input_size``) when given. At most
    ``max_draws`` draws (default ``max(1000, 200 * n)``), so fewer may come back."""
    from nas.models import analytic_cost

    if n < 0:
        raise NasError(f"n must be >= 0, got {n}")
    sp = space
    limit = max(1000, 200 * n) if max_draws is None else max_draws
    out: list[tuple[int, ArchConfig]] = []
    for s in range(seed, seed + limit):
        if len(out) >= n:
            break
        arch = sp.sample(s)
        if max_flops is None or analytic_cost(arch, input_size)[1].flops <= max_flops:
            out.append((s, arch))
    return out


@dataclass(frozen=True)
class ProfileResult:
    """What :func:`profile` did: where the table is, how many entries it added and has."""

    path: Path
    fingerprint: str
    added: int
    entries: int
    archs: int  # architectures whose units were profiled
    samples: int  # of which sampled from the space
    units: int  # their units (unique keys)
    seconds: float
    correction: Correction | None = None


def profile(device: str = "cpu", threads: int = 2, input_size: HW = (512, 512), *,
            space: SpaceLike | None = None, n: int = 50, seed: int = 0,
            budget_gflops: float | None = None, refs: bool = True,
            out: str | Path = "results/latency", runs: int = 20, warmup: int = 5,
            calibrate: int = 0, progress: Progress | None = None) -> ProfileResult:
    """``nas profile``: extend this setting's table (``out/<fingerprint>/<H>x<W>.json``) with the
    units of the reference models (``refs``) and of ``n`` seeded samples of ``space`` (within
    ``budget_gflops`` when given). Keys already in the table are skipped. With ``calibrate=k``,
    the first k samples are also measured whole and a :class:`Correction` is fitted on them."""
    from nas.arch import load_arch, reference_names

    t0 = time.monotonic()
    check_timing(warmup, runs, threads, device)
    if calibrate < 0:
        raise NasError(f"calibrate must be >= 0, got {calibrate}")
    archs = [load_arch(name) for name in reference_names()] if refs else []
    samples: list[tuple[int, ArchConfig]] = []
    if space is not None and n > 0:
        max_flops = budget_gflops * 1e9 if budget_gflops is not None else None
        samples = sample_archs(space, n, seed, input_size, max_flops)
        if not samples:
            raise NasError(f"no sample of {space.name} with seeds {seed}.. fits "
                           f"{budget_gflops} GFLOPs at {size_text(input_size)}; "
                           "raise --budget-gflops")
    archs += [a for _, a in samples]
    if not archs:
        raise NasError("nothing to profile: give --refs or --n >= 1")
    if calibrate > len(samples):
        raise NasError(f"calibrate={calibrate} but only {len(samples)} samples; raise --n")
    table = LatencyTable.open(out, device, threads, input_size)
    before = len(table)
    parts = [u for arch in archs for u in units(arch, input_size)]
    profile_units(parts, table, device, threads, warmup, runs, progress)
    if not (table.path is not None and table.path.exists()):
        table.save()
    correction = None
    if calibrate:
        correction = fit_correction(table, [a for _, a in samples[:calibrate]], warmup=warmup,
                                    runs=runs, progress=progress)
    return ProfileResult(table.path, table.fingerprint, len(table) - before, len(table),
                         len(archs), len(samples), len({u.key for u in parts}),
                         time.monotonic() - t0, correction)
