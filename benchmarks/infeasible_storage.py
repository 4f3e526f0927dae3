"""What storing one over-budget candidate costs: NSGA-II proposes on hybrid.yaml at a tight
budget (the real strategy code, ``--strategy nsga2``), and its rejected proposals are written to
a journal file (the default storage) and to SQLite, timed per trial.

    python benchmarks/infeasible_storage.py [--n 40] [--budget 0.5GFLOPs]

Prints milliseconds per stored infeasible trial (median and max over --n) for each storage.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import optuna

from nas.cost import estimate
from nas.search import STRATEGY_TYPES, SearchContext, SearchSettings, make_storage
from nas.space import load_space


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=40)
    ap.add_argument("--budget", default="0.5GFLOPs")
    args = ap.parse_args()
    space = load_space("hybrid")
    settings = SearchSettings(name="bench", budgets=(args.budget,), trials=40)

    def price(arch):
        c = estimate(arch, settings.input_size)
        return {"flops": c.flops, "params": c.params}

    strategy = STRATEGY_TYPES["nsga2"](SearchContext(settings, space, 19, price))
    memory = optuna.create_study(directions=settings.directions)  # collects the rejected ones
    strategy.max_attempts = args.n
    while True:
        rejected = [t for t in memory.get_trials() if t.user_attrs.get("infeasible")]
        if len(rejected) >= args.n:
            break
        strategy.propose(memory, memory.get_trials(deepcopy=False))
    rejected = rejected[: args.n]
    print(f"# {len(rejected)} infeasible NSGA-II proposals at {args.budget}@512, "
          f"{statistics.median(len(t.params) for t in rejected):.0f} params each (median)")
    with tempfile.TemporaryDirectory() as tmp:
        for url in (f"journal:{Path(tmp) / 'study.journal'}",
                    f"sqlite:///{Path(tmp) / 'study.db'}"):
            study = optuna.create_study(study_name="bench", storage=make_storage(url),
                                        directions=settings.directions)
            times = []
            for t in rejected:
                t0 = time.perf_counter()
                study.add_trial(t)
                times.append((time.perf_counter() - t0) * 1e3)
            kind = url.split(":", 1)[0]
            print(f"{kind:8s} {statistics.median(times):7.2f} ms per infeasible trial "
                  f"(median), max {max(times):.2f} ms")


if __name__ == "__main__":
    main()
