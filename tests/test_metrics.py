import itertools

import numpy as np
import pytest

from nas.metrics import hypervolume, pareto_mask


def test_front_of_miou_and_flops():
    # (miou, gflops): maximise, minimise
    v = np.array([[0.5, 2.0], [0.6, 3.0], [0.55, 3.5], [0.4, 1.0], [0.6, 3.0], [np.nan, 0.1]])
    mask = pareto_mask(v, ["maximize", "minimize"])
    assert mask.tolist() == [True, True, False, True, True, False]


def test_front_against_brute_force():
    rng = np.random.default_rng(0)
    v = rng.integers(0, 6, size=(40, 3)).astype(float)
    mask = pareto_mask(v, ["minimize"] * 3)
    for i, p in enumerate(v):
        dominated = any((q <= p).all() and (q < p).any() for q in v)
        assert mask[i] == (not dominated)


def test_hypervolume_2d_by_hand():
    v = np.array([[0.5, 2.0], [0.6, 3.0], [0.4, 1.0]])
    # reference: miou 0, 5 GFLOPs. Strips by FLOPs: [1,2) x 0.4, [2,3) x 0.5, [3,5) x 0.6
    hv = hypervolume(v, ["maximize", "minimize"], [0.0, 5.0])
    assert hv == pytest.approx(0.4 + 0.5 + 2 * 0.6)
    # a point worse than the reference adds nothing; a dominated point adds nothing
    more = np.vstack([v, [[0.9, 6.0], [0.3, 4.0]]])
    assert hypervolume(more, ["maximize", "minimize"], [0.0, 5.0]) == pytest.approx(hv)


def test_hypervolume_3d_against_grid_count():
    rng = np.random.default_rng(1)
    pts = rng.integers(0, 5, size=(8, 3)).astype(float)
    ref = [5.0, 5.0, 5.0]
    count = sum(
        any((p <= np.array(c)).all() for p in pts)
        for c in itertools.product(range(5), repeat=3)
    )  # unit cells [c, c+1) dominated by some point
    assert hypervolume(pts, ["minimize"] * 3, ref) == pytest.approx(count)


def test_bad_direction():
    with pytest.raises(ValueError, match="maximize"):
        pareto_mask(np.zeros((2, 2)), ["max", "minimize"])
