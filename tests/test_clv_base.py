"""The shared model contract: validation, compression, the estimator contract, summary, intervals, JSON."""

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

import crm_models
from crm_models.base import Summary
from crm_models.clv import (
    BaseModel,
    BetaGeo,
    BetaGeoBetaBinom,
    ContinuousTimeModel,
    DiscreteTimeModel,
    GammaGamma,
    ModifiedBetaGeo,
    ParetoNBD,
    RepeatPurchaseModel,
    ShiftedBetaGeo,
    simulate_beta_geo,
    simulate_beta_geo_beta_binom,
    simulate_shifted_beta_geo,
)
from crm_models.clv.base import compress
from crm_models.errors import ConvergenceError, DataError, ModelFileError, NotFittedError

ALL_MODELS = [BetaGeo, ModifiedBetaGeo, ParetoNBD, GammaGamma, BetaGeoBetaBinom, ShiftedBetaGeo]


@pytest.fixture(scope="module")
def small():
    data = simulate_beta_geo(3000, {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}, 39.0, random_state=11,
                             time_grid=1 / 7)
    data["monetary_value"] = np.where(data["frequency"] > 0, 20.0 + data.index % 7, 0.0)
    return data


@pytest.fixture(scope="module")
def bg(small):
    return BetaGeo().fit(small)


@pytest.fixture(scope="module")
def discrete():
    return simulate_beta_geo_beta_binom(2000, {"alpha": 1.2, "beta": 0.75, "gamma": 0.66, "delta": 2.8}, 6,
                                        random_state=3)


@pytest.fixture(scope="module")
def cohort():
    return simulate_shifted_beta_geo(2000, {"alpha": 0.7, "beta": 1.2}, 6, random_state=1)


def _fit(cls, small, discrete, cohort, **params):
    """A fitted model of each class, on data of its kind, and a prediction to compare."""
    if cls is BetaGeoBetaBinom:
        m = cls(**params).fit(discrete)
        return m, lambda model: model.expected_purchases(discrete, 5)
    if cls is ShiftedBetaGeo:
        m = cls(**params).fit(cohort)
        return m, lambda model: model.survival(range(12))
    if cls is GammaGamma:
        m = cls(**params).fit(small)
        return m, lambda model: model.expected_spend(small)
    m = cls(**params).fit(small)
    return m, lambda model: model.expected_purchases(small, 5)


def good():
    return pd.DataFrame({"frequency": [0, 2, 1], "recency": [0.0, 5.0, 3.0], "T": [10.0, 10.0, 4.0]})


# ------------------------------------------------------------------------------- data checks
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
    with pytest.raises(DataError) as err:
        model().fit(change(good()))
    msg = str(err.value)
    assert rule in msg
    assert column in msg


def test_error_shows_offending_rows():
    d = good().assign(recency=[0.0, 11.0, 3.0])
    d.index = pd.Index(["anne", "bob", "cleo"], name="customer_id")
    with pytest.raises(DataError, match=r"1 of 3 rows[\s\S]*bob") as err:
        BetaGeo().fit(d)
    assert err.value.column == "recency" and err.value.rows.index.tolist() == ["bob"]


def test_gamma_gamma_validation():
    d = good().assign(monetary_value=[0.0, 0.0, 5.0])
    with pytest.raises(DataError, match="'monetary_value' must be positive for customers with 'frequency' > 0"):
        GammaGamma().fit(d)
    with pytest.raises(DataError, match="no customer with 'frequency' > 0"):
        GammaGamma().fit(d.assign(frequency=0, recency=0.0))
    with pytest.raises(DataError, match="missing column"):
        GammaGamma().fit(d.drop(columns="monetary_value"))


def test_weights_must_be_counts(small):
    with pytest.raises(DataError, match="'w' must not be negative"):
        BetaGeo().fit(small.head(3).assign(w=[1, -1, 1]), weights_col="w")
    with pytest.raises(DataError, match="sums to 0"):
        BetaGeo().fit(small.head(3).assign(w=0), weights_col="w")


