"""Pareto/NBD with time-varying covariates: CLVTools' per-customer log-likelihood, the static model as a
special case, exact gradients, recovery of simulated effects, predictions and the data checks."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import crm_models
from crm_models import rfm_summary
from crm_models.clv import DynamicCovariates, ParetoNBD, dynamic_covariates, join_covariates
from crm_models.clv._covariates import CovariateSpec
from crm_models.clv._dynamic_covariates import DynamicArrays, DynamicProblem, log_likelihood
from crm_models.datasets import load_apparel
from crm_models.errors import DataError, ModelFileError

DATA = Path(__file__).parent / "data" / "clvtools_dyncov"
COLS = ["high_season", "gender", "channel"]


def _arrays(dyn, purchase, dropout, shared=()):
    model = ParetoNBD(purchase_covariates=list(purchase), dropout_covariates=list(dropout),
                      shared_covariates=list(shared) or None)
    spec = CovariateSpec.from_model(model)
    return model, spec, DynamicArrays(dyn, spec)


@pytest.fixture(scope="module")
def clvtools():
    tx = pd.read_csv(DATA / "transactions.csv").rename(columns={"Id": "customer_id", "Date": "timestamp"})
    cov = pd.read_csv(DATA / "covariates.csv").rename(columns={
        "Id": "customer_id", "Cov.Date": "period_start", "High.Season": "high_season", "Gender": "gender",
        "Channel": "channel"})
    ref = pd.read_csv(DATA / "log_likelihood.csv").set_index("Id")
    par = json.loads((DATA / "parameters.json").read_text())
    dyn = dynamic_covariates(tx, cov, observation_period_end=par["estimation_end"])
    return dyn, ref, par


def test_log_likelihood_reproduces_clvtools_customer_by_customer(clvtools):
    """CLVTools' fitted_dyncov.rds: its log-likelihood of each of 400 customers at its parameters."""
    dyn, ref, par = clvtools
    p = par["parameters"]
    _, _, arr = _arrays(dyn, COLS, COLS)
    params = np.exp([p["log.r"], p["log.alpha"], p["log.s"], p["log.beta"]])
    coef = np.array([p[f"trans.{c}"] for c in ("High.Season", "Gender", "Channel")]
                    + [p[f"life.{c}"] for c in ("High.Season", "Gender", "Channel")])
    ll, p_alive, _ = log_likelihood(arr, params, coef)
    ours = pd.Series(ll, index=dyn.summary.index).reindex(ref.index)
    alive_only = pd.Series(ll + np.log(p_alive), index=dyn.summary.index).reindex(ref.index)
    underflow = ref["Z"] == 0  # CLVTools lost its dropping-out-in-the-window term (it underflowed)
    assert underflow.sum() == 11
    np.testing.assert_allclose(ours[~underflow], ref.loc[~underflow, "LL"], rtol=0, atol=1e-8)
    # where it underflowed, CLVTools' value is our alive-at-T term alone; ours adds the (small) rest
    np.testing.assert_allclose(alive_only[underflow], ref.loc[underflow, "LL"], rtol=0, atol=1e-8)
    assert (ours[underflow] >= ref.loc[underflow, "LL"] - 1e-10).all()
    assert -ref["LL"].sum() == pytest.approx(par["value"], abs=1e-6)


@pytest.fixture(scope="module")
def apparel():
    tx = load_apparel()
    dyn = dynamic_covariates(tx[tx.timestamp <= "2006-12-31"], load_apparel("dynamic_covariates"),
                             observation_period_end="2006-12-31")
    rfm = rfm_summary(tx, observation_period_end="2006-12-31", after_end="drop")
    static = join_covariates(rfm, load_apparel("static_covariates"))
    return dyn, static


def test_constant_covariates_give_the_static_model_and_zero_coefficients_the_plain_one(apparel):
    dyn, static = apparel
    model = ParetoNBD(purchase_covariates=["gender", "channel"], dropout_covariates=["channel"]).fit(static)
    _, spec, arr = _arrays(dyn, ["gender", "channel"], ["channel"])
    ll, p_alive, _ = log_likelihood(arr, model.params_.to_numpy(), model.coefficients_.to_numpy())
    assert ll.sum() == pytest.approx(model.log_likelihood_, rel=1e-11)
    np.testing.assert_allclose(p_alive, model.probability_alive(static.reindex(dyn.summary.index)), rtol=1e-9)
    plain = ParetoNBD().fit(static)
    ll0, _, _ = log_likelihood(arr, plain.params_.to_numpy(), np.zeros(3))
    assert ll0.sum() == pytest.approx(plain.log_likelihood_, rel=1e-11)


