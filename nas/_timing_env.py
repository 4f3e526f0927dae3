"""The process environment a latency is timed in: one setting for every timing process.

Two environment variables, read once when torch (and its OpenMP runtime) loads, change a CPU
forward pass. ``benchmarks/timing_env.py`` on this project's 2-core machine (2026-12-07: an
in-budget hybrid architecture, 512x512, batch 1, 2 threads, 6 fresh processes per setting,
interleaved), with the earlier ``benchmarks/latency_predictor.py`` runs made under the first:

- ``OMP_WAIT_POLICY=PASSIVE`` puts OpenMP's idle threads to sleep between parallel regions at
  once. A segmentor runs thousands of small regions per pass, so every one pays a wake-up: a
  median 216.1 ms instead of 142.5 ms (x1.52; x1.85 on another architecture, where within one
  process the timings also shifted between regimes). The timing workers run with OpenMP's own
  default policy, and the profiling process's policy is part of the ``cpu`` fingerprint.
- ``THP_MEM_ALLOC_ENABLE=1`` makes PyTorch's CPU allocator align blocks over 2 MB to huge pages
  and advise the kernel to back them with transparent huge pages (where the kernel's policy is
  ``madvise``, as on these machines, nothing else does): fewer TLB misses and page faults for
  the activations. A small gain: median 142.5 ms against 145.5 ms without (x1.02); an earlier
  check on another architecture gave 138-145 ms against 143-156 ms over 8 processes each. The
  spread between fresh processes is not smaller with it (14.3% against 7.8% in that run, where
  one process ran 12% faster than the rest while the machine as a whole sped up: the
  ``PASSIVE`` processes of the same round ran 8% faster too).

:func:`timing_env` is the environment of a timing worker (:mod:`nas.cost._worker`): the caller's,
with the thread count fixed, ``THP_MEM_ALLOC_ENABLE=1`` and the OpenMP wait settings removed.
:func:`apply_timing_env` puts the same into this process's ``os.environ``; it takes effect only if
torch has not been imported yet, so the CLI and the benchmark scripts call it first thing.
:func:`timing_env_info` says which of these settings the current process really runs under, for
the latency table's metadata. This module imports nothing heavy (no torch).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

__all__ = ["SET", "UNSET", "apply_timing_env", "timing_env", "timing_env_info"]

SET = {"THP_MEM_ALLOC_ENABLE": "1"}
UNSET = ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "KMP_BLOCKTIME", "KMP_AFFINITY")


def timing_env(threads: int, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """``base`` (default ``os.environ``) as a timing worker runs: ``OMP_NUM_THREADS`` set to
    ``threads``, the settings of :data:`SET` set and those of :data:`UNSET` removed."""
    env = dict(os.environ if base is None else base)
    for name in UNSET:
        env.pop(name, None)
    env.update(SET)
    env["OMP_NUM_THREADS"] = str(threads)
    return env


def apply_timing_env() -> bool:
    """Set :data:`SET` in ``os.environ`` (names the user set are kept) unless torch is imported
    already; returns whether it was applied. OpenMP wait settings the user chose are left alone
    in this process (the timing workers drop them)."""
    if "torch" in sys.modules:
        return False
    for name, value in SET.items():
        os.environ.setdefault(name, value)
    return True


def timing_env_info() -> dict[str, str | None]:
    """The values of the settings above in this process's environment (None: unset)."""
    return {name: os.environ.get(name) for name in (*SET, *UNSET)}
