"""Tests of crm_models.customize: next best action, budgeted retention targeting, campaign evaluation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crm_models.customize import (
    ACTION_TABLE_COLUMNS,
    default_action_table,
    evaluate_campaign,
    next_best_action,
    score_actions,
    target_retention,
    uplift_capture,
    value_at_risk,
)


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
    assert summary["expected net value (USD)"] == pytest.approx(big.expected_incremental_value - big.spent)
    assert "Retention plan" in big._repr_html_()


def test_retention_with_equal_costs_takes_the_top_value_at_stake():
    s = pd.DataFrame({"clv": [100.0, 300.0, 50.0, 80.0], "p_alive": [0.5, 0.5, 0.5, 1.0]}, index=list("abcd"))
    plan = target_retention(s, budget=4.0, uplift=0.2, cost=2.0)
    assert list(plan.targeted.index) == ["b", "a"]  # 0.2 x 150 = 30, 0.2 x 50 = 10; c brings 5, d (sure to stay) nothing
    assert plan.expected_incremental_value == pytest.approx(40.0) and plan.spent == 4.0


def _simulated_test(n=60_000, seed=11):
    """A randomised campaign with known response rates per segment."""
    rng = np.random.default_rng(seed)
    base = {"a": 0.05, "b": 0.20, "c": 0.10}
    lift = {"a": 0.04, "b": 0.00, "c": 0.10}
    seg = rng.choice(list(base), n)
    treated = rng.random(n) < 0.5
    p = np.array([base[s] for s in seg]) + treated * np.array([lift[s] for s in seg])
    responded = rng.random(n) < p
    revenue = responded * rng.gamma(4.0, 10.0, n)  # mean 40 USD per responder
    return pd.DataFrame({"group": np.where(treated, "treatment", "control"), "segment": seg,
                         "responded": responded, "revenue": revenue}), lift


def test_uplift_intervals_cover_the_truth_on_a_large_simulated_campaign():
    camp, lift = _simulated_test()
    res = evaluate_campaign(camp, segment_col="segment")
    assert list(res.index) == ["a", "b", "c", "all"]
    assert res.attrs["kind"] == "proportion"
    for s, true in lift.items():
        assert res.loc[s, "ci_low"] <= true <= res.loc[s, "ci_high"], s
        assert res.loc[s, "ci_high"] - res.loc[s, "ci_low"] < 0.03
    assert res.loc["c", "p_value"] < 1e-6 and res.loc["b", "p_value"] > 0.001
    assert res["n_treatment"].iloc[:3].sum() == res.loc["all", "n_treatment"]
    boot = evaluate_campaign(camp, segment_col="segment", method="bootstrap", n_boot=1000, seed=5)
    for s, true in lift.items():
        assert boot.loc[s, "ci_low"] <= true <= boot.loc[s, "ci_high"], s
    assert np.allclose(boot["ci_low"], res["ci_low"], atol=0.004)
    again = evaluate_campaign(camp, segment_col="segment", method="bootstrap", n_boot=1000, seed=5)
    pd.testing.assert_frame_equal(boot, again)
    # revenue: difference of means, 40 USD x the response uplift
    rev = evaluate_campaign(camp, outcome_col="revenue", segment_col="segment", method="bootstrap", n_boot=300)
    assert rev.attrs["kind"] == "mean"
    for s, true in lift.items():
        assert rev.loc[s, "ci_low"] <= 40 * true <= rev.loc[s, "ci_high"], s


def test_hand_computed_difference_in_proportions():
    camp = pd.DataFrame({"group": ["treatment"] * 10 + ["control"] * 20,
                         "responded": [1] * 4 + [0] * 6 + [1] * 2 + [0] * 18})
    res = evaluate_campaign(camp, confidence=0.9)
    se = np.sqrt(0.4 * 0.6 / 10 + 0.1 * 0.9 / 20)
    assert res.loc["all", "uplift"] == pytest.approx(0.3)
    assert res.loc["all", "se"] == pytest.approx(se)
    assert res.loc["all", "ci_low"] == pytest.approx(0.3 - 1.6448536 * se, rel=1e-6)


def test_uplift_capture_grades_policies_against_the_truth():
    truth = pd.Series([0.5, 0.1, 0.0, 0.3], index=list("abcd"))
    out = uplift_capture({"best": ["a", "d"], "worst": ["c", "b"], "none": []}, truth,
                         value=pd.Series([10.0, 1.0, 0.0, 5.0], index=list("abcd")))
    assert out.loc["best", "share_of_best"] == pytest.approx(1.0)
    assert out.loc["worst", "true_extra_responses"] == pytest.approx(0.1)
    assert out.loc["worst", "share_of_best"] == pytest.approx(0.1 / 0.8)
    assert out.loc["best", "true_extra_value"] == pytest.approx(15.0)
    assert out.loc["none", "n_targeted"] == 0


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
    with pytest.raises(ValueError, match="'p_alive'"):
        next_best_action(scores.assign(p_alive=[0.5, np.nan, 0.1, 0.2, 0.3, 0.4]))
    with pytest.raises(ValueError, match="probability"):
        target_retention(scores.assign(p_alive=[0.5, 1.2, 0.1, 0.2, 0.3, 0.4]), 10)
    with pytest.raises(ValueError, match="budget"):
        target_retention(scores, -5)
    with pytest.raises(ValueError, match="cost"):
        target_retention(scores, 10, cost=0.0)
    with pytest.raises(ValueError, match="once"):
        target_retention(pd.concat([scores, scores.iloc[[0]]]), 10)
    camp, _ = _simulated_test(n=400)
    with pytest.raises(ValueError, match="'group'"):
        evaluate_campaign(camp.assign(group=camp["group"].replace("control", "holdout")))
    with pytest.raises(ValueError, match="'responded'"):
        evaluate_campaign(camp.assign(responded=camp["responded"].astype(object).where(camp.index != 3, "yes")))
    with pytest.raises(ValueError, match="at least 2"):
        evaluate_campaign(camp.assign(segment=np.where(camp.index == 0, "tiny", "big")), segment_col="segment")
    with pytest.raises(ValueError, match="method"):
        evaluate_campaign(camp, method="bayes")
    with pytest.raises(ValueError, match="without a true uplift"):
        uplift_capture({"p": ["zz"]}, pd.Series([0.1], index=["a"]))


def test_uplift_intervals_cover_the_simulated_companys_true_effect():
    """On a generated company (8,000 people) the test's intervals cover the true mean uplift."""
    from crm_models.datasets import make_crm_world

    camp = make_crm_world(8000, random_state=1).campaign
    res = evaluate_campaign(camp, segment_col="needs_segment")
    truth = camp.groupby("needs_segment")["true_uplift"].mean()
    truth["all"] = camp["true_uplift"].mean()
    covered = (res["ci_low"] <= truth[res.index]) & (truth[res.index] <= res["ci_high"])
    assert covered["all"]
    # five 95% intervals: two or more misses would happen about 2% of the time
    assert covered.drop("all").sum() >= 4
    assert res.loc["all", "ci_high"] - res.loc["all", "ci_low"] < 0.06
