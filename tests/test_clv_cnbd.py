"""BG/CNBD-k and MBG/CNBD-k: BTYDplus's printed test values, the k = 1 nesting on CDNOW, recovery, errors."""

import numpy as np
import pandas as pd
import pytest
from scipy.special import gammaln

from crm_models import calibration_holdout_split, rfm_summary
from crm_models.clv import (
    BetaGeo,
    BetaGeoCNBD,
    GammaGamma,
    ModifiedBetaGeo,
    ModifiedBetaGeoCNBD,
    compare_models,
    customer_lifetime_value,
    simulate_beta_geo_cnbd,
    simulate_beta_geo_cnbd_log,
)
from crm_models.datasets import load_cdnow
from crm_models.errors import DataError

BTYDPLUS = {"k": 3, "r": 0.85, "alpha": 1.45, "a": 0.79, "b": 2.42}  # test-mbg-cnbd-k.R / test-bg-cnbd-k.R


@pytest.fixture(scope="module")
def cdnow():
    return rfm_summary(load_cdnow(), observation_period_end="1997-09-30", after_end="drop",
                       include_log_interpurchase=True)


def at_params(cls, k, **params):
    m = cls(k=k)
    m.k_ = k
    m.params_ = pd.Series(params, dtype=float)
    return m


@pytest.mark.parametrize("cls,expected", [(BetaGeoCNBD, [-10.42500, -12.22396]),
                                          (ModifiedBetaGeoCNBD, [-10.53937, -12.30963])])
def test_log_likelihood_matches_btydplus(cls, expected):
    """BTYDplus src: xbgcnbd_ll_cpp(c(3, 0.5, 2, 0.3, 0.6), x = c(3, 4), t.x = 12, T.cal = 14, litt = 3)
    == c(-10.42500, -12.22396) (BG). The MBG values are the same formula with dropout_at_zero."""
    m = cls(k=3)
    x, t_x, T = np.array([3.0, 4.0]), np.array([12.0, 12.0]), np.array([14.0, 14.0])
    arrays = m._make_arrays(x, t_x, T)
    arrays["k"], arrays["const"] = 3, 0.0
    got = []
    for i in range(2):
        w = np.eye(2)[i]
        value, _ = m._neg_log_likelihood(np.log([0.5, 2.0, 0.3, 0.6]), arrays, w)
        got.append(round(-value + (3 - 1) * 3.0 - x[i] * gammaln(3), 5))
    if cls is BetaGeoCNBD:
        assert got == expected
    else:
        assert got == pytest.approx(expected, abs=1e-5)


@pytest.mark.parametrize("cls,expected", [(BetaGeoCNBD, 0.05669), (ModifiedBetaGeoCNBD, 0.04548)])
def test_pmf_matches_btydplus(cls, expected):
    """BTYDplus src: xbgcnbd_pmf_cpp(c(3, 0.5, 2, 0.3, 0.6), t = 10, x = 2) == 0.05669 (BG), 0.04548 (MBG);
    the pmf sums to 1 and the expectation is sum_i i pmf(i)."""
    m = at_params(cls, 3, r=0.5, alpha=2.0, a=0.3, b=0.6)
    assert round(float(m.probability_of_n_purchases(10, [2]).iloc[0]), 5) == expected
    pmf = m.probability_of_n_purchases(10, np.arange(1001)).to_numpy()
    assert pmf.sum() == pytest.approx(1.0, abs=1e-10)
    assert m.expected_purchases_new_customer(10).iloc[0] == pytest.approx((np.arange(1001) * pmf).sum(), rel=1e-9)
    assert m.probability_of_n_purchases(0, [0, 1]).tolist() == [1.0, 0.0]


