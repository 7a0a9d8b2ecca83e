"""Intervals on every per-customer number, their coverage of the simulated truth, CLV by period,
BG/BB DERT, and one customer explained."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import special

from crm_models import rfm_summary
from crm_models.clv import (
    BetaGeo,
    BetaGeoBetaBinom,
    GammaGamma,
    ModifiedBetaGeo,
    ParetoNBD,
    clv_interval,
    customer_lifetime_value,
    customer_lifetime_value_by_period,
    explain_customer,
    interval_coverage,
    pit_coverage,
    spend_predictive_interval,
)
from crm_models.datasets import load_cdnow, load_donations, make_crm_world
from crm_models.interact import attach_customer
from crm_models.truth import perfect_crosswalk, predictive_coverage


@pytest.fixture(scope="module")
def rfm():
    return rfm_summary(load_cdnow(), observation_period_end="1997-09-30", after_end="drop")


@pytest.fixture(scope="module")
def models(rfm):
    return ModifiedBetaGeo().fit(rfm), GammaGamma().fit(rfm)


# --------------------------------------------------------------------- coverage of the truth
def test_predictive_intervals_cover_the_simulated_companys_future_at_their_nominal_rate():
    """On a generated company (BG/NBD purchases and Gamma-Gamma spend per needs segment), a model
    fitted on the observation period predicts each customer's holdout: 80% and 95% intervals must
    cover the true future purchases at their rate, within sampling error (|z| < 3)."""
    world = make_crm_world(1500, random_state=5)
    crosswalk = perfect_crosswalk(world)
    log = attach_customer(world.transactions, crosswalk, what="transactions")
    data = rfm_summary(log, observation_period_end="2024-12-31")
    model = ModifiedBetaGeo().fit(data)
    check = predictive_coverage(world, crosswalk, model, data, spend_model=GammaGamma().fit(data))
    assert check.index.tolist() == ["80%", "95%"] and (check["n_customers"] == 1500).all()
    # exact central intervals (randomised PIT) cover at the nominal rate
    assert (check["pit_z"].abs() < 3).all(), check
    # the whole-number intervals hold at least the nominal probability, and cover at that stated rate
    assert (check["stated"] >= check["nominal"]).all()
    assert (check["z"].abs() < 3).all(), check
    assert ((check["spend_covered"] - check["spend_stated"]).abs() < 3 * check["spend_std_error"] + 0.01).all()


def test_coverage_helpers():
    iv = pd.DataFrame({"lower": [0, 1], "upper": [2, 1], "probability": [0.9, 0.5]}, index=["a", "b"])
    cov = interval_coverage(iv, pd.Series({"b": 3, "a": 2}), alpha=0.2)
    assert cov["covered"] == 0.5 and cov["stated"] == pytest.approx(0.7)
    assert cov["std_error"] == pytest.approx(np.sqrt(0.9 * 0.1 + 0.5 * 0.5) / 2)
    assert cov["nominal"] == pytest.approx(0.8)
    with pytest.raises(ValueError, match="lacks"):
        interval_coverage(iv, pd.Series({"a": 1}))
    u = pd.Series([0.05, 0.5, 0.95, 0.2])
    pc = pit_coverage(u, 0.2)
    assert pc["covered"] == 0.5 and pc["std_error"] == pytest.approx(np.sqrt(0.16 / 4))


# ------------------------------------------------------------------------------- spend
def test_spend_interval_matches_the_exact_distribution(rfm, models):
    """The bounds sit at the alpha/2 and 1 - alpha/2 points of the exact distribution of spend:
    P(S <= s) = P(X = 0) + sum_k P(X = k) I_{s/(s+g')}(k p, q'), with g' = gamma + x m_x and
    q' = q + p x (Gamma-Gamma: S | k, nu ~ gamma(k p, nu)), computed here term by term; the
    simulated interval agrees within Monte Carlo error."""
    mbg, gg = models
    some = rfm.loc[[4, 18, 111, 1760]]
    t = 26.0
    pmf = mbg.conditional_probability_of_n_purchases(some, t, np.arange(200)).to_numpy()
    p, q, g = gg.params_[["p", "q", "gamma"]]
    x = some["frequency"].to_numpy(float)
    m = np.where(x > 0, some["monetary_value"].to_numpy(float), 0.0)

    def cdf(i, s):
        if s <= 0:
            return pmf[i, 0]
        k = np.arange(1, 200)
        return pmf[i, 0] + (pmf[i, 1:] * special.betainc(k * p, q + p * x[i], s / (s + g + x[i] * m[i]))).sum()

    exact = spend_predictive_interval(mbg, gg, some, horizon=(26, "W"), time_unit="W", alpha=0.2)
    sim = spend_predictive_interval(mbg, gg, some, horizon=(26, "W"), time_unit="W", alpha=0.2, method="simulate",
                                    n_draws=20000, random_state=1)
    for i in range(len(some)):
        lo, up = exact["lower"].iloc[i], exact["upper"].iloc[i]
        if pmf[i, 0] >= 0.9:  # spends nothing with probability >= 90%: the interval is [0, 0]
            assert up == 0 and exact["probability"].iloc[i] == pytest.approx(pmf[i, 0])
        else:
            assert cdf(i, up) == pytest.approx(0.9, abs=1e-3)
            assert cdf(i, sim["upper"].iloc[i]) == pytest.approx(0.9, abs=0.01)  # Monte Carlo error ~0.002
        if pmf[i, 0] >= 0.1:
            assert lo == 0
        else:
            assert cdf(i, lo) == pytest.approx(0.1, abs=1e-3)
            assert cdf(i, sim["lower"].iloc[i]) == pytest.approx(0.1, abs=0.01)
    expected = mbg.expected_purchases(some, t) * gg.expected_spend(some)
    np.testing.assert_allclose(exact["estimate"], expected)
    assert (exact["probability"] >= 0.8 - 1e-9).all() and (sim["probability"] >= 0.8 - 0.01).all()


def test_spend_interval_is_reproducible_and_chunked(rfm, models):
    mbg, gg = models
    from crm_models.clv import uncertainty

    kw = {"horizon": (12, "W"), "time_unit": "W", "method": "simulate", "n_draws": 200}
    a = spend_predictive_interval(mbg, gg, rfm.head(50), **kw)
    b = spend_predictive_interval(mbg, gg, rfm.head(50), **kw)
    pd.testing.assert_frame_equal(a, b)
    old = uncertainty._MAX_CELLS
    uncertainty._MAX_CELLS = 1000  # five customers per chunk
    try:
        c = spend_predictive_interval(mbg, gg, rfm.head(50), **kw)
        d = spend_predictive_interval(mbg, gg, rfm.head(50), horizon=(12, "W"), time_unit="W")
    finally:
        uncertainty._MAX_CELLS = old
    assert c.shape == a.shape and (c["upper"] >= c["lower"]).all()
    pd.testing.assert_frame_equal(d, spend_predictive_interval(mbg, gg, rfm.head(50), horizon=(12, "W"), time_unit="W"))
    with pytest.raises(ValueError, match="method"):
        spend_predictive_interval(mbg, gg, rfm, horizon=(12, "W"), time_unit="W", method="fast")
    with pytest.raises(TypeError, match="GammaGamma"):
        spend_predictive_interval(mbg, mbg, rfm, horizon=(12, "W"), time_unit="W")
    with pytest.raises(ValueError, match="n_draws"):
        spend_predictive_interval(mbg, gg, rfm, horizon=(12, "W"), time_unit="W", n_draws=0)


def test_expected_spend_has_a_parameter_interval(rfm, models):
    _, gg = models
    ci = gg.interval("expected_spend", rfm.head(5), n_draws=50)
    assert ((ci["lower"] <= ci["estimate"]) & (ci["estimate"] <= ci["upper"])).all()


# --------------------------------------------------------------------------------- CLV
def test_clv_interval(rfm, models):
    mbg, gg = models
    kw = {"horizon": (12, "M"), "time_unit": "W", "discount_rate": (0.1, "Y")}
    ci = clv_interval(mbg, gg, rfm.head(20), n_draws=60, **kw)
    np.testing.assert_allclose(ci["estimate"], customer_lifetime_value(mbg, gg, rfm.head(20), **kw))
    assert ((ci["lower"] <= ci["estimate"] + 1e-9) & (ci["estimate"] <= ci["upper"] + 1e-9)).all()
    assert (ci["upper"] > ci["lower"]).all()
    wide = clv_interval(mbg, gg, rfm.head(20), n_draws=60, alpha=0.01, **kw)
    assert ((wide["upper"] - wide["lower"]) >= (ci["upper"] - ci["lower"]) - 1e-9).all()


def test_clv_by_period_adds_up(rfm, models):
    mbg, gg = models
    kw = {"horizon": (12, "M"), "time_unit": "W", "discount_rate": (0.1, "Y")}
    monthly = customer_lifetime_value_by_period(mbg, gg, rfm, **kw)
    assert monthly.shape == (len(rfm), 12) and monthly.columns[0] == "1 M"
    np.testing.assert_allclose(monthly.sum(axis=1), customer_lifetime_value(mbg, gg, rfm, **kw), rtol=1e-12)
    quarterly = customer_lifetime_value_by_period(mbg, gg, rfm, step=(1, "Q"), **kw)
    assert quarterly.columns.tolist() == ["1 Q", "2 Q", "3 Q", "4 Q"]
    # each period's value shrinks as customers drop out and the discount grows
    assert (monthly.diff(axis=1).iloc[:, 1:] <= 1e-12).all().all()


# ----------------------------------------------------------------------------- BG/BB DERT
def test_bgbb_dert_is_the_discounted_sum_of_future_transactions():
    d = load_donations()
    m = BetaGeoBetaBinom().fit(d, weights_col="n_donors")
    dert = m.discounted_expected_residual_transactions(d, (0.10, "Y"))
    total, previous = np.zeros(len(d)), np.zeros(len(d))
    for k in range(1, 1500):
        current = m.expected_purchases(d, k).to_numpy()
        total += (current - previous) / 1.1**k
        previous = current
    np.testing.assert_allclose(dert, total, rtol=1e-9)
    # a rate per year applied to two-year opportunities
    biennial = m.discounted_expected_residual_transactions(d, (0.10, "Y"), opportunity=(2, "Y"))
    yearly_at_21 = m.discounted_expected_residual_transactions(d, (0.21, "Y"))
    np.testing.assert_allclose(biennial, yearly_at_21, rtol=1e-9)
    ci = m.interval("discounted_expected_residual_transactions", d.head(3), (0.1, "Y"), n_draws=30)
    assert (ci["lower"] <= ci["upper"]).all()
    with pytest.raises(ValueError, match="positive"):
        m.discounted_expected_residual_transactions(d, (0.0, "Y"))


# --------------------------------------------------------------------------- explanations
def test_explain_customer(rfm):
    mbg, bg, pareto = ModifiedBetaGeo().fit(rfm), BetaGeo().fit(rfm), ParetoNBD().fit(rfm)
    e = explain_customer(mbg, rfm, 4, horizon=(12, "W"))
    assert e.customer_id == 4
    assert e.facts["p_alive"] == pytest.approx(mbg.probability_alive(rfm.loc[[4]]).iloc[0])
    assert e.facts["silent_for"] == pytest.approx(rfm.loc[4, "T"] - rfm.loc[4, "recency"])
    assert e.facts["typical_gap"] == pytest.approx(rfm.loc[4, "recency"] / rfm.loc[4, "frequency"])
    iv = mbg.predictive_interval(rfm.loc[[4]], 12, alpha=0.2).iloc[0]
    assert (e.facts["lower"], e.facts["upper"]) == (iv["lower"], iv["upper"])
    assert f"{e.facts['p_alive']:.2f}" in e.text and "80% interval" in e.text
    one_timer = rfm.index[rfm["frequency"] == 0][0]
    assert "surely alive" in explain_customer(bg, rfm, one_timer).text
    text = explain_customer(pareto, rfm, one_timer, horizon=(3, "M")).text
    assert "Pareto/NBD puts P(alive)" in text and "next 3 months" in text
    with pytest.raises(KeyError):
        explain_customer(mbg, rfm, "nobody")
    with pytest.raises(TypeError):
        explain_customer(GammaGamma().fit(rfm), rfm, 4)
