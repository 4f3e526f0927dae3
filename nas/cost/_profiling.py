"""``nas profile``: extend this device's latency table with the units of the references and of
seeded samples of a space, optionally fitting the predictor's correction on a calibration set."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from nas.arch import ArchConfig
from nas.cost._gate import SpaceLike
from nas.cost._latency import check_timing
from nas.cost._latency_table import (
    HW,
    Correction,
    LatencyTable,
    Progress,
    _now,
    profile_units,
)
from nas.cost._predict import unit_sums
from nas.errors import NasError
from nas.metrics import size_text
from nas.models import units

__all__ = ["CORRECTION_FORMS", "ProfileResult", "fit_correction", "profile", "repeat_noise",
           "sample_archs"]


CORRECTION_FORMS = ("none", "scale", "linear", "kinds")


def fit_correction(table: LatencyTable, archs: Sequence[ArchConfig], *,
                   measured: Sequence[float] | None = None, form: str = "auto",
                   warmup: int = 5, runs: int = 20, extend: bool = True, processes: int = 1,
                   progress: Progress | None = None, save: bool = True) -> Correction:
    """Fit the table's correction on ``archs`` (the calibration set: keep it apart from the
    architectures you evaluate on), store it in the table (saved when it has a path) and return
    it. Whole models are measured with :func:`~nas.cost.measure_latency` (in ``processes``
    fresh processes each; 0: in this one) unless ``measured`` (ms, one per arch) is given.

    ``form`` (see :class:`Correction`): ``"none"``, ``"scale"``, ``"linear"`` (5 archs or
    more), ``"kinds"`` (one factor per unit kind, non-negative, plus an offset; at least 3
    archs more than kinds), or ``"auto"``: the one of these with the lowest leave-one-out
    error, since with few, noisy calibration points the richer forms overfit. The fits are
    scikit-learn's ``LinearRegression`` weighted by 1 / measured^2, i.e. least squares on the
    relative error."""
    from nas.cost._latency import measure_latency

    archs = list(archs)
    if not archs:
        raise NasError("fit_correction needs at least one calibration architecture")
    if measured is not None and len(measured) != len(archs):
        raise NasError(f"{len(measured)} measurements for {len(archs)} architectures")
    if measured is None:
        table.check_machine()  # timings of this machine go into this machine's table only
    size = table.input_size
    sums: list[dict[str, float]] = []
    counts = []
    for arch in archs:
        if extend:
            profile_units(units(arch, size), table, warmup=warmup, runs=runs)
        by_kind, n_units = unit_sums(arch, table, size)
        sums.append(by_kind)
        counts.append(n_units)
    kinds = sorted({k for d in sums for k in d})
    forms = [f for f in CORRECTION_FORMS if _enough(f, len(archs), len(kinds))]
    if form != "auto" and form not in forms:
        raise NasError(f"correction form {form!r}: use auto, {', '.join(CORRECTION_FORMS)} "
                       f"(linear needs 5 calibration architectures or more, kinds "
                       f"{len(kinds) + 3}; got {len(archs)})")
    if measured is None:
        measured = []
        for i, arch in enumerate(archs):
            if progress is not None:
                progress("calibrate", i, len(archs))
            lat = measure_latency(arch, size, table.device, table.threads, warmup=warmup,
                                  runs=runs, processes=processes)
            measured.append(lat.median_ms)
        if progress is not None:
            progress("calibrate", len(archs), len(archs))
    m = np.asarray(measured, dtype=float)
    if not (np.all(np.isfinite(m)) and np.all(m > 0)):
        raise NasError("measured latencies must be finite and > 0")
    feats = _Features(sums, counts, kinds)
    loo = {f: _loo_error(f, feats, m) for f in forms}
    chosen = min(forms, key=lambda f: loo[f]) if form == "auto" else form
    corr = _fit(chosen, feats, m, len(archs), loo[chosen])
    table.correction = corr
    if save and table.path is not None:
        table.save()
    return corr


class _Features:
    """The calibration set's unit sums: total, count and per kind, as design matrices."""

    def __init__(self, sums: list[dict[str, float]], counts: list[int], kinds: list[str]):
        self.kinds = kinds
        self.by_kind = np.array([[d.get(k, 0.0) for k in kinds] for d in sums])
        self.total = self.by_kind.sum(1)
        self.counts = np.asarray(counts, dtype=float)

    def matrix(self, form: str, rows=slice(None)) -> np.ndarray:
        if form == "linear":
            return np.stack([self.total, self.counts], 1)[rows]
        if form == "kinds":
            return self.by_kind[rows]
        return self.total[:, None][rows]