@pytest.mark.parametrize("cls,plain", [(BetaGeoCNBD, BetaGeo), (ModifiedBetaGeoCNBD, ModifiedBetaGeo)])
def test_k_one_is_the_bg_nbd_on_cdnow(cdnow, cls, plain):
    """CDNOW buyers are not regular: k = 1 wins and the fit is BG/NBD's (FHL 2005: 0.243, 4.414, 0.793,
    2.426, LL -9582.43) or MBG/NBD's (BTYDplus/lifetimes: 0.525, 6.183, 0.891, 1.614)."""
    m = cls().fit(cdnow)
    ref = plain().fit(cdnow)
    assert m.k_ == 1
    assert list(m.log_likelihoods_by_k_.index) == [1, 2, 3]  # the search stopped after two falls
    assert m.log_likelihoods_by_k_.is_monotonic_decreasing
    assert m.params_.round(3).to_dict() == ref.params_.round(3).to_dict()
    assert m.log_likelihood_ == pytest.approx(ref.log_likelihood_, abs=1e-3)
    assert m.n_params_ == 5 and m.aic_ == pytest.approx(ref.aic_ + 2, abs=1e-2)
    np.testing.assert_allclose(m.expected_purchases(cdnow, 39), ref.expected_purchases(cdnow, 39), atol=1e-5)
    np.testing.assert_allclose(m.probability_alive(cdnow), ref.probability_alive(cdnow), atol=1e-6)
    np.testing.assert_allclose(m.expected_purchases_new_customer([10, 39]),
                               ref.expected_purchases_new_customer([10, 39]), atol=1e-6)
    np.testing.assert_allclose(m.probability_of_n_purchases(39, [0, 1, 5]),
                               ref.probability_of_n_purchases(39, [0, 1, 5]), atol=1e-6)


def test_gradient_is_exact(cdnow):
    for cls in (BetaGeoCNBD, ModifiedBetaGeoCNBD):
        m = cls(k=4)
        arrays = m._make_arrays(*(cdnow[c].to_numpy(float) for c in ("frequency", "recency", "T")))
        arrays["k"], arrays["const"] = 4, 0.0
        w = np.random.default_rng(0).uniform(0.5, 2.0, len(cdnow))
        z = np.log([0.7, 3.0, 0.6, 2.5])
        _, grad = m._neg_log_likelihood(z, arrays, w)
        h = 1e-6
        num = [(m._neg_log_likelihood(z + h * e, arrays, w)[0] - m._neg_log_likelihood(z - h * e, arrays, w)[0])
               / (2 * h) for e in np.eye(4)]
        np.testing.assert_allclose(grad, num, rtol=1e-6)


@pytest.mark.parametrize("cls,modified", [(BetaGeoCNBD, False), (ModifiedBetaGeoCNBD, True)])
def test_recovers_btydplus_test_parameters(cls, modified):
    """BTYDplus's tests simulate k = 3, r = 0.85, alpha = 1.45, a = 0.79, b = 2.42 and expect k found
    and the parameters within 10%; here each estimate is within 3 standard errors too."""
    rng = np.random.default_rng(1)
    T = np.round(rng.uniform(36, 96, 8000) / 12) * 12
    sim = simulate_beta_geo_cnbd(8000, BTYDPLUS, T=T, modified=modified, latent=True, random_state=rng)
    m = cls().fit(sim)
    assert m.k_ == 3
    truth = pd.Series({k: v for k, v in BTYDPLUS.items() if k != "k"})
    assert ((m.params_ - truth).abs() < 3 * m.standard_errors_).all()
    assert ((m.params_ / truth - 1).abs() < 0.1).all()
    assert m.probability_alive(sim).sum() == pytest.approx(sim["alive"].sum(), rel=0.05)


def test_holdout_forecast_and_palive_from_a_dated_log():
    """From a simulated log of regular buyers: litt from rfm_summary, k found, the holdout total within 5%."""
    truth = {"k": 2, "r": 1.5, "alpha": 6.0, "a": 0.6, "b": 4.0}
    log = simulate_beta_geo_cnbd_log(6000, truth, "2024-01-01", "2024-03-31", "2025-06-30", random_state=3)
    split = calibration_holdout_split(log, calibration_period_end="2024-12-31", observation_period_end="2025-06-30",
                                      monetary_value_col=None, include_log_interpurchase=True)
    cal = split.rename(columns=lambda c: c.removesuffix("_cal"))
    m = BetaGeoCNBD().fit(cal)
    assert m.k_ == 2
    predicted = m.expected_purchases(cal, float(split["duration_holdout"].iloc[0])).sum()
    assert predicted == pytest.approx(split["frequency_holdout"].sum(), rel=0.05)
    table = compare_models({"BG/NBD": BetaGeo().fit(cal), "BG/CNBD-k": m}, split)
    assert table.loc["BG/CNBD-k", "n_params"] == 5 and table.loc["BG/NBD", "n_params"] == 4
    assert table.loc["BG/CNBD-k", "aic"] < table.loc["BG/NBD", "aic"]
    assert table.loc["BG/CNBD-k", "holdout_mae"] < table.loc["BG/NBD", "holdout_mae"]


