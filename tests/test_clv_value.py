"""customer_lifetime_value: units stated and converted exactly; agreement with lifetimes; clear refusals."""

import warnings

import numpy as np
import pandas as pd
import pytest

from crm_models import rfm_summary
from crm_models.clv import (
    BetaGeo,
    BetaGeoBetaBinom,
    GammaGamma,
    ParetoNBD,
    ShiftedBetaGeo,
    customer_lifetime_value,
    simulate_shifted_beta_geo,
)
from crm_models.datasets import load_cdnow, load_donations
from crm_models.errors import NotFittedError

lifetimes = pytest.importorskip("lifetimes")


@pytest.fixture(scope="module")
def days():
    return rfm_summary(load_cdnow(), observation_period_end="1997-09-30", after_end="drop", time_unit="D")


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
    # lifetimes: twelve 30-day months, 1% per 30 days = 1.01 ** (1 / 30) - 1 per day
    ours = customer_lifetime_value(
        bg, gg, days, horizon=(360, "D"), time_unit="D", discount_rate=(1.01 ** (1 / 30) - 1, "D"), step=(30, "D"),
    )
    assert ours.name == "clv" and ours.index.equals(days.index)
    np.testing.assert_allclose(ours.to_numpy(), theirs.to_numpy(), rtol=1e-7)


def test_same_value_whatever_the_data_time_unit(days, weeks, models):
    bg_days, gg = models
    bg_weeks = BetaGeo().fit(weeks)
    assert bg_weeks.params_["alpha"] * 7 == pytest.approx(bg_days.params_["alpha"], rel=1e-5)
    kw = dict(horizon=(12, "M"), discount_rate=(0.1, "Y"))
    a = customer_lifetime_value(bg_days, gg, days, time_unit="D", **kw)
    b = customer_lifetime_value(bg_weeks, gg, weeks, time_unit="W", **kw)
    np.testing.assert_allclose(a.to_numpy(), b.to_numpy(), rtol=1e-5)


def test_annual_rate_is_converted_exactly(days, models):
    bg, gg = models
    annual = customer_lifetime_value(bg, gg, days, horizon=(1, "Y"), time_unit="D", discount_rate=(0.1, "Y"),
                                     step=(1, "M"))
    monthly = customer_lifetime_value(bg, gg, days, horizon=(12, "M"), time_unit="D",
                                      discount_rate=(1.1 ** (1 / 12) - 1, "M"))
    np.testing.assert_allclose(annual.to_numpy(), monthly.to_numpy(), rtol=1e-12)


def test_default_step_is_one_unit_of_the_horizon(days, models):
    bg, gg = models
    kw = dict(time_unit="D", discount_rate=(0.1, "Y"))
    np.testing.assert_array_equal(
        customer_lifetime_value(bg, gg, days, horizon=(12, "M"), **kw).to_numpy(),
        customer_lifetime_value(bg, gg, days, horizon=(12, "M"), step=(1, "M"), **kw).to_numpy(),
    )
    # a horizon that is not a whole number of steps ends with a shorter step
    part = customer_lifetime_value(bg, gg, days, horizon=(10, "W"), step=(3, "W"), **kw)
    full = customer_lifetime_value(bg, gg, days, horizon=(12, "W"), step=(3, "W"), **kw)
    assert (part < full).all()


def test_undiscounted_value_is_spend_times_expected_purchases(days, models):
    bg, gg = models
    clv = customer_lifetime_value(bg, gg, days, horizon=(52, "W"), time_unit="D", discount_rate=(0.0, "Y"))
    expected = gg.expected_spend(days) * bg.expected_purchases(days, 364)
    np.testing.assert_allclose(clv.to_numpy(), expected.to_numpy(), rtol=1e-10)
    half = customer_lifetime_value(bg, 10.0, days, horizon=(52, "W"), time_unit="D", discount_rate=(0.0, "Y"),
                                   margin=0.5)
    np.testing.assert_allclose(half.to_numpy(), 5.0 * bg.expected_purchases(days, 364).to_numpy(), rtol=1e-10)
    series = customer_lifetime_value(bg, gg.expected_spend(days), days, horizon=(52, "W"), time_unit="D",
                                     discount_rate=(0.0, "Y"))
    pd.testing.assert_series_equal(series, clv)


