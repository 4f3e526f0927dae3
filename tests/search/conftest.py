import pytest

from nas.proxy import DEFAULT_SCHEDULE
from nas.search import SearchSettings

# a proxy run of a second or two: enough to exercise every path of the search
TINY = DEFAULT_SCHEDULE.replace(epochs=2, n_train=16, n_val=8, train_size=(64, 64),
                                batch_size=8, threads=1)


def tiny_settings(tmp_path, **kw) -> SearchSettings:
    base = dict(name="t", out=tmp_path / "run", trials=4, time_s=None, baselines=False,
                budgets=("2GFLOPs",), schedule=TINY, seed=0, data="synthetic:64,16")
    base.update(kw)
    return SearchSettings(**base)


TINY_ARGS = ["--epochs", "2", "--n-train", "16", "--n-val", "8", "--train-size", "64x64",
             "--threads", "1", "--data", "synthetic:64,16", "--budget", "2GFLOPs", "--quiet",
             "--no-baselines", "--no-report"]


@pytest.fixture(scope="session")
def make_settings():
    """``tiny_settings`` itself, for module-scoped fixtures (they cannot use ``tmp_path``)."""
    return tiny_settings


@pytest.fixture
def tiny(tmp_path):
    return lambda **kw: tiny_settings(tmp_path, **kw)


@pytest.fixture
def tiny_args():
    return list(TINY_ARGS)