def test_column_names_are_configurable(small, bg):
    renamed = small.rename(columns={"frequency": "f", "recency": "rec", "T": "age"})
    m = BetaGeo(frequency_col="f", recency_col="rec", T_col="age").fit(renamed)
    np.testing.assert_allclose(m.params_, bg.params_)
    pd.testing.assert_series_equal(m.probability_alive(renamed), bg.probability_alive(small))
    assert m.length_col == "age"


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
        assert isinstance(out, pd.Series) and out.index.equals(d.index)
    assert bg.probability_alive(d).name == "p_alive" and bg.expected_purchases(d, 1).name == "expected_purchases"


# ---------------------------------------------------------------------- the bases
def test_continuous_and_discrete_models_have_separate_bases():
    for cls in (BetaGeo, ModifiedBetaGeo, ParetoNBD):
        assert issubclass(cls, ContinuousTimeModel) and not issubclass(cls, DiscreteTimeModel)
    for cls in (BetaGeoBetaBinom, ShiftedBetaGeo):
        assert issubclass(cls, DiscreteTimeModel) and not issubclass(cls, ContinuousTimeModel)
    assert issubclass(BetaGeoBetaBinom, RepeatPurchaseModel) and not issubclass(ShiftedBetaGeo, RepeatPurchaseModel)
    assert all(issubclass(cls, BaseModel) and issubclass(cls, crm_models.base.CRMEstimator) for cls in ALL_MODELS)
    assert "T_col" not in BetaGeoBetaBinom().get_params() and BetaGeoBetaBinom().length_col == "n_opportunities"


# --------------------------------------------------------------- estimator contract
@pytest.mark.parametrize("cls", ALL_MODELS)
def test_clone_get_params_set_params(cls):
    model = cls(penalizer=0.01)
    params = model.get_params()
    assert params["penalizer"] == 0.01 and set(params) == set(cls._get_param_names())
    twin = clone(model)
    assert twin is not model and twin.get_params() == params
    assert model.set_params(penalizer=0.5) is model and model.penalizer == 0.5
    with pytest.raises(ValueError, match="Invalid parameter"):
        model.set_params(nonsense=1)


@pytest.mark.parametrize("cls", ALL_MODELS)
def test_clone_of_a_fitted_model_is_unfitted(cls, small, discrete, cohort):
    m, _ = _fit(cls, small, discrete, cohort)
    twin = clone(m)
    assert not hasattr(twin, "params_") and twin.get_params() == m.get_params()


@pytest.mark.parametrize(
    "params, match",
    [
        ({"penalizer": -1}, "penalizer must be a finite number >= 0"),
        ({"penalizer": float("nan")}, "penalizer must be"),
        ({"penalizer": "0.1"}, "penalizer must be"),
        ({"penalizer": True}, "penalizer must be"),
        ({"frequency_col": 3}, "frequency_col must be a column name"),
    ],
)
def test_hyper_parameters_are_checked_at_fit(params, match, small):
    with pytest.raises(ValueError, match=match):
        BetaGeo(**params).fit(small)


def test_sbg_time_unit_is_checked(cohort):
    with pytest.raises(ValueError, match="time_unit must be one of"):
        ShiftedBetaGeo(time_unit="year").fit(cohort)


@pytest.mark.parametrize("model", [BetaGeo(), ParetoNBD(), GammaGamma(), BetaGeoBetaBinom(), ShiftedBetaGeo()])
def test_unfitted_model_raises_one_clear_error(model, small, discrete, tmp_path):
    calls = [model.summary, lambda: model.save(tmp_path / "x.json"), lambda: model.sample_params(3),
             lambda: model.interval(model._predictions[0])]
    if isinstance(model, GammaGamma):
        calls.append(lambda: model.expected_spend(small))
    elif isinstance(model, ShiftedBetaGeo):
        calls.append(lambda: model.survival([1]))
    else:
        data = discrete if isinstance(model, BetaGeoBetaBinom) else small
        calls += [lambda: model.expected_purchases(data, 1), lambda: model.probability_alive(data),
                  lambda: model.expected_purchases_new_customer(1)]
    for call in calls:
        with pytest.raises(NotFittedError, match="not fitted yet: call"):
            call()


