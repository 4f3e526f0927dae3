"""The full schedule: EMA score, plateau record, test split, and resuming after Ctrl-C or kill -9
with the same final numbers as an uninterrupted run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nas.errors import NasError
from nas.proxy import (
    CHECKPOINT_FILE,
    FULL_SCHEDULE,
    SCHEDULES,
    FullSchedule,
    Paused,
    get_schedule,
    train_full,
    train_to_dir,
)

ROOT = Path(__file__).resolve().parents[2]
SPEC = "synthetic:24,8,size=48"


@pytest.fixture(scope="module")
def tiny_full() -> FullSchedule:
    return FULL_SCHEDULE.replace(epochs=4, train_size=(48, 48), threads=1, eval_every=1,
                                 lr=4e-3, score_last=2)


def _numbers(r) -> dict:
    keys = ("status", "miou", "epoch_miou", "eval_epochs", "loss_curve", "test_miou",
            "per_class_iou", "pixel_acc", "steps", "plateau_gain", "plateaued", "final_val_miou")
    return {k: getattr(r, k) for k in keys}


def test_schedule_registry_and_validation():
    assert SCHEDULES["full"] is FULL_SCHEDULE and isinstance(get_schedule("full"), FullSchedule)
    with pytest.raises(NasError, match="unknown schedule 'long'.*proxy, full"):
        get_schedule("long")
    with pytest.raises(NasError, match="ema_decay"):
        FULL_SCHEDULE.replace(ema_decay=1.5)
    s = FULL_SCHEDULE.replace(epochs=10, eval_every=3)
    assert s.plateau_epoch() == 8 and s.eval_epochs() == [3, 6, 8, 9, 10]
    assert FULL_SCHEDULE.replace(epochs=8, eval_every=4).eval_epochs() == [4, 6, 7, 8]
    assert isinstance(s, FullSchedule)


def test_full_run_scores_mean_of_last_evals(small_arch, tiny_data, tiny_full):
    tr, va = tiny_data
    r = train_full(small_arch, tr, va, tiny_full, seed=0, test_data=va)
    assert r.status == "ok", r.reason
    assert r.eval_epochs == [1, 2, 3, 4] and r.score_epochs == [3, 4]
    assert r.miou == pytest.approx(sum(r.epoch_miou[-2:]) / 2)
    assert r.final_val_miou == r.epoch_miou[-1]
    # the final model scored on "test" (here the val split again): the last epoch's value
    assert r.test_miou == pytest.approx(r.epoch_miou[-1])
    assert r.plateau_gain == pytest.approx(r.epoch_miou[-1] - r.epoch_miou[2])
    assert r.plateaued == (r.plateau_gain < tiny_full.plateau_delta)
    assert r.loss_curve[-1] < r.loss_curve[0]


def test_resume_after_ctrl_c_gives_the_same_numbers(small_arch, tiny_data, tiny_full, tmp_path):
    tr, va = tiny_data
    ref = train_full(small_arch, tr, va, tiny_full, seed=1, test_data=va)
    ckpt = tmp_path / CHECKPOINT_FILE

    def interrupt(epoch, miou):
        if epoch == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train_full(small_arch, tr, va, tiny_full, seed=1, test_data=va, checkpoint=ckpt,
                   callback=interrupt)
    assert ckpt.is_file()
    again = train_full(small_arch, tr, va, tiny_full, seed=1, test_data=va, checkpoint=ckpt)
    assert again.resumed_at == 2
    assert _numbers(again) == _numbers(ref)
    # a checkpoint of another run is refused, not silently reused
    with pytest.raises(NasError, match="belongs to another run"):
        train_full(small_arch, tr, va, tiny_full, seed=2, checkpoint=ckpt)


def test_time_limit_pauses_and_pieces_add_up(small_arch, tiny_data, tiny_full, tmp_path):
    tr, va = tiny_data
    ref = train_full(small_arch, tr, va, tiny_full, seed=4)
    ckpt = tmp_path / CHECKPOINT_FILE
    pauses = []
    for _ in range(tiny_full.epochs):
        try:
            piece = train_full(small_arch, tr, va, tiny_full, seed=4, checkpoint=ckpt,
                               time_limit_s=0.0)
            break
        except Paused as exc:
            pauses.append(exc.epoch)
    assert pauses == [1, 2, 3]  # one epoch per call, then the last call finishes
    assert _numbers(piece) == _numbers(ref) and piece.resumed_at == 3


_CHILD = """
import sys, time
sys.path.insert(0, {tests!r})
from conftest import small_afformer
from nas.data import load_data
from nas.proxy import FULL_SCHEDULE, train_to_dir
s = FULL_SCHEDULE.replace(epochs=4, train_size=(48, 48), threads=1, eval_every=1, lr=4e-3,
                          score_last=2)
def hang(epoch, miou):
    if epoch == 2:
        open({marker!r}, "w").write("2")
        time.sleep(120)  # killed here, after epoch 2's checkpoint
splits = (load_data({spec!r}, "train"), load_data({spec!r}, "val"), load_data({spec!r}, "val"))
train_to_dir(small_afformer(), splits, {out!r}, schedule=s, seed=3, callback=hang)
"""


def test_resume_after_kill_9_gives_the_same_numbers(small_arch, tiny_data, tiny_full, tmp_path):
    tr, va = tiny_data
    out, marker = tmp_path / "run", tmp_path / "marker"
    code = _CHILD.format(tests=str(ROOT / "tests" / "proxy"), marker=str(marker), spec=SPEC,
                         out=str(out))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen([sys.executable, "-c", code], env=env, cwd=tmp_path,
                             stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 240
        while not marker.exists():
            assert child.poll() is None, child.stderr.read().decode()[-2000:]
            assert time.monotonic() < deadline, "the child never reached epoch 2"
            time.sleep(0.1)
        child.send_signal(signal.SIGKILL)
        child.wait(30)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == -signal.SIGKILL
    assert (out / CHECKPOINT_FILE).is_file() and not (out / "metrics.json").exists()

    result, _ = train_to_dir(small_arch, (tr, va, va), out, schedule=tiny_full, seed=3)
    assert result.resumed_at == 2
    ref = train_full(small_arch, tr, va, tiny_full, seed=3, test_data=va)
    assert _numbers(result) == _numbers(ref)
    saved = json.loads((out / "metrics.json").read_text())
    assert saved["miou"] == ref.miou and saved["test_miou"] == ref.test_miou
    assert saved["schedule"]["ema_decay"] == tiny_full.ema_decay
    assert not (out / CHECKPOINT_FILE).exists()  # the outcome is in metrics + weights now
