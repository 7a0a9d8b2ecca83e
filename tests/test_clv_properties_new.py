"""GGom/NBD, (M)BG/CNBD-k and the contract models stay finite for extreme but valid inputs (hypothesis)."""

import numpy as np
import pandas as pd
from hypothesis import given, note, settings
from hypothesis import strategies as st

from crm_models.base import CRMEstimator
from crm_models.clv import BetaDiscreteWeibull, ShiftedBetaGeoContracts

positive = st.floats(min_value=0.05, max_value=50.0)
scale = st.floats(min_value=0.1, max_value=1000.0)


def _model(cls, extra=None, hyper=None, **params):
    k = len(params)
    doc = {
        "format": "crm_models", "format_version": 1, "class": cls, "hyper_parameters": hyper or {},
        "fitted": {
            "params": params, "covariance_log": np.eye(k).tolist(), "log_likelihood": -1.0, "n_obs": 100,
            "n_unique": 100,
            "optimizer": {"message": "given", "success": True, "iterations": 0, "function_calls": 0,
                          "gradient": [0.0] * k},
            **(extra or {}),
        },
    }
    return CRMEstimator.from_dict(doc)


@st.composite
def customers(draw):
    T = draw(st.floats(min_value=0.01, max_value=10_000.0))
    x = draw(st.integers(min_value=0, max_value=10_000))
    t_x = 0.0 if x == 0 else draw(st.floats(min_value=min(T, 1e-3), max_value=T))
    return x, t_x, T


@st.composite
def models(draw):
    kind = draw(st.sampled_from(["ggom", "bgcnbd", "mbgcnbd"]))
    r, alpha = draw(positive), draw(scale)
    if kind == "ggom":
        b = draw(st.floats(min_value=1e-6, max_value=5.0))
        beta = draw(st.floats(min_value=1e-4, max_value=1e4))
        return _model("GammaGompertzNBD", {"pareto_limit": False}, r=r, alpha=alpha, b=b, s=draw(positive), beta=beta)
    k = draw(st.integers(min_value=1, max_value=12))
    cls = "BetaGeoCNBD" if kind == "bgcnbd" else "ModifiedBetaGeoCNBD"
    extra = {"k": k, "log_likelihoods_by_k": {"$series": {"name": "log_likelihood", "index": [k], "index_name": "k",
                                                          "values": [-1.0]}}}
    return _model(cls, extra, r=r, alpha=alpha, a=draw(positive), b=draw(positive))


@settings(max_examples=80, deadline=None, database=None)
@given(model=models(), rows=st.lists(customers(), min_size=1, max_size=4),
       t=st.floats(min_value=0.0, max_value=10_000.0), dt=st.floats(min_value=1e-3, max_value=10_000.0))
def test_predictions_are_finite_and_in_range(model, rows, t, dt):
    note(f"{type(model).__name__} {model.params_.to_dict()}")
    data = pd.DataFrame(rows, columns=["frequency", "recency", "T"])
    pa = model.probability_alive(data).to_numpy()
    assert np.all(np.isfinite(pa)) and np.all((pa >= 0) & (pa <= 1))
    e1 = model.expected_purchases(data, t).to_numpy()
    e2 = model.expected_purchases(data, t + dt).to_numpy()
    assert np.all(np.isfinite(e1)) and np.all(np.isfinite(e2)) and np.all(e1 >= 0)
    assert np.all(e2 >= e1 - 1e-7 * np.maximum(1.0, e1))
    n1, n2 = model.expected_purchases_new_customer([t, t + dt]).to_numpy()
    assert np.isfinite(n1) and np.isfinite(n2) and 0 <= n1 <= n2 + 1e-7 * max(1.0, n1)
    assert model.probability_of_n_purchases(0.0, [0, 1]).tolist() == [1.0, 0.0]


@settings(max_examples=80, deadline=None, database=None)
@given(model=models(), rows=st.lists(customers(), min_size=1, max_size=5))
def test_likelihood_is_finite_for_extreme_customers(model, rows):
    data = pd.DataFrame(rows, columns=["frequency", "recency", "T"])
    arrays = model._make_arrays(*(data[c].to_numpy(float) for c in ("frequency", "recency", "T")))
    if "k" in model.get_params():
        arrays["k"], arrays["const"] = model.k_, 0.0
    value, grad = model._neg_log_likelihood(np.log(model.params_.to_numpy()), arrays, np.ones(len(data)))
    assert np.isfinite(value) and np.all(np.isfinite(grad))


@settings(max_examples=80, deadline=None, database=None)
@given(alpha=positive, beta=positive, c=st.floats(min_value=0.05, max_value=5.0),
       tenures=st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=5),
       rate=st.floats(min_value=1e-3, max_value=0.9), bdw=st.booleans())
def test_contract_models_are_finite(alpha, beta, c, tenures, rate, bdw):
    if bdw:
        model = BetaDiscreteWeibull()
        model.params_ = pd.Series({"alpha": alpha, "beta": beta, "c": c})
    else:
        model = ShiftedBetaGeoContracts()
        model.params_ = pd.Series({"alpha": alpha, "beta": beta})
    model.cohorts_ = ["all"]
    t = np.array(tenures)
    churned = t > 0
    arrays = {"g": np.zeros(len(t), dtype=np.int64), "t": t.astype(float), "d": churned}
    value, grad = model._neg_log_likelihood(np.log(model.params_.to_numpy()), arrays, np.ones(len(t)))
    assert np.isfinite(value) and np.all(np.isfinite(grad))
    s = model.survival(t).to_numpy()
    assert np.all(np.isfinite(s)) and np.all((s >= 0) & (s <= 1))
    active = pd.DataFrame({"cohort": "all", "tenure": t, "churned": False})
    derl = model.discounted_expected_residual_lifetime(active, (rate, "Y")).to_numpy()
    assert np.all(np.isfinite(derl)) and np.all(derl >= 0) and np.all(derl <= 1 / (1 - 1 / (1 + rate)) + 1e-6)
