import pytest

from nas.cost import Budget
from nas.errors import NasError
from nas.search import SearchSettings, parse_duration, parse_objectives


def test_default_objectives_follow_the_budget():
    assert [o.name for o in parse_objectives(None, Budget.parse("5GFLOPs"))] == ["miou", "flops"]
    assert [o.name for o in parse_objectives(None, Budget.parse("5GFLOPs, 30ms"))] == [
        "miou", "flops", "latency_ms"]  # one name per metric (nas.metrics): latency_ms
    assert [o.name for o in parse_objectives("miou,latency", Budget())] == ["miou", "latency_ms"]
    objs = parse_objectives("params, miou", Budget())
    assert [(o.name, o.direction) for o in objs] == [("miou", "maximize"),
                                                     ("params", "minimize")]


@pytest.mark.parametrize("text, message", [
    ("miou,accuracy", "unknown objective 'accuracy'"),
    ("flops", "must include miou"),
    ("miou,flops,flops", "twice"),
])
def test_bad_objectives(text, message):
    with pytest.raises(NasError, match=message):
        parse_objectives(text, Budget())


@pytest.mark.parametrize("text, seconds", [("30m", 1800), ("1.5h", 5400), ("90s", 90),
                                           ("600", 600), (" 2 min ", 120)])
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "-5m", "0s", "5 days"])
def test_bad_durations(text):
    with pytest.raises(NasError, match="positive duration"):
        parse_duration(text)


@pytest.mark.parametrize("kw, message", [
    (dict(name="../x"), "--name"),
    (dict(trials=0), "--trials"),
    (dict(trials=None, time_s=None), "stopping rule"),
    (dict(strategy="grid"), "--strategy"),
    (dict(workers=0), "--workers"),
    (dict(budgets=("5 bananas",)), "accepted forms"),
])
def test_bad_settings(kw, message):
    with pytest.raises(NasError, match=message):
        SearchSettings(**kw)


def test_storage_defaults(tmp_path):
    s = SearchSettings(name="x", out=tmp_path / "x")
    # a journal file in the run folder (copied to study.db when the run stops)
    assert s.storage_url == f"journal:{(tmp_path / 'x' / 'study.journal').resolve()}"
    assert s.replace(workers=2).storage_url == s.storage_url
    assert s.replace(storage="sqlite:///other.db").storage_url == "sqlite:///other.db"
    assert SearchSettings(name="y").run_dir.as_posix() == "results/y"
