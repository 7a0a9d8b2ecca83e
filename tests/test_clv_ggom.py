"""GGom/NBD: Bemmaor & Glady (2012) and CLVTools on CDNOW, the Pareto/NBD limit, recovery, predictions."""

import numpy as np
import pandas as pd
import pytest
from scipy import integrate

from crm_models import rfm_summary
from crm_models.clv import (
    GammaGamma,
    GammaGompertzNBD,
    ParetoNBD,
    compare_models,
    customer_lifetime_value,
    simulate_gamma_gompertz_nbd,
)
from crm_models.clv.gamma_gompertz_nbd import _log_E, _log_tail
from crm_models.clv.pareto_nbd import _log_tail as pareto_tail
from crm_models.datasets import load_cdnow

TRUTH = {"r": 0.8, "alpha": 4.0, "b": 0.05, "s": 1.5, "beta": 3.0}


@pytest.fixture(scope="module")
def cdnow():
    return rfm_summary(load_cdnow(), observation_period_end="1997-09-30", after_end="drop")


@pytest.fixture(scope="module")
def fitted(cdnow):
    return GammaGompertzNBD().fit(cdnow), ParetoNBD().fit(cdnow)


def test_cdnow_matches_bemmaor_glady_and_clvtools(fitted):
    """Bemmaor & Glady (2012), Table 2: r = 0.553, alpha = 10.578, b = 0.0002, s = 0.603, beta = 0.0026,
    LL = -9594.98; CLVTools (tests/testthat/test_correctness_ggomnbd.R): r = 0.55313, alpha = 10.5758,
    b = 0.0000011, s = 0.60682, beta = 0.000013, LL = -9594.9762. The optimum is the Pareto/NBD limit
    b -> 0 where only beta / b is identified, so b and beta themselves differ between fits."""
    m, pnbd = fitted
    assert round(m.log_likelihood_, 2) == -9594.98
    assert round(m.log_likelihood_, 4) == -9594.9762
    assert round(m.params_["r"], 3) == 0.553 and round(m.params_["alpha"], 2) == 10.58
    assert m.params_["s"] == pytest.approx(0.603, abs=0.005) and m.params_["s"] == pytest.approx(0.60682, abs=0.001)
    assert m.params_["b"] < 2e-4 and m.params_["beta"] < 2.6e-3
    assert m.pareto_limit_
    assert m.params_["beta"] / m.params_["b"] == pytest.approx(pnbd.params_["beta"], rel=1e-3)
    assert any("Pareto/NBD limit" in note for note in m.summary().notes)


def test_at_the_limit_predictions_are_the_pareto_nbds(fitted, cdnow):
    m, pnbd = fitted
    np.testing.assert_allclose(m.expected_purchases(cdnow, 39), pnbd.expected_purchases(cdnow, 39), atol=1e-4)
    np.testing.assert_allclose(m.probability_alive(cdnow), pnbd.probability_alive(cdnow), atol=1e-5)
    np.testing.assert_allclose(m.expected_purchases_new_customer([10, 39]),
                               pnbd.expected_purchases_new_customer([10, 39]), atol=1e-5)
    np.testing.assert_allclose(m.probability_of_n_purchases(39, [0, 1, 4]),
                               pnbd.probability_of_n_purchases(39, [0, 1, 4]), atol=1e-6)