def test_dynamic_likelihood_has_an_exact_gradient(apparel):
    dyn, _ = apparel
    model, spec, arr = _arrays(dyn, ["high_season", "gender"], ["channel"])
    pr = DynamicProblem(model, spec, arr)
    theta = np.r_[np.log([1.5, 60.0, 0.6, 40.0]), 0.4, 0.2, 0.5]
    _, grad = pr.nll(theta)
    h = 1e-5
    numeric = np.array([(pr.nll(theta + e)[0] - pr.nll(theta - e)[0]) / (2 * h) for e in np.eye(len(theta)) * h])
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-6)


def test_fit_predictions_and_persistence_agree_with_the_static_model(apparel, tmp_path):
    dyn, static = apparel
    st = ParetoNBD(purchase_covariates=["gender", "channel"], dropout_covariates=["gender", "channel"]).fit(static)
    start = {**st.params_.to_dict(), **st.coefficients_.to_dict()}
    dy = ParetoNBD(purchase_covariates=["gender", "channel"], dropout_covariates=["gender", "channel"])
    dy.fit(dyn, initial_params=start)
    assert dy.log_likelihood_ == pytest.approx(st.log_likelihood_, abs=1e-6)
    np.testing.assert_allclose(dy.coefficients_, st.coefficients_, atol=2e-4)
    np.testing.assert_allclose(dy.standard_errors_, st.standard_errors_, rtol=2e-3)
    assert "time-varying" in dy.summary().title
    rows = static.reindex(dyn.summary.index)
    np.testing.assert_allclose(dy.probability_alive(dyn), st.probability_alive(rows), rtol=1e-5)
    np.testing.assert_allclose(dy.expected_purchases(dyn, 26), st.expected_purchases(rows, 26), rtol=1e-5)
    assert dy.expected_purchases(dyn, 26).index.equals(dyn.summary.index)
    with pytest.raises(TypeError, match="DynamicCovariates"):
        dy.probability_alive(rows)
    with pytest.raises(TypeError, match="not fitted with time-varying"):
        st.probability_alive(dyn)
    with pytest.raises(ValueError, match="time-varying covariates"):
        dy.expected_purchases_new_customer(10, covariates={"gender": 1, "channel": 0})
    back = crm_models.load(dy.save(tmp_path / "dyn.json"))
    np.testing.assert_allclose(back.probability_alive(dyn), dy.probability_alive(dyn))
    doc = json.loads((tmp_path / "dyn.json").read_text())
    assert doc["fitted"]["time_varying"] is True
    doc["fitted"]["time_varying"] = "yes"
    (tmp_path / "bad.json").write_text(json.dumps(doc))
    with pytest.raises(ModelFileError, match="time_varying"):
        ParetoNBD.load(tmp_path / "bad.json")


