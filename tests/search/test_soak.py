"""kill -9 soak: a real tiny search killed with SIGKILL at random moments, five times, and
resumed each time. After every kill: the study opens with ``optuna.load_study``, at most the
trial in flight is lost (every trial finished before the kill survives with the same values and
architecture), no trial number or trained architecture appears twice, and ``trials.parquet``
agrees with the study. A final resume finishes the requested count."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pandas as pd
import pytest

from nas.record import study_storage

NAS = Path(sys.executable).parent / "nas"
TRIALS = 12  # enough that five kills always land before the search finishes
KILLS = 5
TRAINED = {"COMPLETE", "PRUNED", "FAIL"}


def _start(run: Path, args: list[str]) -> subprocess.Popen:
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE"}
    return subprocess.Popen([NAS, "search", "--name", "soak", "--out", str(run), *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env=env)


def _study(run: Path) -> list[optuna.trial.FrozenTrial]:
    study = optuna.load_study(study_name="soak", storage=study_storage(run))
    return study.get_trials(deepcopy=False)


def _finished(trials) -> dict[int, tuple]:
    """number -> (state, values, architecture) of the trials that ended (not RUNNING)."""
    return {t.number: (t.state.name, t.values, t.user_attrs.get("arch_json"))
            for t in trials if t.state.name != "RUNNING"}


def _trained_archs(trials) -> list[str]:
    return [t.user_attrs["arch_json"] for t in trials
            if t.state.name in TRAINED and t.user_attrs.get("trained")
            and "killed" not in str(t.user_attrs.get("reason", ""))]


def _check(run: Path, before: dict[int, tuple]) -> dict[int, tuple]:
    trials = _study(run)  # readable by optuna.load_study
    numbers = [t.number for t in trials]
    assert len(numbers) == len(set(numbers))
    now = _finished(trials)
    lost = {n: v for n, v in before.items() if now.get(n) != v}
    assert not lost, f"trials finished before the kill changed or vanished: {sorted(lost)}"
    assert sum(t.state.name == "RUNNING" for t in trials) <= 1  # only the trial in flight
    archs = _trained_archs(trials)
    assert len(archs) == len(set(archs)), "an architecture was trained twice"
    table = run / "trials.parquet"
    if table.exists():
        df = pd.read_parquet(table)
        assert df["number"].is_unique and set(df["number"]) <= set(numbers)
        by_number = {t.number: t for t in trials}
        for row in df.itertuples():
            t = by_number[row.number]
            if row.state == "COMPLETE":  # what the table says finished, the study says too
                assert t.state.name == "COMPLETE" and t.user_attrs.get("arch_json") == row.arch_json
        # a trial marked failed for a killed process is written with the next trial's rewrite
        cleaned = {t.number for t in trials if "killed" in str(t.user_attrs.get("reason", ""))}
        missing = [n for n, v in now.items()
                   if v[0] in TRAINED and n not in set(df["number"]) and n not in cleaned]
        assert len(missing) <= 1, f"trials finished in the study but not in the table: {missing}"
    return now


@pytest.mark.slow
def test_kill_9_soak(tmp_path, tiny_args):
    rng = random.Random(14)
    run = tmp_path / "soak"
    args = [*tiny_args, "--trials", str(TRIALS), "--strategy", "random", "--epochs", "3"]
    seen: dict[int, tuple] = {}
    kills = 0
    while kills < KILLS:
        proc = _start(run, args)
        t0, target = time.monotonic(), len(_trained_archs(_study(run))) + 1 if seen else 1
        while time.monotonic() - t0 < 240:  # wait for one more finished trial, then a bit
            if proc.poll() is not None:
                break
            if (run / "study.journal").exists() or (run / "study.db").exists():
                try:
                    if len(_trained_archs(_study(run))) >= target:
                        break
                except Exception:  # the study is being created
                    pass
            time.sleep(0.2)
        if proc.poll() is not None:
            assert proc.returncode == 0, proc.stderr.read()
            break  # it finished before the kill: nothing left to interrupt
        time.sleep(rng.uniform(0.0, 2.5))  # mid-training, mid-write, or between trials
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        kills += 1
        seen = _check(run, seen)
    assert kills == KILLS, f"only {kills} kills: the search finished too early"
    proc = _start(run, args)  # the last resume runs to the end
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    final = _check(run, seen)
    trials = _study(run)
    assert "RUNNING" not in {v[0] for v in final.values()}
    assert len(_trained_archs(trials)) == TRIALS
    killed = [t for t in trials if "killed" in str(t.user_attrs.get("reason", ""))]
    assert len(killed) <= KILLS and all(t.state.name == "FAIL" for t in killed)
