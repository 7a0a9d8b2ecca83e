"""CustomerScorer and score_customers on CDNOW (grading against the simulated company's truth: tests/test_truth.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

import crm_models
from crm_models import rfm_summary
from crm_models.base import Summary
from crm_models.clv import BetaGeo
from crm_models.datasets import load_cdnow
from crm_models.errors import DataError, ModelFileError
from crm_models.pipeline import SCORE_COLUMNS, CustomerScorer, score_customers


@pytest.fixture(scope="module")
def cdnow():
    return load_cdnow()


@pytest.fixture(scope="module")
def scorer(cdnow):
    return CustomerScorer().fit(cdnow)


def test_scores_cdnow(cdnow, scorer):
    scores = scorer.transform(cdnow)
    assert list(scores.columns) == SCORE_COLUMNS and len(scores) == 2357
    assert scores.index.name == "customer_id"
    # BG/NBD on the whole CDNOW sample (to 1998-06-30) is close to the published calibration fit
    assert scorer.transaction_model_.params_["r"] == pytest.approx(0.2536, abs=0.01)
    assert str(scorer.observation_period_end_.date()) == "1998-06-30"
    # one-time buyers are alive by BG/NBD's assumption; repeaters who stopped long ago are not
    assert (scores.loc[scores["frequency"] == 0, "p_alive"] == 1).all()
    assert scores["p_alive"].min() < 0.05
    # more recent = higher recency score; every RF combination maps to a segment
    since_last = (scores["T"] - scores["recency"]).groupby(scores["r_score"]).mean()
    assert since_last.is_monotonic_decreasing
    assert scores["rfm_segment"].notna().all()
    # CLV grows with expected purchases for equal spend
    assert np.corrcoef(scores["clv"], scores["expected_purchases"] * scores["expected_spend"])[0, 1] > 0.99
    pd.testing.assert_frame_equal(score_customers(cdnow), scores)


def test_the_scorer_is_an_estimator(cdnow, scorer, tmp_path):
    again = clone(CustomerScorer(horizon=(6, "M"), margin=0.5))
    assert again.get_params()["horizon"] == (6, "M")
    assert isinstance(scorer.summary(), Summary)
    assert set(scorer.summary().to_frame().index.get_level_values("model")) == {"BG/NBD", "Gamma-Gamma"}
    back = crm_models.load(scorer.save(tmp_path / "scorer.json"))
    pd.testing.assert_frame_equal(back.transform(cdnow), scorer.transform(cdnow))
    doc = (tmp_path / "scorer.json").read_text().replace('"observation_period_end": "1998-06-30', '"observation_period_end": "June', 1)
    (tmp_path / "bad.json").write_text(doc)
    with pytest.raises(ModelFileError, match="observation_period_end"):
        CustomerScorer.load(tmp_path / "bad.json")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"horizon": 12}, r"horizon must be a \(length, unit\) pair"),
        ({"horizon": (0, "M")}, "length must be > 0"),
        ({"discount_rate": (1.5, "Y")}, r"\[0, 1\)"),
        ({"discount_rate": 0.1}, r"\(rate, unit\) pair"),
        ({"margin": 0}, "margin"),
        ({"margin": 50}, "margin"),
        ({"cost_to_serve": -1}, "cost_to_serve"),
        ({"purchase_horizon": (91, "days")}, "unit must be one of"),
    ],
)
def test_bad_settings_are_refused_before_any_work(cdnow, kwargs, message):
    with pytest.raises(ValueError, match=message):
        CustomerScorer(**kwargs).fit(cdnow)


def test_bad_data_names_the_column(cdnow):
    with pytest.raises(DataError, match=r"missing column\(s\) \['spend'\]"):
        score_customers(cdnow, monetary_value_col="spend")
    with pytest.raises(DataError, match="at least 20") as err:
        score_customers(cdnow[cdnow["customer_id"] < 100])
    assert err.value.column == "customer_id"


def test_purchase_horizon_changes_only_expected_purchases(cdnow):
    default = score_customers(cdnow)
    quarter = score_customers(cdnow, purchase_horizon=(91, "D"))
    other = [c for c in SCORE_COLUMNS if c != "expected_purchases"]
    pd.testing.assert_frame_equal(quarter[other], default[other])
    # expected purchases over 91 days = 13 weeks of the same BG/NBD fit, checked against a direct fit
    summary = rfm_summary(cdnow, time_unit="W")
    bgf = BetaGeo().fit(summary.loc[summary["T"] > 0, ["frequency", "recency", "T"]])
    seen = summary.index[summary["T"] > 0]
    np.testing.assert_allclose(
        quarter.loc[seen, "expected_purchases"], bgf.expected_purchases(summary.loc[seen], 13.0), rtol=1e-9
    )
    assert (quarter["expected_purchases"] < default["expected_purchases"]).all()  # a quarter < a year


def test_customers_acquired_at_the_end_are_scored_as_new(cdnow):
    last = cdnow["timestamp"].max()
    newcomers = pd.DataFrame({"customer_id": [-1, -2], "timestamp": [last, last], "cds": [1, 1], "amount": [20.0, 30.0]})
    scores = score_customers(pd.concat([cdnow, newcomers], ignore_index=True))
    assert (scores.loc[[-1, -2], "T"] == 0).all()
    assert (scores.loc[[-1, -2], "p_alive"] == 1).all()
    assert np.isfinite(scores.loc[[-1, -2], "clv"]).all() and (scores.loc[[-1, -2], "clv"] > 0).all()


def test_scoring_after_the_learned_end_is_refused(cdnow):
    with pytest.raises(DataError, match="must not lie after observation_period_end=1997-09-30"):
        CustomerScorer().fit(cdnow, observation_period_end="1997-09-30")
    scorer = CustomerScorer().fit(cdnow, observation_period_end="1997-09-30", after_end="drop")
    with pytest.raises(DataError, match="must not lie after observation_period_end=1997-09-30"):
        scorer.transform(cdnow)
    scores = scorer.transform(cdnow, after_end="drop")
    assert scores["T"].max() == pytest.approx(272 / 7)
