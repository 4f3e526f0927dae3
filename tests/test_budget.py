"""Compute budgets: parsing ``--budget`` strings, constraint values, merging, serialisation."""

from __future__ import annotations

import json
import math

import pytest

from nas.budget import Budget, Limit, parse_budgets
from nas.errors import NasError

HINT = "accepted forms:"


@pytest.mark.parametrize(
    ("text", "metric", "value"),
    [
        ("5GFLOPs", "flops", 5e9),
        ("5 GFLOPs", "flops", 5e9),
        ("500MFLOPs", "flops", 5e8),
        ("5e9FLOPs", "flops", 5e9),
        ("5e9 FLOPs", "flops", 5e9),
        ("5E+9 flops", "flops", 5e9),
        ("1.5TFLOPs", "flops", 1.5e12),
        ("750KFLOPs", "flops", 7.5e5),
        ("750kFLOPs", "flops", 7.5e5),
        ("5gflops", "flops", 5e9),
        ("5 GFLOP", "flops", 5e9),
        ("5 GFLOPS", "flops", 5e9),
        ("123 FLOP", "flops", 123.0),
        ("3.5Mparams", "params", 3.5e6),
        ("3.5M params", "params", 3.5e6),
        ("3500000params", "params", 3.5e6),
        ("800K params", "params", 8e5),
        ("800k params", "params", 8e5),
        ("1.2Gparams", "params", 1.2e9),
        ("2M param", "params", 2e6),
        ("2M Params", "params", 2e6),
        ("30ms", "latency_ms", 30.0),
        ("30 ms", "latency_ms", 30.0),
        ("0.03s", "latency_ms", 30.0),
        ("0.03 s", "latency_ms", 30.0),
        ("250us", "latency_ms", 0.25),
        ("250µs", "latency_ms", 0.25),  # micro sign U+00B5
        ("250μs", "latency_ms", 0.25),  # Greek mu U+03BC
        (".5ms", "latency_ms", 0.5),
        ("  30ms  ", "latency_ms", 30.0),
    ],
)
def test_accepted_forms(text: str, metric: str, value: float) -> None:
    budget = Budget.parse(text)
    assert budget.metrics == (metric,)
    limit = budget.get(metric)
    assert limit is not None and limit.metric == metric
    assert limit.value == value  # exact: scaling is done in decimal, not float
    assert isinstance(limit.value, float)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "empty budget"),
        ("   ", "empty budget"),
        ("\t\n", "empty budget"),
        ("5", "no unit"),
        ("5e9", "no unit"),
        ("GFLOPs", "no number"),
        ("ms", "no number"),
        ("M params", "no number"),
        ("5GB", "unknown unit 'GB'"),
        ("5 furlongs", "unknown unit 'furlongs'"),
        ("5 xFLOPs", "unknown unit 'xFLOPs'"),
        ("30 MS", "unknown unit 'MS'"),
        ("5 GFLOPs extra", "unknown unit"),
        ("0GFLOPs", "> 0"),
        ("0 ms", "> 0"),
        ("-5GFLOPs", "> 0"),
        ("-1 ms", "> 0"),
        ("nan ms", "> 0"),
        ("NaN GFLOPs", "> 0"),
        ("inf GFLOPs", "infinite"),
        ("infinity ms", "infinite"),
        ("1e999999999GFLOPs", "out of range"),
        ("1e-99999999ms", "out of range"),
        ("5GFLOPs, 3GFLOPs", "flops is limited twice (5GFLOPs and 3GFLOPs)"),
        ("30ms; 0.02s", "latency_ms is limited twice"),
        ("1M params and 2M params", "params is limited twice"),
        ("5..3GFLOPs", "malformed number '5..3'"),
        ("1e", "malformed number '1e'"),
        ("1eGFLOPs", "malformed number '1e'"),
        ("1.2.3 ms", "malformed number"),
        ("5mFLOPs", "ambiguous: lowercase m is milli; write M"),
        ("5m params", "ambiguous: lowercase m is milli; write M"),
        ("5M", "ambiguous: say MFLOPs or M params"),
        ("5m", "ambiguous: say MFLOPs or M params"),
        ("5G", "ambiguous"),
        ("5GFLOPs!", "unexpected text '!'"),
        ("30ms)", "unexpected text ')'"),
        ("5GFLOPs\n30ms", "unexpected text"),
        ("5GFLOPs,", "empty item"),
        (", 30ms", "empty item"),
        ("5GFLOPs,,30ms", "empty item"),
    ],
)
def test_rejected_forms(text: str, problem: str) -> None:
    with pytest.raises(NasError) as info:
        Budget.parse(text)
    message = str(info.value)
    assert problem in message
    assert HINT in message and "5GFLOPs" in message and "30ms" in message
    assert repr(text) in message
    assert "\n" not in message


