"""Latency lookup table: fingerprint, JSON storage, profiling with reuse, prediction, correction and
``nas profile``. No timing is asserted: tables are filled at 64x64 with 2 runs on 1 thread (2
threads on a busy shared machine can be many times slower), or with made-up entries where only
the arithmetic matters."""

from __future__ import annotations

import json
import re
import statistics

import pytest

import nas.cost._latency_table as lt
from nas.arch import load_arch
from nas.cost._fingerprint import device_fingerprint, device_info
from nas.cost._latency_table import (
    Correction,
    Entry,
    LatencyTable,
    profile_units,
)
from nas.cost._predict import predict_latency, unit_sum, unit_sums
from nas.cost._profiling import fit_correction, profile
from nas.errors import NasError
from nas.models import units
from nas.space import load_space

SIZE = (64, 64)
THREADS = 1


def fake_table(archs, size=SIZE) -> LatencyTable:
    """A table whose entries are made up from the units' FLOPs (no timing)."""
    table = LatencyTable.new("cpu", THREADS, size)
    for arch in archs:
        for u in units(arch, size):
            ms = 0.1 + u.cost.flops / 1e8
            table.entries[u.key] = Entry(ms, 0.9 * ms, 1.1 * ms, 3)
    return table


@pytest.fixture(scope="module")
def hrvit_table(tmp_path_factory):
    """hrvit_b1's units at 64x64, really profiled (25 units, 17 unique keys)."""
    path = tmp_path_factory.mktemp("lat") / "t.json"
    table = LatencyTable.new("cpu", THREADS, SIZE, path)
    added = profile_units(units(load_arch("hrvit_b1"), SIZE), table, warmup=1, runs=2)
    return table, added


def test_fingerprint_is_stable_readable_and_depends_on_threads():
    fp = device_fingerprint("cpu", 2)
    assert fp == device_fingerprint("cpu", 2)
    assert fp != device_fingerprint("cpu", 1)
    assert re.fullmatch(r"cpu-[a-z0-9-]+-\d+c-2t-torch[0-9.a-z]+-[0-9a-f]{8}", fp), fp
    assert device_info("cpu", 3)["threads"] == 3
    with pytest.raises(NasError, match="device"):
        device_fingerprint("tpu")
    with pytest.raises(NasError, match="threads"):
        device_fingerprint("cpu", 0)


def test_path_for_layout(tmp_path):
    path = LatencyTable.path_for(tmp_path, "cpu-x-2t-abc", (360, 480))
    assert path == tmp_path / "cpu-x-2t-abc" / "360x480.json"


def test_save_load_round_trip_leaves_no_temp_files(tmp_path):
    table = fake_table([load_arch("afformer_tiny")])
    table.correction = Correction(1.1, 0.5, 2.0, "linear", 7, 0.03, 0.04, "now")
    path = LatencyTable.path_for(tmp_path, table.fingerprint, SIZE)
    assert table.save(path) == path and table.path == path
    back = LatencyTable.load(path)
    assert back.entries == table.entries
    assert back.correction == table.correction
    assert back.meta == table.meta
    assert (back.fingerprint, back.device, back.threads, back.input_size) == (
        device_fingerprint("cpu", THREADS), "cpu", THREADS, SIZE)
    assert [p.name for p in path.parent.iterdir()] == [path.name]
    assert LatencyTable.open(tmp_path, "cpu", THREADS, SIZE).entries == table.entries


def test_interrupted_save_keeps_the_old_file(tmp_path, monkeypatch):
    table = fake_table([load_arch("afformer_tiny")])
    path = table.save(tmp_path / "t.json")
    before = path.read_bytes()
    table.entries["extra"] = Entry(1.0, 1.0, 1.0, 1)

    def dump_then_die(obj, fh, **kw):
        fh.write('{"meta": {"trunc')
        raise KeyboardInterrupt

    monkeypatch.setattr(lt.json, "dump", dump_then_die)
    with pytest.raises(KeyboardInterrupt):
        table.save()
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["t.json"]


