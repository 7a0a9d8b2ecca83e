"""The shared model contract: validation, compression, unfitted errors, summary, JSON, penalty."""

import json

import numpy as np
import pandas as pd
import pytest

from crm_models.clv import (
    BaseModel,
    BetaGeo,
    ConvergenceError,
    GammaGamma,
    ModelSummary,
    ModifiedBetaGeo,
    NotFittedError,
    ParetoNBD,
    compress,
    simulate_beta_geo,
)


@pytest.fixture(scope="module")
def small():
    data = simulate_beta_geo(3000, {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}, 39.0, seed=11, time_grid=1 / 7)
    data["monetary_value"] = np.where(data["frequency"] > 0, 20.0 + data.index % 7, 0.0)
    return data


@pytest.fixture(scope="module")
def bg(small):
    return BetaGeo().fit(small)


def good():
    return pd.DataFrame({"frequency": [0, 2, 1], "recency": [0.0, 5.0, 3.0], "T": [10.0, 10.0, 4.0]})


@pytest.mark.parametrize(
    "change, column, rule",
    [
        (lambda d: d.drop(columns="recency"), "recency", "missing column"),
        (lambda d: d.assign(frequency=[0, np.nan, 1]), "frequency", "NaN"),
        (lambda d: d.assign(frequency=[0, -1, 1]), "frequency", "must not be negative"),
        (lambda d: d.assign(frequency=[0, 1.5, 1]), "frequency", "whole number"),
        (lambda d: d.assign(recency=[0.0, 11.0, 3.0]), "recency", "must not exceed 'T'"),
        (lambda d: d.assign(recency=[1.0, 5.0, 3.0]), "recency", "must be 0 when 'frequency' is 0"),
        (lambda d: d.assign(T=[10.0, 10.0, -1.0]), "T", "must not be negative"),
        (lambda d: d.assign(recency=[0.0, "x", 3.0]), "recency", "numeric"),
        (lambda d: d.iloc[:0], "", "empty"),
    ],
)
@pytest.mark.parametrize("model", [BetaGeo, ModifiedBetaGeo, ParetoNBD])
def test_bad_input_names_column_and_rule(model, change, column, rule):
    with pytest.raises(ValueError) as err:
        model().fit(change(good()))
    msg = str(err.value)
    assert rule in msg
    assert column in msg


def test_error_shows_offending_rows():
    d = good().assign(recency=[0.0, 11.0, 3.0])
    d.index = pd.Index(["anne", "bob", "cleo"], name="customer_id")
    with pytest.raises(ValueError, match=r"1 of 3 rows[\s\S]*bob"):
        BetaGeo().fit(d)


def test_gamma_gamma_validation():
    d = good().assign(monetary_value=[0.0, 0.0, 5.0])
    with pytest.raises(ValueError, match="'monetary_value' must be positive for customers with 'frequency' > 0"):
        GammaGamma().fit(d)
    with pytest.raises(ValueError, match="no customer with 'frequency' > 0"):
        GammaGamma().fit(d.assign(frequency=0, recency=0.0))
    with pytest.raises(ValueError, match="missing column"):
        GammaGamma().fit(d.drop(columns="monetary_value"))


def test_column_names_are_configurable(small, bg):
    renamed = small.rename(columns={"frequency": "f", "recency": "rec", "T": "age"})
    m = BetaGeo(frequency_col="f", recency_col="rec", T_col="age").fit(renamed)
    np.testing.assert_allclose(m.params_, bg.params_)
    pd.testing.assert_series_equal(m.probability_alive(renamed), bg.probability_alive(small))


def test_compression_is_exact_and_weights_work(small, bg):
    unique, counts, inverse = compress({c: small[c].to_numpy() for c in ("frequency", "recency", "T")})
    assert counts.sum() == len(small) and len(counts) == bg.n_unique_ < len(small)
    np.testing.assert_array_equal(unique["recency"][inverse], small["recency"].to_numpy())
    grouped = small.groupby(["frequency", "recency", "T"]).size().rename("n").reset_index()
    m = BetaGeo().fit(grouped, weights_col="n")
    np.testing.assert_allclose(m.params_, bg.params_, rtol=1e-6)
    assert m.log_likelihood_ == pytest.approx(bg.log_likelihood_) and m.n_obs_ == len(small)


def test_predictions_keep_the_customer_index(bg, small):
    d = small.head(20).copy()
    d.index = pd.Index([f"c{i}" for i in range(20)], name="customer_id")
    for out in (bg.expected_purchases(d, 10), bg.probability_alive(d)):
        assert out.index.equals(d.index)


@pytest.mark.parametrize("model", [BetaGeo(), ParetoNBD(), GammaGamma()])
def test_unfitted_model_raises_one_clear_error(model, small):
    calls = [model.summary, lambda: model.save("x.json"), lambda: model.sample_params(3)]
    if isinstance(model, GammaGamma):
        calls.append(lambda: model.expected_spend(small))
    else:
        calls += [lambda: model.expected_purchases(small, 1), lambda: model.probability_alive(small)]
    for call in calls:
        with pytest.raises(NotFittedError, match="not fitted yet: call .fit"):
            call()