def test_fit_returns_self_and_keeps_no_data(small):
    m = BetaGeo(penalizer=0.0)
    assert not hasattr(m, "params_") and m.get_params()["penalizer"] == 0.0
    assert m.fit(small) is m
    assert not any(isinstance(v, (pd.DataFrame, pd.Series)) and len(v) == len(small) for v in vars(m).values())


# ------------------------------------------------------------------------ summary
def test_summary_is_the_one_summary_type(bg):
    s = bg.summary()
    assert isinstance(s, Summary)
    table = s.to_frame()
    assert list(table.columns) == ["estimate", "std_err", "lower", "upper"]
    text = repr(s)
    for word in ("BG/NBD", "estimate", "std_err", "Log-likelihood", "AIC", "BIC", "3,000", "95%"):
        assert word in text
    assert s._repr_html_().startswith("<div>")
    assert ((table["lower"] < table["estimate"]) & (table["estimate"] < table["upper"])).all()
    assert bg.aic_ == pytest.approx(8 - 2 * bg.log_likelihood_)
    narrow = bg.summary(alpha=0.5).to_frame()
    assert (narrow["upper"] < table["upper"]).all() and "50%" in repr(bg.summary(alpha=0.5))
    se_log = np.sqrt(np.diag(bg.covariance_log_))
    np.testing.assert_allclose(table["upper"], bg.params_ * np.exp(1.959963984540054 * se_log), rtol=1e-12)
    for bad in (0, 1, -0.1, "0.05", None):
        with pytest.raises(ValueError, match="alpha must be a number in"):
            bg.summary(alpha=bad)


# --------------------------------------------------------------- parameter draws
def test_sample_params_draws_around_the_estimate(bg):
    draws = bg.sample_params(4000, random_state=3)
    assert list(draws.columns) == ["r", "alpha", "a", "b"] and (draws > 0).all().all()
    np.testing.assert_allclose(np.log(draws).std(), np.sqrt(np.diag(bg.covariance_log_)), rtol=0.1)
    pd.testing.assert_frame_equal(draws, bg.sample_params(4000, random_state=3))
    pd.testing.assert_frame_equal(bg.sample_params(), bg.sample_params())  # default random_state=0
    assert len(bg.sample_params()) == 1000
    for bad in (0, 2.5, "10", True):
        with pytest.raises(ValueError, match="n_draws must be a positive whole number"):
            bg.sample_params(bad)


# ---------------------------------------------------------------------- interval()
@pytest.mark.parametrize(
    "quantity, args, index_name",
    [
        ("expected_purchases", ("data", 10), "customer_id"),
        ("probability_alive", ("data",), "customer_id"),
        ("expected_purchases_new_customer", ([1.0, 10.0, 39.0],), "t"),
        ("probability_of_n_purchases", (39, [0, 1, 2]), "n"),
    ],
)
def test_interval_shape_order_and_determinism(bg, small, quantity, args, index_name):
    data = small.iloc[40:60]
    args = tuple(data if a == "data" else a for a in args)
    ci = bg.interval(quantity, *args, n_draws=60, random_state=5)
    point = getattr(bg, quantity)(*args)
    assert list(ci.columns) == ["estimate", "lower", "upper"]
    assert ci.index.equals(point.index) and ci.index.name == index_name
    np.testing.assert_array_equal(ci["estimate"].to_numpy(), point.to_numpy())
    tol = 1e-12
    assert ((ci["lower"] <= ci["estimate"] + tol) & (ci["estimate"] <= ci["upper"] + tol)).all()
    pd.testing.assert_frame_equal(ci, bg.interval(quantity, *args, n_draws=60, random_state=5))
    wider = bg.interval(quantity, *args, alpha=0.02, n_draws=60, random_state=5)
    assert (wider["upper"] >= ci["upper"] - tol).all() and (wider["lower"] <= ci["lower"] + tol).all()


