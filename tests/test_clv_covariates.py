"""Covariates in the lifetime-value models: the CLVTools reference, exact gradients, recovery of known
effects for every model, predictions per customer, clear errors, persistence and the likelihood-ratio test."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.base import clone

import crm_models
from crm_models import rfm_summary
from crm_models.clv import (
    BetaGeo,
    BetaGeoBetaBinom,
    GammaGamma,
    ModifiedBetaGeo,
    ParetoNBD,
    ShiftedBetaGeo,
    customer_lifetime_value,
    join_covariates,
    likelihood_ratio_test,
)
from crm_models.clv._covariates import CovariateSpec, _Problem, covariate_matrix, patterns
from crm_models.clv.base import compress
from crm_models.clv.covariates import simulate_with_covariates
from crm_models.datasets import load_apparel
from crm_models.errors import DataError, ModelFileError

BG = {"r": 0.5, "alpha": 4.0, "a": 0.8, "b": 2.5}
PNBD = {"r": 0.6, "alpha": 5.0, "s": 0.8, "beta": 12.0}
GG = {"p": 6.0, "q": 4.0, "gamma": 15.0}
BGBB = {"alpha": 1.2, "beta": 0.75, "gamma": 0.66, "delta": 2.8}
SBG = {"alpha": 0.7, "beta": 1.2}


def _covariates(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"promo": rng.integers(0, 2, n), "young": rng.integers(0, 2, n),
                         "score": np.round(rng.normal(size=n), 1)}, index=pd.RangeIndex(n, name="customer_id"))


def _problem(model, data):
    """The covariate objective of ``model`` on ``data`` (test access to the likelihood at given parameters)."""
    model._check_params()
    spec = CovariateSpec.from_model(model)
    model._covariate_spec_ = spec
    x, t_x, T = model._validate(data)
    Z = covariate_matrix(data, spec.all_columns)
    u, c, _ = compress({"x": x, "t_x": t_x, "T": T, **{f"z{j}": Z[:, j] for j in range(Z.shape[1])}})
    Zu = np.column_stack([u[f"z{j}"] for j in range(Z.shape[1])])
    Zg, gid = patterns(Zu)
    arrays = model._covariate_family.make_arrays(u["x"], u["t_x"], u["T"], gid)
    return _Problem(model, model._covariate_family, spec, arrays, c, c.sum(), Zg)


def _loglik(model, data, params, coefficients) -> float:
    pr = _problem(model, data)
    theta = np.concatenate([np.log([params[k] for k in model._param_names]),
                            [coefficients[k] for k in pr.spec.names]])
    return -pr.nll(theta)[0]


# ---------------------------------------------------------------------------------------------
# the reference: CLVTools' Pareto/NBD with static covariates on its apparel data
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def apparel() -> pd.DataFrame:
    """CLVTools' clvdata(apparelTrans, time.unit="week", estimation.split=104) with apparelStaticCov."""
    rfm = rfm_summary(load_apparel(), observation_period_end="2006-12-31", after_end="drop")
    return join_covariates(rfm, load_apparel("static_covariates"))


#: CLVTools 0.12.1, vignette "Advanced and Very Advanced Modeling Techniques in CLVTools" (2025-09-21),
#: section 4: latentAttrition(~ . | ., family = pnbd, data = clv.apparel.static); its life.* are our
#: dropout.*, its trans.* our purchase.*, constr.* our shared.*.
CLVTOOLS_FULL = {
    "estimate": {"r": 1.8378, "alpha": 92.9123, "s": 0.5920, "beta": 49.6227, "dropout.gender": -0.6430,
                 "dropout.channel": 0.7907, "purchase.gender": 0.2859, "purchase.channel": 0.6241},
    "std_err": {"r": 0.3455, "alpha": 16.9670, "s": 0.2609, "beta": 36.2509, "dropout.gender": 0.2955,
                "dropout.channel": 0.3059, "purchase.gender": 0.1041, "purchase.channel": 0.1050},
    "log_likelihood": -5821.0627,
}
CLVTOOLS_CONSTRAINED = {
    "estimate": {"r": 1.7939, "alpha": 94.7223, "s": 0.4287, "beta": 59.0743, "dropout.channel": 1.0228,
                 "purchase.channel": 0.6384, "shared.gender": 0.3283},
    "std_err": {"r": 0.3318, "alpha": 17.2216, "s": 0.1418, "beta": 34.5098, "dropout.channel": 0.3542,
                "purchase.channel": 0.1064, "shared.gender": 0.1074},
    "log_likelihood": -5826.5342,
}