def test_load_errors_are_nas_errors(tmp_path):
    with pytest.raises(NasError, match="nas profile"):
        LatencyTable.load(tmp_path / "absent.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(NasError, match="unreadable"):
        LatencyTable.load(bad)
    bad.write_text(json.dumps({"meta": {"format": 99}, "entries": {}}))
    with pytest.raises(NasError, match="format"):
        LatencyTable.load(bad)


def test_profiling_fills_one_entry_per_unique_key_and_reuses(hrvit_table):
    table, added = hrvit_table
    parts = units(load_arch("hrvit_b1"), SIZE)
    keys = {u.key for u in parts}
    assert len(keys) < len(parts)  # repeated cells share a key
    assert added == len(keys) == len(table)
    assert set(table.entries) == keys
    for e in table.entries.values():
        assert 0 < e.q1_ms <= e.median_ms <= e.q3_ms and e.runs == 2
    assert table.path.exists() and len(LatencyTable.load(table.path)) == len(keys)
    assert profile_units(parts, table, warmup=1, runs=2) == 0  # nothing left to measure
    assert len(table) == len(keys)


def test_predict_is_the_sum_of_entries_plus_correction(hrvit_table):
    table, _ = hrvit_table
    arch = load_arch("hrvit_b1")
    parts = units(arch, SIZE)
    total = sum(table[u.key].median_ms for u in parts)
    assert predict_latency(arch, table) == pytest.approx(total)  # no correction fitted yet
    assert unit_sum(arch, table) == (pytest.approx(total), len(parts))
    table.correction = Correction(a=1.2, b=0.5, c=3.0)
    try:
        assert predict_latency(arch, table) == pytest.approx(1.2 * total + 0.5 * len(parts) + 3)
        assert predict_latency(arch, table, corrected=False) == pytest.approx(total)
    finally:
        table.correction = None


def test_missing_units_raise_a_clear_error(hrvit_table):
    table, _ = hrvit_table
    with pytest.raises(NasError, match=r"6 of 6 units .*`nas profile .*extend=True"):
        predict_latency(load_arch("afformer_tiny"), table)
    with pytest.raises(NasError, match="input 64x64, not 128x128"):
        predict_latency(load_arch("hrvit_b1"), table, (128, 128))


def test_extend_measures_missing_units_on_demand(tmp_path):
    arch = load_arch("afformer_tiny")
    table = LatencyTable.new("cpu", THREADS, SIZE, tmp_path / "t.json")
    with pytest.raises(NasError, match="threads"):
        predict_latency(arch, table, extend=True, threads=THREADS + 1, warmup=1, runs=2)
    ms = predict_latency(arch, table, extend=True, device="cpu", threads=THREADS, warmup=1,
                         runs=2)
    assert len(table) == len({u.key for u in units(arch, SIZE)})
    assert ms == pytest.approx(sum(e.median_ms for e in table.entries.values()))
    assert LatencyTable.load(tmp_path / "t.json").entries == table.entries


def test_fit_correction_recovers_a_linear_relation(tmp_path):
    space = load_space("hybrid")
    archs = [space.sample(s) for s in range(8)]
    table = fake_table(archs)
    table.path = tmp_path / "t.json"
    sums = [unit_sum(a, table) for a in archs]
    measured = [1.25 * s + 0.4 * n + 2.0 for s, n in sums]
    corr = fit_correction(table, archs, measured=measured, extend=False)  # auto: picks linear
    assert corr.form == "linear" and corr.n_archs == 8
    assert (corr.a, corr.b, corr.c) == pytest.approx((1.25, 0.4, 2.0), rel=1e-6, abs=1e-6)
    assert corr.rel_rmse == pytest.approx(0, abs=1e-9)
    assert corr.loo_rel_rmse == pytest.approx(0, abs=1e-9)
    assert LatencyTable.load(table.path).correction == corr
    assert predict_latency(archs[0], table) == pytest.approx(measured[0])
    scale = fit_correction(table, archs, measured=[2 * s for s, _ in sums], extend=False)
    assert scale.form in ("scale", "linear") and scale.a == pytest.approx(2.0)
    only = fit_correction(table, archs, measured=[2 * s for s, _ in sums], form="scale",
                          extend=False)
    assert (only.form, only.n_archs, only.b, only.c) == ("scale", 8, 0.0, 0.0)
    assert (only.a, only.rel_rmse, only.loo_rel_rmse) == pytest.approx((2.0, 0, 0), abs=1e-9)
    few = fit_correction(table, archs[:3], measured=[2 * s for s, _ in sums[:3]], extend=False)
    assert (few.form, few.a, few.b, few.c) == ("scale", pytest.approx(2.0), 0.0, 0.0)
    # units of different kinds scaled differently: only the per-kind form recovers it
    many = [space.sample(s) for s in range(16)]
    wide = fake_table(many)
    wide.path = tmp_path / "wide.json"
    by_kind = [unit_sums(a, wide)[0] for a in many]
    factor = {"stem": 3.0, "head": 0.5}
    skewed = [sum(factor.get(k, 1.2) * v for k, v in d.items()) + 1.0 for d in by_kind]
    kinds = fit_correction(wide, many, measured=skewed, extend=False)
    assert kinds.form == "kinds" and kinds.loo_rel_rmse < 1e-6
    assert kinds.kinds["stem"] == pytest.approx(3.0) and kinds.kinds["head"] == pytest.approx(0.5)
    assert kinds.c == pytest.approx(1.0)
    assert predict_latency(many[3], wide) == pytest.approx(skewed[3])
    assert LatencyTable.load(wide.path).correction == kinds
    with pytest.raises(NasError, match="linear needs 5"):
        fit_correction(table, archs[:3], measured=[1.0, 2.0, 3.0], form="linear", extend=False)
    with pytest.raises(NasError, match="3 measurements for 2"):
        fit_correction(table, archs[:2], measured=[1.0, 2.0, 3.0])


def test_fit_correction_prefers_no_correction_when_fits_do_not_generalise():
    space = load_space("hybrid")
    archs = [space.sample(s) for s in range(8)]
    table = fake_table(archs)
    noise = [1.08, 0.93, 1.05, 0.9, 1.1, 0.95, 1.02, 0.97]  # unbiased, unrelated to the sums
    measured = [unit_sum(a, table)[0] * f for a, f in zip(archs, noise)]
    corr = fit_correction(table, archs, measured=measured, extend=False)
    assert (corr.form, corr.a, corr.b, corr.c) == ("none", 1.0, 0.0, 0.0)  # the chosen form
    assert corr.loo_rel_rmse <= 0.1
    forms = {f: fit_correction(table, archs, measured=measured, form=f, extend=False)
             for f in ("none", "scale", "linear")}
    assert corr.loo_rel_rmse == min(c.loo_rel_rmse for c in forms.values())
    assert forms["linear"].loo_rel_rmse > corr.loo_rel_rmse  # the linear fit overfits here


def test_profile_function_writes_and_extends_the_table(tmp_path):
    kw = dict(space=load_space("hybrid"), n=2, seed=0, refs=False, out=tmp_path, runs=2, warmup=1)
    first = profile("cpu", THREADS, SIZE, **kw)
    assert first.path == LatencyTable.path_for(tmp_path, device_fingerprint("cpu", THREADS), SIZE)
    assert first.path.exists() and first.samples == 2 and first.archs == 2
    assert first.added == first.entries == first.units == len(LatencyTable.load(first.path))
    again = profile("cpu", THREADS, SIZE, **kw)
    assert again.added == 0 and again.entries == first.entries
    with pytest.raises(NasError, match="GFLOPs"):
        profile("cpu", THREADS, SIZE, space=kw["space"], n=1, refs=False, out=tmp_path,
                budget_gflops=1e-6)


def test_profile_cli(tmp_path, capsys):
    from nas.cli import app, main

    if "profile" not in {c.name for c in app.registered_commands}:
        pytest.skip("`nas profile` is not registered in nas.cli yet")
    argv = ["profile", "--input", "64x64", "--n", "2", "--runs", "2", "--warmup", "1",
            "--no-refs", "--out", str(tmp_path), "--threads", str(THREADS), "--noise-repeats",
            "0"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    path = LatencyTable.path_for(tmp_path, device_fingerprint("cpu", THREADS), SIZE)
    assert path.exists() and str(path) in out
    n = len(LatencyTable.load(path))
    assert n > 0 and f"{n} entries added" in out
    assert main([*argv, "--noise-repeats", "2"]) == 0
    out = capsys.readouterr().out
    assert "0 entries added" in out
    # the device's repeat noise: the first architecture timed in two fresh processes, stored
    noise = LatencyTable.load(path).meta["noise"]
    assert noise["repeats"] == 2 and len(noise["medians_ms"]) == 2
    assert min(noise["medians_ms"]) > 0 and noise["repeat_spread"] >= 0
    assert len(noise["cpu_ms"]) == 2 and min(noise["cpu_ms"]) > 0
    assert noise["cpu_repeat_spread"] == pytest.approx(
        (max(noise["cpu_ms"]) - min(noise["cpu_ms"])) / statistics.median(noise["cpu_ms"]))
    assert "repeat noise:" in out and "fresh processes" in out
    assert main(["profile", "--input", "64x64", "--n", "-1", "--out", str(tmp_path)]) == 2
    assert main([*argv, "--noise-repeats", "1"]) == 2


def test_a_table_of_another_machine_is_refused_for_prediction_and_profiling(tmp_path):
    arch = load_arch("afformer_tiny")
    table = fake_table([arch])
    here = table.fingerprint
    path = table.save(tmp_path / "t.json")
    data = json.loads(path.read_text())
    data["meta"]["fingerprint"] = other = "cpu-some-other-cpu-8c-1t-torch2.0.0-0badf00d"
    path.write_text(json.dumps(data))
    copied = LatencyTable.load(path)  # reading it is fine (and so is its arithmetic)
    assert unit_sum(arch, copied)[1] == len(units(arch, SIZE))
    message = (rf"latency table {re.escape(str(path))} was measured on fingerprint {other}, this "
               rf"machine is {here}; profile again with nas profile")
    with pytest.raises(NasError, match=message) as err:
        predict_latency(arch, copied)
    assert "\n" not in str(err.value)
    with pytest.raises(NasError, match=message):
        profile_units(units(arch, SIZE), copied, warmup=0, runs=1)
    with pytest.raises(NasError, match=message):
        fit_correction(copied, [arch], extend=False, warmup=0, runs=1)
    assert predict_latency(arch, table) > 0  # this machine's own table
