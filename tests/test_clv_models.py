"""BG/NBD, MBG/NBD, Pareto/NBD and Gamma-Gamma: published tables, lifetimes, simulation."""

import warnings

import numpy as np
import pandas as pd
import pytest

from crm_models import rfm_summary
from crm_models.clv import (
    BetaGeo,
    GammaGamma,
    ModifiedBetaGeo,
    ParetoNBD,
    simulate_beta_geo,
    simulate_gamma_gamma,
    simulate_modified_beta_geo,
    simulate_pareto_nbd,
)
from crm_models.datasets import load_cdnow

lifetimes = pytest.importorskip("lifetimes")


@pytest.fixture(scope="module")
def cdnow():
    """CDNOW sample in weeks, calibration 1997-01-01..1997-09-30 (FHL 2005)."""
    return rfm_summary(load_cdnow(), observation_period_end="1997-09-30", after_end="drop")


@pytest.fixture(scope="module")
def fitted(cdnow):
    return {
        "bg": BetaGeo().fit(cdnow),
        "mbg": ModifiedBetaGeo().fit(cdnow),
        "pnbd": ParetoNBD().fit(cdnow),
        "gg": GammaGamma().fit(cdnow),
    }


@pytest.fixture(scope="module")
def lt(cdnow):
    x, t_x, T = cdnow["frequency"], cdnow["recency"], cdnow["T"]
    rep = cdnow[cdnow["frequency"] > 0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {
            "bg": lifetimes.BetaGeoFitter().fit(x, t_x, T),
            "mbg": lifetimes.ModifiedBetaGeoFitter().fit(x, t_x, T),
            "pnbd": lifetimes.ParetoNBDFitter().fit(x, t_x, T),
            "gg": lifetimes.GammaGammaFitter().fit(rep["frequency"], rep["monetary_value"]),
        }


def test_cdnow_summary_is_the_papers(cdnow):
    assert len(cdnow) == 2357
    assert (cdnow["frequency"] > 0).sum() == 946
    assert cdnow["T"].max() == pytest.approx(38.86, abs=0.005)


# ------------------------------------------------------------------ published tables
def test_bg_nbd_reproduces_fhl2005_table(fitted):
    m = fitted["bg"]
    assert m.params_.round(3).to_dict() == {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    assert m.log_likelihood_ == pytest.approx(-9582.43, abs=0.005)
    assert m.n_obs_ == 2357


def test_bg_nbd_conditional_expectation_of_the_paper(fitted):
    one = pd.DataFrame({"frequency": [2], "recency": [30.43], "T": [38.86]}, index=pd.Index([4], name="customer_id"))
    e = fitted["bg"].expected_purchases(one, 39)
    assert e.loc[4] == pytest.approx(1.226, abs=0.0005)
    assert e.index.equals(one.index)


def test_pareto_nbd_reproduces_fh2005_table(fitted):
    m = fitted["pnbd"]
    assert m.params_.round(3).to_dict() == {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}
    assert m.log_likelihood_ == pytest.approx(-9595.0, abs=0.05)


def test_mbg_nbd_agrees_with_published_lifetimes_btydplus(fitted):
    assert fitted["mbg"].params_.round(3).to_dict() == {"r": 0.525, "alpha": 6.183, "a": 0.891, "b": 1.614}


def test_gamma_gamma_reproduces_fh2013(fitted):
    m = fitted["gg"]
    # FH13's gamma is the rate of nu, i.e. lifetimes' v
    assert m.params_.round(2).to_dict() == {"p": 6.25, "q": 3.74, "gamma": 15.44}
    assert m.log_likelihood_ == pytest.approx(-4055.9, abs=0.05)
    assert m.n_obs_ == 946


# ------------------------------------------------------------------ lifetimes agreement
@pytest.mark.parametrize("key", ["bg", "mbg", "pnbd"])
def test_transaction_models_agree_with_lifetimes(key, fitted, lt, cdnow):
    ours, theirs = fitted[key], lt[key]
    np.testing.assert_allclose(ours.params_.to_numpy(), theirs.params_.to_numpy(), rtol=2e-3)
    # predictions at the same parameters
    theirs.params_ = pd.Series(ours.params_.to_numpy(), index=theirs.params_.index)
    x, t_x, T = cdnow["frequency"], cdnow["recency"], cdnow["T"]
    np.testing.assert_allclose(
        ours.expected_purchases(cdnow, 10).to_numpy(),
        theirs.conditional_expected_number_of_purchases_up_to_time(10, x, t_x, T),
        rtol=1e-7,
    )
    np.testing.assert_allclose(
        ours.probability_alive(cdnow).to_numpy(), theirs.conditional_probability_alive(x, t_x, T), rtol=1e-7
    )
    ts = np.array([1.0, 10.0, 39.0, 78.0])
    np.testing.assert_allclose(
        ours.expected_purchases_new_customer(ts).to_numpy(), theirs.expected_number_of_purchases_up_to_time(ts), rtol=1e-7
    )


@pytest.mark.parametrize("key", ["bg", "mbg"])
def test_probability_of_n_purchases_agrees_with_lifetimes(key, fitted, lt):
    ours, theirs = fitted[key], lt[key]
    theirs.params_ = pd.Series(ours.params_.to_numpy(), index=theirs.params_.index)
    for n in range(6):
        assert ours.probability_of_n_purchases(39, n).iloc[0] == pytest.approx(
            float(np.squeeze(theirs.probability_of_n_purchases_up_to_time(39, n))), rel=1e-7
        )


def test_gamma_gamma_agrees_with_lifetimes(fitted, lt, cdnow):
    np.testing.assert_allclose(fitted["gg"].params_.to_numpy(), lt["gg"].params_.to_numpy(), rtol=1e-4)
    np.testing.assert_allclose(
        fitted["gg"].expected_spend(cdnow).to_numpy(),
        lt["gg"].conditional_expected_average_profit(cdnow["frequency"], cdnow["monetary_value"]).to_numpy(),
        rtol=1e-4,
    )
    # standard errors from the observed information agree with lifetimes' Hessian
    np.testing.assert_allclose(
        fitted["gg"].standard_errors_.to_numpy(), lt["gg"].summary["se(coef)"].to_numpy(), rtol=1e-3
    )


@pytest.mark.parametrize("key", ["bg", "mbg", "pnbd"])
def test_probabilities_of_n_sum_to_one_and_mean_matches(key, fitted):
    m = fitted[key]
    p = m.probability_of_n_purchases(10, np.arange(120))
    assert p.sum() == pytest.approx(1.0, abs=1e-6)
    assert (p.index.to_numpy() * p.to_numpy()).sum() == pytest.approx(
        m.expected_purchases_new_customer(10).iloc[0], rel=1e-5)


# ------------------------------------------------------------------ heavy buyers, no NaN
def test_pareto_nbd_heavy_buyers_are_finite(fitted):
    """lifetimes returns NaN here (x >= 132 with recency = T = 200)."""
    m = fitted["pnbd"]
    x = np.arange(100, 5001, 100)
    heavy = pd.DataFrame({"frequency": x, "recency": 200.0, "T": 200.0})
    e = m.expected_purchases(heavy, 10)
    pa = m.probability_alive(heavy)
    assert np.all(np.isfinite(e)) and np.all(np.diff(e) > 0)
    assert np.all((pa > 0.99) & (pa <= 1))
    # and the likelihood itself is finite when such customers are in the data
    data = pd.concat([heavy, pd.DataFrame({"frequency": [0, 1], "recency": [0.0, 50.0], "T": [200.0, 200.0]})])
    arrays = m._make_arrays(*(data[c].to_numpy(float) for c in ("frequency", "recency", "T")))
    value, grad = m._neg_log_likelihood(np.log(m.params_.to_numpy()), arrays, np.ones(len(data)))
    assert np.isfinite(value) and np.all(np.isfinite(grad))


def test_pareto_likelihood_matches_direct_integration():
    from scipy import integrate

    from crm_models.clv.pareto_nbd import _pareto_core

    r, alpha, s, beta = 0.55, 10.6, 0.6, 11.7
    for x, t_x, T in [(0, 0.0, 38.0), (2, 30.0, 38.0), (50, 10.0, 38.0), (3, 999.0, 1000.0)]:
        lse, _, _ = _pareto_core(r, alpha, s, beta, np.array([x], float), np.array([t_x]), np.array([T]))
        integral, _ = integrate.quad(
            lambda u: (alpha + u) ** -(r + x) * (beta + u) ** -(s + 1), t_x, T, epsabs=0, epsrel=1e-12, limit=500
        )
        ref = np.log((alpha + T) ** -(r + x) * (beta + T) ** -s + s * integral)
        assert lse[0] == pytest.approx(ref, rel=1e-10)


# ------------------------------------------------------------------ parameter recovery
def _within(model, truth, z=4.0):
    err = (model.params_ - pd.Series(truth)) / model.standard_errors_
    assert np.all(np.abs(err) < z), err


def test_bg_nbd_recovers_simulated_parameters():
    truth = {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}
    T = np.random.default_rng(1).integers(20, 60, 20_000).astype(float)
    data = simulate_beta_geo(20_000, truth, T, random_state=2)
    _within(BetaGeo().fit(data), truth)


def test_mbg_nbd_recovers_simulated_parameters():
    truth = {"r": 0.5, "alpha": 6.0, "a": 0.9, "b": 1.6}
    T = np.random.default_rng(3).integers(20, 60, 20_000).astype(float)
    _within(ModifiedBetaGeo().fit(simulate_modified_beta_geo(20_000, truth, T, random_state=4)), truth)


def test_pareto_nbd_recovers_simulated_parameters_on_a_daily_grid():
    truth = {"r": 0.55, "alpha": 70.0, "s": 0.6, "beta": 80.0}
    T = np.random.default_rng(5).integers(100, 400, 20_000).astype(float)
    data = simulate_pareto_nbd(20_000, truth, T, random_state=6, time_grid=1)
    assert (data["recency"] == np.floor(data["recency"])).all()
    _within(ParetoNBD().fit(data), truth)


def test_gamma_gamma_recovers_simulated_parameters():
    truth = {"p": 6.0, "q": 4.0, "gamma": 15.0}
    x = simulate_beta_geo(20_000, {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}, 39.0, random_state=7)["frequency"]
    data = x.to_frame().assign(monetary_value=simulate_gamma_gamma(x, truth, random_state=8))
    _within(GammaGamma().fit(data), truth)


def test_simulators_state_the_truth():
    sim = simulate_pareto_nbd(2000, {"r": 1, "alpha": 1, "s": 1, "beta": 1}, 10.0, latent=True)
    assert {"lambda", "mu", "alive"} <= set(sim.columns)
    assert (sim["recency"] <= sim["T"]).all() and ((sim["frequency"] > 0) | (sim["recency"] == 0)).all()
    a = simulate_beta_geo(100, {"r": 1, "alpha": 1, "a": 1, "b": 1}, 10.0)  # random_state=0 by default
    b = simulate_beta_geo(100, {"r": 1, "alpha": 1, "a": 1, "b": 1}, 10.0, random_state=0)
    pd.testing.assert_frame_equal(a, b)
    c = simulate_beta_geo(100, {"r": 1, "alpha": 1, "a": 1, "b": 1}, 10.0, random_state=np.random.default_rng(0))
    pd.testing.assert_frame_equal(a, c)
    with pytest.raises(ValueError, match="params lacks"):
        simulate_beta_geo(10, {"r": 1}, 10.0)
    with pytest.raises(ValueError, match="random_state"):
        simulate_beta_geo(10, {"r": 1, "alpha": 1, "a": 1, "b": 1}, 10.0, random_state="seven")
    with pytest.raises(ValueError, match="n must be a positive whole number"):
        simulate_pareto_nbd(0, {"r": 1, "alpha": 1, "s": 1, "beta": 1}, 10.0)
    with pytest.raises(ValueError, match="positive numbers"):
        simulate_gamma_gamma([1, 2], {"p": 1, "q": -1, "gamma": 1})


# ------------------------------------------------------------------ intervals
def test_prediction_intervals_bracket_the_estimate(fitted, cdnow):
    out = fitted["bg"].interval("expected_purchases", cdnow.head(50), 39, alpha=0.1, n_draws=100, random_state=1)
    assert list(out.columns) == ["estimate", "lower", "upper"]
    assert out.index.equals(cdnow.head(50).index)
    assert ((out["lower"] <= out["estimate"] + 1e-12) & (out["estimate"] <= out["upper"] + 1e-12)).all()
    spend = fitted["gg"].interval("expected_spend", cdnow.head(5), n_draws=50)
    assert (spend["lower"] < spend["upper"]).all()
    new = fitted["pnbd"].interval("expected_purchases_new_customer", 39, alpha=0.2, n_draws=50).iloc[0]
    assert new["lower"] < new["estimate"] < new["upper"]