def _full():
    return ParetoNBD(purchase_covariates=["gender", "channel"], dropout_covariates=["gender", "channel"])


def _constrained():
    return ParetoNBD(purchase_covariates=["channel"], dropout_covariates=["channel"], shared_covariates=["gender"])


@pytest.mark.parametrize("make, reference", [(_full, CLVTOOLS_FULL), (_constrained, CLVTOOLS_CONSTRAINED)],
                         ids=["full", "gender_shared"])
def test_pareto_nbd_with_static_covariates_reproduces_clvtools(apparel, make, reference):
    est = reference["estimate"]
    base = {k: v for k, v in est.items() if "." not in k}
    coefs = {k: v for k, v in est.items() if "." in k}
    # the likelihood: at CLVTools' printed estimates it is CLVTools' printed log-likelihood
    assert round(_loglik(make(), apparel, base, coefs), 4) == reference["log_likelihood"]
    # the maximum: the same log-likelihood to CLVTools' printed precision (ours is at least as high) and the
    # same estimates and standard errors: they differ from CLVTools' printed ones by less than 1% of a
    # standard error (CLVTools' optimiser stops a little earlier on this flat likelihood)
    model = make().fit(apparel)
    assert round(model.log_likelihood_, 4) == reference["log_likelihood"]
    assert model.log_likelihood_ >= _loglik(make(), apparel, base, coefs) - 1e-9
    table = model.summary().to_frame()
    for name, value in est.items():
        se = reference["std_err"][name]
        assert abs(table.loc[name, "estimate"] - value) < 0.01 * se, name
        assert abs(table.loc[name, "std_err"] / se - 1) < 0.01, name


def test_likelihood_ratio_test_reproduces_clvtools(apparel):
    """CLVTools' lrtest(constrained, full): Chisq 10.943 on 1 df, Pr(>Chisq) 0.0009396."""
    test = likelihood_ratio_test(_constrained().fit(apparel), _full().fit(apparel))
    assert round(test.stats["Statistic"], 3) == 10.943 and test.stats["Degrees of freedom"] == 1
    assert round(test.stats["p-value"], 7) == pytest.approx(0.0009396, abs=2e-7)
    assert list(test.to_frame().columns) == ["n_params", "log_likelihood", "df", "statistic", "p_value"]


def test_regularised_coefficients_match_clvtools(apparel):
    """Same vignette, section 2: reg.lambdas = c(trans = 0.1, life = 0.2) (estimates to the stopping tolerance)."""
    model = ParetoNBD(purchase_covariates=["gender", "channel"], dropout_covariates=["gender", "channel"],
                      covariate_penalizer={"purchase": 0.1, "dropout": 0.2}).fit(apparel)
    expected = {"dropout.gender": -0.04437, "dropout.channel": 0.02465, "purchase.gender": 0.17178,
                "purchase.channel": 0.23676}
    for name, value in expected.items():
        assert model.coefficients_[name] == pytest.approx(value, abs=2e-4), name
    for name, value in {"r": 1.73887, "alpha": 69.85288, "s": 0.53350, "beta": 39.68346}.items():
        assert model.params_[name] == pytest.approx(value, rel=3e-3), name
    assert "penalty" in " ".join(model.summary().notes)


def test_pareto_nbd_without_covariates_on_apparel_matches_clvtools(apparel):
    """Same vignette, section 6: the Pareto/NBD without covariates, with the Hessian's standard errors."""
    model = ParetoNBD().fit(apparel)
    est = {"r": 1.4489768, "alpha": 48.6360845, "s": 0.5612598, "beta": 46.8843633}
    se = {"r": 0.2434282, "alpha": 7.4891816, "s": 0.2710479, "beta": 35.6114114}
    for k in est:
        assert abs(model.params_[k] - est[k]) < 0.01 * se[k], k
        assert model.standard_errors_[k] == pytest.approx(se[k], rel=0.01), k


# ---------------------------------------------------------------------------------------------
# exact gradients, and the same likelihood as without covariates when every coefficient is 0
# ---------------------------------------------------------------------------------------------


