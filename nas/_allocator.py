"""Keep freed memory in the process: no page faults per forward pass.

glibc serves large allocations (above a threshold that adapts up to 32 MB) with ``mmap`` and
returns them with ``munmap``, and trims the heap top on every ``free``. PyTorch on the CPU has no
caching allocator, so every forward pass of a segmentor at 512x512 maps and unmaps its
activations again: measured here, 43-48 thousand minor page faults per forward pass of
AFFormer-base (batch 1) and 97-115 thousand per training step of AFFormer-base/MPViT-tiny
(batch 8, 128x128). Each fault zeroes a fresh page, so the time goes to the kernel, and it varies
with what else the machine does: this is where a latency measurement's run-to-run noise came
from (``benchmarks/latency_predictor.py``).

:func:`keep_freed_memory` sets ``M_MMAP_MAX = 0`` (never ``mmap``; big blocks come from the heap)
and ``M_TRIM_THRESHOLD`` to its maximum (never give the heap top back), through ``mallopt``.
After the first pass the heap holds the activations' peak and later passes reuse it: 0 faults per
pass, and AFFormer-base's forward at 512x512 went from 294-301 ms to 202-204 ms on this machine
(training steps 21-24% faster). The price is that the process keeps its peak heap size until it
exits, which is what a training or timing process wants. Nothing is hand-written that a library
offers: there is no portable Python API for ``mallopt``, so it is called through ``ctypes``.

``nas`` calls it in its own processes (the CLI, search workers, latency workers); a library user
can call ``nas.keep_freed_memory()`` once. ``NAS_MALLOC=default`` in the environment turns it off.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

__all__ = ["keep_freed_memory"]

_M_TRIM_THRESHOLD = -1
_M_MMAP_MAX = -4
_done: bool | None = None


def keep_freed_memory() -> bool:
    """Tell glibc's allocator to keep freed memory (see the module docstring). Returns whether the
    setting is in force: False on a libc without ``mallopt`` (musl, macOS, Windows) or when
    ``NAS_MALLOC=default``. Idempotent."""
    global _done
    if _done is not None:
        return _done
    _done = False
    if os.environ.get("NAS_MALLOC", "").lower() == "default":
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    _done = bool(mallopt(_M_TRIM_THRESHOLD, 2**31 - 1)) and bool(mallopt(_M_MMAP_MAX, 0))
    return _done