def test_nas_error_is_value_error() -> None:
    with pytest.raises(ValueError):
        Budget.parse("5 furlongs")


def test_non_string_rejected() -> None:
    with pytest.raises(NasError, match="give a string"):
        Budget.parse(5)  # type: ignore[arg-type]


def test_constraint_sign_convention() -> None:
    limit = Limit("flops", 5e9)
    assert limit.constraint(4e9) == pytest.approx(-1e9)  # under budget: feasible
    assert limit.constraint(5e9) == 0.0  # exactly at budget: feasible
    assert limit.constraint(6e9) == pytest.approx(1e9)  # over budget: infeasible
    budget = Budget.parse("5GFLOPs, 30ms")
    assert budget.feasible({"flops": 4e9, "latency_ms": 30.0})
    assert not budget.feasible({"flops": 4e9, "latency_ms": 31.0})
    assert not budget.feasible({"flops": 6e9, "latency_ms": 10.0})
    assert not budget.feasible({"flops": math.nan, "latency_ms": 10.0})


def test_constraints_in_order_and_extra_costs_ignored() -> None:
    budget = Budget.parse("30ms and 5GFLOPs")
    costs = {"latency_ms": 20.0, "flops": 6e9, "params": 1e6}
    assert budget.constraints(costs) == pytest.approx((1e9, -10.0))  # flops first, then latency


def test_missing_cost_is_a_clear_error() -> None:
    budget = Budget.parse("5GFLOPs, 30ms")
    with pytest.raises(NasError, match="no latency_ms measured") as info:
        budget.constraints({"flops": 1e9, "params": 1e6})
    assert "\n" not in str(info.value)
    with pytest.raises(NasError, match="no latency_ms measured"):
        budget.feasible({"flops": 1e9})


def test_empty_budget_is_always_feasible() -> None:
    budget = parse_budgets([])
    assert budget == Budget() and len(budget) == 0 and not budget
    assert budget.constraints({}) == ()
    assert budget.feasible({})
    assert str(budget) == "no limits"


def test_multi_limit_parsing() -> None:
    budget = Budget.parse("5 GFLOPs and 3.5M params; 0.03 s")
    assert budget.metrics == ("flops", "params", "latency_ms")
    assert budget.to_dict() == {"flops": 5e9, "params": 3.5e6, "latency_ms": 30.0}
    assert [lim.metric for lim in budget] == list(budget.metrics)
    assert budget.limits == tuple(budget)
    assert budget.get("params") == Limit("params", 3.5e6)
    assert Budget.parse("5GFLOPs").get("latency_ms") is None
    assert Budget.parse("30ms, 5GFLOPs") == Budget.parse("5GFLOPs AND 30ms")  # canonical order


