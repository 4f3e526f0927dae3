"""nas.export: the config rebuilds the exact network (params, FLOPs, outputs with the weights),
model cards, selection, and the refusals (overwrite, escaping --out, bad arguments)."""

from __future__ import annotations

import os

import pytest
import torch
import yaml

from nas.arch import load_arch
from nas.cost import count_flops, count_params, estimate
from nas.errors import NasError
from nas.export import export
from nas.models import build_model
from nas.proxy import load_weights
from nas.report import load_run


def test_round_trip_with_weights(run_dir, trained, tmp_path) -> None:
    n = trained[0]
    (res,) = export(run_dir, trial=n, weights=True, out=tmp_path / "out")
    assert set(res.files) == {"config", "card", "weights"}
    assert res.name == f"fixture_trial{n}"
    original = build_model(load_arch(run_dir / "pareto" / f"trial-{n}.yaml"))
    load_weights(original, run_dir / "weights" / f"trial-{n}.safetensors")
    rebuilt = load_weights(build_model(load_arch(res.files["config"])), res.files["weights"])
    assert count_params(rebuilt) == count_params(original)
    size = (96, 128)
    assert count_flops(rebuilt, size) == count_flops(original, size)
    a, b = load_arch(res.files["config"]), load_arch(run_dir / "pareto" / f"trial-{n}.yaml")
    assert estimate(a, (512, 512)) == estimate(b, (512, 512))
    x = torch.randn(2, 3, *size)
    with torch.no_grad():
        assert torch.equal(original.eval()(x), rebuilt.eval()(x))


def test_json_config_and_card(run_dir, trained, tmp_path) -> None:
    n = trained[0]
    (res,) = export(run_dir, trial=n, fmt="json", out=tmp_path)
    assert res.files["config"].suffix == ".json"
    assert load_arch(res.files["config"]).name == f"fixture_trial{n}"
    card = res.files["card"].read_text()
    row = load_run(run_dir).row(n)
    for text in (f"# nas_fixture_trial{n}", f"{row['miou']:.4f}", "30 GFLOPs", "within budget",
                 "synthetic:24,8,size=48", "nas search --budget 30GFLOPs", "version: torch",
                 "Cost at 512x512", f"{int(row['flops']):,}", "| seed | `0` |"):
        assert text in card, text


def test_pareto_is_the_default_and_best_is_one(run_dir, tmp_path) -> None:
    run = load_run(run_dir)
    front = sorted(run.trials.loc[run.trials["pareto"], "number"])
    results = export(run_dir, out=tmp_path / "all")
    assert sorted(r.trial for r in results) == front
    (best,) = export(run_dir, best=True, out=tmp_path / "best")
    done = run.completed()
    assert best.trial == int(done.loc[done["miou"].idxmax(), "number"])
    assert (run_dir / "export").exists() is False  # only --out was written
    (res,) = export(run_dir, trial=front[0])
    assert res.files["config"].parent == run_dir / "export"


def test_never_overwrites_without_force(run_dir, trained, tmp_path) -> None:
    n = trained[0]
    (res,) = export(run_dir, trial=n, out=tmp_path)
    res.files["config"].write_text("edited")
    with pytest.raises(NasError, match="already holds .*--force"):
        export(run_dir, trial=n, out=tmp_path)
    assert res.files["config"].read_text() == "edited"
    export(run_dir, trial=n, out=tmp_path, force=True)
    assert yaml.safe_load(res.files["config"].read_text())["name"] == f"fixture_trial{n}"


def test_refuses_paths_that_escape_out(run_dir, trained, tmp_path) -> None:
    n = trained[0]
    out, outside = tmp_path / "out", tmp_path / "elsewhere.yaml"
    out.mkdir()
    os.symlink(outside, out / f"fixture_trial{n}.yaml")
    with pytest.raises(NasError, match="outside --out"):
        export(run_dir, trial=n, out=out, force=True)
    assert not outside.exists()


@pytest.mark.parametrize("kwargs,match", [
    (dict(trial=999), "no trial 999"),
    (dict(trial=0, best=True), "--trial and --best conflict"),
    (dict(best=True, pareto=True), "--best and --pareto conflict"),
    (dict(fmt="xml"), "--format 'xml'"),
])
def test_bad_arguments(run_dir, kwargs, match) -> None:
    with pytest.raises(NasError, match=match) as err:
        export(run_dir, **kwargs)
    assert "\n" not in str(err.value)


def test_incomplete_trial_and_missing_weights(run_dir, trained) -> None:
    run = load_run(run_dir)
    t = run.trials
    infeasible = int(t.loc[t["state"] == "INFEASIBLE", "number"].iloc[0])
    with pytest.raises(NasError, match=f"trial {infeasible} is INFEASIBLE .*not COMPLETE"):
        export(run_dir, trial=infeasible)
    bare = t.loc[t["pareto"] & ~t["number"].isin(trained), "number"]
    with pytest.raises(NasError, match=f"no weights for trial {int(bare.iloc[0])}"):
        export(run_dir, trial=int(bare.iloc[0]), weights=True)


def test_empty_run_folder(tmp_path) -> None:
    (tmp_path / "run").mkdir()
    with pytest.raises(NasError, match="is empty"):
        export(tmp_path / "run")
