"""score_customers on CDNOW and evaluate_policy against the simulated company's truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crm_models.datasets import load_cdnow, load_crm_world
from crm_models.strategy import SCORE_COLUMNS, evaluate_policy, score_customers, true_contact_effect


@pytest.fixture(scope="module")
def world():
    return load_crm_world()


@pytest.fixture(scope="module")
def perfect_crosswalk(world):
    """Identification by the truth: one customer per real person."""
    return world.record_truth[["record_id", "person_id"]].rename(columns={"person_id": "customer_id"})


def test_score_customers_cdnow():
    scores, info = score_customers(load_cdnow(), return_models=True)
    assert list(scores.columns) == SCORE_COLUMNS and len(scores) == 2357
    assert scores.index.name == "customer_id"
    # BG/NBD on the whole CDNOW sample (to 1998-06-30) is close to the published calibration fit
    assert info["BG/NBD"]["r"] == pytest.approx(0.2536, abs=0.01)
    assert info["observation_end"] == "1998-06-30"
    # one-time buyers are alive by BG/NBD's assumption; repeaters who stopped long ago are not
    assert (scores.loc[scores["frequency"] == 0, "p_alive"] == 1).all()
    assert scores["p_alive"].min() < 0.05
    # more recent = higher recency score; every RF combination maps to a segment
    since_last = (scores["T"] - scores["recency"]).groupby(scores["r_score"]).mean()
    assert since_last.is_monotonic_decreasing
    assert scores["rfm_segment"].notna().all()
    # CLV grows with expected purchases for equal spend
    assert np.corrcoef(scores["clv"], scores["expected_purchases"] * scores["expected_spend"])[0, 1] > 0.99


def test_score_customers_bad_arguments():
    cd = load_cdnow()
    with pytest.raises(ValueError, match="horizon_months"):
        score_customers(cd, horizon_months=0)
    with pytest.raises(ValueError, match="annual_discount_rate"):
        score_customers(cd, annual_discount_rate=1.5)
    with pytest.raises(ValueError, match="margin"):
        score_customers(cd, margin=0)
    with pytest.raises(ValueError, match=r"missing column\(s\) \['spend'\]"):
        score_customers(cd, amount_col="spend")


def test_purchase_horizon_days_changes_only_expected_purchases():
    cd = load_cdnow()
    default = score_customers(cd)
    quarter = score_customers(cd, purchase_horizon_days=91)
    # the same fit: every column but expected_purchases is unchanged (CLV and actions keep horizon_months)
    other = [c for c in SCORE_COLUMNS if c != "expected_purchases"]
    pd.testing.assert_frame_equal(quarter[other], default[other])
    # expected purchases over 91 days = 13 weeks of the same BG/NBD fit, checked against a direct fit
    from crm_models import rfm_summary
    from crm_models.clv.beta_geo import BetaGeo

    summary = rfm_summary(cd, "customer_id", "timestamp", "amount", time_unit="W")
    bgf = BetaGeo().fit(summary.loc[summary["T"] > 0, ["frequency", "recency", "T"]])
    seen = summary.index[summary["T"] > 0]
    np.testing.assert_allclose(
        quarter.loc[seen, "expected_purchases"], bgf.expected_purchases(summary.loc[seen], 13.0), rtol=1e-9
    )
    assert (quarter["expected_purchases"] < default["expected_purchases"]).all()  # a quarter < a year
    for bad in (0, -7, float("nan"), "91"):
        with pytest.raises(ValueError, match="purchase_horizon_days"):
            score_customers(cd, purchase_horizon_days=bad)


def test_true_contact_effect(world):
    eff = true_contact_effect(world)
    assert len(eff) == len(world.people)
    assert (eff.loc[~eff["alive_at_end"], "uplift"] == 0).all()
    assert eff["uplift"].between(0, world.config["campaign"]["max_uplift"]).all()
    # agrees with the campaign's own truth for people alive at the campaign and at the end
    camp = world.campaign.set_index("person_id")
    both = camp.index[camp["alive_at_sent"]].intersection(eff.index[eff["alive_at_end"]])
    np.testing.assert_allclose(eff.loc[both, "extra_revenue"], camp.loc[both, "true_revenue_uplift"], rtol=1e-9)


def test_evaluate_policy_do_nothing_vs_everyone(world, perfect_crosswalk):
    nothing = evaluate_policy(world, perfect_crosswalk, [], name="nothing")
    assert nothing["cost"] == 0 and nothing["extra_purchases"] == 0 and nothing["expected_value_created"] == 0
    assert nothing["holdout_revenue"] == pytest.approx(world.future_transactions["amount"].sum())
    everyone = evaluate_policy(world, perfect_crosswalk, perfect_crosswalk["customer_id"].unique(), name="all")
    assert everyone["contacts"] == everyone["persons_reached"] == len(world.people)
    assert everyone["cost"] == pytest.approx(len(world.people) * world.config["campaign"]["cost_per_contact"])
    assert everyone["expected_extra_revenue"] == pytest.approx(true_contact_effect(world)["extra_revenue"].sum())
    assert everyone["lost"] < nothing["lost"] and everyone["retention_rate"] > nothing["retention_rate"]


def test_evaluate_policy_common_random_numbers(world, perfect_crosswalk):
    eff = true_contact_effect(world)
    best = eff.sort_values("extra_revenue", ascending=False).index
    small = evaluate_policy(world, perfect_crosswalk, best[:300])
    large = evaluate_policy(world, perfect_crosswalk, best[:900])
    assert small["extra_purchases"] <= large["extra_purchases"]
    # best-first targeting of a few beats contacting everyone at 30% margin
    everyone = evaluate_policy(world, perfect_crosswalk, perfect_crosswalk["customer_id"].unique())
    assert small["expected_value_created"] > 0 > everyone["expected_value_created"]


def test_duplicates_cost_twice(world, perfect_crosswalk):
    sizes = perfect_crosswalk["customer_id"].value_counts()
    person = sizes.index[sizes >= 2][0]
    cw = perfect_crosswalk.copy()
    rows = cw.index[cw["customer_id"] == person]
    cw.loc[rows, "customer_id"] = ["A"] + ["B"] * (len(rows) - 1)  # one person seen as two customers
    res = evaluate_policy(world, cw, ["A", "B"])
    assert res["contacts"] == 2 and res["persons_reached"] == 1
    assert res["cost"] == 2 * world.config["campaign"]["cost_per_contact"]


def test_evaluate_policy_bad_input(world, perfect_crosswalk):
    with pytest.raises(ValueError, match="not customers of the crosswalk"):
        evaluate_policy(world, perfect_crosswalk, ["nobody"])
    with pytest.raises(ValueError, match="margin"):
        evaluate_policy(world, perfect_crosswalk, [], margin=2)
    with pytest.raises(ValueError, match=r"missing column\(s\) \['customer_id'\]"):
        evaluate_policy(world, perfect_crosswalk.rename(columns={"customer_id": "cid"}), [])


def test_customers_acquired_at_the_end_are_scored_as_new():
    cd = load_cdnow()
    last = cd["timestamp"].max()
    newcomers = pd.DataFrame({"customer_id": [-1, -2], "timestamp": [last, last], "cds": [1, 1], "amount": [20.0, 30.0]})
    scores = score_customers(pd.concat([cd, newcomers], ignore_index=True))
    assert (scores.loc[[-1, -2], "T"] == 0).all()
    assert (scores.loc[[-1, -2], "p_alive"] == 1).all()
    assert np.isfinite(scores.loc[[-1, -2], "clv"]).all() and (scores.loc[[-1, -2], "clv"] > 0).all()


def test_customer_truth_and_best_possible(world, perfect_crosswalk):
    from crm_models.strategy import best_possible_contacts, customer_truth

    truth = customer_truth(world, perfect_crosswalk)
    assert len(truth) == len(world.people) and (truth.index == truth["person_id"]).all()
    fut = world.future.set_index("person_id")
    assert (truth["alive_at_end"] == fut.loc[truth.index, "alive_at_end"]).all()
    assert truth["holdout_spend"].sum() == pytest.approx(world.future_transactions["amount"].sum())
    assert (truth["holdout_purchases"] <= fut.loc[truth.index, "n_purchases"]).all()  # days <= purchases
    best = best_possible_contacts(world, perfect_crosswalk, 100)
    effect = true_contact_effect(world)["extra_revenue"]
    assert len(best) == 100 and effect.loc[best].min() >= effect.drop(best).max()


def test_compare_policies_and_plot(world, perfect_crosswalk):
    import matplotlib

    matplotlib.use("Agg")
    from crm_models.strategy import compare_policies, plot_policy_comparison

    table = compare_policies(world, perfect_crosswalk, {"none": [], "some": perfect_crosswalk["customer_id"].iloc[:50]})
    assert list(table.index) == ["none", "some"] and table.loc["none", "cost"] == 0
    axes = plot_policy_comparison(table)
    assert len(axes[0].patches) == 2
    with pytest.raises(ValueError, match="policies is empty"):
        compare_policies(world, perfect_crosswalk, {})