def test_interval_on_every_kind_of_model(small, discrete, cohort):
    gg = GammaGamma().fit(small)
    spend = gg.interval("expected_spend", small.head(5), n_draws=50)
    assert (spend["lower"] < spend["upper"]).all() and spend.index.equals(small.head(5).index)
    mean = gg.interval("expected_spend_new_customer", n_draws=50)
    assert mean.index.tolist() == ["expected_spend_new_customer"]
    assert mean["lower"].iloc[0] < mean["estimate"].iloc[0] < mean["upper"].iloc[0]
    bgbb = BetaGeoBetaBinom().fit(discrete)
    alive = bgbb.interval("probability_alive", discrete.head(4), opportunities_ahead=1, n_draws=50)
    pd.testing.assert_series_equal(alive["estimate"], bgbb.probability_alive(discrete.head(4), opportunities_ahead=1),
                                   check_names=False)
    sbg = ShiftedBetaGeo().fit(cohort)
    surv = sbg.interval("survival", range(1, 10), n_draws=50)
    assert surv.index.name == "period" and (surv["lower"] < surv["upper"]).all()
    derl = sbg.interval("discounted_expected_residual_lifetime", (0.1, "Y"), [0, 3], n_draws=50)
    assert derl.index.tolist() == [0, 3]


def test_interval_refuses_unknown_quantities_and_bad_alpha(bg, small):
    with pytest.raises(ValueError, match="quantity must name a prediction method of BetaGeo"):
        bg.interval("summary")
    with pytest.raises(ValueError, match="quantity must name"):
        bg.interval("expected_spend", small)
    with pytest.raises(ValueError, match="alpha must be"):
        bg.interval("probability_alive", small, alpha=1.5)


def test_interval_does_not_change_the_model(bg, small):
    before = bg.params_.copy()
    bg.interval("expected_purchases", small.head(5), 10, n_draws=20)
    pd.testing.assert_series_equal(bg.params_, before)


# ---------------------------------------------------------------- one return type
@pytest.mark.parametrize("cls", [BetaGeo, ModifiedBetaGeo, ParetoNBD])
def test_new_customer_predictions_are_series_for_scalar_and_array(cls, small):
    m = cls().fit(small)
    one = m.expected_purchases_new_customer(10)
    many = m.expected_purchases_new_customer(np.array([1.0, 10.0]))
    assert isinstance(one, pd.Series) and one.index.tolist() == [10.0] and one.index.name == "t"
    assert isinstance(many, pd.Series) and many.index.tolist() == [1.0, 10.0]
    assert one.iloc[0] == pytest.approx(many.iloc[1])
    p_one = m.probability_of_n_purchases(10, 2)
    p_many = m.probability_of_n_purchases(10, [0, 2])
    assert isinstance(p_one, pd.Series) and p_one.index.tolist() == [2] and p_one.index.name == "n"
    assert p_one.iloc[0] == pytest.approx(p_many.loc[2])
    with pytest.raises(ValueError, match="n must be whole numbers"):
        m.probability_of_n_purchases(10, 1.5)
    with pytest.raises(ValueError, match="non-negative"):
        m.expected_purchases_new_customer(-1)


def test_bgbb_new_customer_predictions_are_series(discrete):
    m = BetaGeoBetaBinom().fit(discrete)
    one = m.expected_purchases_new_customer(6)
    assert isinstance(one, pd.Series) and one.index.tolist() == [6]
    assert isinstance(m.probability_of_n_purchases(6, 0), pd.Series)


@pytest.mark.parametrize("cls", [BetaGeo, ModifiedBetaGeo, ParetoNBD, BetaGeoBetaBinom])
def test_nothing_happens_in_no_time(cls, small, discrete):
    m = cls().fit(discrete if cls is BetaGeoBetaBinom else small)
    p = m.probability_of_n_purchases(0, [0, 1, 5])
    assert p.tolist() == [1.0, 0.0, 0.0]
    assert m.expected_purchases_new_customer(0).iloc[0] == 0.0