def _gradient_case(cls):
    cov = _covariates(600, seed=3)
    if cls is BetaGeoBetaBinom:
        model = cls(purchase_covariates=["promo", "score"], dropout_covariates=["young"])
        data = simulate_with_covariates(model, cov, BGBB, {"purchase.promo": 0.3, "purchase.score": 0.2,
                                                            "dropout.young": -0.2}, n_opportunities=6)
        base = BGBB
    else:
        model = cls(purchase_covariates=["promo", "score"], dropout_covariates=["promo"], shared_covariates=["young"])
        base = PNBD if cls is ParetoNBD else BG
        coefs = {"purchase.promo": 0.3, "purchase.score": 0.2, "dropout.promo": 0.5, "shared.young": -0.3}
        T = np.random.default_rng(1).uniform(20, 80, len(cov))
        data = simulate_with_covariates(model, cov, base, coefs, T=T, time_grid=1 / 7)
    return model, data, base


@pytest.mark.parametrize("cls", [BetaGeo, ModifiedBetaGeo, ParetoNBD, BetaGeoBetaBinom])
def test_covariate_likelihoods_have_exact_gradients(cls):
    model, data, base = _gradient_case(cls)
    pr = _problem(model, data)
    rng = np.random.default_rng(0)
    theta = np.concatenate([np.log(list(base.values())) + rng.normal(0, 0.1, pr.k0), rng.normal(0, 0.3, pr.K - pr.k0)])
    value, grad = pr.nll(theta)
    h = 1e-5
    numeric = np.array([(pr.nll(theta + e)[0] - pr.nll(theta - e)[0]) / (2 * h) for e in np.eye(pr.K) * h])
    tol = 1e-4 if cls is ParetoNBD else 1e-6  # Pareto/NBD: derivative of the exact integral, quadrature to ~1e-6
    assert np.all(np.abs(grad - numeric) <= tol * (1 + np.abs(numeric))), (grad, numeric)


@pytest.mark.parametrize("cls", [BetaGeo, ModifiedBetaGeo, ParetoNBD, BetaGeoBetaBinom])
def test_zero_coefficients_give_the_likelihood_without_covariates(cls):
    model, data, base = _gradient_case(cls)
    pr = _problem(model, data)
    plain = cls().fit(data)
    theta = np.concatenate([np.log(plain.params_.to_numpy()), np.zeros(pr.K - pr.k0)])
    # Pareto/NBD without covariates takes the closed form where it is stable, the covariate path
    # integrates by quadrature: the two agree to about 1e-10 relative
    rel = 1e-9 if cls is ParetoNBD else 1e-12
    assert -pr.nll(theta)[0] == pytest.approx(plain.log_likelihood_, rel=rel, abs=1e-9)


