"""Retraining chosen members of a finished search with the full schedule (``nas retrain``).

>>> from nas.retrain import retrain_run
>>> table = retrain_run("results/camvid-5g", pareto=True, baselines=True, seeds=(0, 1))
"""

from nas.retrain._retrain import RETRAIN_DIR, RetrainPlan, plan_retrain, retrain_run

__all__ = ["RETRAIN_DIR", "RetrainPlan", "plan_retrain", "retrain_run"]
