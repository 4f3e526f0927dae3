"""Predicted latency from a lookup table of measured units (OFA's latency table, extended to every
unit of our segmentors: stem, fusions, conv / attention / frequency-filter cells, head).

A segmentor is a sequence of units (:func:`nas.models.units`); a unit's ``key`` says what it
computes at which input shape, so units are shared across architectures. Each unit is timed once
per device setting, and an architecture's latency is predicted as the sum of its units' medians,
optionally passed through a linear correction fitted on whole-model measurements
(``measured ~ a * sum + b * n_units + c``)::

    result = profile("cpu", 2, (512, 512), space=load_space("hybrid"))  # nas profile
    table = LatencyTable.load(result.path)          # results/latency/<fp>/512x512.json
    fit_correction(table, calibration_archs)        # optional; stored in the table
    ms = predict_latency(arch, table)

Devices are those of :func:`~nas.cost.time_module`: ``cpu`` and ``cuda[:N]`` (PyTorch) and
``ort-cpu`` (each unit's ONNX graph in onnxruntime). A table is filed under, and used only on,
its device fingerprint: predicting or profiling with a table whose fingerprint is not this
machine's for its device and threads is refused (:meth:`LatencyTable.check_machine`).

Tables are JSON, written atomically (temp file, then ``os.replace``), and saved every
``save_every_s`` seconds while profiling, so an interrupted ``nas profile`` loses little and a
later run resumes: keys already in the table are never measured again. One writer per table.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

import torch

from nas._allocator import keep_freed_memory
from nas._timing_env import timing_env_info
from nas.cost._fingerprint import device_fingerprint, device_info
from nas.cost._latency import check_timing, quartiles, seeded
from nas.cost._runtime import ort_graph, tensor_device, time_module
from nas.errors import NasError
from nas.metrics import parse_size, size_text
from nas.models import Unit

__all__ = [
    "Correction",
    "Entry",
    "LatencyTable",
    "Progress",
    "measure_unit",
    "profile_units",
]

FORMAT = 1
_VERIFY_TOL = 0.15
HW = tuple[int, int]
Progress = Callable[[str, int, int], None]
"""``progress(stage, done, total)``; stage is ``"units"``, ``"verify"`` or ``"calibrate"``."""


@dataclass(frozen=True)
class Entry:
    """One unit's measured latency: median and quartiles over ``runs`` timings (ms), and what the
    unit is (its kind, analytic FLOPs and params, input elements), which the unit model
    (:class:`~nas.cost.UnitModel`) learns from. Tables written before these were stored load
    with them empty."""

    median_ms: float
    q1_ms: float
    q3_ms: float
    runs: int
    kind: str = ""
    flops: int = 0
    params: int = 0
    elems: int = 0


@dataclass(frozen=True)
class Correction:
    """Whole-model latency from the table's unit medians, fitted on ``n_archs`` whole-model
    measurements (the calibration set) by :func:`~nas.cost.fit_correction`. ``form``:

    * ``none``: the plain sum; ``scale``: ``a * sum``; ``linear``: ``a * sum + b * n_units + c``;
    * ``kinds``: ``sum over unit kinds of kinds[k] * (sum of that kind's medians) + c``: units
      of different kinds lose or gain different amounts inside the model (fused boundaries,
      cache reuse), which one factor cannot say; a kind the fit did not see gets ``a``.

    ``rel_rmse`` and ``loo_rel_rmse`` are its relative errors on the calibration set, in-sample
    and leave-one-out."""

    a: float = 1.0
    b: float = 0.0
    c: float = 0.0
    form: str = "linear"
    n_archs: int = 0
    rel_rmse: float = 0.0
    loo_rel_rmse: float = 0.0
    fitted: str = ""
    kinds: dict[str, float] | None = None

    def __call__(self, sum_ms: float, n_units: int,
                 by_kind: dict[str, float] | None = None) -> float:
        if self.form == "kinds":
            if by_kind is None:
                raise NasError("a per-kind correction needs the per-kind sums (by_kind)")
            coef = self.kinds or {}
            return sum(coef.get(k, self.a) * v for k, v in by_kind.items()) + self.c
        return self.a * sum_ms + self.b * n_units + self.c


class LatencyTable:
    """Unit key -> :class:`Entry` for one device setting (fingerprint) and input size, with its
    metadata and, once fitted, a :class:`Correction`. Create one with :meth:`new` or
    :meth:`open`; ``path`` is where :meth:`save` writes by default."""

    def __init__(self, meta: dict, entries: dict[str, Entry] | None = None,
                 path: Path | None = None):
        self.meta = dict(meta)
        self.entries: dict[str, Entry] = dict(entries or {})
        self.path = Path(path) if path is not None else None
        self._here: str | None = None  # this machine's fingerprint, once check_machine passed

    @classmethod
    def new(cls, device: str = "cpu", threads: int = 2, input_size: HW = (512, 512),
            path: str | Path | None = None) -> LatencyTable:
        now = _now()
        meta = {
            "format": FORMAT, "fingerprint": device_fingerprint(device, threads),
            "device": device, "threads": threads, "input": size_text(input_size),
            "torch": torch.__version__, "info": device_info(device, threads),
            "created": now, "updated": now, "correction": None,
            "env": timing_env_info(),  # the profiling process's (nas._timing_env)
        }
        return cls(meta, path=Path(path) if path is not None else None)

    @classmethod
    def open(cls, results_dir: str | Path = "results/latency", device: str = "cpu",
             threads: int = 2, input_size: HW = (512, 512)) -> LatencyTable:
        """The table of this machine's ``device``/``threads`` setting at ``input_size`` under
        ``results_dir``: loaded if it exists, otherwise a new empty one (saved on first save)."""
        path = cls.path_for(results_dir, device_fingerprint(device, threads), input_size)
        if path.exists():
            return cls.load(path)
        return cls.new(device, threads, input_size, path)

    @staticmethod
    def path_for(results_dir: str | Path, fingerprint: str, input_size: HW) -> Path:
        """``<results_dir>/<fingerprint>/<H>x<W>.json``."""
        return Path(results_dir) / fingerprint / f"{size_text(input_size)}.json"

    @classmethod
    def load(cls, path: str | Path) -> LatencyTable:
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            meta, raw = data["meta"], data["entries"]
            if meta.get("format") != FORMAT:
                raise NasError(f"latency table {path}: format {meta.get('format')!r}, "
                               f"this nas reads format {FORMAT}; profile again")
            entries = {k: Entry(float(e["median_ms"]), float(e["q1_ms"]), float(e["q3_ms"]),
                                int(e["runs"]), str(e.get("kind", "")), int(e.get("flops", 0)),
                                int(e.get("params", 0)), int(e.get("elems", 0)))
                       for k, e in raw.items()}
            parse_size(meta["input"])
            if meta.get("correction"):
                Correction(**meta["correction"])
        except FileNotFoundError:
            raise NasError(f"latency table {path} does not exist; run `nas profile`") from None
        except NasError:
            raise
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise NasError(f"latency table {path} is unreadable ({exc}); delete it and run "
                           "`nas profile` again") from None
        return cls(meta, entries, path)

    def save(self, path: str | Path | None = None) -> Path:
        """Write the table as JSON, atomically: a kill during the write leaves the old file."""
        path = Path(path) if path is not None else self.path
        if path is None:
            raise NasError("this latency table has no path; pass one to save()")
        path.parent.mkdir(parents=True, exist_ok=True)
        self.meta["updated"] = _now()
        data = {"meta": self.meta,
                "entries": {k: asdict(e) for k, e in sorted(self.entries.items())}}
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            os.chmod(tmp, path.stat().st_mode & 0o777 if path.exists() else 0o644)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(data, fh, indent=1)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        if self.path is None:
            self.path = path
        return path

    @property
    def fingerprint(self) -> str:
        return self.meta["fingerprint"]

    @property
    def device(self) -> str:
        return self.meta["device"]

    @property
    def threads(self) -> int:
        return int(self.meta["threads"])

    @property
    def input_size(self) -> HW:
        return parse_size(self.meta["input"])

    @property
    def correction(self) -> Correction | None:
        c = self.meta.get("correction")
        return Correction(**c) if c else None

    @correction.setter
    def correction(self, value: Correction | None) -> None:
        self.meta["correction"] = asdict(value) if value is not None else None

    def __len__(self) -> int:
        return len(self.entries)

    def __contains__(self, key: object) -> bool:
        return key in self.entries

    def __getitem__(self, key: str) -> Entry:
        return self.entries[key]

    def missing(self, parts: Iterable[Unit]) -> list[Unit]:
        """The units of ``parts`` whose key is not in the table, one per key, in order."""
        seen: set[str] = set()
        out = []
        for u in parts:
            if u.key not in self.entries and u.key not in seen:
                seen.add(u.key)
                out.append(u)
        return out

    def check_machine(self) -> None:
        """NasError unless this machine, for the table's device and thread count, has the table's
        fingerprint: a table copied from another machine (or kept across a torch / onnxruntime
        upgrade) predicts latencies of that setting, not of this one. Checked once per table
        object by :func:`predict_latency`, :func:`profile_units` and
        :func:`~nas.cost.fit_correction` (when it measures)."""
        if self._here == self.fingerprint:
            return
        name = self.path or self.fingerprint
        try:
            here = device_fingerprint(self.device, self.threads)
        except NasError as exc:
            raise NasError(f"latency table {name} was measured on fingerprint {self.fingerprint}, "
                           f"which this machine cannot match ({exc}); profile again with "
                           "nas profile") from None
        if here != self.fingerprint:
            raise NasError(f"latency table {name} was measured on fingerprint {self.fingerprint}, "
                           f"this machine is {here}; profile again with nas profile")
        self._here = here

    def __repr__(self) -> str:
        return (f"LatencyTable({self.fingerprint!r}, {self.meta['input']}, "
                f"{len(self)} entries, path={str(self.path) if self.path else None!r})")


def measure_unit(unit: Unit, device: str = "cpu", threads: int = 2, warmup: int = 5,
                 runs: int = 20, graphs: Path | None = None) -> Entry:
    """Build ``unit`` (seeded with 0; the caller's RNG state is kept) and time it on random inputs
    of its shapes with :func:`~nas.cost.time_module`, the conventions of
    :func:`~nas.cost.measure_latency`: eval, ``inference_mode``, a fixed CPU thread count
    (restored afterwards), CUDA events with synchronisation; on ``ort-cpu`` its ONNX graph in
    onnxruntime. ``graphs`` (``ort-cpu``): a folder where each unit's exported graph is kept
    and found again (the export costs more than the timing), named by a hash of its key."""
    check_timing(warmup, runs, threads, device)
    if device in ("cpu", "ort-cpu"):
        keep_freed_memory()  # as measure_latency times whole models (nas._allocator)
    where = tensor_device(device)
    with seeded(0, where):
        module = unit.make().to(where).eval()
        xs = [torch.randn(s, device=where) for s in unit.inputs]
    if device != "ort-cpu":  # as inside the segmentor, which runs channels-last throughout
        xs = [x.contiguous(memory_format=torch.channels_last) if x.dim() == 4 else x
              for x in xs]
    graph = None
    if device == "ort-cpu" and graphs is not None:
        path = graphs / f"{hashlib.sha1(unit.key.encode()).hexdigest()}.onnx"
        if path.is_file():
            graph = path.read_bytes()
        else:
            graph = ort_graph(module, xs)
            path.write_bytes(graph)
    times = time_module(module, xs, device, threads, warmup, runs, graph=graph)
    q = quartiles(times)
    return Entry(statistics.median(times), q[0], q[2], runs, *unit_features(unit))


def unit_features(unit: Unit) -> tuple[str, int, int, int]:
    """(kind, FLOPs, params, input elements) of ``unit``, as stored in its :class:`Entry`."""
    elems = sum(math.prod(shape) for shape in unit.inputs)
    return unit.kind, int(unit.cost.flops), int(unit.cost.params), int(elems)


def profile_units(parts: Iterable[Unit], table: LatencyTable, device: str | None = None,
                  threads: int | None = None, warmup: int = 5, runs: int = 20,
                  progress: Progress | None = None, save_every_s: float = 30.0,
                  verify: bool = True) -> int:
    """Measure every unit of ``parts`` whose key is not in ``table`` yet (each key once) and add
    it. Saves the table (when it has a path) every ``save_every_s`` seconds and at the end, also
    when interrupted. Returns how many entries were added.

    An entry is kept for good, so one timed while another process held the cores would skew every
    later prediction. With ``verify``, a second, short pass (``max(3, runs // 4)`` runs) retimes
    each new unit once all are measured; a unit that comes out more than 15% faster is measured
    again in full and the faster of the two full measurements is kept."""
    device, threads = _setting(table, device, threads)
    check_timing(warmup, runs, threads, device)
    todo = table.missing(parts)
    added, last_save = 0, time.monotonic()

    def tick(stage: str, done: int) -> None:
        nonlocal last_save
        if progress is not None:
            progress(stage, done, len(todo))
        if table.path is not None and time.monotonic() - last_save >= save_every_s:
            table.save()
            last_save = time.monotonic()

    # ort-cpu: each unit's graph is exported once and kept on disk for the verify pass
    scratch = tempfile.TemporaryDirectory(prefix="nas-graphs-") if device == "ort-cpu" else None
    graphs = Path(scratch.name) if scratch is not None else None
    try:
        tick("units", 0)
        for i, unit in enumerate(todo, start=1):
            table.entries[unit.key] = measure_unit(unit, device, threads, warmup, runs, graphs)
            added += 1
            tick("units", i)
        if verify and todo:
            quick = max(3, runs // 4)
            tick("verify", 0)
            for i, unit in enumerate(todo, start=1):
                first = table.entries[unit.key]
                check = measure_unit(unit, device, threads, max(1, warmup // 2), quick, graphs)
                if check.median_ms < (1 - _VERIFY_TOL) * first.median_ms:
                    again = measure_unit(unit, device, threads, warmup, runs, graphs)
                    table.entries[unit.key] = min(first, again, key=lambda e: e.median_ms)
                tick("verify", i)
    finally:
        if scratch is not None:
            scratch.cleanup()
        if added and table.path is not None:
            table.save()
    return added


def _setting(table: LatencyTable, device: str | None, threads: int | None) -> tuple[str, int]:
    """The table's (device, threads), checked against the ones asked for (threads count on the
    CPU devices only) and against this machine (:meth:`LatencyTable.check_machine`)."""
    device = table.device if device is None else device
    threads = table.threads if threads is None else threads
    if device != table.device or (not device.startswith("cuda") and threads != table.threads):
        raise NasError(f"the latency table {table.fingerprint} was measured on {table.device} with "
                       f"{table.threads} threads, not {device} with {threads}; open the table of "
                       "that setting (LatencyTable.open)")
    table.check_machine()
    return device, threads


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
