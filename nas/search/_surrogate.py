"""A surrogate of the proxy score: predicts a candidate's mIoU from its ArchConfig, so that a
large pool of repaired children can be ranked before one is trained.

The model is scikit-learn's ``RandomForestRegressor``: it takes the mixed encoding below (one-hot
cells, mixers and FFNs beside widths, depths and strides) with no scaling and no tuning, fits in
a fraction of a second on a few hundred rows, and the spread of its trees gives the uncertainty
the acquisition needs. Rows: one per epoch score of every trained trial (complete or pruned),
with the epoch (as a fraction of the schedule) as a feature, so a pruned trial counts with the
scores it reached; predictions are made at the last epoch.

Encoding, per stage and branch position (4 x 4 slots): present, cell (one-hot hr/mp/af), width,
total depth, modules, paths, the stage's stride (resolution), mixer (one-hot cswin/factorized/
freq), heads, FFN (one-hot mlp/dwmlp/mixcfn) and ratio; plus the stem width, the head's type and
width, and the analytic log-FLOPs and log-params.

The acquisition is the hypervolume gain of the optimistic point (mean + ``kappa`` x tree
spread, at the candidate's exact cost) over the current front of feasible trials.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from nas.arch import ArchConfig
from nas.metrics import hypervolume, pareto_mask

__all__ = ["Surrogate", "encode", "held_out_rank"]

_CELLS = ("hr", "mp", "af")
_MIXERS = ("cswin", "factorized", "freq")
_FFNS = ("mlp", "dwmlp", "mixcfn")
_SLOTS = 4


def encode(arch: ArchConfig, metrics: dict[str, float]) -> np.ndarray:
    """The feature vector of ``arch`` (see the module docstring); ``metrics`` holds its analytic
    ``flops`` and ``params``."""
    f: list[float] = [arch.stem.width, float(arch.head.type == "cls"), arch.head.width,
                      math.log10(max(1.0, metrics["flops"])),
                      math.log10(max(1.0, metrics["params"]))]
    for s in range(_SLOTS):
        st = arch.stages[s] if s < len(arch.stages) else None
        branches = list(st.branches) if st is not None else []
        first = _SLOTS - len(branches)  # the newest branch is the last position
        for b in range(_SLOTS):
            br = branches[b - first] if st is not None and b >= first else None
            if br is None:
                f.extend([0.0] * 17)
                continue
            f.extend([1.0, *(float(br.cell == c) for c in _CELLS), br.width, sum(br.depths),
                      st.modules, br.paths, math.log2(st.stride)])
            m = br.mixer
            f.extend([*(float(m is not None and m.type == t) for t in _MIXERS),
                      float(m.heads) if m is not None else 0.0])
            ffn = br.ffn
            f.extend([*(float(ffn is not None and ffn.type == t) for t in _FFNS),
                      float(ffn.ratio) if ffn is not None else 0.0])
    return np.asarray(f, dtype=float)


class Surrogate:
    """Fit on (encoding, epoch fraction) -> epoch mIoU rows; rank candidates by acquisition."""

    def __init__(self, seed: int, kappa: float = 0.5, n_estimators: int = 100) -> None:
        self.seed, self.kappa, self.n_estimators = seed, kappa, n_estimators
        self.model: Any = None
        self.n_trials = 0

    def fit(self, rows: Sequence[tuple[np.ndarray, Sequence[float | None]]]) -> bool:
        """``rows``: (features, epoch scores) per trained trial. False when too few to fit."""
        from sklearn.ensemble import RandomForestRegressor

        x, y = [], []
        for feats, epochs in rows:
            n = len(epochs)
            for e, score in enumerate(epochs, 1):
                if score is not None and math.isfinite(score):
                    x.append(np.append(feats, e / max(n, 1) if n else 1.0))
                    y.append(score)
        self.n_trials = len(rows)
        if len(rows) < 4 or len(set(y)) < 2:
            self.model = None
            return False
        self.model = RandomForestRegressor(n_estimators=self.n_estimators, min_samples_leaf=2,
                                           max_features=0.5, random_state=self.seed, n_jobs=1)
        self.model.fit(np.asarray(x), np.asarray(y))
        return True

    def predict(self, feats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean and spread over the trees of the predicted final mIoU of each row of ``feats``."""
        x = np.hstack([feats, np.ones((len(feats), 1))])
        per_tree = np.stack([t.predict(x) for t in self.model.estimators_])
        return per_tree.mean(axis=0), per_tree.std(axis=0)

    def acquisition(self, mean: np.ndarray, std: np.ndarray, costs: np.ndarray,
                    front: np.ndarray, directions: Sequence[str], reference: Sequence[float]
                    ) -> np.ndarray:
        """Hypervolume gain of each optimistic candidate ``(mean + kappa*std, *costs)`` over
        ``front`` (rows of objective values); ties (no gain) broken by the optimistic mIoU."""
        base = hypervolume(front, directions, reference) if len(front) else 0.0
        opt = mean + self.kappa * std
        if len(front):
            front = front[pareto_mask(front, directions)]
        gains = np.empty(len(opt))
        for i, (m, c) in enumerate(zip(opt, costs, strict=True)):
            point = np.array([[m, *c]])
            pts = np.vstack([front, point]) if len(front) else point
            gains[i] = hypervolume(pts, directions, reference) - base
        return gains + 1e-6 * opt


def held_out_rank(pairs: Sequence[tuple[float, float]]) -> dict[str, float | int | None]:
    """Kendall tau and Spearman rho of (prediction made before the trial existed, mIoU it
    reached) over the trials that have both."""
    from scipy.stats import kendalltau, spearmanr

    n = len(pairs)
    if n < 3:
        return {"n": n, "kendall_tau": None, "spearman": None}
    pred, actual = np.asarray(pairs, dtype=float).T
    if np.ptp(pred) == 0 or np.ptp(actual) == 0:
        return {"n": n, "kendall_tau": None, "spearman": None}
    return {"n": n, "kendall_tau": float(kendalltau(pred, actual)[0]),
            "spearman": float(spearmanr(pred, actual)[0])}
