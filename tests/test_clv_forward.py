"""Forward-looking predictions of BG/NBD, MBG/NBD and Pareto/NBD: closed forms, limits, simulation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, special

from crm_models import calibration_holdout_split
from crm_models.clv import (
    BetaGeo,
    ModifiedBetaGeo,
    ParetoNBD,
    simulate_beta_geo,
    simulate_beta_geo_log,
    simulate_pareto_nbd,
)
from crm_models.clv.uncertainty import interval_coverage, pit_coverage

BG_PARAMS = {"r": 0.6, "alpha": 5.0, "a": 2.5, "b": 4.0}
PARETO_PARAMS = {"r": 0.6, "alpha": 5.0, "s": 2.0, "beta": 15.0}
#: histories (x, t_x, T) in weeks: a one-time buyer, a regular, a lapsed heavy buyer, a heavy buyer
HISTORY = pd.DataFrame({"frequency": [0, 3, 12, 60], "recency": [0.0, 20.0, 8.0, 38.5], "T": [30.0, 39.0, 39.0, 39.0]})


def _with(model, params):
    model.params_ = pd.Series(params, name="estimate", dtype=float)
    model.covariance_log_ = pd.DataFrame(np.eye(4) * 1e-4, index=list(params), columns=list(params))
    return model


@pytest.fixture(scope="module", params=["bg", "mbg", "pareto"])
def model(request):
    if request.param == "pareto":
        return _with(ParetoNBD(), PARETO_PARAMS)
    return _with(BetaGeo() if request.param == "bg" else ModifiedBetaGeo(), BG_PARAMS)


# ------------------------------------------------------------------------------------ t = 0
def test_nothing_happens_in_no_time(model):
    pmf = model.conditional_probability_of_n_purchases(HISTORY, 0, [0, 1, 2])
    assert (pmf[0] == 1).all() and (pmf[[1, 2]] == 0).all().all()
    assert (model.probability_no_purchase(HISTORY, 0) == 1).all()
    pd.testing.assert_series_equal(model.probability_alive_at(HISTORY, 0), model.probability_alive(HISTORY))
    assert (model.expected_purchases_between(HISTORY, 5, 5) == 0).all()
    iv = model.predictive_interval(HISTORY, 0)
    assert (iv["lower"] == 0).all() and (iv["upper"] == 0).all() and (iv["probability"] == 1).all()


# ------------------------------------------------------------------------ the distribution
def test_distribution_sums_to_one_and_its_mean_is_the_closed_form(model):
    for t in (1.0, 26.0, 104.0):
        pmf = model.conditional_probability_of_n_purchases(HISTORY, t, np.arange(600))
        np.testing.assert_allclose(pmf.sum(axis=1), 1, atol=1e-9)
        mean = pmf.to_numpy() @ np.arange(600)
        np.testing.assert_allclose(mean, model.expected_purchases(HISTORY, t), rtol=1e-7)
        np.testing.assert_allclose(pmf[0], model.probability_no_purchase(HISTORY, t), rtol=1e-12)


def test_expected_purchases_in_a_window(model):
    between = model.expected_purchases_between(HISTORY, 13, 26)
    np.testing.assert_allclose(
        between, model.expected_purchases(HISTORY, 26) - model.expected_purchases(HISTORY, 13), rtol=1e-12)
    np.testing.assert_allclose(model.expected_purchases_between(HISTORY, 0, 26), model.expected_purchases(HISTORY, 26))
    with pytest.raises(ValueError, match="t_end"):
        model.expected_purchases_between(HISTORY, 26, 13)


def test_bg_family_closed_forms():
    """BG/NBD and MBG/NBD: an alive customer drops out at rate lambda p, and buys with no drop-out
    before the k-th purchase, so P(X >= k | alive) = B(a, b'+k-1)/B(a, b') I_z(k, r')."""
    for m, cls in ((0, BetaGeo), (1, ModifiedBetaGeo)):
        model = _with(cls(), BG_PARAMS)
        r, alpha, a, b = BG_PARAMS.values()
        x, T = HISTORY["frequency"].to_numpy(), HISTORY["T"].to_numpy()
        rp, ap, bp = r + x, alpha + T, b + x + m
        pa = model.probability_alive(HISTORY).to_numpy()
        t = 26.0
        # P(no purchase) = dead, or alive and no purchase at all: (alpha'/(alpha'+t))^r'
        np.testing.assert_allclose(model.probability_no_purchase(HISTORY, t), 1 - pa + pa * (ap / (ap + t)) ** rp)
        # P(alive at T + t) = P(alive) E[exp(-lambda p t)], by quadrature over p
        still = [integrate.quad(lambda q, i=i: (1 + q * t / ap[i]) ** -rp[i] * q ** (a - 1) * (1 - q) ** (bp[i] - 1)
                                / special.beta(a, bp[i]), 0, 1)[0] for i in range(len(x))]
        np.testing.assert_allclose(model.probability_alive_at(HISTORY, t), pa * np.array(still), rtol=1e-8)
        # tail: P(X >= 3) = pa * B(a, b'+2)/B(a, b') * I_z(3, r')
        pmf = model.conditional_probability_of_n_purchases(HISTORY, t, np.arange(3))
        tail = pa * np.exp(special.betaln(a, bp + 2) - special.betaln(a, bp)) * special.betainc(3, rp, t / (ap + t))
        np.testing.assert_allclose(1 - pmf.sum(axis=1), tail, rtol=1e-8)


def test_pareto_closed_forms():
    """Pareto/NBD: the lifetime is memoryless, P(alive at T + t) = P(alive) (beta'/(beta'+t))^s; the
    distribution integrates the NBD over the lifetime (checked with scipy's adaptive quadrature)."""
    model = _with(ParetoNBD(), PARETO_PARAMS)
    r, alpha, s, beta = PARETO_PARAMS.values()
    x, T = HISTORY["frequency"].to_numpy(), HISTORY["T"].to_numpy()
    rp, ap, bp = r + x, alpha + T, beta + T
    pa = model.probability_alive(HISTORY).to_numpy()
    t = 26.0
    np.testing.assert_allclose(model.probability_alive_at(HISTORY, t), pa * (bp / (bp + t)) ** s, rtol=1e-12)

    def nbd(k, i, tau):
        return np.exp(special.gammaln(rp[i] + k) - special.gammaln(rp[i]) - special.gammaln(k + 1)
                      + rp[i] * np.log(ap[i] / (ap[i] + tau)) + k * np.log(tau / (ap[i] + tau))) if tau > 0 else float(k == 0)

    ks = [0, 1, 5, 20, 45]
    pmf = model.conditional_probability_of_n_purchases(HISTORY, t, ks).to_numpy()
    for i in range(len(x)):
        for j, k in enumerate(ks):
            died = integrate.quad(lambda tau: s * bp[i] ** s * (bp[i] + tau) ** -(s + 1) * nbd(k, i, tau), 0, t,
                                  epsabs=1e-14, epsrel=1e-11, limit=200)[0]
            exact = (1 - pa[i]) * (k == 0) + pa[i] * ((bp[i] / (bp[i] + t)) ** s * nbd(k, i, t) + died)
            assert pmf[i, j] == pytest.approx(exact, rel=1e-7, abs=1e-13)


# ----------------------------------------------------------------------------- t -> infinity
def test_limits_as_t_grows():
    t = 1e12
    bg = _with(ModifiedBetaGeo(), BG_PARAMS)
    r, alpha, a, b = BG_PARAMS.values()
    x, T = HISTORY["frequency"].to_numpy(), HISTORY["T"].to_numpy()
    pa = bg.probability_alive(HISTORY).to_numpy()
    # everyone drops out in the end, and an alive customer buys at least once before dropping out
    assert (bg.probability_alive_at(HISTORY, t) < 1e-6).all()
    np.testing.assert_allclose(bg.probability_no_purchase(HISTORY, t), 1 - pa, atol=1e-6)
    # with a > 1 the expected number of purchases is finite: (a + b' - 1)/(a - 1) P(alive), b' = b + x + 1
    np.testing.assert_allclose(bg.expected_purchases(HISTORY, t), (a + b + x + 1 - 1) / (a - 1) * pa, rtol=1e-5)

    pareto = _with(ParetoNBD(), PARETO_PARAMS)
    r, alpha, s, beta = PARETO_PARAMS.values()
    pa = pareto.probability_alive(HISTORY).to_numpy()
    assert (pareto.probability_alive_at(HISTORY, t) < 1e-15).all()
    # with s > 1: E[X(inf)] = (r+x)(beta+T) / ((alpha+T)(s-1)) P(alive)
    np.testing.assert_allclose(pareto.expected_purchases(HISTORY, t), (r + x) * (beta + T) / ((alpha + T) * (s - 1)) * pa,
                               rtol=1e-5)
    # P(never buys again) = dead, or dies before the next purchase: E[mu / (lambda + mu)]
    never = [integrate.quad(lambda tau, i=i: s * (beta + T[i]) ** s * (beta + T[i] + tau) ** -(s + 1)
                            * ((alpha + T[i]) / (alpha + T[i] + tau)) ** (r + x[i]), 0, np.inf)[0] for i in range(len(x))]
    np.testing.assert_allclose(pareto.probability_no_purchase(HISTORY, 1e9), 1 - pa + pa * np.array(never), rtol=1e-4)


# ------------------------------------------------------------------------------ simulation
def _posterior_simulation(family: str, params, x, t_x, T, t, n=400_000, seed=7):
    """Monte Carlo of (alive at T + t, X(T, T+t)) for one history: draw traits from the prior,
    weight them by the likelihood of the history (importance sampling), then simulate forward."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(params["r"], 1 / params["alpha"], n)
    if family == "pareto":
        mu = rng.gamma(params["s"], 1 / params["beta"], n)
        alive_T = np.exp(-mu * T) * lam**x * np.exp(-lam * T)
        # dead somewhere in (t_x, T]: int mu e^{-mu tau} lam^x e^{-lam tau} d tau
        dead = mu / (lam + mu) * lam**x * (np.exp(-(lam + mu) * t_x) - np.exp(-(lam + mu) * T))
        w = alive_T + dead
        alive = rng.uniform(size=n) < alive_T / w
        life = rng.exponential(1 / mu)  # remaining lifetime after T (memoryless)
        horizon = np.where(alive, np.minimum(life, t), 0.0)
        X = rng.poisson(lam * horizon)
        alive_end = alive & (life > t)
    else:
        m = 1 if family == "mbg" else 0
        p = rng.beta(params["a"], params["b"], n)
        alive_T = (1 - p) ** (x + m) * lam**x * np.exp(-lam * T)
        dead = (p * (1 - p) ** (x - 1 + m) * lam**x * np.exp(-lam * t_x)) if (x > 0 or m) else 0.0
        w = alive_T + dead
        alive = rng.uniform(size=n) < alive_T / w
        # from T: purchases at rate lam, each followed by a drop-out with probability p
        N = rng.poisson(lam * t)
        first_drop = rng.geometric(p)  # the purchase after which the customer drops out
        X = np.where(alive, np.minimum(N, first_drop), 0)
        alive_end = alive & (N < first_drop)
    w = w / w.sum()
    return w, X, alive_end


@pytest.mark.parametrize("family", ["bg", "mbg", "pareto"])
def test_forward_quantities_match_simulation(family):
    params = PARETO_PARAMS if family == "pareto" else BG_PARAMS
    cls = {"bg": BetaGeo, "mbg": ModifiedBetaGeo, "pareto": ParetoNBD}[family]
    model = _with(cls(), params)
    t = 26.0
    for x, t_x, T in [(0, 0.0, 30.0), (3, 20.0, 39.0), (12, 8.0, 39.0)]:
        one = pd.DataFrame({"frequency": [x], "recency": [t_x], "T": [T]})
        w, X, alive_end = _posterior_simulation(family, params, x, t_x, T, t)
        ess = 1 / (w**2).sum()  # effective sample size of the weighted draws
        pmf = model.conditional_probability_of_n_purchases(one, t, np.arange(4)).iloc[0].to_numpy()
        for k in range(4):
            sim = float(w[X == k].sum())
            assert abs(sim - pmf[k]) < 5 * np.sqrt(pmf[k] * (1 - pmf[k]) / ess) + 1e-3, (family, x, k, sim, pmf[k])
        p_alive = model.probability_alive_at(one, t).iloc[0]
        assert abs(float(w[alive_end].sum()) - p_alive) < 5 * np.sqrt(p_alive * (1 - p_alive) / ess) + 1e-3
        mean = model.expected_purchases(one, t).iloc[0]
        sd = np.sqrt(float((w * (X - mean) ** 2).sum()) / ess)
        assert abs(float((w * X).sum()) - mean) < 5 * sd + 1e-3


def test_predictive_intervals_cover_simulated_futures_at_their_rate():
    """Customers simulated from BG/NBD: fit on a calibration period, predict the holdout."""
    log = simulate_beta_geo_log(4000, {"r": 0.4, "alpha": 6.0, "a": 0.8, "b": 3.0}, "2020-01-01", "2020-06-30",
                                "2021-06-30", random_state=11, time_unit="W")
    split = calibration_holdout_split(log, calibration_period_end="2020-12-31", observation_period_end="2021-06-30",
                                      monetary_value_col=None)
    cal = split.rename(columns={"frequency_cal": "frequency", "recency_cal": "recency", "T_cal": "T"})
    model = BetaGeo().fit(cal)
    t = float(split["duration_holdout"].iloc[0])
    actual = split["frequency_holdout"]
    pit = model.probability_integral_transform(cal, t, actual, random_state=0)
    for alpha in (0.2, 0.05):
        iv = model.predictive_interval(cal, t, alpha=alpha)
        assert (iv["probability"] >= 1 - alpha).all()
        cov = interval_coverage(iv, actual, alpha=alpha)
        assert abs(cov["z"]) < 3, cov
        pc = pit_coverage(pit, alpha)
        assert abs(pc["z"]) < 3, pc


def test_interval_bounds_are_the_quantiles(model):
    t = 26.0
    iv = model.predictive_interval(HISTORY, t, alpha=0.2)
    cdf = model.conditional_probability_of_n_purchases(HISTORY, t, np.arange(400)).cumsum(axis=1).to_numpy()
    for i in range(len(HISTORY)):
        lower = int(np.argmax(cdf[i] > 0.1))
        upper = int(np.argmax(cdf[i] >= 0.9 - 1e-12))
        assert (iv["lower"].iloc[i], iv["upper"].iloc[i]) == (lower, upper)
        below = cdf[i, lower - 1] if lower > 0 else 0.0
        assert iv["probability"].iloc[i] == pytest.approx(cdf[i, upper] - below, abs=1e-9)
    np.testing.assert_allclose(iv["estimate"], model.expected_purchases(HISTORY, t))


def test_heavy_buyers_and_many_customers():
    data = simulate_pareto_nbd(3000, {"r": 2.0, "alpha": 1.0, "s": 0.5, "beta": 20.0}, T=52.0)
    model = ParetoNBD().fit(data)
    assert data["frequency"].max() > 200
    pmf = model.conditional_probability_of_n_purchases(data.nlargest(5, "frequency"), 52, np.arange(2000))
    np.testing.assert_allclose(pmf.sum(axis=1), 1, atol=1e-8)
    iv = model.predictive_interval(data, 52, alpha=0.05)
    assert (iv["probability"] >= 0.95).all() and (iv["lower"] <= iv["estimate"]).all()
    heavy = data.nlargest(5, "frequency")
    np.testing.assert_allclose(pmf.to_numpy() @ np.arange(2000), model.expected_purchases(heavy, 52), rtol=1e-6)


def test_parameter_uncertainty_of_the_new_quantities():
    data = simulate_beta_geo(2000, {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}, T=39.0)
    model = ModifiedBetaGeo().fit(data)
    for quantity, args in (("probability_alive_at", (26,)), ("probability_no_purchase", (26,)),
                           ("expected_purchases_between", (13, 26))):
        ci = model.interval(quantity, data.head(5), *args, n_draws=50)
        assert ((ci["lower"] <= ci["estimate"] + 1e-12) & (ci["estimate"] <= ci["upper"] + 1e-12)).all(), quantity


def test_errors():
    model = _with(BetaGeo(), BG_PARAMS)
    with pytest.raises(ValueError, match="t must be"):
        model.predictive_interval(HISTORY, -1)
    with pytest.raises(ValueError, match="alpha"):
        model.predictive_interval(HISTORY, 10, alpha=1.5)
    with pytest.raises(ValueError, match="time unit"):
        model.predictive_interval(HISTORY.assign(frequency=[0, 3, 12, 6000]), 1e9)
    with pytest.raises(ValueError, match="n must be whole"):
        model.conditional_probability_of_n_purchases(HISTORY, 10, [0.5])
    with pytest.raises(ValueError, match="indexed exactly like data"):
        model.probability_integral_transform(HISTORY, 10, pd.Series([0, 1]))
    from crm_models.errors import DataError

    with pytest.raises(DataError, match="whole numbers"):
        model.probability_integral_transform(HISTORY, 10, pd.Series([0, 1, 2.5, -1], index=HISTORY.index))
    from crm_models.errors import NotFittedError

    with pytest.raises(NotFittedError):
        ParetoNBD().predictive_interval(HISTORY, 10)
