"""The process environment a latency is timed in: one setting for every timing process.

Two environment variables, read once when torch (and its OpenMP runtime) loads, change a CPU
forward pass. Measured on this project's 2-core machine (2026-12-07: in-budget hybrid
architectures, 512x512, batch 1, 2 threads, 6 fresh processes per setting, the settings
interleaved round by round; ``benchmarks/timing_env.py`` repeats it):

- ``OMP_WAIT_POLICY`` says what OpenMP's idle threads do between parallel regions, and a
  segmentor runs thousands of small regions per pass. ``PASSIVE`` puts them to sleep at once, so
  every region pays a wake-up: x1.52, x1.56 and x1.61 in three runs (x1.85 on another
  architecture, whose timings also shifted between regimes inside one process). The default
  spins a little, then sleeps; ``ACTIVE`` keeps them spinning, as onnxruntime's own thread pool
  does by default. Three interleaved comparisons of the two on the same architecture: in the
  first, during a noisy spell of the machine, the default gave 144.9 ms with fresh processes
  disagreeing by an sd of 5.1% (14.3% max - min over 6), ``ACTIVE`` 134.7 ms, sd 1.8%; in the
  two later, quieter ones they were equal (130.0 / 130.1 ms, sd 1.9% / 1.9%; 132.9 / 130.5 ms,
  sd 1.7% / 2.0%). ``ACTIVE`` never did worse, so the workers use it. Spinning threads hold
  their cores, so a timing process must have the machine to itself, which the timing workers
  do (one at a time; ``ACTIVE`` there means libgomp's 30 billion busy-wait loops, for ever in
  effect). A process that profiles units and then starts workers (``nas profile``, the
  benchmarks) must not keep spinning while they run: its first benchmark run this way timed the
  whole models 2.7x too slow. It spins ``GOMP_SPINCOUNT=30M`` loops (about 0.4 s of one thread
  here) before its threads sleep: a worker it started then timed the same as one started from a
  process with the default policy (131-133 ms, 3 each).
  Processes that train keep the user's setting (``spin=False``).
- ``THP_MEM_ALLOC_ENABLE=1`` makes PyTorch's CPU allocator align blocks over 2 MB to huge pages
  and advise the kernel to back them with transparent huge pages (where the kernel's policy is
  ``madvise``, as on these machines, nothing else does): fewer TLB misses and page faults for
  the activations (about 700 faults per pass instead of 10 thousand under glibc's default
  allocator). A small gain in time: x1.02, x1.03 and x1.02 in three runs.

:func:`timing_env` is the environment of a timing worker (:mod:`nas.cost._worker`): the caller's,
with the thread count fixed, the settings of :data:`SET` forced and the OpenMP spin tuning of
:data:`UNSET` removed. :func:`apply_timing_env` puts :data:`SET` into this process's
``os.environ`` (names the user set win); it takes effect only if torch has not been imported
yet, so the CLI calls it first thing with ``spin=False`` (huge pages only), and ``nas profile``
(which times units in its own process) and the latency benchmarks call it before torch loads
with ``spin`` for the ``cpu`` device only (:func:`spins`).
:func:`timing_env_info` says which of these settings the current process runs under; it is
stored in the latency table's metadata. This module imports nothing heavy (no torch).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

__all__ = ["PARENT_SPINCOUNT", "SET", "UNSET", "apply_timing_env", "spins", "timing_env",
           "timing_env_info"]

SET = {"THP_MEM_ALLOC_ENABLE": "1", "OMP_WAIT_POLICY": "ACTIVE"}
UNSET = ("GOMP_SPINCOUNT", "KMP_BLOCKTIME")
PARENT_SPINCOUNT = "30M"  # libgomp's busy-wait loops before an idle thread sleeps (see above)


def timing_env(threads: int, base: Mapping[str, str] | None = None,
               device: str = "cpu") -> dict[str, str]:
    """``base`` (default ``os.environ``) as a timing worker for ``device`` runs:
    ``OMP_NUM_THREADS`` set to ``threads``, the settings of :data:`SET` forced and those of
    :data:`UNSET` removed. Only PyTorch on the CPU spins: on ``ort-cpu`` (and ``cuda``) the
    OpenMP wait policy is removed, since torch's idle OpenMP threads, busy once to export the
    graph, would otherwise spin beside onnxruntime's own pool (measured: 274-286 ms against
    167-169 ms per pass)."""
    env = dict(os.environ if base is None else base)
    for name in UNSET:
        env.pop(name, None)
    env.update(SET)
    if not spins(device):
        env.pop("OMP_WAIT_POLICY")
    env["OMP_NUM_THREADS"] = str(threads)
    return env


def spins(device: str) -> bool:
    """Whether timing ``device`` keeps OpenMP's threads spinning: PyTorch on the CPU only."""
    return device == "cpu"


def apply_timing_env(spin: bool = True) -> bool:
    """Set :data:`SET` in ``os.environ`` unless torch is imported already (then it would not take
    effect); returns whether it was applied. Names the user set are kept. With ``spin``, also
    ``GOMP_SPINCOUNT`` = :data:`PARENT_SPINCOUNT`: this process's idle threads spin through the
    short gaps of a timing, then sleep, and leave the cores to the timing workers it starts.
    ``spin=False`` leaves both OpenMP settings out, for processes that train rather than time."""
    if "torch" in sys.modules:
        return False
    for name, value in SET.items():
        if spin or name != "OMP_WAIT_POLICY":
            os.environ.setdefault(name, value)
    if spin and os.environ.get("OMP_WAIT_POLICY", "").upper() == "ACTIVE":
        os.environ.setdefault("GOMP_SPINCOUNT", PARENT_SPINCOUNT)
    return True


def timing_env_info() -> dict[str, str | None]:
    """The values of the settings above in this process's environment (None: unset)."""
    return {name: os.environ.get(name) for name in (*SET, *UNSET)}
