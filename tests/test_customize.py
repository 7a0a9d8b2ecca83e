"""Tests of crm_models.customize: next best action and budgeted retention targeting."""

from __future__ import annotations

import inspect

import numpy as np
import pandas as pd
import pytest

import crm_models.customize as customize
from crm_models.base import Summary
from crm_models.customize import (
    ACTION_TABLE_COLUMNS,
    RetentionPlan,
    default_action_table,
    next_best_action,
    score_actions,
    target_retention,
    value_at_risk,
)
from crm_models.errors import DataError


@pytest.fixture
def scores():
    return pd.DataFrame({"clv": [200.0, 100.0, 40.0, 5.0, 0.0, 30.0], "p_alive": [0.95, 0.5, 0.1, 0.9, 0.0, 0.85]},
                        index=pd.Index(["loyal", "wavering", "lapsed", "small", "gone", "steady"], name="customer_id"))


def test_expected_value_arithmetic_on_hand_made_rows(scores):
    table = default_action_table(cost_to_serve=10.0)
    assert list(table.columns) == ACTION_TABLE_COLUMNS
    ev = score_actions(scores, table)
    assert list(ev.columns) == list(table.index)
    # cross_sell for the loyal customer: 0.10 x 0.25 x 200 - 1
    assert ev.loc["loyal", "cross_sell"] == pytest.approx(0.10 * 0.25 * 200 - 1.0)
    # retain the wavering one: 0.15 x value at risk (100 x (1 - 0.5)) - 2
    assert ev.loc["wavering", "retain"] == pytest.approx(0.15 * 50 - 2.0)
    # win back the lapsed one: 0.05 x (40 / 0.1) - 4
    assert ev.loc["lapsed", "win_back"] == pytest.approx(0.05 * 400 - 4.0)
    # serve the small one at lower cost: 0.5 x (0.5 x 10) - 0
    assert ev.loc["small", "serve_at_lower_cost"] == pytest.approx(2.5)
    assert np.isnan(ev.loc["loyal", "retain"]) and np.isnan(ev.loc["wavering", "win_back"])  # not eligible
    assert (ev["do_nothing"] == 0).all()

    nba = next_best_action(scores, table)
    assert nba.loc["loyal", "action"] == "cross_sell" and nba.loc["wavering", "action"] == "retain"
    assert nba.loc["lapsed", "action"] == "win_back" and nba.loc["small", "action"] == "serve_at_lower_cost"
    assert nba.loc["gone", "action"] == "serve_at_lower_cost"  # worth nothing: at least serve cheaply
    assert nba.loc["steady", "action"] == "do_nothing"  # a cross-sell would cost more than it brings
    row = nba.loc["wavering"]
    assert row["expected_value"] == pytest.approx(row["p_effect"] * row["value_at_stake"] - row["cost"])
    assert "retain" in row["reason"] and "5.50" in row["reason"]
    assert nba.loc["steady", "reason"].startswith("do_nothing: no other eligible action")
    assert nba.loc["steady", "runner_up"] == "cross_sell"
    assert nba.loc["steady", "runner_up_value"] == pytest.approx(0.1 * 0.25 * 30 - 1)
    assert np.isfinite(nba["expected_value"]).all()
    bare = next_best_action(scores, table, reasons=False)
    pd.testing.assert_frame_equal(bare, nba.drop(columns="reason"))


def test_action_table_is_swappable(scores):
    table = pd.DataFrame({
        "description": ["nothing", "call every valuable customer"],
        "eligible": ["True", "clv >= 50"],
        "p_effect": [0.0, 0.3],
        "value_at_stake": ["0", "clv * p_alive"],
        "cost": [0.0, 5.0],
    }, index=pd.Index(["do_nothing", "call"], name="action"))
    nba = next_best_action(scores, table)
    assert nba.loc["loyal", "action"] == "call"
    assert nba.loc["loyal", "expected_value"] == pytest.approx(0.3 * 200 * 0.95 - 5)
    assert nba.loc["wavering", "expected_value"] == pytest.approx(0.3 * 50 - 5)
    assert (nba.loc[["lapsed", "small", "gone", "steady"], "action"] == "do_nothing").all()
    # ties go to the action listed first: do_nothing
    tie = table.assign(p_effect=[0.0, 0.0], cost=[0.0, 0.0])
    assert (next_best_action(scores, tie)["action"] == "do_nothing").all()