def test_no_covariates_means_the_model_of_today():
    """None and [] are the same model, without any covariate attribute; refitting without forgets them."""
    from crm_models.datasets import load_cdnow

    rfm = rfm_summary(load_cdnow(), observation_period_end="1997-09-30", after_end="drop")
    plain = BetaGeo().fit(rfm)
    empty = BetaGeo(purchase_covariates=[], dropout_covariates=[], shared_covariates=[]).fit(rfm)
    assert json.dumps(plain.to_dict()["fitted"], sort_keys=True) == json.dumps(empty.to_dict()["fitted"],
                                                                                  sort_keys=True)
    assert not hasattr(plain, "coefficients_")
    assert plain.params_.round(3).to_dict() == {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    rfm["z"] = np.arange(len(rfm)) % 2
    model = BetaGeo(purchase_covariates=["z"]).fit(rfm)
    assert hasattr(model, "coefficients_")
    model.set_params(purchase_covariates=None).fit(rfm)
    assert not hasattr(model, "coefficients_") and model.params_.equals(plain.params_)


# ---------------------------------------------------------------------------------------------
# recovery of known effects, every model
# ---------------------------------------------------------------------------------------------


def _assert_recovers(model, params, coefficients, k=4.0):
    se = model.standard_errors_
    for name, value in coefficients.items():
        est = model.coefficients_[name]
        assert abs(est - value) < k * se[name], f"{name}: {est:.3f} +/- {se[name]:.3f}, true {value}"
    se_log = np.sqrt(np.diag(model.covariance_log_.to_numpy()))[: len(params)]
    for (name, value), s in zip(params.items(), se_log):
        est = model.params_[name]
        assert abs(np.log(est / value)) < k * s, f"{name}: {est:.3f}, true {value}"


@pytest.mark.parametrize("cls, params", [(BetaGeo, BG), (ModifiedBetaGeo, BG), (ParetoNBD, PNBD)],
                         ids=["BetaGeo", "ModifiedBetaGeo", "ParetoNBD"])
def test_continuous_time_models_recover_simulated_effects(cls, params):
    cov = _covariates(12_000, seed=5)
    model = cls(purchase_covariates=["promo", "score"], dropout_covariates=["promo"], shared_covariates=["young"])
    coefs = {"purchase.promo": -0.4, "purchase.score": 0.25, "dropout.promo": 0.8, "shared.young": 0.3}
    T = np.random.default_rng(2).uniform(30, 104, len(cov))
    data = simulate_with_covariates(model, cov, params, coefs, random_state=11, T=T, time_grid=1 / 7)
    _assert_recovers(model.fit(data), params, coefs)


def test_gamma_gamma_recovers_simulated_spend_effects():
    cov = _covariates(8000, seed=6)
    freq = np.random.default_rng(3).integers(0, 8, len(cov))
    model = GammaGamma(spend_covariates=["promo", "score"])
    coefs = {"spend.promo": -0.3, "spend.score": 0.15}
    data = simulate_with_covariates(model, cov, GG, coefs, random_state=4, frequency=freq)
    _assert_recovers(model.fit(data), GG, coefs)


def test_bgbb_recovers_simulated_propensity_effects():
    cov = _covariates(8000, seed=7)
    model = BetaGeoBetaBinom(purchase_covariates=["promo"], dropout_covariates=["score"], shared_covariates=["young"])
    coefs = {"purchase.promo": 0.5, "dropout.score": -0.3, "shared.young": 0.4}
    data = simulate_with_covariates(model, cov, BGBB, coefs, random_state=5, n_opportunities=6)
    _assert_recovers(model.fit(data), BGBB, coefs)


def test_sbg_recovers_simulated_churn_effects_from_stacked_cohorts():
    cohorts = pd.DataFrame({"promo": [0, 1, 0, 1, 0, 1], "monthly": [0, 0, 1, 1, 0, 1]})
    model = ShiftedBetaGeo(dropout_covariates=["promo", "monthly"])
    coefs = {"dropout.promo": 0.6, "dropout.monthly": -0.4}
    data = simulate_with_covariates(model, cohorts, SBG, coefs, random_state=6, n_customers=4000, n_periods=8)
    assert list(data.columns) == ["period", "survivors", "promo", "monthly"] and len(data) == 6 * 9
    fitted = model.fit(data)
    _assert_recovers(fitted, SBG, coefs)
    assert fitted.n_periods_ == 8


# ---------------------------------------------------------------------------------------------
# predictions use each customer's covariates
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def two_groups():
    cov = _covariates(4000, seed=9)[["promo"]]
    out = {}
    for cls, params in ((BetaGeo, BG), (ModifiedBetaGeo, BG), (ParetoNBD, PNBD)):
        model = cls(purchase_covariates=["promo"], dropout_covariates=["promo"])
        data = simulate_with_covariates(model, cov, params, {"purchase.promo": -0.5, "dropout.promo": 0.7},
                                        T=52.0, time_grid=1 / 7)
        out[cls] = (model.fit(data), data)
    return out


def _twin(model, profile, data):
    """A model without covariates whose parameters are those of one covariate profile."""
    twin = type(model)().fit(data[["frequency", "recency", "T"]])
    twin.params_ = pd.Series(model._profile_params(profile), name="estimate")
    return twin


@pytest.mark.parametrize("cls", [BetaGeo, ModifiedBetaGeo, ParetoNBD])
def test_per_customer_predictions_are_those_of_each_customers_parameters(two_groups, cls):
    model, data = two_groups[cls]
    sample = data.groupby("promo").head(40)
    for value in (0, 1):
        rows = sample[sample.promo == value]
        twin = _twin(model, {"promo": value}, data)
        for a, b in ((model.expected_purchases(rows, 26), twin.expected_purchases(rows, 26)),
                     (model.probability_alive(rows), twin.probability_alive(rows)),
                     (model.expected_purchases_new_customer([4, 52], covariates={"promo": value}),
                      twin.expected_purchases_new_customer([4, 52])),
                     (model.probability_of_n_purchases(26, [0, 1, 3], covariates={"promo": value}),
                      twin.probability_of_n_purchases(26, [0, 1, 3]))):
            rtol = 1e-7 if cls is ParetoNBD else 1e-10  # quadrature vs closed form (see above)
            np.testing.assert_allclose(a.to_numpy(), b.to_numpy(), rtol=rtol, atol=1e-12)
            assert a.index.equals(b.index)
    # customer lifetime value sums the per-customer expectations
    clv = customer_lifetime_value(model, 30.0, sample, horizon=(1, "Y"), time_unit="W", discount_rate=(0.1, "Y"))
    twin_clv = pd.concat([customer_lifetime_value(_twin(model, {"promo": v}, data), 30.0, sample[sample.promo == v],
                                                  horizon=(1, "Y"), time_unit="W", discount_rate=(0.1, "Y"))
                          for v in (0, 1)]).reindex(sample.index)
    np.testing.assert_allclose(clv.to_numpy(), twin_clv.to_numpy(), rtol=1e-7 if cls is ParetoNBD else 1e-10)


def test_two_otherwise_identical_customers_differ_by_their_covariates(two_groups):
    model, _ = two_groups[BetaGeo]
    pair = pd.DataFrame({"frequency": [3, 3], "recency": [30.0, 30.0], "T": [52.0, 52.0], "promo": [0, 1]})
    expected = model.expected_purchases(pair, 52)
    assert expected.iloc[1] < expected.iloc[0]  # buys less often and leaves sooner, as simulated
    ci = model.interval("expected_purchases", pair, 52, n_draws=60)
    assert (ci["lower"] <= ci["estimate"]).all() and (ci["estimate"] <= ci["upper"]).all()
    assert list(model.sample_params(5).columns) == ["r", "alpha", "a", "b", "purchase.promo", "dropout.promo"]


def test_gamma_gamma_bgbb_and_sbg_predictions_use_the_covariates():
    cov = _covariates(3000, seed=10)[["promo"]]
    freq = np.random.default_rng(0).integers(0, 6, len(cov))
    gg = GammaGamma(spend_covariates=["promo"])
    data = simulate_with_covariates(gg, cov, GG, {"spend.promo": 0.4}, frequency=freq)
    gg.fit(data)
    p0, p1 = gg._profile_params({"promo": 0}), gg._profile_params({"promo": 1})
    assert gg.expected_spend_new_customer({"promo": 1}) / gg.expected_spend_new_customer({"promo": 0}) == \
        pytest.approx(np.exp(gg.coefficients_["spend.promo"]))
    spend = gg.expected_spend(data.head(10))
    manual = [(p["gamma"] + m * x) * p["p"] / (p["p"] * x + p["q"] - 1)
              for p, m, x in zip([p1 if z else p0 for z in data.promo.head(10)], data.monetary_value.head(10),
                                 data.frequency.head(10))]
    np.testing.assert_allclose(spend.to_numpy(), manual, rtol=1e-12)

    bb = BetaGeoBetaBinom(purchase_covariates=["promo"], dropout_covariates=["promo"])
    data = simulate_with_covariates(bb, cov, BGBB, {"purchase.promo": 0.4, "dropout.promo": -0.3}, n_opportunities=6)
    bb.fit(data)
    rows = data.head(30)
    for value in (0, 1):
        sub = rows[rows.promo == value]
        twin = BetaGeoBetaBinom().fit(data.drop(columns="promo"))
        twin.params_ = pd.Series(bb._profile_params({"promo": value}), name="estimate")
        np.testing.assert_allclose(bb.expected_purchases(sub, 3), twin.expected_purchases(sub, 3), rtol=1e-10)
        np.testing.assert_allclose(bb.probability_alive(sub, opportunities_ahead=1),
                                   twin.probability_alive(sub, opportunities_ahead=1), rtol=1e-10)
        np.testing.assert_allclose(bb.expected_pattern_counts(6, 100, covariates={"promo": value}),
                                   twin.expected_pattern_counts(6, 100), rtol=1e-10)

    sb = ShiftedBetaGeo(dropout_covariates=["promo"])
    cohorts = simulate_with_covariates(sb, pd.DataFrame({"promo": [0, 1]}), SBG, {"dropout.promo": 0.5},
                                       n_customers=3000, n_periods=6)
    sb.fit(cohorts)
    for value in (0, 1):
        twin = ShiftedBetaGeo().fit(cohorts[cohorts.promo == 0].drop(columns="promo"))
        twin.params_ = pd.Series(sb._profile_params({"promo": value}), name="estimate")
        np.testing.assert_allclose(sb.survival([1, 4, 9], covariates={"promo": value}), twin.survival([1, 4, 9]))
        assert sb.discounted_expected_lifetime((0.1, "Y"), covariates={"promo": value}) == pytest.approx(
            twin.discounted_expected_lifetime((0.1, "Y")))
    assert sb.survival([5], covariates={"promo": 1}).iloc[0] < sb.survival([5], covariates={"promo": 0}).iloc[0]


# ---------------------------------------------------------------------------------------------
# clear errors
# ---------------------------------------------------------------------------------------------


@pytest.fixture()
def small():
    cov = _covariates(300)
    data = simulate_with_covariates(BetaGeo(purchase_covariates=["promo"]), cov, BG, {"purchase.promo": 0.2}, T=30.0)
    return data.assign(young=cov["young"])


def _error(model, data) -> DataError:
    with pytest.raises(DataError) as err:
        model.fit(data)
    return err.value


def test_missing_covariate_column_is_named(small):
    err = _error(BetaGeo(dropout_covariates=["age"]), small)
    assert err.column == "age" and err.rule == "is missing"


def test_non_numeric_missing_and_infinite_covariates_show_their_rows(small):
    bad = small.assign(young=small.young.astype(object))
    bad.loc[[3, 7], "young"] = "yes"
    err = _error(BetaGeo(dropout_covariates=["young"]), bad)
    assert err.column == "young" and "numeric" in err.rule and list(err.rows.index) == [3, 7]
    assert "get_dummies" in str(err)
    bad = small.assign(young=small.young.astype(float))
    bad.loc[5, "young"] = np.nan
    err = _error(BetaGeo(purchase_covariates=["young"]), bad)
    assert err.column == "young" and "missing" in err.rule and list(err.rows.index) == [5]
    bad.loc[5, "young"] = np.inf
    err = _error(BetaGeo(purchase_covariates=["young"]), bad)
    assert err.column == "young" and "finite" in err.rule


def test_constant_and_collinear_covariates_are_refused(small):
    err = _error(BetaGeo(purchase_covariates=["one"]), small.assign(one=1))
    assert err.column == "one" and "constant" in err.rule
    err = _error(BetaGeo(purchase_covariates=["promo", "twice"]), small.assign(twice=2 * small.promo + 1))
    assert err.column == "twice" and "linear combination" in err.rule and "promo" in err.rule
    # collinear through a shared covariate on one process
    err = _error(BetaGeo(dropout_covariates=["promo"], shared_covariates=["not_promo"]),
                 small.assign(not_promo=1 - small.promo))
    assert err.column == "not_promo" and "dropout" in err.rule
    # the same column on two processes is not collinear
    BetaGeo(purchase_covariates=["promo"], dropout_covariates=["promo"]).fit(small)
    # spend, churn
    freq = small.frequency
    with pytest.raises(DataError, match="constant"):
        GammaGamma(spend_covariates=["one"]).fit(small.assign(one=1, monetary_value=np.where(freq > 0, 20.0, 0.0)))


def test_customers_without_covariate_rows_are_named():
    summary = pd.DataFrame({"frequency": [1, 0, 2]}, index=pd.Index([10, 11, 12], name="customer_id"))
    cov = pd.DataFrame({"customer_id": [10, 12, 99], "promo": [1, 0, 1]})
    with pytest.raises(DataError) as err:
        join_covariates(summary, cov)
    assert err.value.column == "customer_id" and list(err.value.rows.index) == [11]
    with pytest.raises(DataError, match="unique"):
        join_covariates(summary, pd.DataFrame({"customer_id": [10, 10, 11, 12], "promo": [1, 0, 1, 0]}))
    joined = join_covariates(summary, pd.DataFrame({"promo": [0, 1, 1]}, index=pd.Index([12, 11, 10],
                                                                                         name="customer_id")))
    assert joined.index.equals(summary.index) and joined.promo.tolist() == [1, 1, 0]


def test_prediction_data_and_new_customers_need_the_covariates(small):
    model = BetaGeo(purchase_covariates=["promo"]).fit(small)
    with pytest.raises(DataError) as err:
        model.expected_purchases(small.drop(columns="promo"), 10)
    assert err.value.column == "promo"
    with pytest.raises(ValueError, match="pass covariates"):
        model.expected_purchases_new_customer(10)
    with pytest.raises(ValueError, match=r"lacks the covariate\(s\) \['promo'\]"):
        model.probability_of_n_purchases(10, 1, covariates={"young": 1})
    with pytest.raises(ValueError, match="finite number"):
        model.expected_purchases_new_customer(10, covariates={"promo": "a"})
    with pytest.raises(ValueError, match="fitted without covariates"):
        BetaGeo().fit(small).expected_purchases_new_customer(10, covariates={"promo": 1})


@pytest.mark.parametrize("kwargs, message", [
    ({"purchase_covariates": "promo"}, "list of column names"),
    ({"purchase_covariates": ["promo", "promo"]}, "repeats a column"),
    ({"purchase_covariates": ["promo"], "shared_covariates": ["promo"]}, "list it only in shared_covariates"),
    ({"purchase_covariates": ["promo"], "covariate_penalizer": -1}, "finite number >= 0"),
    ({"purchase_covariates": ["promo"], "covariate_penalizer": {"spend": 1.0}}, "unknown process"),
])
def test_bad_covariate_hyper_parameters_are_refused(small, kwargs, message):
    with pytest.raises(ValueError, match=message):
        BetaGeo(**kwargs).fit(small)


def test_stacked_cohorts_must_be_well_formed():
    good = pd.DataFrame({"period": [0, 1, 2, 0, 1, 2], "survivors": [100, 60, 40, 100, 70, 55],
                         "promo": [0, 0, 0, 1, 1, 1]})
    ShiftedBetaGeo(dropout_covariates=["promo"]).fit(good)
    bad = good.assign(promo=[0, 0, 1, 1, 1, 1])
    with pytest.raises(DataError) as err:
        ShiftedBetaGeo(dropout_covariates=["promo"]).fit(bad)
    assert err.value.column == "promo" and "same in every row of a cohort" in err.value.rule
    with pytest.raises(DataError, match="without gaps"):
        ShiftedBetaGeo(dropout_covariates=["promo"]).fit(good.assign(period=[0, 1, 3, 0, 1, 2]))
    with pytest.raises(ValueError, match="unit='count'"):
        ShiftedBetaGeo(dropout_covariates=["promo"]).fit(good, unit="percent", cohort_size=100)


# ---------------------------------------------------------------------------------------------
# the estimator contract with covariates
# ---------------------------------------------------------------------------------------------


def _fitted_with_covariates():
    cov = _covariates(1500, seed=12)
    T = np.random.default_rng(0).uniform(20, 60, len(cov))
    out = {}
    for cls, params in ((BetaGeo, BG), (ModifiedBetaGeo, BG), (ParetoNBD, PNBD)):
        model = cls(purchase_covariates=["promo"], dropout_covariates=["young"], shared_covariates=["score"])
        data = simulate_with_covariates(model, cov, params, {"purchase.promo": 0.3, "dropout.young": 0.4,
                                                             "shared.score": 0.1}, T=T)
        out[cls.__name__] = model.fit(data)
    gg = GammaGamma(spend_covariates=["promo"], covariate_penalizer=0.01)
    out["GammaGamma"] = gg.fit(simulate_with_covariates(gg, cov, GG, {"spend.promo": 0.2},
                                                        frequency=np.arange(len(cov)) % 5))
    bb = BetaGeoBetaBinom(dropout_covariates=["promo"])
    out["BetaGeoBetaBinom"] = bb.fit(simulate_with_covariates(bb, cov, BGBB, {"dropout.promo": 0.3},
                                                              n_opportunities=5))
    sb = ShiftedBetaGeo(dropout_covariates=["promo"])
    out["ShiftedBetaGeo"] = sb.fit(simulate_with_covariates(sb, pd.DataFrame({"promo": [0, 1]}), SBG,
                                                            {"dropout.promo": 0.5}, n_customers=800, n_periods=6))
    return out


@pytest.mark.parametrize("name", ["BetaGeo", "ModifiedBetaGeo", "ParetoNBD", "GammaGamma", "BetaGeoBetaBinom",
                                  "ShiftedBetaGeo"])
def test_save_load_clone_and_summary_with_covariates(name, tmp_path):
    model = _fitted_with_covariates()[name]
    path = model.save(tmp_path / "m.json")
    back = crm_models.load(path)
    assert json.dumps(back.to_dict(), sort_keys=True) == json.dumps(model.to_dict(), sort_keys=True)
    assert back.coefficients_.equals(model.coefficients_) and back.covariance_.equals(model.covariance_)
    assert back.summary().to_frame().equals(model.summary().to_frame())
    assert clone(model).get_params() == model.get_params()
    doc = json.loads(path.read_text())
    first = next(iter(doc["fitted"]["coefficients"]))
    doc["fitted"]["coefficients"][first] = "strong"
    (tmp_path / "t.json").write_text(json.dumps(doc))
    with pytest.raises(ModelFileError, match="coefficients"):
        type(model).load(tmp_path / "t.json")
    doc = json.loads(path.read_text())
    doc["hyper_parameters"][next(k for k in doc["hyper_parameters"] if k.endswith("_covariates")
                                 and doc["hyper_parameters"][k])] = ["other"]
    (tmp_path / "u.json").write_text(json.dumps(doc))
    with pytest.raises(ModelFileError, match="coefficients"):
        type(model).load(tmp_path / "u.json")
    table = model.summary(alpha=0.1).to_frame()
    assert list(table.columns) == ["estimate", "std_err", "z", "p_value", "lower", "upper"]
    coefs = table.loc[model.coefficients_.index]
    assert coefs.p_value.between(0, 1).all() and (coefs.lower < coefs.estimate).all()
    assert table.loc[list(model.params_.index), "z"].isna().all()
    assert model.aic_ == pytest.approx(2 * (len(model.params_) + len(model.coefficients_)) - 2 * model.log_likelihood_)


def test_compare_models_counts_the_coefficients(small):
    from crm_models.clv import compare_models

    table = compare_models({"plain": BetaGeo().fit(small),
                            "promo": BetaGeo(purchase_covariates=["promo"], dropout_covariates=["promo"]).fit(small)})
    assert table["n_params"].tolist() == [4, 6]
    assert table.loc["promo", "aic"] == pytest.approx(12 - 2 * table.loc["promo", "log_likelihood"])


def test_likelihood_ratio_test_refuses_what_it_cannot_test(small):
    plain = BetaGeo().fit(small)
    full = BetaGeo(purchase_covariates=["promo"]).fit(small)
    other = BetaGeo(dropout_covariates=["young"]).fit(small)
    test = likelihood_ratio_test(plain, full)
    assert test.stats["Degrees of freedom"] == 1 and 0 <= test.stats["p-value"] <= 1
    with pytest.raises(ValueError, match="more free parameters"):
        likelihood_ratio_test(full, plain)
    with pytest.raises(ValueError, match="not nested"):
        likelihood_ratio_test(full, BetaGeo(dropout_covariates=["young", "promo"]).fit(small))
    with pytest.raises(ValueError, match="same class"):
        likelihood_ratio_test(ModifiedBetaGeo().fit(small), full)
    with pytest.raises(ValueError, match="penalty"):
        likelihood_ratio_test(plain, BetaGeo(purchase_covariates=["promo"], covariate_penalizer=0.1).fit(small))
    with pytest.raises(ValueError, match="different numbers of customers"):
        likelihood_ratio_test(BetaGeo().fit(small.head(200)), other)
    # a noise covariate: the test holds its level (p-values roughly uniform under the null)
    rng = np.random.default_rng(0)
    p_values = []
    for _ in range(30):
        noisy = small.assign(noise=rng.normal(size=len(small)))
        p_values.append(likelihood_ratio_test(plain, BetaGeo(purchase_covariates=["noise"]).fit(noisy))
                        .stats["p-value"])
    assert stats.kstest(p_values, "uniform").pvalue > 0.001
