"""Every command, every option and argument, fed malformed values: exit 2, exactly one line on
stderr, no traceback (property-based, hypothesis; in-process through ``nas.cli.main``).

The inventory below names, for each command, a cheap valid invocation and, for each of its
options and arguments, how to make a malformed value. A completeness check compares it with the
options the commands really have, so an option added later without a malformed case fails here.
"""

from __future__ import annotations

import contextlib
import io
import re
import shutil
from pathlib import Path

import pytest
import typer.main
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nas.cli import app, main

_INT = re.compile(r"\s*[+-]?\d+\s*")
_FLOAT = re.compile(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*|\s*[+-]?(inf|nan)\w*\s*", re.I)
_SIZE = re.compile(r"\s*\d+\s*([xX]\s*\d+\s*)?")
_DURATION = re.compile(r"\s*\d+(\.\d+)?\s*[a-zA-Z]*\s*")

_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=12)
not_int = _text.filter(lambda s: not _INT.fullmatch(s))
not_float = _text.filter(lambda s: not _FLOAT.fullmatch(s))
not_size = st.one_of(_text.filter(lambda s: not _SIZE.fullmatch(s)),
                     st.sampled_from(["8x8", "31x64", "0", "64x", "x64", "64x64x3"]))
negative = st.integers(-10**6, 0).map(str)


def _bad_budget(s: str) -> bool:
    from nas.budget import Budget
    from nas.errors import NasError

    try:
        Budget.parse(s)
    except NasError:
        return True
    return False


not_budget = st.one_of(st.sampled_from(["5mFLOPs", "5", "GFLOPs", "-5GFLOPs", "5GFLOPs,5GFLOPs",
                                        "inf ms", "5 bananas", "1e999GFLOPs", ""]),
                       _text.filter(_bad_budget))
NO_DIR = "/proc/nas-no-such/dir"  # cannot be created (not even by root)
missing = st.sampled_from(["no/such/file.yaml", "no_such_name_xyz", NO_DIR])

SEARCH_BASE = ["--trials", "1", "--no-baselines", "--no-report", "--quiet", "--strategy",
               "random", "--data", "synthetic:16,8,size=48", "--epochs", "1", "--n-train", "8",
               "--n-val", "8", "--train-size", "48x48", "--threads", "1", "--input", "64x64"]

# command -> option (or "ARG:name") -> strategy of malformed values
MALFORMED = {
    ("search",): {
        "--budget": not_budget, "--space": missing, "--data": st.sampled_from(
            ["kitti:/x", "camvid:/no/such/dir", "synthetic:x", "synthetic:0,0", ""]),
        "--val-data": st.sampled_from(["kitti:/x", "camvid:/no/such/dir", "synthetic:a,b"]),
        "--input": not_size, "--objectives": st.sampled_from(
            ["speed", "flops", "miou,miou", "miou,,x", "latency_msx"]),
        "--trials": st.one_of(not_int, negative), "--time": st.one_of(
            _text.filter(lambda s: not _DURATION.fullmatch(s)), st.sampled_from(["0", "-5m"])),
        "--strategy": st.sampled_from(["", "bayes", "NSGA3"]),
        "--population": st.one_of(not_int, st.sampled_from(["1", "0", "-3"])),
        "--runner": missing, "--storage": st.sampled_from(["nosuchdb://x", "sqlite:////proc/x/y.db"]),
        "--workers": st.one_of(not_int, negative), "--name": st.sampled_from(
            ["", "-x", "a b", "../up", "x" * 101, "é!"]),
        "--out": st.sampled_from([NO_DIR, "/proc/nas-out"]), "--seed": not_int,
        "--epochs": st.one_of(not_int, negative), "--train-size": not_size,
        "--n-train": st.one_of(not_int, st.sampled_from(["-1"])),
        "--n-val": st.one_of(not_int, st.sampled_from(["-1"])),
        "--batch-size": st.one_of(not_int, negative), "--lr": st.one_of(
            not_float, st.sampled_from(["0", "-1", "nan", "inf"])),
        "--threads": st.one_of(not_int, negative), "--device": st.sampled_from(
            ["tpu", "cuda:x", "", "gpu"]),
        "--latency-device": st.sampled_from(["tpu", "cuda:x", "", "ort", "ort-gpu"]),
    },
    ("build",): {"ARG:arch": missing, "--input": not_size},
    ("cost",): {"ARG:arch": missing, "--input": not_size, "--threads": not_int,
                "--table": st.sampled_from(["no/such/table.json", NO_DIR]),
                "--device": st.sampled_from(["tpu", "cuda:x", "", "ort"]),
                "--processes": st.one_of(not_int, negative)},
    ("train",): {
        "ARG:arch": missing, "--data": st.sampled_from(["kitti:/x", "camvid:/no/such", ""]),
        "--val-data": st.sampled_from(["kitti:/x", "voc:/no/such"]),
        "--epochs": st.one_of(not_int, negative), "--input": not_size, "--eval-size": not_size,
        "--batch-size": st.one_of(not_int, negative),
        "--lr": st.one_of(not_float, st.sampled_from(["0", "-1", "nan", "inf"])),
        "--n-train": st.one_of(not_int, st.sampled_from(["-1"])),
        "--n-val": st.one_of(not_int, st.sampled_from(["-1"])), "--seed": not_int,
        "--out": st.sampled_from([NO_DIR]), "--threads": st.one_of(not_int, negative),
        "--device": st.sampled_from(["tpu", "cuda:x", ""]),
        "--schedule": st.sampled_from(["fast", "FULL", ""]),
    },
    ("retrain",): {
        "ARG:run_dir": missing, "--trial": st.sampled_from(["x", "999999", "-5"]),
        "--seeds": st.sampled_from(["x", "0,x", ",", ""]),
        "--data": st.sampled_from(["kitti:/x", "camvid:/no/such", ""]),
        "--epochs": st.one_of(not_int, negative), "--input": not_size, "--eval-size": not_size,
        "--n-train": st.one_of(not_int, st.sampled_from(["-1"])),
        "--n-val": st.one_of(not_int, st.sampled_from(["-1"])),
        "--threads": st.one_of(not_int, negative),
        "--device": st.sampled_from(["tpu", "cuda:x", ""]),
    },
    ("profile",): {
        "--device": st.sampled_from(["tpu", "cuda:x", ""]),
        "--threads": st.one_of(not_int, negative), "--input": not_size, "--space": missing,
        "--n": st.one_of(not_int, st.sampled_from(["-1"])), "--seed": not_int,
        "--budget-gflops": st.one_of(not_float, st.sampled_from(["0", "-1", "1e-9"])),
        "--out": st.sampled_from([NO_DIR]), "--runs": st.one_of(not_int, negative),
        "--warmup": st.one_of(not_int, st.sampled_from(["-1"])),
        "--calibrate": st.one_of(not_int, st.sampled_from(["-1", "5"])),
        "--noise-repeats": st.one_of(not_int, st.sampled_from(["-1", "1"])),
    },
    ("report",): {"ARG:run_dir": st.sampled_from(["no/such/run", "FILE", "EMPTY", NO_DIR])},
    ("export",): {
        "ARG:run_dir": st.sampled_from(["no/such/run", "FILE", "EMPTY"]),
        "--trial": st.one_of(not_int, st.sampled_from(["-1", "99999"])),
        "--format": st.sampled_from(["", "tflite", "ONNX!"]), "--out": st.sampled_from([NO_DIR]),
    },
    ("space", "show"): {"ARG:space": missing, "--budget": not_budget, "--input": not_size,
                        "--n": st.one_of(not_int, negative)},
    ("space", "sample"): {"ARG:space": missing, "--n": st.one_of(not_int, negative),
                          "--seed": not_int, "--out": st.sampled_from([NO_DIR])},
}