def test_discounting_lowers_value_and_works_for_pareto(days, models):
    _, gg = models
    p = ParetoNBD().fit(days)
    kw = dict(horizon=(12, "M"), time_unit="D")
    low = customer_lifetime_value(p, gg, days, discount_rate=(0.0, "Y"), **kw)
    high = customer_lifetime_value(p, gg, days, discount_rate=(0.3, "Y"), **kw)
    assert (high <= low).all() and (high > 0).all() and np.isfinite(high).all()


def test_units_are_required_and_checked(days, models):
    bg, gg = models
    with pytest.raises(TypeError):
        customer_lifetime_value(bg, gg, days, horizon=(12, "M"), discount_rate=(0.1, "Y"))  # no time_unit
    with pytest.raises(TypeError):
        customer_lifetime_value(bg, gg, days, (12, "M"), time_unit="D", discount_rate=(0.1, "Y"))  # keyword-only
    with pytest.raises(ValueError, match="time_unit must be one of"):
        customer_lifetime_value(bg, gg, days, horizon=(12, "M"), time_unit="fortnight", discount_rate=(0.1, "Y"))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"horizon": 12}, r"horizon must be a \(length, unit\) pair"),
        ({"horizon": (0, "M")}, "horizon: the length must be > 0"),
        ({"horizon": (-1, "M")}, "horizon: the length must be > 0"),
        ({"horizon": (12, "months")}, "horizon's unit must be one of"),
        ({"horizon": (2000, "Y")}, "longer than the 1,000 years"),
        ({"horizon": (float("inf"), "Y")}, "must be finite"),
        ({"horizon": (1000, "Y"), "step": (1, "D")}, r"365,250 discounting steps; at most 10,000"),
        ({"step": (0, "D")}, "step: the length must be > 0"),
        ({"step": 30}, r"step must be a \(length, unit\) pair"),
        ({"discount_rate": 0.1}, r"discount_rate must be a \(rate, unit\) pair"),
        ({"discount_rate": (10, "Y")}, "write 10% as 0.10"),
        ({"discount_rate": (-0.1, "Y")}, r"\[0, 1\)"),
        ({"discount_rate": (0.1, "year")}, "discount_rate's unit must be one of"),
        ({"margin": 0}, r"margin must be .* in \(0, 1\]"),
        ({"margin": 1.5}, r"margin must be"),
        ({"margin": -0.2}, r"margin must be"),
        ({"margin": float("nan")}, r"margin must be"),
        ({"margin": "0.3"}, r"margin must be"),
    ],
)
def test_bad_horizon_rate_step_and_margin_are_refused(days, models, kwargs, match):
    bg, gg = models
    args = {"horizon": (12, "M"), "time_unit": "D", "discount_rate": (0.1, "Y"), **kwargs}
    with pytest.raises(ValueError, match=match):
        customer_lifetime_value(bg, gg, days, **args)


def test_discrete_time_models_are_refused_with_advice(days):
    d = load_donations()
    bgbb = BetaGeoBetaBinom().fit(d, weights_col="n_donors")
    with pytest.raises(TypeError, match=r"needs a continuous-time model .* BetaGeoBetaBinom, which counts time in "
                                        r"whole opportunities: .*expected_purchases\(data, n\)"):
        customer_lifetime_value(bgbb, 10.0, d, horizon=(5, "Y"), time_unit="Y", discount_rate=(0.1, "Y"))
    sbg = ShiftedBetaGeo().fit(simulate_shifted_beta_geo(500, {"alpha": 0.7, "beta": 1.2}, 5))
    with pytest.raises(TypeError, match="discounted_expected_residual_lifetime"):
        customer_lifetime_value(sbg, 10.0, d, horizon=(5, "Y"), time_unit="Y", discount_rate=(0.1, "Y"))


def test_other_bad_models_and_spend(days, models):
    bg, gg = models
    kw = dict(horizon=(1, "M"), time_unit="D", discount_rate=(0.1, "Y"))
    with pytest.raises(TypeError, match="transaction_model must be a fitted BetaGeo"):
        customer_lifetime_value(gg, gg, days, **kw)
    with pytest.raises(NotFittedError):
        customer_lifetime_value(BetaGeo(), gg, days, **kw)
    with pytest.raises(ValueError, match="indexed exactly like data"):
        customer_lifetime_value(bg, gg.expected_spend(days).iloc[::-1], days, **kw)
    with pytest.raises(TypeError, match="spend_model must be"):
        customer_lifetime_value(bg, "10", days, **kw)
    with pytest.raises(ValueError, match="finite number for every customer"):
        customer_lifetime_value(bg, float("inf"), days, **kw)