def test_fixed_k_and_clv(cdnow):
    m = ModifiedBetaGeoCNBD(k=2).fit(cdnow)
    assert m.k_ == 2 and list(m.log_likelihoods_by_k_.index) == [2] and m.n_params_ == 4
    clv = customer_lifetime_value(m, GammaGamma().fit(cdnow), cdnow, horizon=(12, "M"), time_unit="W",
                                  discount_rate=(0.10, "Y"))
    assert np.all(np.isfinite(clv)) and (clv >= 0).all() and clv.index.equals(cdnow.index)
    summary = m.summary()
    assert summary.stats["Erlang order k"] == 2 and summary.stats["k chosen"] == "fixed"


def test_k_one_needs_no_inter_purchase_times(cdnow):
    plain = cdnow.drop(columns="log_interpurchase")
    assert BetaGeoCNBD(k=1).fit(plain).params_.round(3).to_dict() == BetaGeo().fit(plain).params_.round(3).to_dict()


def test_missing_inter_purchase_times_is_a_clear_error(cdnow):
    plain = cdnow.drop(columns="log_interpurchase")
    for model in (BetaGeoCNBD(), ModifiedBetaGeoCNBD(k=3)):
        with pytest.raises(DataError, match="include_log_interpurchase=True") as err:
            model.fit(plain)
        assert err.value.column == "log_interpurchase"


def test_inconsistent_inter_purchase_times_are_refused(cdnow):
    bad = cdnow.copy()
    bad.loc[bad.index[0], "log_interpurchase"] += 50.0  # in another time unit than recency
    with pytest.raises(DataError, match="must not exceed") as err:
        BetaGeoCNBD().fit(bad)
    assert err.value.column == "log_interpurchase" and list(err.value.rows.index) == [bad.index[0]]
    bad = cdnow.copy()
    bad.loc[bad["frequency"] == 0, "log_interpurchase"] = 1.0
    with pytest.raises(DataError, match="must be 0 when 'frequency' is 0"):
        BetaGeoCNBD().fit(bad)
    bad = cdnow.copy()
    bad.loc[bad.index[0], "log_interpurchase"] = np.nan
    with pytest.raises(DataError, match="missing"):
        BetaGeoCNBD().fit(bad)


@pytest.mark.parametrize("k", [0, 1.5, "2", True, 101])
def test_bad_k_is_an_argument_error(cdnow, k):
    with pytest.raises(ValueError, match="Erlang order"):
        BetaGeoCNBD(k=k).fit(cdnow)


def test_diagnostics_take_the_new_models(cdnow):
    """The repeat-purchase diagnostics work through the models' public contract."""
    from crm_models.clv import GammaGompertzNBD
    from crm_models.clv import diagnostics as dg

    log = load_cdnow()
    for model in (ModifiedBetaGeoCNBD(k=2).fit(cdnow), GammaGompertzNBD().fit(cdnow)):
        hist = dg.repeat_purchase_histogram(model, cdnow, max_frequency=4)
        assert hist.table["model"].sum() == pytest.approx(len(cdnow), rel=1e-6)
        track = dg.tracking_data(model, log, calibration_period_end="1997-09-30", observation_period_end="1998-06-30")
        assert np.all(np.isfinite(track["model_cumulative"])) and track["model_cumulative"].is_monotonic_increasing
        pa = dg.probability_alive_matrix(model, 39, max_frequency=5)
        assert np.nanmax(pa.to_numpy()) <= 1.0