# ---------------------------------------------------------------- persistence
@pytest.mark.parametrize("cls", ALL_MODELS)
def test_save_load_round_trip(cls, small, discrete, cohort, tmp_path):
    m, predict = _fit(cls, small, discrete, cohort, penalizer=0.001)
    path = m.save(tmp_path / "model.json")
    doc = json.loads(path.read_text())
    assert doc["class"] == cls.__name__ and doc["format_version"] == 1
    for loaded in (cls.load(path), crm_models.load(path), BaseModel.load(path)):
        assert type(loaded) is cls
        pd.testing.assert_series_equal(loaded.params_, m.params_)
        pd.testing.assert_frame_equal(loaded.covariance_, m.covariance_)
        pd.testing.assert_series_equal(loaded.standard_errors_, m.standard_errors_)
        assert loaded.log_likelihood_ == m.log_likelihood_ and loaded.get_params() == m.get_params()
        assert (loaded.n_obs_, loaded.n_unique_) == (m.n_obs_, m.n_unique_)
        assert loaded.optimizer_result_ == m.optimizer_result_
        pd.testing.assert_series_equal(predict(loaded), predict(m))
        pd.testing.assert_frame_equal(loaded.sample_params(10), m.sample_params(10))
    if cls is ShiftedBetaGeo:
        assert ShiftedBetaGeo.load(path).n_periods_ == m.n_periods_


def test_a_file_is_never_overwritten_unasked(bg, tmp_path):
    path = bg.save(tmp_path / "bg.json")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        bg.save(path)
    assert bg.save(path, overwrite=True) == path


def _tamper(path, edit):
    doc = json.loads(path.read_text())
    edit(doc)
    path.write_text(json.dumps(doc))
    return path


def _set_cov(doc, value):
    doc["fitted"]["covariance_log"] = value


ASYMMETRIC = [[0.01, 0.002, 0, 0], [0.0, 0.01, 0, 0], [0, 0, 0.01, 0], [0, 0, 0, 0.01]]
NOT_PSD = [[0.01, 0.5, 0, 0], [0.5, 0.01, 0, 0], [0, 0, 0.01, 0], [0, 0, 0, 0.01]]


@pytest.mark.parametrize(
    "edit, field, rule",
    [
        (lambda d: d["fitted"]["params"].update(r=-1.0), "fitted.params.r", "must be > 0"),
        (lambda d: d["fitted"]["params"].update(r=0), "fitted.params.r", "must be > 0"),
        (lambda d: d["fitted"]["params"].update(r="0.24"), "fitted.params.r", "must be a number"),
        (lambda d: d["fitted"]["params"].update(r="inf"), "fitted.params.r", "must be a number"),
        (lambda d: d["fitted"]["params"].pop("b"), "fitted.params", "must hold the parameters"),
        (lambda d: d["fitted"].update(params={"alpha": 4, "r": 0.2, "a": 1, "b": 2}), "fitted.params",
         "in that order"),
        (lambda d: _set_cov(d, ASYMMETRIC), "fitted.covariance_log", "symmetric"),
        (lambda d: _set_cov(d, NOT_PSD), "fitted.covariance_log", "positive semi-definite"),
        (lambda d: _set_cov(d, np.zeros((4, 4)).tolist()), "fitted.covariance_log", "positive variances"),
        (lambda d: _set_cov(d, [[1.0]]), "fitted.covariance_log", "must have shape (4, 4)"),
        (lambda d: _set_cov(d, "[[1]]"), "fitted.covariance_log", "must be an array"),
        (lambda d: d["fitted"].update(log_likelihood="-9582"), "fitted.log_likelihood", "must be a number"),
        (lambda d: d["fitted"].update(log_likelihood="nan"), "fitted.log_likelihood", "must be"),
        (lambda d: d["fitted"].update(n_obs=0), "fitted.n_obs", "must be > 0"),
        (lambda d: d["fitted"].update(n_unique=2.5), "fitted.n_unique", "whole number"),
        (lambda d: d["fitted"].pop("log_likelihood"), "fitted.log_likelihood", "is missing"),
        (lambda d: d["fitted"]["optimizer"].update(success="yes"), "fitted.optimizer.success", "true or false"),
        (lambda d: d.update({"class": "ParetoNBD"}), "class", "holds a ParetoNBD, not a BetaGeo"),
        (lambda d: d.update({"class": "Nope"}), "class", "must name a crm_models estimator"),
        (lambda d: d.update(format_version=2), "format_version", "must be 1"),
        (lambda d: d.update(format="crm_models.clv"), "format", "must be 'crm_models'"),
        (lambda d: d["hyper_parameters"].update(penalizer=-1), "hyper_parameters", "penalizer must be"),
        (lambda d: d["hyper_parameters"].update(T_col=7), "hyper_parameters", "T_col must be a column name"),
        (lambda d: d["hyper_parameters"].update(evil="__import__('os')"), "hyper_parameters.evil",
         "is not a parameter of BetaGeo"),
    ],
)
def test_tampered_files_are_refused_naming_the_field(bg, tmp_path, edit, field, rule):
    path = _tamper(bg.save(tmp_path / "bg.json"), edit)
    with pytest.raises(ModelFileError) as err:
        BetaGeo.load(path)
    assert err.value.field == field
    assert rule in str(err.value)


