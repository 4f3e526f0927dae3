"""The ``nas`` command: outputs, and one-line errors with exit code 2 for bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from nas.arch import ArchConfig, load_arch
from nas.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_build_json(capsys):
    code, out, err = run(capsys, "build", "afformer_tiny", "--input", "100x75", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["params"] == 2_127_306
    assert data["input"] == "100x75"
    assert data["output_shape"] == [1, 150, 100, 75]
    assert data["flops"] > 0
    assert [f["stride"] for f in data["features"]] == [8]  # the CLS head reads the last branch


def test_build_table_from_file(capsys, tmp_path):
    path = tmp_path / "arch.json"
    path.write_text(load_arch("mpvit_tiny").to_json())
    code, out, _ = run(capsys, "build", str(path), "--input", "64x64")
    assert code == 0
    assert "6,109,190" in out and "branch 4 (1/32)" in out


def test_space_show(capsys):
    code, out, _ = run(capsys, "space", "show", "hybrid")
    assert code == 0
    assert "stage3.branch2.mixer" in out
    assert "distinct architectures" in out


def test_space_sample_is_seeded_yaml(capsys, tmp_path):
    code, out, _ = run(capsys, "space", "sample", "hrvit", "--n", "3", "--seed", "5")
    assert code == 0
    docs = [ArchConfig.from_dict(d) for d in yaml.safe_load_all(out)]
    assert len(docs) == 3
    _, again, _ = run(capsys, "space", "sample", "hrvit", "--n", "3", "--seed", "5")
    assert again == out
    code, out, _ = run(capsys, "space", "sample", "afformer", "--n", "2", "--out", str(tmp_path))
    assert code == 0
    files = sorted(tmp_path.glob("*.yaml"))
    assert len(files) == 2 and ArchConfig.from_yaml(files[0].read_text())


def _write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def _bad_field(tmp_path):
    d = load_arch("hrvit_b1").to_dict()
    d["stages"][2]["branches"][1]["width"] = 100
    return _write(tmp_path, "bad_field.yaml", yaml.safe_dump(d))


BAD = {
    "unknown name": (lambda t: ["build", "hrvit_b9"], "unknown architecture 'hrvit_b9'"),
    "missing file": (lambda t: ["build", str(t / "none.yaml")], "does not exist"),
    "malformed yaml": (lambda t: ["build", _write(t, "m.yaml", "stem: [\n")], "malformed YAML"),
    "malformed json": (lambda t: ["build", _write(t, "m.json", "{")], "malformed JSON"),
    "invalid field": (lambda t: ["build", _bad_field(t)],
                      "stage 3, branch 2: width 100 is not divisible"),
    "bad input size": (lambda t: ["build", "afformer_tiny", "--input", "12x3"], "give HxW"),
    "unknown option": (lambda t: ["build", "afformer_tiny", "--bogus"], "No such option"),
    "missing argument": (lambda t: ["build"], "Missing argument"),
    "unknown space": (lambda t: ["space", "show", "nope"], "unknown search space 'nope'"),
    "bad space file": (lambda t: ["space", "show", _write(t, "s.yaml", "stages: 3\n")], "s.yaml"),
    "bad count": (lambda t: ["space", "sample", "--n", "0"], "--n must be >= 1"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_is_one_line_exit_2(capsys, tmp_path, case):
    argv, fragment = BAD[case]
    code, out, err = run(capsys, *argv(tmp_path))
    assert code == 2
    assert fragment in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_console_script_exit_code_and_no_traceback(tmp_path):
    exe = Path(sys.executable).parent / "nas"  # the console script of this environment
    proc = subprocess.run([exe, "build", "nope"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.startswith("nas: error: unknown architecture 'nope'")
    assert "Traceback" not in proc.stderr