def _commands():
    """(path, options taking a value, argument names) of every command of the CLI."""
    out = {}

    def walk(cmd, path):
        if hasattr(cmd, "commands"):
            for name, sub in cmd.commands.items():
                walk(sub, (*path, name))
            return
        opts = {p.opts[0] for p in cmd.params if p.param_type_name == "option" and not p.is_flag}
        args = {f"ARG:{p.name}" for p in cmd.params if p.param_type_name == "argument"}
        out[path] = opts | args

    walk(typer.main.get_command(app), ())
    return out


def test_every_option_of_every_command_has_malformed_values():
    have = {path: set(opts) for path, opts in MALFORMED.items()}
    assert have == _commands()


@pytest.fixture(scope="module")
def places(tmp_path_factory, built_run):
    root = tmp_path_factory.mktemp("malformed")
    (root / "FILE").write_text("not a folder")
    (root / "EMPTY").mkdir()
    return root, built_run


def _argv(path, option, value, root: Path, run: Path, n: int) -> list[str]:
    out = root / f"out{n}"
    value = {"FILE": str(root / "FILE"), "EMPTY": str(root / "EMPTY")}.get(value, value)
    base = {
        ("search",): [*SEARCH_BASE, "--out", str(out)],
        ("build",): ["afformer_tiny", "--input", "64x64"],
        ("cost",): ["afformer_tiny", "--input", "64x64", "--no-fvcore"],
        ("train",): ["afformer_tiny", "--data", "synthetic:16,8,size=48", "--epochs", "1",
                     "--input", "48x48", "--threads", "1", "--out", str(out)],
        ("profile",): ["--n", "1", "--no-refs", "--runs", "1", "--warmup", "0", "--input",
                       "64x64", "--out", str(out)],
        ("retrain",): [str(run), "--trial", "0", "--epochs", "1", "--n-train", "4", "--n-val",
                       "2", "--input", "48x48", "--threads", "1"],
        ("report",): [str(run)],
        ("export",): [str(run), "--out", str(out)],
        ("space", "show"): ["hybrid", "--n", "5"],
        ("space", "sample"): ["hybrid", "--n", "1"],
    }[path]
    if option.startswith("ARG:"):
        return [*path, value, *base[1:]]
    if option == "--out" and "--out" in base:
        base = base[: base.index("--out")] + base[base.index("--out") + 2:]
    return [*path, *base, f"{option}={value}"]


CASES = [(path, opt, strat) for path, opts in MALFORMED.items() for opt, strat in opts.items()]


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
@given(data=st.data(), case=st.sampled_from(CASES))
def test_malformed_values_give_one_line_and_exit_2(places, data, case):
    root, run = places
    path, option, strategy = case
    value = data.draw(strategy, label=f"{' '.join(path)} {option}")
    n = len(list(root.glob("out*")))
    argv = _argv(path, option, value, root, run, n)
    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        code = main(argv)
    text = err.getvalue()
    assert code == 2, (argv, code, text)
    assert "Traceback" not in text and len(text.strip().splitlines()) == 1, (argv, text)
    assert text.startswith("nas: error: "), (argv, text)
    shutil.rmtree(root / f"out{n}", ignore_errors=True)
