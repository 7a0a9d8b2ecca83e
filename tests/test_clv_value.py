"""customer_lifetime_value: units stated and converted exactly; agreement with lifetimes."""

import warnings

import numpy as np
import pandas as pd
import pytest

from crm_models import rfm_summary
from crm_models.clv import BetaGeo, GammaGamma, ParetoNBD, customer_lifetime_value, unit_days
from crm_models.datasets import load_cdnow

lifetimes = pytest.importorskip("lifetimes")


@pytest.fixture(scope="module")
def days():
    return rfm_summary(
        load_cdnow(), "customer_id", "timestamp", "amount", observation_period_end="1997-09-30", after_end="drop",
        time_unit="D",
    )


@pytest.fixture(scope="module")
def weeks(days):
    return days.assign(recency=days["recency"] / 7, T=days["T"] / 7)


@pytest.fixture(scope="module")
def models(days):
    return BetaGeo().fit(days), GammaGamma().fit(days)


def test_matches_lifetimes_when_given_its_30_day_month(days, models):
    bg, gg = models
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lbg = lifetimes.BetaGeoFitter().fit(days["frequency"], days["recency"], days["T"])
        rep = days[days["frequency"] > 0]
        lgg = lifetimes.GammaGammaFitter().fit(rep["frequency"], rep["monetary_value"])
    lbg.params_ = pd.Series(bg.params_.to_numpy(), index=lbg.params_.index)
    lgg.params_ = pd.Series(gg.params_.to_numpy(), index=lgg.params_.index)
    theirs = lgg.customer_lifetime_value(
        lbg, days["frequency"], days["recency"], days["T"], days["monetary_value"], time=12, discount_rate=0.01,
        freq="D",
    )
    ours = customer_lifetime_value(
        bg, gg, days, 360, horizon_unit="D", time_unit="D", discount_rate=0.01, discount_rate_unit="30D",
        step_unit="30D",
    )
    assert ours.name == "clv" and ours.index.equals(days.index)
    np.testing.assert_allclose(ours.to_numpy(), theirs.to_numpy(), rtol=1e-7)


def test_same_value_whatever_the_data_time_unit(days, weeks, models):
    bg_days, gg = models
    bg_weeks = BetaGeo().fit(weeks)
    assert bg_weeks.params_["alpha"] * 7 == pytest.approx(bg_days.params_["alpha"], rel=1e-5)
    kw = dict(horizon_unit="M", discount_rate=0.1, discount_rate_unit="Y")
    a = customer_lifetime_value(bg_days, gg, days, 12, time_unit="D", **kw)
    b = customer_lifetime_value(bg_weeks, gg, weeks, 12, time_unit="W", **kw)
    np.testing.assert_allclose(a.to_numpy(), b.to_numpy(), rtol=1e-5)


def test_annual_rate_is_converted_exactly(days, models):
    bg, gg = models
    annual = customer_lifetime_value(bg, gg, days, 1, horizon_unit="Y", time_unit="D", discount_rate=0.1,
                                     discount_rate_unit="Y", step_unit="M")
    monthly = customer_lifetime_value(bg, gg, days, 12, horizon_unit="M", time_unit="D",
                                      discount_rate=1.1 ** (1 / 12) - 1, discount_rate_unit="M")
    np.testing.assert_allclose(annual.to_numpy(), monthly.to_numpy(), rtol=1e-12)


def test_undiscounted_value_is_spend_times_expected_purchases(days, models):
    bg, gg = models
    clv = customer_lifetime_value(bg, gg, days, 52, horizon_unit="W", time_unit="D", discount_rate=0.0,
                                  discount_rate_unit="Y")
    expected = gg.expected_spend(days) * bg.expected_purchases(days, 364)
    np.testing.assert_allclose(clv.to_numpy(), expected.to_numpy(), rtol=1e-10)
    half = customer_lifetime_value(bg, 10.0, days, 52, horizon_unit="W", time_unit="D", discount_rate=0.0,
                                   discount_rate_unit="Y", margin=0.5)
    np.testing.assert_allclose(half.to_numpy(), 5.0 * bg.expected_purchases(days, 364).to_numpy(), rtol=1e-10)


def test_discounting_lowers_value_and_works_for_pareto(days, models):
    _, gg = models
    p = ParetoNBD().fit(days)
    kw = dict(horizon_unit="M", time_unit="D", discount_rate_unit="Y")
    low = customer_lifetime_value(p, gg, days, 12, discount_rate=0.0, **kw)
    high = customer_lifetime_value(p, gg, days, 12, discount_rate=0.3, **kw)
    assert (high <= low).all() and (high > 0).all() and np.isfinite(high).all()


def test_units_are_required_and_checked(days, models):
    bg, gg = models
    with pytest.raises(TypeError):
        customer_lifetime_value(bg, gg, days, 12, discount_rate=0.1)  # units may not be assumed
    with pytest.raises(ValueError, match="time_unit='fortnight' is not a time unit"):
        customer_lifetime_value(bg, gg, days, 12, horizon_unit="M", time_unit="fortnight", discount_rate=0.1,
                                discount_rate_unit="Y")
    with pytest.raises(ValueError, match="horizon must be positive"):
        customer_lifetime_value(bg, gg, days, 0, horizon_unit="M", time_unit="D", discount_rate=0.1,
                                discount_rate_unit="Y")
    with pytest.raises(TypeError, match="transaction_model"):
        customer_lifetime_value(gg, gg, days, 1, horizon_unit="M", time_unit="D", discount_rate=0.1,
                                discount_rate_unit="Y")
    assert unit_days("M") == pytest.approx(365.25 / 12) and unit_days("30D") == 30 and unit_days("week") == 7
