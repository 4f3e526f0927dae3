"""Signals during a search: Ctrl-C / SIGTERM are deferred while the study is written, so an
interrupt never lands inside a storage transaction (a half-written trial, a locked SQLite)."""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager

__all__ = ["no_interrupts", "threading_main"]


@contextmanager
def no_interrupts():
    """Defer SIGINT/SIGTERM while a trial's result is written (no half-told trial)."""
    if not threading_main():
        yield
        return
    caught: list[int] = []
    handler = lambda signum, frame: caught.append(signum)  # noqa: E731
    old = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)
        if caught:
            raise KeyboardInterrupt


def threading_main() -> bool:
    return threading.current_thread() is threading.main_thread()
