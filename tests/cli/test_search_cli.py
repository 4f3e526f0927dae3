"""`nas search`: bad input is one line and exit code 2; a finished run is summarised."""

import pytest
import torch

from nas.cli import main

NO_GPU = pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA GPU")


@pytest.fixture
def tiny_args():
    return ["--epochs", "1", "--n-train", "8", "--n-val", "8", "--train-size", "64x64",
            "--threads", "1", "--data", "synthetic:64,16", "--budget", "2GFLOPs", "--quiet",
            "--no-baselines", "--no-report"]


@pytest.mark.parametrize("args, message", [
    (["--budget", "5GFLOPz"], "accepted forms"),
    (["--budget", "0GFLOPs"], "budget"),
    (["--objectives", "miou,speed"], "unknown objective 'speed'"),
    (["--strategy", "grid"], "--strategy 'grid'"),
    (["--time", "soon"], "positive duration"),
    (["--trials", "0"], "--trials 0"),
    (["--runner", "slurm"], "no such profile"),
    (["--input", "big"], "big"),
    (["--space", "nope"], "nope"),
    (["--data", "camvid:/does/not/exist"], "/does/not/exist"),
    (["--resume", "--name", "never-ran"], "holds no search"),
    (["--device", "tpu"], "--device 'tpu'"),
    (["--budget", "150ms", "--latency-device", "tpu"],
     "--latency-device 'tpu': use cpu, ort-cpu, cuda or cuda:N"),
    pytest.param(["--budget", "150ms", "--latency-device", "cuda"],
                 "--latency-device cuda: CUDA is not available on this machine; use cpu",
                 marks=NO_GPU),
])
def test_bad_input_is_one_line_and_exit_2(args, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["search", "--quiet", *args]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("nas: error:") and message in err and "\n" not in err
    assert "Traceback" not in err


def test_other_settings_on_an_existing_run_are_refused_and_nothing_is_lost(
        tmp_path, tiny_args, capsys):
    out = tmp_path / "run"
    assert main(["search", *tiny_args, "--trials", "1", "--out", str(out), "--name", "a"]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    args = [a if a != "2GFLOPs" else "3GFLOPs" for a in tiny_args]
    assert main(["search", *args, "--trials", "1", "--out", str(out), "--name", "a"]) == 2
    err = capsys.readouterr().err
    assert "holds a search with other settings (budgets" in err
    after = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    assert after == before
    # another proxy schedule would mix incomparable scores in one study: refused too
    args = list(tiny_args)
    args[args.index("--epochs") + 1] = "2"
    assert main(["search", *args, "--trials", "1", "--out", str(out), "--name", "a"]) == 2
    assert "other settings (schedule" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
    # the thread count does not change the scores: the same search continues with another
    args = list(tiny_args)
    args[args.index("--threads") + 1] = "2"
    assert main(["search", *args, "--trials", "2", "--out", str(out), "--name", "a"]) == 0


def test_summary_names_the_front_and_the_folder(tmp_path, tiny_args, capsys):
    out = tmp_path / "run"
    assert main(["search", *tiny_args, "--trials", "2", "--out", str(out), "--name", "b"]) == 0
    err = capsys.readouterr().err
    assert "finished: 2 trained" in err and "Pareto front" in err and str(out) in err


def test_unwritable_out_is_one_line(capsys):
    assert main(["search", "--quiet", "--budget", "5GFLOPs", "--out", "/proc/somewhere"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("nas: error: /proc/somewhere") and err.count("\n") == 1
    assert "--out" in err and "Traceback" not in err


def test_damaged_study_is_refused_untouched_with_the_way_out(tmp_path, tiny_args, capsys):
    out = tmp_path / "run"
    db = out / "study.db"  # an SQLite study (the default storage is a journal, see below)
    argv = ["search", *tiny_args, "--storage", f"sqlite:///{db}", "--trials", "1", "--out",
            str(out), "--name", "d"]
    assert main(argv) == 0
    capsys.readouterr()
    damaged = b"SQLite format 3\x00" + bytes(range(256)) * 64  # a header, then garbage
    db.write_bytes(damaged)
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    assert main([*argv[:-4], "--trials", "2", "--out", str(out), "--name", "d"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert str(db) in err and f"mv {db} {db}.damaged" in err and "nothing was written" in err
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before


def test_a_budget_no_architecture_meets_is_refused_before_any_trial(tmp_path, capsys,
                                                                   monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["search", "--quiet", "--budget", "1MFLOPs", "--data", "synthetic:64,16"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and err.startswith("nas: error: --budget 1MFLOPs: budget infeasible")
    assert "the cheapest architecture in hybrid.yaml needs" in err and "GFLOPs at 512x512" in err
    assert not any(tmp_path.rglob("*")), "nothing may be written"


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="this machine has a GPU")
@pytest.mark.parametrize("flag", ["--device", "--latency-device"])
def test_a_latency_budget_for_a_missing_gpu_is_refused(flag, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["search", "--quiet", "--budget", "150ms", flag, "cuda"]) == 2
    err = capsys.readouterr().err.strip()
    assert "CUDA is not available on this machine; use cpu" in err and "\n" not in err
    assert not any(tmp_path.iterdir())  # nothing written


def test_the_latency_device_chooses_the_table(tmp_path):
    """Training stays on --device; the latency table (and the front's measurement) is the
    latency device's: here the exported graph in ONNX Runtime."""
    from nas.search import SearchSettings, make_evaluator
    from nas.space import load_space

    s = SearchSettings(name="t", out=tmp_path / "run", budgets=("150ms",),
                       data="synthetic:16,8", latency_device="ort-cpu",
                       latency_dir=tmp_path / "latency")
    ev = make_evaluator(s, load_space("hybrid"))
    assert s.device == "cpu" and ev.table.device == "ort-cpu"
    assert ev.table.fingerprint.startswith("ort-cpu-")