def _enough(form: str, n: int, n_kinds: int) -> bool:
    return {"linear": n >= 5, "kinds": n >= n_kinds + 3}.get(form, True)


def _regression(form: str):
    from sklearn.linear_model import LinearRegression

    if form == "scale":
        return LinearRegression(fit_intercept=False)
    return LinearRegression(positive=form == "kinds")


def _fit(form: str, feats: _Features, m: np.ndarray, n: int, loo: float) -> Correction:
    if form == "none":
        pred = feats.total
        corr = Correction(1.0, 0.0, 0.0, "none", n, 0.0, loo, _now())
    else:
        reg = _regression(form).fit(feats.matrix(form), m, sample_weight=1 / m ** 2)
        pred = reg.predict(feats.matrix(form))
        coef, c = [float(v) for v in reg.coef_], float(reg.intercept_)
        if form == "kinds":  # a kind unseen in calibration: the plain scale factor
            a = float(_regression("scale").fit(feats.matrix("scale"), m,
                                               sample_weight=1 / m ** 2).coef_[0])
            corr = Correction(a, 0.0, c, "kinds", n, 0.0, loo, _now(),
                              dict(zip(feats.kinds, coef, strict=True)))
        else:
            corr = Correction(coef[0], coef[1] if form == "linear" else 0.0, c, form, n, 0.0,
                              loo, _now())
    rel = float(np.sqrt(np.mean(((pred - m) / m) ** 2)))
    return replace(corr, rel_rmse=rel)


def _loo_error(form: str, feats: _Features, m: np.ndarray) -> float:
    """Leave-one-out relative RMSE of ``form`` (its in-sample error for ``none``)."""
    if form == "none":
        return float(np.sqrt(np.mean(((feats.total - m) / m) ** 2)))
    errs = []
    for i in range(len(m)):
        keep = np.arange(len(m)) != i
        reg = _regression(form).fit(feats.matrix(form, keep), m[keep],
                                    sample_weight=1 / m[keep] ** 2)
        errs.append((reg.predict(feats.matrix(form, [i]))[0] - m[i]) / m[i])
    return float(np.sqrt(np.mean(np.square(errs))))


def repeat_noise(arch: ArchConfig, table: LatencyTable, repeats: int = 3, warmup: int = 5,
                 runs: int = 20) -> dict:
    """The device's repeat noise, as ``nas profile`` stores it: ``arch`` timed whole in
    ``repeats`` fresh processes; their medians and ``repeat_spread`` ((max - min) / median), and
    the same for their CPU time per pass (``cpu_ms``, ``cpu_repeat_spread``), which says whether
    a wide wall-clock spread came from other load (CPU times agree) or from the timing itself."""
    from nas.cost._latency import measure_latency

    lat = measure_latency(arch, table.input_size, table.device, table.threads, warmup=warmup,
                          runs=runs, processes=repeats)
    return {"arch": arch.name, "repeats": repeats, "medians_ms": list(lat.process_medians),
            "repeat_spread": lat.repeat_spread, "cpu_ms": list(lat.process_cpu_ms),
            "cpu_repeat_spread": lat.cpu_repeat_spread, "measured": _now()}


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
            calibrate: int = 0, noise_repeats: int = 0, progress: Progress | None = None
            ) -> ProfileResult:
    """``nas profile``: extend this setting's table (``out/<fingerprint>/<H>x<W>.json``) with the
    units of the reference models (``refs``) and of ``n`` seeded samples of ``space`` (within
    ``budget_gflops`` when given). Keys already in the table are skipped. With ``calibrate=k``,
    the first k samples are also measured whole and a :class:`Correction` is fitted on them.
    With ``noise_repeats=k`` (>= 2), the first architecture is measured whole in k fresh
    processes and the device's repeat noise is stored in the table (``meta["noise"]``)."""
    from nas.arch import load_arch, reference_names

    t0 = time.monotonic()
    check_timing(warmup, runs, threads, device)
    if calibrate < 0:
        raise NasError(f"calibrate must be >= 0, got {calibrate}")
    if noise_repeats < 0 or noise_repeats == 1:
        raise NasError(f"noise repeats must be 0 (off) or >= 2, got {noise_repeats}")
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
    if noise_repeats:
        table.meta["noise"] = repeat_noise(archs[0], table, noise_repeats, warmup, runs)
        table.save()
    correction = None
    if calibrate:
        correction = fit_correction(table, [a for _, a in samples[:calibrate]], warmup=warmup,
                                    runs=runs, progress=progress)
    return ProfileResult(table.path, table.fingerprint, len(table) - before, len(table),
                         len(archs), len(samples), len({u.key for u in parts}),
                         time.monotonic() - t0, correction)