def test_tampered_class_specific_fields_are_refused(cohort, tmp_path):
    m = ShiftedBetaGeo().fit(cohort)
    path = _tamper(m.save(tmp_path / "sbg.json"), lambda d: d["fitted"].update(n_periods=1))
    with pytest.raises(ModelFileError, match="fitted.n_periods must be >= 2"):
        ShiftedBetaGeo.load(path)
    path = _tamper(m.save(tmp_path / "sbg2.json"), lambda d: d["hyper_parameters"].update(time_unit="decade"))
    with pytest.raises(ModelFileError, match="time_unit must be one of"):
        ShiftedBetaGeo.load(path)


def test_a_base_class_file_is_refused(bg, tmp_path):
    path = _tamper(bg.save(tmp_path / "bg.json"), lambda d: d.update({"class": "BaseModel", "hyper_parameters": {}}))
    with pytest.raises(ModelFileError, match="abstract base"):
        crm_models.load(path)


def test_junk_files_are_refused(tmp_path):
    (tmp_path / "junk.json").write_text("not json")
    with pytest.raises(ModelFileError, match="not valid JSON"):
        BetaGeo.load(tmp_path / "junk.json")


# ---------------------------------------------------------------------- fitting
def test_penalizer_shrinks(small, bg):
    pen = BetaGeo(penalizer=0.1).fit(small)
    assert np.abs(np.log(pen.params_)).sum() < np.abs(np.log(bg.params_)).sum()
    assert pen.log_likelihood_ < bg.log_likelihood_
    assert "shrunk" in repr(pen.summary())


def test_unidentified_fit_raises_convergence_error_with_advice():
    # nobody ever repeats: the purchase rate's shape runs off to zero
    d = pd.DataFrame({"frequency": [0] * 50, "recency": [0.0] * 50, "T": np.linspace(1, 50, 50)})
    with pytest.raises(ConvergenceError, match="penalizer"):
        BetaGeo().fit(d)
    BetaGeo(penalizer=0.01).fit(d)  # the advice works


def test_initial_params_are_checked(small):
    with pytest.raises(ValueError, match="initial_params lacks"):
        BetaGeo().fit(small, initial_params={"r": 1})
    with pytest.raises(ValueError, match="finite and positive"):
        BetaGeo().fit(small, initial_params=[1, -1, 1, 1])
    m = BetaGeo().fit(small, initial_params={"r": 0.5, "alpha": 3, "a": 1, "b": 1})
    np.testing.assert_allclose(m.params_, BetaGeo().fit(small).params_, rtol=1e-4)


@pytest.mark.parametrize("model", [BetaGeo, ModifiedBetaGeo, ParetoNBD])
def test_customers_acquired_on_the_last_day_are_valid(model):
    """rfm_summary gives T = 0 to a customer whose first purchase is on the last day observed:
    such rows add nothing to the likelihood and are scored as just-acquired customers."""
    base = simulate_beta_geo(2000, {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}, 39.0, random_state=1)
    fresh = pd.DataFrame({"frequency": [0], "recency": [0.0], "T": [0.0]}, index=["new"])
    without = model().fit(base)
    with_fresh = model().fit(pd.concat([base, fresh]))
    assert with_fresh.log_likelihood_ == pytest.approx(without.log_likelihood_, abs=1e-6)
    assert np.isfinite(with_fresh.probability_alive(fresh)).all()
    assert with_fresh.expected_purchases(fresh, 10.0).iloc[0] == pytest.approx(
        with_fresh.expected_purchases_new_customer(10.0).iloc[0], rel=1e-6)