def test_budget_is_never_exceeded_and_the_order_is_greedy():
    rng = np.random.default_rng(7)
    n = 3000
    s = pd.DataFrame({"clv": rng.lognormal(4, 1, n), "p_alive": rng.uniform(0, 1, n),
                      "contact_cost": rng.choice([1.0, 2.5, 7.0], n)}, index=[f"C{i}" for i in range(n)])
    for budget in (0.0, 1.0, 13.5, 250.0, 1e9):
        plan = target_retention(s, budget, uplift=0.1, cost="contact_cost")
        assert plan.spent <= budget + 1e-9
        assert plan.targeted["cost"].sum() == pytest.approx(plan.spent)
        ratio = plan.targeted["value_per_cost"].to_numpy()
        assert (np.diff(ratio) <= 1e-12).all()
        assert plan.expected_incremental_value == pytest.approx(plan.targeted["expected_incremental_value"].sum())
        assert (plan.targeted["expected_incremental_value"] > plan.targeted["cost"]).all()
        # nobody left out could still have been paid for, and would have paid back
        left = plan.candidates.drop(plan.targeted.index)
        assert not (left["cost"] <= budget - plan.spent - 1e-9).any()
    big = target_retention(s, 1e9, uplift=0.1, cost="contact_cost")
    assert big.n_targeted == big.n_candidates
    var = value_at_risk(s)
    assert big.targeted["value_at_stake"].to_numpy() == pytest.approx(var.loc[big.targeted.index, "value_at_risk"])
    assert np.allclose(var["value_at_risk"], s["clv"] * (1 - s["p_alive"]))
    summary = big.summary()
    assert isinstance(summary, Summary)
    numbers = summary.to_frame()["value"]
    assert numbers["expected net value (USD)"] == pytest.approx(big.expected_incremental_value - big.spent)
    assert "Retention plan" in big._repr_html_()


def test_retention_with_equal_costs_takes_the_top_value_at_stake():
    s = pd.DataFrame({"clv": [100.0, 300.0, 50.0, 80.0], "p_alive": [0.5, 0.5, 0.5, 1.0]}, index=list("abcd"))
    plan = target_retention(s, budget=4.0, uplift=0.2, cost=2.0)
    assert list(plan.targeted.index) == ["b", "a"]  # 0.2 x 150 = 30, 0.2 x 50 = 10; c brings 5, d (sure to stay) nothing
    assert plan.expected_incremental_value == pytest.approx(40.0) and plan.spent == 4.0


