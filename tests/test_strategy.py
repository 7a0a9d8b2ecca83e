"""score_customers on CDNOW (grading against the simulated company's truth: tests/test_truth.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import crm_models.strategy as strategy
from crm_models.datasets import load_cdnow
from crm_models.strategy import SCORE_COLUMNS, score_customers


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


def test_customers_acquired_at_the_end_are_scored_as_new():
    cd = load_cdnow()
    last = cd["timestamp"].max()
    newcomers = pd.DataFrame({"customer_id": [-1, -2], "timestamp": [last, last], "cds": [1, 1], "amount": [20.0, 30.0]})
    scores = score_customers(pd.concat([cd, newcomers], ignore_index=True))
    assert (scores.loc[[-1, -2], "T"] == 0).all()
    assert (scores.loc[[-1, -2], "p_alive"] == 1).all()
    assert np.isfinite(scores.loc[[-1, -2], "clv"]).all() and (scores.loc[[-1, -2], "clv"] > 0).all()


def test_grading_against_the_truth_left_strategy():
    for name in ("true_contact_effect", "evaluate_policy", "compare_policies", "plot_policy_comparison",
                 "customer_truth", "best_possible_contacts"):
        assert not hasattr(strategy, name), f"{name} belongs in crm_models.truth"
