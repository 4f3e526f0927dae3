"""The report of a tiny *real* search (nas.search.run_search: synthetic data, a proxy run of a
second or two, baselines on): every section has data, consistent with the run's own files."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from nas.report import SECTIONS, compute_report, write_report

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def searched(tmp_path_factory):
    from nas.proxy import DEFAULT_SCHEDULE
    from nas.search import SearchSettings, run_search

    tiny = DEFAULT_SCHEDULE.replace(epochs=2, n_train=16, n_val=8, train_size=(64, 64),
                                    batch_size=8, threads=1)
    out = tmp_path_factory.mktemp("search") / "run"
    # a loose budget: under a tight one most sampled candidates are infeasible (cheap, but
    # each is a stored trial); enough search trials (8) for parameter importance
    s = SearchSettings(name="tiny", out=out, trials=8, time_s=None, baselines=True,
                       budgets=("10GFLOPs",), schedule=tiny, seed=0, data="synthetic:64,16")
    result = run_search(s, quiet=True)
    assert result.status == "finished"
    return s.run_dir


def test_report_of_a_real_search_has_every_section(searched) -> None:
    data = compute_report(searched)
    df = pd.read_parquet(searched / "trials.parquet")
    info = json.loads((searched / "run.json").read_text())
    assert data.sections == SECTIONS
    assert data.summary["budget"] == "10 GFLOPs" and data.summary["input"] == "512x512"
    assert [o.name for o in data.objectives] == ["miou", "flops"]
    assert data.counts.set_index("state").loc["all", "total"] == len(df)
    assert sorted(data.front_table["trial"]) == sorted(df.loc[df["pareto"], "number"])
    assert set(data.members) == set(data.front_table["trial"])
    flops = next(f for f in data.fronts if f.metric == "flops")
    assert flops.budget == pytest.approx(10.0) and len(flops.front)
    assert len(data.hypervolume.by_trial) == int((~df["baseline"]).sum())
    assert data.hypervolume.final > 0 and data.hypervolume.verdict
    n_base = int(df["baseline"].sum())
    assert n_base >= 1 and len(data.baselines) == n_base
    assert data.baselines["baseline"].tolist() == df.loc[df["baseline"], "baseline_name"].tolist()
    assert data.hypervolume.baselines is not None
    imp = data.importance  # computed, or the reason it is not
    assert imp.targets or (imp.reason and "only" in imp.reason)
    assert data.summary["command"] == info["command"]


def test_write_report_on_a_real_search(searched) -> None:
    page = write_report(searched)
    html = page.read_text()
    assert all(f'<section id="{s}"' in html for s in SECTIONS)
    total = sum(p.stat().st_size for p in [page, searched / "report.md", searched / "pareto.png",
                                           *(searched / "diagrams").iterdir()])
    assert total < 2_000_000
    df = pd.read_parquet(searched / "trials.parquet")
    for n in df.loc[df["pareto"], "number"]:
        assert (searched / "diagrams" / f"trial-{n}.svg").is_file()