def test_summary_renders_text_and_html(bg):
    s = bg.summary()
    assert isinstance(s, ModelSummary)
    text = repr(s)
    for word in ("BG/NBD", "estimate", "std_err", "lower_95", "upper_95", "Log-likelihood", "AIC", "BIC", "3,000"):
        assert word in text
    html = s._repr_html_()
    assert html.startswith("<div>") and "<table" in html and "upper_95" in html
    t = s.table
    assert ((t["lower_95"] < t["estimate"]) & (t["estimate"] < t["upper_95"])).all()
    assert bg.aic_ == pytest.approx(8 - 2 * bg.log_likelihood_)


def test_sample_params_draws_around_the_estimate(bg):
    draws = bg.sample_params(4000, seed=3)
    assert list(draws.columns) == ["r", "alpha", "a", "b"] and (draws > 0).all().all()
    np.testing.assert_allclose(np.log(draws).std(), np.sqrt(np.diag(bg.covariance_log_)), rtol=0.1)
    pd.testing.assert_frame_equal(draws, bg.sample_params(4000, seed=3))


@pytest.mark.parametrize("model_class", [BetaGeo, ModifiedBetaGeo, ParetoNBD, GammaGamma])
def test_json_round_trip(model_class, small, tmp_path):
    m = model_class(penalizer=0.001).fit(small)
    path = m.save(tmp_path / "model.json")
    doc = json.loads(path.read_text())
    assert doc["model"] == model_class.__name__ and doc["format_version"] == 1
    loaded = model_class.load(path)
    pd.testing.assert_series_equal(loaded.params_, m.params_)
    pd.testing.assert_frame_equal(loaded.covariance_, m.covariance_)
    assert loaded.log_likelihood_ == m.log_likelihood_ and loaded.get_params() == m.get_params()
    assert type(BaseModel.load(path)) is model_class
    if model_class is GammaGamma:
        pd.testing.assert_series_equal(loaded.expected_spend(small), m.expected_spend(small))
    else:
        pd.testing.assert_series_equal(loaded.expected_purchases(small, 5), m.expected_purchases(small, 5))


def test_load_validates_and_never_runs_code(bg, tmp_path):
    path = bg.save(tmp_path / "bg.json")
    doc = json.loads(path.read_text())
    with pytest.raises(ValueError, match="holds a BetaGeo, not a ParetoNBD"):
        ParetoNBD.load(path)
    for key, value, match in [
        ("format_version", 99, "unsupported format_version"),
        ("model", "os.system", "unknown model"),
        ("params", {"r": -1, "alpha": 1, "a": 1, "b": 1}, "finite and positive"),
        ("params", {"r": 1}, "keys"),
        ("hyper_parameters", {"penalizer": 0.0, "evil": "__import__('os')"}, "hyper_parameters"),
        ("covariance_log", [[1.0]], "matrix"),
    ]:
        bad = dict(doc, **{key: value})
        (tmp_path / "bad.json").write_text(json.dumps(bad))
        with pytest.raises(ValueError, match=match):
            BetaGeo.load(tmp_path / "bad.json")
    (tmp_path / "junk.json").write_text("not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        BetaGeo.load(tmp_path / "junk.json")


def test_penalizer_shrinks_and_is_validated(small, bg):
    pen = BetaGeo(penalizer=0.1).fit(small)
    assert np.abs(np.log(pen.params_)).sum() < np.abs(np.log(bg.params_)).sum()
    assert pen.log_likelihood_ < bg.log_likelihood_
    with pytest.raises(ValueError, match="penalizer must be"):
        BetaGeo(penalizer=-1).fit(small)


def test_unidentified_fit_raises_convergence_error_with_advice():
    # nobody ever repeats: the purchase rate's shape runs off to zero
    d = pd.DataFrame({"frequency": [0] * 50, "recency": [0.0] * 50, "T": np.linspace(1, 50, 50)})
    with pytest.raises(ConvergenceError, match="penalizer"):
        BetaGeo().fit(d)
    BetaGeo(penalizer=0.01).fit(d)  # the advice works


def test_fit_returns_self_and_init_only_stores(small):
    m = BetaGeo(penalizer=0.0)
    assert not hasattr(m, "params_") and m.get_params()["penalizer"] == 0.0
    assert m.fit(small) is m
    assert not any(isinstance(v, pd.DataFrame) and len(v) == len(small) for v in vars(m).values())


def test_docstring_examples_run():
    import doctest

    import crm_models.clv.beta_geo as module

    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0


@pytest.mark.parametrize("model", [BetaGeo, ModifiedBetaGeo, ParetoNBD])
def test_customers_acquired_on_the_last_day_are_valid(model):
    """rfm_summary gives T = 0 to a customer whose first purchase is on the last day observed:
    such rows add nothing to the likelihood and are scored as just-acquired customers."""
    from crm_models.clv import simulate_beta_geo

    base = simulate_beta_geo(2000, {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}, 39.0, seed=1)
    fresh = pd.DataFrame({"frequency": [0], "recency": [0.0], "T": [0.0]}, index=["new"])
    without = model().fit(base)
    with_fresh = model().fit(pd.concat([base, fresh]))
    assert with_fresh.log_likelihood_ == pytest.approx(without.log_likelihood_, abs=1e-6)
    assert np.isfinite(with_fresh.probability_alive(fresh)).all()
    assert with_fresh.expected_purchases(fresh, 10.0).iloc[0] == pytest.approx(
        with_fresh.expected_purchases_new_customer(10.0), rel=1e-6)
