"""``nas train``: files written, refusal to overwrite, one-line errors."""

from __future__ import annotations

import json

import pytest

from nas.cli import main


def _run(capsys, *argv) -> tuple[int, str, str]:
    """Run ``nas train`` through the real entry point (``nas.cli.main``: NasError -> exit 2)."""
    code = main(["train", *argv])
    out, err = capsys.readouterr()
    return code, out, err


ARGS = ("--data", "synthetic:16,8,size=48", "--epochs", "1", "--input", "48x48",
        "--threads", "1", "--batch-size", "8")


def test_train_writes_weights_and_metrics(capsys, tmp_path, small_arch):
    arch_file = tmp_path / "arch.yaml"
    arch_file.write_text(small_arch.to_yaml())
    out = tmp_path / "run"
    code, stdout, err = _run(capsys, str(arch_file), *ARGS, "--out", str(out), "--json")
    assert code == 0, err
    shown = json.loads(stdout)
    saved = json.loads((out / "metrics.json").read_text())
    assert shown["status"] == saved["status"] == "ok"
    assert saved["miou"] == shown["miou"] and saved["weights"] == "weights.safetensors"
    assert saved["arch"]["num_classes"] == 6 and saved["data"] == "synthetic:16,8,size=48"
    assert saved["schedule"]["train_size"] == [48, 48] and saved["epochs_run"] == 1
    assert (out / "weights.safetensors").stat().st_size > 0

    # never overwrite silently; --force does
    code, _, err = _run(capsys, str(arch_file), *ARGS, "--out", str(out))
    assert code == 2 and "metrics.json already exists" in err and "--force" in err
    assert err.count("\n") == 1
    code, _, err = _run(capsys, str(arch_file), *ARGS, "--out", str(out), "--force", "--seed", "1")
    assert code == 0, err
    assert json.loads((out / "metrics.json").read_text())["seed"] == 1


def test_train_default_out_dir(capsys, tmp_path, small_arch, monkeypatch):
    arch_file = tmp_path / "arch.yaml"
    arch_file.write_text(small_arch.to_yaml())
    monkeypatch.chdir(tmp_path)
    code, _, err = _run(capsys, str(arch_file), *ARGS, "--seed", "2", "--n-train", "8")
    assert code == 0, err
    saved = json.loads((tmp_path / "results" / "train" / "afformer_small_test-2" /
                        "metrics.json").read_text())
    assert saved["n_train_images"] == 8 and saved["steps"] == 1


@pytest.mark.parametrize("argv, message", [
    (("afformer_tiny", "--data", "kitti:/x"), "unknown data spec"),
    (("afformer_tiny", "--data", "camvid:/no/such/dir"), "does not exist"),
    (("afformer_tiny", "--input", "8x8"), "input size"),
    (("afformer_tiny", "--epochs", "0"), "epochs must be >= 1"),
    (("no_such_arch",), "unknown architecture"),
    (("afformer_tiny", "--schedule", "long"), "unknown schedule 'long'"),
    (("afformer_tiny", "--device", "tpu"), "--device"),
])
def test_train_bad_input_is_one_line(capsys, tmp_path, argv, message):
    code, _, err = _run(capsys, *argv, "--out", str(tmp_path / "o"))
    assert code == 2 and message in err and err.count("\n") == 1, err
    assert not (tmp_path / "o" / "metrics.json").exists()


def test_failed_candidate_exits_1_with_metrics(capsys, tmp_path, small_arch):
    arch_file = tmp_path / "arch.yaml"
    arch_file.write_text(small_arch.to_yaml())
    out = tmp_path / "run"
    code, _, err = _run(capsys, str(arch_file), "--data", "synthetic:16,8,size=48", "--epochs",
                        "3", "--input", "48x48", "--threads", "1", "--lr", "1e30",
                        "--out", str(out))
    assert code == 1 and "candidate failed" in err
    saved = json.loads((out / "metrics.json").read_text())
    assert saved["status"] == "failed" and saved["miou"] is None and saved["reason"]
    assert saved["weights"] is None and not (out / "weights.safetensors").exists()


def test_train_full_schedule_on_camvid_writes_val_and_test(capsys, tmp_path, small_arch,
                                                           camvid_root):
    arch_file = tmp_path / "arch.yaml"
    arch_file.write_text(small_arch.to_yaml())
    out = tmp_path / "full"
    code, stdout, err = _run(
        capsys, str(arch_file), "--schedule", "full", "--data", f"camvid:{camvid_root}",
        "--epochs", "2", "--input", "48x48", "--n-train", "16", "--n-val", "4",
        "--eval-size", "60x80", "--threads", "1", "--out", str(out), "--json")
    assert code == 0, err
    saved = json.loads((out / "metrics.json").read_text())
    assert saved["schedule"]["ema_decay"] is not None and saved["eval_epochs"] == [2]
    assert saved["n_test_images"] == 233 and 0 <= saved["test_miou"] <= 1
    assert saved["miou"] == saved["epoch_miou"][-1] and saved["plateaued"] in (True, False)
    assert not (out / "checkpoint.pt").exists()
