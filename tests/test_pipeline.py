"""CustomerScorer and score_customers on CDNOW (grading against the simulated company's truth: tests/test_truth.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

import crm_models
from crm_models import rfm_summary
from crm_models.base import Summary
from crm_models.clv import BetaGeo, ModifiedBetaGeo, select_model
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
    # the backtest on the log picks MBG/NBD, which beats every naive baseline
    assert isinstance(scorer.transaction_model_, ModifiedBetaGeo)
    assert scorer.backtest_ is not None and len(scorer.backtest_.cutoffs) == 4
    assert select_model(scorer.backtest_).model == "MBG/NBD"
    assert scorer.model_choice_.startswith("MBG/NBD chosen by mae_purchases") and "beats every" in scorer.model_choice_
    assert str(scorer.observation_period_end_.date()) == "1998-06-30"
    # one-time buyers are not surely alive under MBG/NBD: the longer the silence, the lower P(alive)
    once = scores[scores["frequency"] == 0]
    assert once["p_alive"].max() < 0.7
    assert once.sort_values("T")["p_alive"].is_monotonic_decreasing
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
    assert set(scorer.summary().to_frame().index.get_level_values("model")) == {"MBG/NBD", "Gamma-Gamma"}
    assert any(note.startswith("Transaction model: MBG/NBD chosen") for note in scorer.summary().notes)
    back = crm_models.load(scorer.save(tmp_path / "scorer.json"))
    pd.testing.assert_frame_equal(back.transform(cdnow), scorer.transform(cdnow))
    pd.testing.assert_frame_equal(back.backtest_.table, scorer.backtest_.table)
    pd.testing.assert_frame_equal(back.backtest_.reliability, scorer.backtest_.reliability)
    assert back.model_choice_ == scorer.model_choice_ and back.backtest_.holdout == scorer.backtest_.holdout
    doc = (tmp_path / "scorer.json").read_text().replace('"kind"', '"sort"', 1)
    (tmp_path / "bad_backtest.json").write_text(doc)
    with pytest.raises(ModelFileError, match="backtest"):
        CustomerScorer.load(tmp_path / "bad_backtest.json")
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
    # expected purchases over 91 days = 13 weeks of the same MBG/NBD fit, checked against a direct fit
    summary = rfm_summary(cdnow, time_unit="W")
    bgf = ModifiedBetaGeo().fit(summary.loc[summary["T"] > 0, ["frequency", "recency", "T"]])
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
    # MBG/NBD: a customer may drop out right after the first purchase, with probability a / (a + b)
    a, b = score_customers_model(cdnow, newcomers).params_[["a", "b"]]
    np.testing.assert_allclose(scores.loc[[-1, -2], "p_alive"], b / (a + b))
    assert np.isfinite(scores.loc[[-1, -2], "clv"]).all() and (scores.loc[[-1, -2], "clv"] > 0).all()


def test_scoring_after_the_learned_end_is_refused(cdnow):
    with pytest.raises(DataError, match="must not lie after observation_period_end=1997-09-30"):
        CustomerScorer().fit(cdnow, observation_period_end="1997-09-30")
    scorer = CustomerScorer().fit(cdnow, observation_period_end="1997-09-30", after_end="drop")
    with pytest.raises(DataError, match="must not lie after observation_period_end=1997-09-30"):
        scorer.transform(cdnow)
    scores = scorer.transform(cdnow, after_end="drop")
    assert scores["T"].max() == pytest.approx(272 / 7)


def score_customers_model(cdnow, newcomers):
    return CustomerScorer().fit(pd.concat([cdnow, newcomers], ignore_index=True)).transaction_model_


def test_a_named_transaction_model_skips_the_backtest(cdnow):
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scorer = CustomerScorer(transaction_model="BG/NBD").fit(cdnow)
        scores = scorer.transform(cdnow)
    assert isinstance(scorer.transaction_model_, BetaGeo) and scorer.backtest_ is None
    assert "as set by transaction_model='BG/NBD'" in scorer.model_choice_
    # BG/NBD on the whole CDNOW sample (to 1998-06-30) is close to the published calibration fit
    assert scorer.transaction_model_.params_["r"] == pytest.approx(0.2536, abs=0.01)
    # ... and counts every one-time buyer as surely alive, which the decision code warns about
    assert (scores.loc[scores["frequency"] == 0, "p_alive"] == 1).all()
    assert any("BG/NBD's assumption" in str(w.message) for w in caught)
    assert CustomerScorer(transaction_model="Pareto/NBD").fit(cdnow).transaction_model_.params_.index[2] == "s"
    with pytest.raises(ValueError, match="transaction_model must be"):
        CustomerScorer(transaction_model="BGNBD").fit(cdnow)


def test_a_log_that_cannot_be_backtested_falls_back_to_mbg_nbd(cdnow, monkeypatch):
    import crm_models.pipeline as pipeline

    def too_short(*args, **kwargs):
        raise ValueError("the log is too short for a holdout of 7 days")

    monkeypatch.setattr(pipeline, "backtest", too_short)
    scorer = CustomerScorer().fit(cdnow)
    assert isinstance(scorer.transaction_model_, ModifiedBetaGeo) and scorer.backtest_ is None
    assert scorer.model_choice_.startswith("MBG/NBD, the default when the log cannot be backtested (the log is")

