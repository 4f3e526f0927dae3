"""The search as a process: Ctrl-C / SIGTERM, kill -9 and resume, several workers."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from nas.record import study_storage

NAS = Path(sys.executable).parent / "nas"  # the console script of this environment


def _start(args, tmp_path, name="p"):
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE"}
    return subprocess.Popen([NAS, "search", "--name", name, "--out", str(tmp_path / name),
                             *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env)


def _wait_for(path: Path, text: str, proc, timeout=240):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if path.exists() and text in path.read_text():
            return
        if proc.poll() is not None:
            pytest.fail(f"search ended early: {proc.communicate()}")
        time.sleep(0.2)
    pytest.fail(f"{text!r} never appeared in {path}")


def _table(run: Path) -> pd.DataFrame:
    return pd.read_parquet(run / "trials.parquet")


def _study_trials(run: Path, name: str = "p"):
    import optuna

    study = optuna.load_study(study_name=name, storage=study_storage(run))
    return study.get_trials(deepcopy=False)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupt_leaves_a_consistent_folder_and_resume_finishes(tmp_path, tiny_args, sig):
    run = tmp_path / "p"
    args = [*tiny_args, "--trials", "4", "--strategy", "random", "--epochs", "6"]
    proc = _start(args, tmp_path)
    _wait_for(run / "search.log", "trial=0 state=", proc)
    time.sleep(0.5)  # trial 1 is training now
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    info = json.loads((run / "run.json").read_text())
    assert info["status"] == "interrupted"
    df = _table(run)
    assert not df["state"].isin(["RUNNING"]).any()
    assert (df["state"] == "COMPLETE").sum() >= 1
    stopped = df[df["reason"].str.startswith("interrupted")]
    assert len(stopped) <= 1 and (stopped["state"] == "FAIL").all()
    # the cleanup ran: the study itself holds no RUNNING trial (not just the table)
    assert "RUNNING" not in {t.state.name for t in _study_trials(run)}
    done_before = set(df.loc[df["state"] == "COMPLETE", "number"])

    proc = _start(args, tmp_path)  # the same name again continues the run
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    df = _table(run)
    assert done_before <= set(df.loc[df["state"] == "COMPLETE", "number"])  # nothing lost
    trained = df[df["state"].isin(["COMPLETE", "PRUNED", "FAIL"])
                 & ~df["reason"].str.startswith("interrupted")]
    assert len(trained) == 4 and df["number"].is_unique
    assert trained["arch_json"].is_unique


def test_kill_9_loses_at_most_the_trial_in_flight(tmp_path, tiny_args):
    run = tmp_path / "p"
    args = [*tiny_args, "--trials", "3", "--strategy", "random", "--epochs", "6"]
    proc = _start(args, tmp_path)
    _wait_for(run / "search.log", "trial=0 state=", proc)
    time.sleep(0.5)
    proc.kill()
    proc.communicate(timeout=60)
    before = _table(run)
    assert (before["state"] == "COMPLETE").sum() >= 1
    at_kill = _study_trials(run)
    in_flight = {t.number for t in at_kill if t.state.name == "RUNNING"}
    done = {t.number: (t.state.name, t.values, t.user_attrs.get("arch_json"))
            for t in at_kill if t.state.name in ("COMPLETE", "PRUNED", "FAIL")}

    proc = _start([*args, "--resume"], tmp_path)
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    df = _table(run)
    assert "RUNNING" not in set(df["state"])
    killed = df[df["reason"].str.contains("killed")]
    assert set(killed["number"]) == in_flight and len(in_flight) <= 1  # cleanup ran, exactly
    after = {t.number: (t.state.name, t.values, t.user_attrs.get("arch_json"))
             for t in _study_trials(run)}
    assert all(after[n] == v for n, v in done.items()), "a trial finished before the kill changed"
    trained = df[df["state"].isin(["COMPLETE", "PRUNED", "FAIL"])
                 & ~df["reason"].str.startswith("interrupted")]
    assert len(trained) == 3 and df["number"].is_unique
    assert trained["arch_json"].is_unique  # no architecture trained twice
    log = (run / "search.log").read_text()
    assert "resuming p" in log


def test_two_workers_share_one_journal(tmp_path, tiny_args):
    run = tmp_path / "p"
    proc = _start([*tiny_args, "--trials", "4", "--strategy", "random", "--workers", "2"],
                  tmp_path)
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    assert (run / "study.journal").is_file() and (run / "study.db").is_file()
    df = _table(run)
    assert df["number"].is_unique and "RUNNING" not in set(df["state"])
    trained = df[df["state"].isin(["COMPLETE", "PRUNED", "FAIL"])]
    assert 4 <= len(trained) <= 5  # a worker may start one more while the other finishes
    assert df["arch_json"].is_unique
    log = (run / "search.log").read_text()
    assert len({line.split()[1] for line in log.splitlines() if " trial=" in line}) == 2, \
        "both worker processes should have evaluated trials"


def test_two_shells_on_one_storage(tmp_path, tiny_args):
    """Two independent `nas search` processes on one journal: unique numbers, no lost write."""
    journal = f"journal:{tmp_path / 'shared.journal'}"
    args = [*tiny_args, "--trials", "4", "--strategy", "random", "--storage", journal]
    first = _start(args, tmp_path, name="x")
    _wait_for(tmp_path / "x" / "run.json", "running", first)
    second = _start(args, tmp_path, name="x")
    for p in (first, second):
        out, err = p.communicate(timeout=600)
        assert p.returncode == 0, err
    df = _table(tmp_path / "x")
    assert df["number"].is_unique and "RUNNING" not in set(df["state"])
    assert df["number"].tolist() == list(range(len(df)))
    trained = df[df["state"].isin(["COMPLETE", "PRUNED", "FAIL"])]
    assert len(trained) >= 4
