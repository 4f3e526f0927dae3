"""What optuna-dashboard shows of a run's study.db, through its own server and JSON API: the
over-budget candidates of an Optuna strategy are infeasible (their constraint is there and
positive, the way the dashboard's Pareto plot splits "Infeasible Trial" from feasible ones),
never on the front, and the trained ones are feasible."""

from __future__ import annotations

import json
import threading
import urllib.request

import pytest

from nas.search import run_search

optuna_dashboard = pytest.importorskip(
    "optuna_dashboard", reason="optuna-dashboard is not installed (pip install '.[test]')")


def _get(port: int, path: str):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30) as r:
        return json.loads(r.read())


def test_dashboard_shows_over_budget_candidates_as_infeasible(tiny):
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    def width(arch):  # a planted score: no training needed
        return sum(b.width for st in arch.stages for b in st.branches) / 2000

    s = tiny(strategy="nsga2", population=2, trials=3, budgets=("0.6GFLOPs",))
    df = run_search(s, quiet=True, score=width).trials
    bad = set(df.loc[df["state"] == "INFEASIBLE", "number"])
    trained = set(df.loc[df["state"] == "COMPLETE", "number"])
    assert bad and trained

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args):
            pass

    app = optuna_dashboard.wsgi(f"sqlite:///{s.run_dir / 'study.db'}")
    server = make_server("127.0.0.1", 0, app, handler_class=Quiet)  # a free port
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = server.server_address[1]
        (study,) = _get(port, "/api/studies")["study_summaries"]
        detail = _get(port, f"/api/studies/{study['study_id']}")
    finally:
        server.shutdown()
    shown = {t["number"]: t for t in detail["trials"]}
    assert set(shown) == set(df["number"])
    for n in bad:
        assert shown[n]["constraints"] and max(shown[n]["constraints"]) > 0, shown[n]
    for n in trained:
        assert shown[n]["constraints"] and max(shown[n]["constraints"]) <= 0
    front = {t["number"] for t in detail["best_trials"]}
    assert front and not (front & bad)