def test_tail_integral_is_accurate():
    """Against adaptive quadrature, and against the Pareto/NBD's tail in the limit b -> 0."""
    def reference(p, x, u):
        r, alpha, b, s, beta = p
        f = lambda y: np.exp(-(r + x) * np.log(alpha + y) + np.log(b * s) + s * np.log(beta) + b * y  # noqa: E731
                             - (s + 1.0) * _log_E(b, beta, y))
        pts = [u] + [u + 10.0 ** k for k in range(-6, 7)] + [np.inf]
        return np.log(sum(integrate.quad(f, pts[i], pts[i + 1], limit=500, epsabs=0, epsrel=1e-13)[0]
                          for i in range(len(pts) - 1)))

    for p in [(0.5, 5, 0.1, 1.0, 2.0), (0.5, 5, 1.0, 2.0, 0.3), (2, 1, 0.01, 0.1, 50), (1, 1, 3, 0.5, 0.01),
              (3, 100, 1e-3, 20, 5), (1, 2, 0.05, 0.02, 200)]:
        for x, u in [(0, 0), (0, 10), (3, 5), (50, 30), (1, 100)]:
            got = _log_tail(*p, np.array([float(x)]), np.array([float(u)]), False)[0][0]
            assert got == pytest.approx(reference(p, x, u), abs=1e-6), (p, x, u)
    r, alpha, s, bp = 0.553, 10.58, 0.607, 11.67
    x, u = np.array([0, 0, 3, 50, 1, 2000.0]), np.array([0, 10, 5, 30, 100, 40.0])
    limit = pareto_tail(r, alpha, s, bp, x, u, False)[0] + np.log(s) + s * np.log(bp)
    b = 1e-10
    np.testing.assert_allclose(_log_tail(r, alpha, b, s, bp * b, x, u, False)[0], limit, atol=1e-8)


def test_gradient_is_exact(cdnow):
    m = GammaGompertzNBD()
    arrays = m._make_arrays(*(cdnow[c].to_numpy(float) for c in ("frequency", "recency", "T")))
    w = np.ones(len(cdnow))
    for z in (np.log([0.5, 3.0, 0.1, 0.7, 2.0]), np.log([0.5, 3.0, 0.1, 0.7, 0.3])):
        _, grad = m._neg_log_likelihood(z, arrays, w)
        h = 1e-6
        num = [(m._neg_log_likelihood(z + h * e, arrays, w)[0] - m._neg_log_likelihood(z - h * e, arrays, w)[0])
               / (2 * h) for e in np.eye(5)]
        np.testing.assert_allclose(grad, num, rtol=1e-6)


def test_recovers_known_parameters():
    rng = np.random.default_rng(7)
    sim = simulate_gamma_gompertz_nbd(20_000, TRUTH, T=np.round(rng.uniform(26, 104, 20_000)), latent=True,
                                      random_state=rng, time_grid=1 / 7)  # recorded by day
    m = GammaGompertzNBD().fit(sim)
    assert not m.pareto_limit_
    truth = pd.Series(TRUTH)
    assert ((m.params_ - truth).abs() < 3 * m.standard_errors_).all(), m.summary()
    assert m.probability_alive(sim).sum() == pytest.approx(sim["alive"].sum(), rel=0.05)


def test_new_customer_expectation_matches_the_story():
    """E[X(t)] = r/alpha int_0^t S(v) dv against a Monte Carlo of the story."""
    sim = simulate_gamma_gompertz_nbd(200_000, TRUTH, T=1e9, latent=True)
    m = GammaGompertzNBD()
    m.params_ = pd.Series(TRUTH, dtype=float)
    rng = np.random.default_rng(0)
    for t in (10.0, 52.0):
        draws = rng.poisson(sim["lambda"] * np.minimum(sim["lifetime"], t))
        assert m.expected_purchases_new_customer(t).iloc[0] == pytest.approx(draws.mean(), rel=0.02)
    pmf = m.probability_of_n_purchases(10.0, np.arange(60)).to_numpy()
    assert pmf.sum() == pytest.approx(1.0, abs=1e-8)


def test_in_model_comparison_and_clv(fitted, cdnow):
    m, pnbd = fitted
    table = compare_models({"Pareto/NBD": pnbd, "GGom/NBD": m})
    assert table.loc["GGom/NBD", "n_params"] == 5
    assert table.loc["GGom/NBD", "log_likelihood"] == pytest.approx(table.loc["Pareto/NBD", "log_likelihood"], abs=0.01)
    assert table.loc["GGom/NBD", "aic"] > table.loc["Pareto/NBD", "aic"]  # the extra parameter buys nothing
    clv = customer_lifetime_value(m, GammaGamma().fit(cdnow), cdnow, horizon=(12, "M"), time_unit="W",
                                  discount_rate=(0.10, "Y"))
    ref = customer_lifetime_value(pnbd, GammaGamma().fit(cdnow), cdnow, horizon=(12, "M"), time_unit="W",
                                  discount_rate=(0.10, "Y"))
    assert clv.sum() == pytest.approx(ref.sum(), rel=1e-4)
