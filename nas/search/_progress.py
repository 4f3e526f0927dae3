"""Progress of a search: a live rich panel on a terminal, one plain log line per event
otherwise (and always in ``search.log``)."""

from __future__ import annotations

import logging
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from nas.search._study import Counts

__all__ = ["Progress", "Snapshot", "make_progress", "run_logger"]


@dataclass(frozen=True)
class Snapshot:
    counts: Counts
    target: int | None
    best_miou: float | None
    front_size: int
    elapsed_s: float
    time_limit_s: float | None
    current: str = ""  # what this worker is doing now
    # the strategy's proposals: candidates drawn, how many fit the budget, duplicates skipped
    draws: dict[str, int] = field(default_factory=dict)
    tau: float | None = None  # the surrogate's held-out Kendall tau so far

    @property
    def remaining_s(self) -> float | None:
        """Time left: the time limit, or an extrapolation from the trials done so far."""
        left = None if self.time_limit_s is None else max(0.0, self.time_limit_s
                                                           - self.elapsed_s)
        if self.target and self.counts.trained:
            per = self.elapsed_s / self.counts.trained
            by_count = per * max(0, self.target - self.counts.trained)
            left = by_count if left is None else min(left, by_count)
        return left

    def fields(self) -> str:
        """The snapshot as logfmt (``key=value`` pairs) for logs and pipes."""
        c, rem = self.counts, self.remaining_s
        pairs = {"trained": c.trained, "target": self.target or "", "complete": c.complete,
                 "pruned": c.pruned, "failed": c.failed, "running": c.running,
                 "infeasible": c.infeasible, "proposed": self.draws.get("proposed", 0),
                 "in_budget": self.draws.get("in_budget", 0),
                 "duplicates": self.draws.get("duplicates", 0),
                 "surrogate_tau": "" if self.tau is None else f"{self.tau:.3f}",
                 "best_miou": "" if self.best_miou is None else
                 f"{self.best_miou:.4f}", "front": self.front_size,
                 "elapsed_s": f"{self.elapsed_s:.0f}",
                 "left_s": "" if rem is None else f"{rem:.0f}"}
        return "progress " + " ".join(f"{k}={v}" for k, v in pairs.items())

    def line(self) -> str:
        c = self.counts
        target = f"/{self.target}" if self.target else ""
        best = "-" if self.best_miou is None else f"{self.best_miou:.4f}"
        rem = self.remaining_s
        d = self.draws
        tau = "-" if self.tau is None else f"{self.tau:.2f}"
        return (f"trained {c.trained}{target} (complete {c.complete}, pruned {c.pruned}, "
                f"failed {c.failed}, running {c.running}) infeasible {c.infeasible} | "
                f"proposed {d.get('proposed', 0)}, in budget {d.get('in_budget', 0)}, "
                f"duplicates skipped {d.get('duplicates', 0)} | surrogate tau {tau} | best "
                f"feasible mIoU {best} | front {self.front_size} | elapsed "
                f"{_hms(self.elapsed_s)}" + ("" if rem is None else f" left ~{_hms(rem)}")
                + (f" | {self.current}" if self.current else ""))


class Progress:
    """Shows snapshots and events; ``live`` uses rich's Live panel (a terminal)."""

    def __init__(self, log: logging.Logger, live: bool) -> None:
        self.log, self._live, self._last = log, None, 0.0
        if live:
            from rich.console import Console
            from rich.live import Live

            self._live = Live(console=Console(stderr=True), refresh_per_second=2,
                              transient=False)
            self._live.start()

    def event(self, message: str) -> None:
        self.log.info(message)
        if self._live is not None:
            self._live.console.print(message, markup=False, highlight=False)

    def show(self, snap: Snapshot, force: bool = False) -> None:
        if self._live is not None:
            from rich.panel import Panel

            self._live.update(Panel(snap.line(), title="nas search", border_style="cyan"))
        elif force or time.monotonic() - self._last > 30:
            self.log.info(snap.fields())
            self._last = time.monotonic()

    def close(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None


def run_logger(run_dir: Path, name: str, to_stderr: bool) -> logging.Logger:
    """``search.log`` in the run folder (appended on resume), plus stderr when not on a TTY."""
    log = logging.getLogger(f"nas.search.{name}.{id(run_dir)}")
    log.setLevel(logging.INFO)
    log.propagate = False
    for h in list(log.handlers):
        log.removeHandler(h)
    run_dir.mkdir(parents=True, exist_ok=True)
    fmt = logging.Formatter("%(asctime)s %(process)d %(message)s", "%Y-%m-%dT%H:%M:%S")
    fh = logging.FileHandler(run_dir / "search.log")
    fh.setFormatter(fmt)
    log.addHandler(fh)
    if to_stderr:
        sh = logging.StreamHandler(sys.stderr)
        sh.setFormatter(fmt)
        log.addHandler(sh)
    return log


def make_progress(run_dir: Path, name: str, quiet: bool = False) -> Progress:
    live = sys.stderr.isatty() and not quiet
    return Progress(run_logger(run_dir, name, to_stderr=not live and not quiet), live)


def _hms(s: float) -> str:
    s = int(s)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else \
        f"{s // 60}:{s % 60:02d}"