def test_merge_and_parse_budgets() -> None:
    a, b = Budget.parse("5GFLOPs"), Budget.parse("3.5M params, 30ms")
    merged = a.merge(b)
    assert merged.to_dict() == {"flops": 5e9, "params": 3.5e6, "latency_ms": 30.0}
    assert merged == b.merge(a)
    assert parse_budgets(["5GFLOPs", "3.5M params, 30ms"]) == merged
    assert parse_budgets(iter(["30ms"])) == Budget.parse("30ms")
    assert parse_budgets("30ms") == Budget.parse("30ms")  # a lone string is one option


@pytest.mark.parametrize(
    "texts", [["5GFLOPs", "3GFLOPs"], ["5GFLOPs, 30ms", "20 ms"], ["1M params", "2M params"]]
)
def test_duplicated_metric_across_options_rejected(texts: list[str]) -> None:
    with pytest.raises(NasError, match="limited more than once") as info:
        parse_budgets(texts)
    assert "\n" not in str(info.value)


def test_merge_names_both_limits() -> None:
    with pytest.raises(NasError, match=r"flops .*\(5 GFLOPs and 3 GFLOPs\)"):
        Budget.parse("5GFLOPs").merge(Budget.parse("3GFLOPs"))


def test_parse_budgets_reports_bad_option() -> None:
    with pytest.raises(NasError, match="unknown unit 'GB'"):
        parse_budgets(["5GFLOPs", "5GB"])


@pytest.mark.parametrize(
    ("limit", "text"),
    [
        (Limit("flops", 5e9), "5 GFLOPs"),
        (Limit("flops", 1.5e12), "1.5 TFLOPs"),
        (Limit("flops", 5e8), "500 MFLOPs"),
        (Limit("flops", 7.5e5), "750 KFLOPs"),
        (Limit("flops", 123), "123 FLOPs"),
        (Limit("params", 3.5e6), "3.5M params"),
        (Limit("params", 8e5), "800K params"),
        (Limit("params", 1.2e9), "1.2G params"),
        (Limit("latency_ms", 30), "30 ms"),
        (Limit("latency_ms", 0.25), "0.25 ms"),
    ],
)
def test_limit_str_round_trips(limit: Limit, text: str) -> None:
    assert str(limit) == text
    assert Budget.parse(text).limits == (limit,)


def test_budget_str() -> None:
    budget = Budget.parse("30ms, 5GFLOPs")
    assert str(budget) == "5 GFLOPs, 30 ms"
    assert Budget.parse(str(budget)) == budget


def test_dict_round_trip_through_json() -> None:
    budget = Budget.parse("5GFLOPs, 3.5M params, 250us")
    data = json.loads(json.dumps(budget.to_dict()))
    assert data == {"flops": 5e9, "params": 3.5e6, "latency_ms": 0.25}
    assert Budget.from_dict(data) == budget
    assert Budget.from_dict({}) == Budget()


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"bytes": 5}, "use one of flops, params, latency_ms"),
        ({"flops": 0}, "> 0"),
        ({"flops": -1.0}, "> 0"),
        ({"latency_ms": math.inf}, "> 0"),
        ({"latency_ms": math.nan}, "> 0"),
        ({"flops": "5GFLOPs"}, "give a number"),
        ({"flops": True}, "give a number"),
        (["flops", 5e9], "give a mapping"),
    ],
)
def test_from_dict_rejects_bad_data(data: object, problem: str) -> None:
    with pytest.raises(NasError, match=None) as info:
        Budget.from_dict(data)  # type: ignore[arg-type]
    assert problem in str(info.value)
    assert "\n" not in str(info.value)


def test_limits_are_frozen_and_validated() -> None:
    limit = Limit("flops", 5_000_000_000)
    assert limit.value == 5e9 and isinstance(limit.value, float)
    with pytest.raises(AttributeError):
        limit.value = 1.0  # type: ignore[misc]
    with pytest.raises(NasError, match="not a Limit"):
        Budget(("5GFLOPs",))  # type: ignore[arg-type]
    with pytest.raises(NasError, match="limited more than once"):
        Budget((Limit("params", 1e6), Limit("params", 2e6)))