def test_bad_input_gets_clear_errors(scores):
    with pytest.raises(ValueError, match="p_alive"):
        next_best_action(scores.drop(columns="p_alive"))
    broken = default_action_table()
    broken.loc["retain", "value_at_stake"] = "clv * loyalty"
    with pytest.raises(ValueError, match="'retain' column 'value_at_stake'"):
        next_best_action(scores, broken)
    bad_p = default_action_table()
    bad_p.loc["cross_sell", "p_effect"] = 1.5
    with pytest.raises(ValueError, match="cross_sell.p_effect"):
        next_best_action(scores, bad_p)
    with pytest.raises(ValueError, match="missing column"):
        next_best_action(scores, default_action_table().drop(columns="cost"))
    with pytest.raises(ValueError, match="at least one action eligible"):
        next_best_action(scores, default_action_table().loc[["cross_sell"]])
    with pytest.raises(DataError, match="'p_alive'") as err:
        next_best_action(scores.assign(p_alive=[0.5, np.nan, 0.1, 0.2, 0.3, 0.4]))
    assert err.value.rows.index.tolist() == ["wavering"]
    with pytest.raises(DataError, match="each customer id once") as err:
        next_best_action(pd.concat([scores, scores.iloc[[0]]]))
    assert err.value.rows.index.tolist() == ["loyal", "loyal"]
    with pytest.raises(DataError, match="probability") as err:
        target_retention(scores.assign(p_alive=[0.5, 1.2, 0.1, 0.2, 0.3, 0.4]), 10)
    assert err.value.column == "p_alive" and err.value.rows.index.tolist() == ["wavering"]
    with pytest.raises(ValueError, match="budget"):
        target_retention(scores, -5)
    with pytest.raises(ValueError, match="budget"):
        target_retention(scores, True)
    with pytest.raises(ValueError, match="cost must be > 0"):
        target_retention(scores, 10, cost=0.0)
    with pytest.raises(DataError, match="'free' must be > 0") as err:
        target_retention(scores.assign(free=[1.0, 0.0, 1.0, 1.0, 1.0, 1.0]), 10, cost="free")
    assert err.value.rows.index.tolist() == ["wavering"]
    with pytest.raises(DataError, match="'lift' must be a probability") as err:
        target_retention(scores.assign(lift=[0.1, 0.1, 2.0, 0.1, 0.1, 0.1]), 10, uplift="lift")
    assert err.value.rows.index.tolist() == ["lapsed"]
    with pytest.raises(ValueError, match="uplift"):
        target_retention(scores, 10, uplift=-0.1)
    with pytest.raises(DataError, match="once"):
        target_retention(pd.concat([scores, scores.iloc[[0]]]), 10)
    with pytest.raises(ValueError, match="min_alive"):
        value_at_risk(scores, min_alive=0)


def test_retention_plan_summary_holds_the_plan_numbers():
    s = pd.DataFrame({"clv": [100.0, 300.0, 50.0, 80.0], "p_alive": [0.5, 0.5, 0.5, 1.0]}, index=list("abcd"))
    plan = target_retention(s, budget=5.0, uplift=0.2, cost=2.0)
    assert isinstance(plan, RetentionPlan) and plan.n_targeted == 2
    summary = plan.summary()
    assert summary.stats == {"customers targeted": 2, "candidates": 3}
    numbers = summary.to_frame()["value"]
    assert numbers.to_dict() == pytest.approx({
        "budget (USD)": 5.0, "spent (USD)": 4.0, "expected incremental value (USD)": 40.0,
        "expected net value (USD)": 36.0, "return per dollar": 10.0,
    })
    assert summary.notes == [plan.rule]
    assert "customers targeted" in repr(plan) and "<table" in plan._repr_html_()
    nothing = target_retention(s, budget=1.0, uplift=0.2, cost=2.0).summary().to_frame()["value"]
    assert nothing["spent (USD)"] == 0 and np.isnan(nothing["return per dollar"])


def test_retention_reads_the_named_columns():
    s = pd.DataFrame({"value": [100.0, 300.0], "alive": [0.5, 0.5]}, index=["a", "b"])
    plan = target_retention(s, budget=2.0, uplift=0.2, cost=2.0, clv_col="value", p_alive_col="alive")
    assert list(plan.targeted.index) == ["b"] and "value x (1 - alive)" in plan.rule
    var = value_at_risk(s, clv_col="value", p_alive_col="alive")
    assert var["value_at_risk"].tolist() == [50.0, 150.0]


def test_public_signatures_follow_the_vocabulary():
    from crm_models.vocabulary import COLUMNS, RETIRED

    for name in customize.__all__:
        obj = getattr(customize, name)
        if not callable(obj):
            continue
        for param in inspect.signature(obj).parameters:
            assert param not in RETIRED, f"{name}({param}): use {RETIRED[param]}"
            assert not param.endswith("_col") or param in COLUMNS, f"{name}({param}) is not in the vocabulary"
