"""How well the latency table predicts whole-model latency: random in-budget architectures of a
space, predicted (sum of unit medians, and with the fitted correction) against measured
(``measure_latency``: batch 1, median of --runs after --warmup, in --processes fresh worker
processes), for one latency device (``cpu``: PyTorch; ``ort-cpu``: ONNX Runtime).

    python benchmarks/latency_predictor.py --device cpu [--n 50] [--input 512x512]
    python benchmarks/latency_predictor.py --device ort-cpu
    # resumable: state under --state (default results/latency-benchmark/<device>); the summary
    # of each finished run is cached in benchmarks/latency_predictor.json with its command

Steps: draw --n evaluation architectures (seeds from --seed) and --calib calibration ones (seeds
from --calib-seed; the two sets never share a seed) within --budget-gflops; profile the units of
both into a fresh table (timed) and measure all models whole; fit every correction form
(``nas.cost.fit_correction``: none, scale, linear, per unit kind) on the calibration models
only and report each on the evaluation models, the leave-one-out choice first; measure the
first --noise-n evaluation models again, each in a fresh process, after all the rest (the
measurement's own noise: the share of repeats within +-10% of the first measurement is the
ceiling any predictor can reach). Rank correlations use pandas (scipy not needed).

Timing runs in the environment of ``nas/_timing_env.py`` (this process too, set before torch
loads): on ``cpu`` OpenMP's threads spin (``OMP_WAIT_POLICY=ACTIVE``); earlier runs had inherited
``OMP_WAIT_POLICY=PASSIVE``, which made every pass 1.5x slower and the repeats far noisier.

On a shared machine the load of other processes changes from minute to minute, and with a fixed
thread count an oversubscribed CPU slows every parallel op down by a varying factor. By default
(--interleave) each architecture's new units are therefore profiled right before the whole model
is timed, so that both see about the same load; the table is the same as with --no-interleave
(all units profiled first), only the order of the measurements differs.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import time
from pathlib import Path

from nas._timing_env import apply_timing_env, spins, timing_env_info

_pre = argparse.ArgumentParser(add_help=False)
_pre.add_argument("--device", default="cpu")
# before torch loads: units timed as the workers time models (threads spinning on cpu only)
apply_timing_env(spin=spins(_pre.parse_known_args()[0].device))

import pandas as pd  # noqa: E402
import torch  # noqa: E402

from nas.cost import (  # noqa: E402
    CORRECTION_FORMS,
    LatencyTable,
    fit_correction,
    measure_latency,
    parse_size,
    predict_latency,
    profile_units,
    sample_archs,
    unit_sums,
)
from nas.errors import NasError  # noqa: E402
from nas.models import analytic_cost, build_model, units  # noqa: E402
from nas.space import load_space  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "benchmarks" / "latency_predictor.json"
STATE = ROOT / "results" / "latency-benchmark"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=50, help="evaluation architectures")
    ap.add_argument("--input", default="512x512")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--space", default="hybrid")
    ap.add_argument("--budget-gflops", type=float, default=5.0)
    ap.add_argument("--seed", type=int, default=100_000, help="first seed of the evaluation set")
    ap.add_argument("--calib", type=int, default=15, help="calibration architectures (0: none)")
    ap.add_argument("--calib-seed", type=int, default=0, help="first seed of the calibration set")
    ap.add_argument("--runs", type=int, default=20, help="timed runs per whole model and unit")
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--noise-n", type=int, default=50, help="models measured twice")
    ap.add_argument("--processes", type=int, default=1,
                    help="fresh worker processes per whole-model measurement (0: this one)")
    ap.add_argument("--state", type=Path, default=None,
                    help="keep the table and the measurements here, so that an interrupted run "
                    "resumes where it stopped (default: results/latency-benchmark/<device>)")
    ap.add_argument("--quiet", action="store_true", help="no per-architecture lines")
    ap.add_argument("--interleave", action=argparse.BooleanOptionalAction, default=True,
                    help="profile each arch's new units just before timing it whole (default), "
                    "so both see the same machine load; --no-interleave profiles all first")
    args = ap.parse_args()
    size = parse_size(args.input)
    limit = args.budget_gflops * 1e9
    t_start = time.monotonic()

    space = load_space(args.space)
    evals = sample_archs(space, args.n, args.seed, size, limit)
    calib = sample_archs(space, args.calib, args.calib_seed, size, limit) if args.calib else []
    overlap = {s for s, _ in evals} & {s for s, _ in calib}
    if overlap:
        raise SystemExit(f"calibration and evaluation sets share seeds {sorted(overlap)[:5]}; "
                         "move --seed or --calib-seed")
    print(f"# load average at start: {', '.join(f'{v:.2f}' for v in os.getloadavg())}")
    env = {k: v for k, v in timing_env_info().items() if v is not None}
    print(f"# this process's timing environment: {env or 'none set'} (the workers': "
          f"THP_MEM_ALLOC_ENABLE=1{', OMP_WAIT_POLICY=ACTIVE' if spins(args.device) else ''}; "
          "nas/_timing_env.py)")
    print(f"# torch {torch.__version__}, {args.device}, {args.threads} threads, input "
          f"{size[0]}x{size[1]}, batch 1, median of {args.runs} after {args.warmup} warm-up")
    print(f"# {args.space}: {len(evals)} evaluation archs within {args.budget_gflops:g} GFLOPs "
          f"(seeds {args.seed}..), {len(calib)} calibration archs (seeds {args.calib_seed}..)")

    if True:  # one block, as when the state lived in a temporary folder
        folder = args.state if args.state is not None else STATE / args.device
        table = LatencyTable.open(folder, args.device, args.threads, size)
        config = {"input": list(size), "device": args.device, "runs": args.runs,
                  "warmup": args.warmup, "space": args.space, "fingerprint": table.fingerprint,
                  "processes": args.processes}
        state = _State(table.path.with_name(f"benchmark-{table.path.stem}.json"), config)
        if state.measured:
            print(f"# resuming from {state.path}: {len(state.measured)} models measured, "
                  f"{state.profile_s:.0f} s of profiling so far")
        everything = calib + evals
        all_units = [u for _, a in everything for u in units(a, size)]
        n_keys = len({u.key for u in all_units})

        def profile(parts, progress=None) -> None:
            t0 = time.monotonic()
            profile_units(parts, table, warmup=args.warmup, runs=args.runs, progress=progress)
            state.profile_s += time.monotonic() - t0
            state.save()

        if not args.interleave:
            profile(all_units, _progress)
        stage = "profile+measure" if args.interleave else "measure"
        for i, (seed, arch) in enumerate(everything):
            if str(seed) in state.measured:
                continue
            _progress(stage, i, len(everything))
            if args.interleave:
                profile(units(arch, size))
            state.measured[str(seed)] = ms = _measure(arch, size, args)
            state.save()
            if not args.quiet:
                raw = predict_latency(arch, table, corrected=False)
                kind = "calib" if i < len(calib) else "eval "
                print(f"\r  {kind} seed {seed:>6d}  {len(units(arch, size)):2d} units  measured "
                      f"{ms:8.1f} ms  sum {raw:8.1f} ms ({_pct(raw, ms):+6.1f}%)")
        _progress(stage, len(everything), len(everything))
        print(f"# table {table.fingerprint}: {len(all_units)} units, {n_keys} unique keys "
              f"profiled in {state.profile_s:.0f} s "
              f"({state.profile_s / max(len(everything), 1):.1f} s per arch)")
        m_cal = [state.measured[str(seed)] for seed, _ in calib]
        m_eval = [state.measured[str(seed)] for seed, _ in evals]
        alt = {}  # every correction form, reported beside the chosen one
        if calib:
            cal = [a for _, a in calib]
            corr = fit_correction(table, cal, measured=m_cal, extend=False)
            print(f"# correction (fitted on the {corr.n_archs} calibration archs only): "
                  f"leave-one-out choice {corr.form}")
            for form in CORRECTION_FORMS:
                try:
                    alt[form] = fit_correction(table, cal, measured=m_cal, form=form,
                                               extend=False, save=False)
                except NasError as exc:
                    print(f"#   {form}: not fitted ({exc})")
                    continue
                print(f"#   {form:6s}: {_describe(alt[form])} (calibration relative RMSE "
                      f"{100 * alt[form].rel_rmse:.1f}%, leave-one-out "
                      f"{100 * alt[form].loo_rel_rmse:.1f}%)")
            table.correction = corr

        rows = []
        for (seed, arch), ms in zip(evals, m_eval):
            raw = predict_latency(arch, table, corrected=False)
            cor = predict_latency(arch, table) if calib else raw
            rows.append({"seed": seed, "gflops": analytic_cost(arch, size)[1].flops / 1e9,
                         "units": len(units(arch, size)), "measured": ms, "sum": raw,
                         "corrected": cor})
            by_kind, n_units = unit_sums(arch, table)
            for form, c in alt.items():
                rows[-1][form] = c(raw, n_units, by_kind)
        n_noise = min(args.noise_n, len(rows))
        for i, ((seed, arch), row) in enumerate(zip(evals[:n_noise], rows)):
            if str(seed) not in state.noise:
                _progress("re-measure", i, n_noise)
                state.noise[str(seed)] = _pct(_measure(arch, size, args), row["measured"])
                state.save()
        if n_noise:
            _progress("re-measure", n_noise, n_noise)
        noise = [state.noise[str(seed)] for seed, _ in evals[:n_noise]]

    df = pd.DataFrame(rows)
    print()
    print(f"in-budget evaluation archs: {len(df)}")
    print(f"time to profile:            {state.profile_s:.0f} s ({n_keys} unique units of "
          f"{len(everything)} archs)")
    labels = {"sum": "plain sum", "corrected": f"corrected ({corr.form}, chosen)" if calib else "",
              **{f: f"  if {f}" for f in CORRECTION_FORMS if f != "none"}}
    summary: dict = {}
    for col, label in labels.items():
        if col not in df or (col == "corrected" and not calib):
            continue
        err = (df[col] - df["measured"]).abs() / df["measured"] * 100
        # DataFrame.corr ranks without scipy (Series.corr would import it)
        spearman = df[[col, "measured"]].corr(method="spearman").iloc[0, 1]
        kendall = df[[col, "measured"]].corr(method="kendall").iloc[0, 1]
        bias = ((df[col] / df["measured"] - 1) * 100).mean()
        summary[col] = {"within_10pct": float((err <= 10).mean()), "median_abs_err_pct":
                        float(err.median()), "max_abs_err_pct": float(err.max()),
                        "mean_signed_pct": float(bias), "spearman": float(spearman)}
        print(f"{label:25s}: within +-10%: {(err <= 10).mean() * 100:5.1f}% "
              f"({int((err <= 10).sum())}/{len(df)}), |error| median {err.median():.1f}% "
              f"max {err.max():.1f}%, mean signed {bias:+.1f}%, "
              f"Spearman {spearman:.3f}, Kendall {kendall:.3f}")
    if noise:
        a = [abs(v) for v in noise]
        summary["noise"] = {"n": len(a), "median_abs_diff_pct": statistics.median(a),
                            "max_abs_diff_pct": max(a),
                            "within_10pct": sum(v <= 10 for v in a) / len(a)}
        print(f"noise (same model measured again in a fresh process, after all the others, "
              f"{len(noise)} models): |diff| median {statistics.median(a):.1f}% max "
              f"{max(a):.1f}%, within +-10%: {sum(v <= 10 for v in a)}/{len(a)} "
              f"({100 * sum(v <= 10 for v in a) / len(a):.1f}%)")
    load = os.getloadavg()
    print(f"total time: {time.monotonic() - t_start:.0f} s; load average at end: "
          f"{', '.join(f'{v:.2f}' for v in load)}")
    if len(df) == args.n:
        _cache(args, {"config": config, "n": len(df), "calib": len(calib),
                      "profile_s": state.profile_s, "units": n_keys, "summary": summary,
                      "load_at_end": list(load),
                      "correction": corr.form if calib else None})


class _State:
    """Whole-model measurements and profiling time, saved after each step (atomically)."""

    def __init__(self, path: Path, config: dict):
        self.path, self.config = path, config
        self.measured: dict[str, float] = {}
        self.noise: dict[str, float] = {}
        self.profile_s = 0.0
        if path.exists():
            data = json.loads(path.read_text())
            if data["config"] != config:
                raise SystemExit(f"{path} holds a run with other settings ({data['config']}); "
                                 "give another --state")
            self.measured, self.noise = data["measured"], data["noise"]
            self.profile_s = data["profile_s"]

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"config": self.config, "measured": self.measured,
                                   "noise": self.noise, "profile_s": self.profile_s}))
        os.replace(tmp, self.path)


def _measure(arch, size, args) -> float:
    """Whole-model median (ms), in --processes fresh processes (the arch is built there)."""
    if not args.processes:
        torch.manual_seed(0)
        model = build_model(arch)
        ms = measure_latency(model, size, args.device, args.threads, warmup=args.warmup,
                             runs=args.runs).median_ms
        del model
        gc.collect()
        return ms
    return measure_latency(arch, size, args.device, args.threads, warmup=args.warmup,
                           runs=args.runs, processes=args.processes).median_ms


def _describe(c) -> str:
    if c.form == "kinds":
        return " + ".join(f"{v:.3f}*{k}" for k, v in (c.kinds or {}).items()) + f" {c.c:+.2f} ms"
    return f"{c.a:.4f} * sum {c.b:+.3f} ms * n_units {c.c:+.3f} ms"


def _cache(args, record: dict) -> None:
    """The finished run's summary, by device, in benchmarks/latency_predictor.json."""
    data = json.loads(CACHE.read_text()) if CACHE.exists() else {}
    record["command"] = ".venv/bin/python " + " ".join(
        [os.path.relpath(__file__, ROOT), *sys.argv[1:]])
    data[args.device] = record
    tmp = CACHE.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1) + "\n")
    os.replace(tmp, CACHE)
    print(f"# cached in {CACHE.relative_to(ROOT)}")


def _progress(stage: str, done: int, total: int) -> None:
    print(f"\r  {stage}: {done}/{total}", end="\n" if done == total else "", file=sys.stderr,
          flush=True)


def _pct(value: float, ref: float) -> float:
    return (value / ref - 1) * 100


if __name__ == "__main__":
    main()