def _simulate(n: int, weeks: int, params, coefs, seed: int):
    """A cohort (all acquired on 2021-01-03) whose purchase and dropout rates follow weekly covariates:
    a seasonal indicator (4 weeks on, 4 off) and a static 0/1 attribute. Purchases are the inhomogeneous
    Poisson process lambda a(t) until the dropout time, whose hazard is mu c(t)."""
    rng = np.random.default_rng(seed)
    r, alpha, s, beta = params
    start = pd.Timestamp("2021-01-03")
    season = (np.arange(weeks + 1) // 4) % 2
    promo = rng.integers(0, 2, n)
    z_p = coefs["purchase.season"] * season[None, :] + coefs["purchase.promo"] * promo[:, None]
    z_d = coefs["dropout.season"] * season[None, :]
    a, c = np.exp(z_p), np.broadcast_to(np.exp(z_d), z_p.shape)
    A = np.concatenate([np.zeros((n, 1)), np.cumsum(a, axis=1)], axis=1)  # at week boundaries
    C = np.concatenate([np.zeros((n, 1)), np.cumsum(c, axis=1)], axis=1)
    lam = rng.gamma(r, 1 / alpha, n)
    mu = rng.gamma(s, 1 / beta, n)
    e = rng.exponential(size=n) / mu  # dropout when C(t) reaches e

    def invert(cum, rate, level):
        k = np.clip((cum <= level[:, None]).sum(axis=1) - 1, 0, cum.shape[1] - 2)
        i = np.arange(len(level))
        return k + (level - cum[i, k]) / rate[i, k]

    death = np.minimum(invert(C, c, np.minimum(e, C[:, -1])), weeks)
    week = np.floor(death).astype(int)
    A_end = A[np.arange(n), week] + a[np.arange(n), np.minimum(week, weeks)] * (death - week)
    k = rng.poisson(lam * A_end)
    owner = np.repeat(np.arange(n), k)
    times = invert(A[owner], a[owner], rng.random(k.sum()) * A_end[owner])
    days = np.floor(times * 7)
    tx = pd.DataFrame({"customer_id": np.r_[np.arange(n), owner],
                       "timestamp": start + pd.to_timedelta(np.r_[np.zeros(n), days], unit="D")})
    tx = tx[tx.timestamp < start + pd.Timedelta(weeks=weeks)]
    cov = pd.DataFrame({"customer_id": np.repeat(np.arange(n), weeks + 1),
                        "period_start": np.tile(start + pd.to_timedelta(7 * np.arange(weeks + 1), unit="D"), n),
                        "season": np.tile(season, n), "promo": np.repeat(promo, weeks + 1)})
    end = start + pd.Timedelta(weeks=weeks) - pd.Timedelta(days=1)
    return dynamic_covariates(tx, cov, observation_period_end=end)


def test_fit_recovers_simulated_time_varying_effects():
    params = (0.8, 6.0, 0.7, 10.0)
    coefs = {"purchase.season": 0.7, "purchase.promo": -0.4, "dropout.season": 0.8}
    dyn = _simulate(1500, 40, params, coefs, seed=3)
    model = ParetoNBD(purchase_covariates=["season", "promo"], dropout_covariates=["season"]).fit(dyn)
    for name, value in coefs.items():
        est, se = model.coefficients_[name], model.standard_errors_[name]
        assert abs(est - value) < 4 * se, f"{name}: {est:.3f} +/- {se:.3f}, true {value}"
    se_log = np.sqrt(np.diag(model.covariance_log_.to_numpy()))[:4]
    assert np.all(np.abs(np.log(model.params_.to_numpy() / np.array(params))) < 4 * se_log)


def test_periods_must_cover_every_customers_window(apparel):
    tx = load_apparel()
    tx = tx[tx.timestamp <= "2006-12-31"]
    cov = load_apparel("dynamic_covariates")
    late = cov[cov.period_start >= "2005-01-09"]
    with pytest.raises(DataError) as err:
        dynamic_covariates(tx, late, observation_period_end="2006-12-31")
    assert err.value.column == "period_start" and "observation window" in err.value.rule
    assert {"first_purchase", "first_period_start"} <= set(err.value.rows.columns)
    with pytest.raises(DataError, match="without covariate periods") as err:
        dynamic_covariates(tx, cov[cov.customer_id != 1], observation_period_end="2006-12-31")
    assert list(err.value.rows.index) == [1]
    gap = cov.drop(cov.index[(cov.customer_id == 2) & (cov.period_start == "2005-03-06")])
    with pytest.raises(DataError, match="without gaps") as err:
        dynamic_covariates(tx, gap, observation_period_end="2006-12-31")
    assert err.value.column == "period_start"
    dup = pd.concat([cov, cov.head(1)])
    with pytest.raises(DataError, match="must not repeat"):
        dynamic_covariates(tx, dup, observation_period_end="2006-12-31")
    # predictions beyond the periods given
    few = tx[tx.customer_id <= 150]
    short = dynamic_covariates(few, cov[cov.period_start <= "2007-01-07"], observation_period_end="2006-12-31")
    model = ParetoNBD(purchase_covariates=["gender"], dropout_covariates=["channel"]).fit(short)
    with pytest.raises(DataError, match="prediction period"):
        model.expected_purchases(short, 10)
    assert model.expected_purchases(short, 1).notna().all()


def test_dynamic_covariate_values_are_checked(apparel):
    dyn, _ = apparel
    bad = dyn.periods.copy()
    bad.loc[5, "high_season"] = np.nan
    broken = DynamicCovariates(dyn.summary, dyn.first_purchase, dyn.repeat_purchases, bad, dyn.period_length,
                               dyn.customer_id_col, dyn.time_unit, dyn.observation_period_end)
    with pytest.raises(DataError) as err:
        ParetoNBD(purchase_covariates=["high_season"]).fit(broken)
    assert err.value.column == "high_season" and list(err.value.rows.index) == [5]
    with pytest.raises(DataError, match="constant"):
        ParetoNBD(purchase_covariates=["one"]).fit(DynamicCovariates(
            dyn.summary, dyn.first_purchase, dyn.repeat_purchases, dyn.periods.assign(one=1), dyn.period_length,
            dyn.customer_id_col, dyn.time_unit, dyn.observation_period_end))
    with pytest.raises(ValueError, match="needs covariates"):
        ParetoNBD().fit(dyn)
    from crm_models.clv import BetaGeo

    with pytest.raises(TypeError, match="only ParetoNBD"):
        BetaGeo(purchase_covariates=["gender"]).fit(dyn)
