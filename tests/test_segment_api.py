"""The segmenters' shared contract: scikit-learn parameters, clone, the one save format, tampered files,
and the vocabulary of every public callable of crm_models.segment."""

from __future__ import annotations

import inspect
import json

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

import crm_models
import crm_models.segment as segment
from crm_models.base import encode, CRMEstimator
from crm_models.errors import ModelFileError, NotFittedError
from crm_models.segment import NeedsSegmenter, RFMScorer, ValueTiers, plotting
from crm_models.vocabulary import COLUMNS, RETIRED

IDS = [f"c{i:02d}" for i in range(40)]


def rfm_data() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    n = len(IDS)
    freq = rng.poisson(1.5, n).astype(float)
    T = np.full(n, 30.0)
    return pd.DataFrame({"frequency": freq, "recency": np.where(freq > 0, rng.uniform(0, 30, n), 0.0), "T": T,
                         "monetary_value": np.where(freq > 0, rng.gamma(2, 20, n), 0.0)}, index=IDS)


def clv_data() -> tuple[pd.Series, pd.Series]:
    rng = np.random.default_rng(6)
    clv = pd.Series(rng.gamma(0.8, 50, len(IDS)), index=IDS)
    groups = pd.Series(np.where(np.arange(len(IDS)) % 2, "odd", "even"), index=IDS)
    return clv, groups


def needs_data() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    books = np.r_[rng.uniform(0.7, 1.0, 20), rng.uniform(0.0, 0.3, 20)]
    ticket = np.r_[rng.uniform(20, 40, 30), rng.uniform(120, 200, 10)]
    calls = rng.poisson(2, len(IDS)).astype(float)
    return pd.DataFrame({"cat_books": books, "avg_ticket": ticket, "call_per_year": calls}, index=IDS)


def fitted(name: str, **params):
    """A fitted estimator, how to apply it, and its data."""
    if name == "RFMScorer":
        est = RFMScorer(**params).fit(rfm_data())
        return est, lambda e: e.transform(rfm_data())
    if name == "ValueTiers":
        clv, groups = clv_data()
        cost = pd.Series(np.linspace(0, 20, len(IDS)), index=IDS)
        est = ValueTiers(min_group_size=5, **params).fit(clv, groups, cost_to_serve=cost)
        return est, lambda e: e.transform(clv, groups, cost_to_serve=cost)
    est = NeedsSegmenter(n_init=2, **({"k_range": [2, 3]} | params)).fit(needs_data())
    return est, lambda e: e.predict(needs_data())


ESTIMATORS = ["RFMScorer", "ValueTiers", "NeedsSegmenter", "NeedsSegmenter-gmm"]


def make(name: str, **params):
    if name == "NeedsSegmenter-gmm":
        return fitted("NeedsSegmenter", method="gmm", **params)
    return fitted(name, **params)


def assert_same(a, b):
    (pd.testing.assert_frame_equal if isinstance(a, pd.DataFrame) else pd.testing.assert_series_equal)(a, b)


# ------------------------------------------------------------------------ the estimator contract
@pytest.mark.parametrize("cls", [RFMScorer, ValueTiers, NeedsSegmenter])
def test_every_segmenter_is_a_crm_estimator_that_stores_its_parameters(cls):
    est = cls()
    assert isinstance(est, CRMEstimator)
    defaults = {k: p.default for k, p in inspect.signature(cls).parameters.items()}
    assert est.get_params() == defaults
    with pytest.raises(NotFittedError, match="not fitted"):
        est.save("never-written.json")


def test_clone_get_params_set_params():
    rules = pd.DataFrame({"segment": ["Top", "Rest"], "r_min": [3, 1], "r_max": [3, 2]})
    scorer = RFMScorer(n_groups=3, rules=rules, monetary="mean")
    copy = clone(scorer)
    assert copy is not scorer and copy.rules is not rules
    pd.testing.assert_frame_equal(copy.rules, rules)
    assert copy.get_params()["n_groups"] == 3 and copy.get_params()["monetary"] == "mean"
    assert not hasattr(clone(scorer.fit(rfm_data())), "edges_")  # a clone is unfitted
    assert scorer.set_params(n_groups=5, rules=None) is scorer and scorer.n_groups == 5 and scorer.rules is None
    assert clone(RFMScorer(rules=False)).rules is False

    tiers = ValueTiers(top_share=0.1, min_group_size=3)
    assert clone(tiers).get_params() == {"top_share": 0.1, "growable_share": 0.2, "potential_quantile": 0.9,
                                         "min_group_size": 3}
    assert "cost_to_serve" not in tiers.get_params()  # data, not a hyper-parameter
    assert tiers.set_params(growable_share=0.3).growable_share == 0.3

    seg = NeedsSegmenter(k_range=[2, 3], method="gmm", features=["a", "b"])
    params = clone(seg).get_params()
    assert params["k_range"] == [2, 3] and params["method"] == "gmm" and params["random_state"] == 0
    assert seg.set_params(n_segments=4).n_segments == 4
    with pytest.raises(ValueError, match="Invalid parameter"):
        seg.set_params(seed=1)


@pytest.mark.parametrize("name", ESTIMATORS)
def test_save_load_round_trip(name, tmp_path):
    est, apply = make(name)
    path = est.save(tmp_path / "model.json")
    for again in (type(est).load(path), crm_models.load(path)):
        assert type(again) is type(est)
        assert_same(apply(again), apply(est))
        p1, p2 = again.get_params(), est.get_params()
        assert p1.keys() == p2.keys()
    with pytest.raises(FileExistsError):
        est.save(path)


def test_round_trip_keeps_a_custom_rule_table_and_the_needs_profiles(tmp_path):
    rules = pd.DataFrame({"segment": ["Best", "Rest", "Rest"], "r_min": [3, 1, 3], "r_max": [3, 2, 3],
                          "f_min": [2, 1, 1], "f_max": [3, 3, 1], "strategy": ["keep", "grow", "grow"]})
    scorer = RFMScorer(n_groups=3, rules=rules).fit(rfm_data())
    again = RFMScorer.load(scorer.save(tmp_path / "rfm.json"))
    pd.testing.assert_frame_equal(again.rules, rules)
    assert_same(again.transform(rfm_data()), scorer.transform(rfm_data()))
    pd.testing.assert_frame_equal(again.summary(again.transform(rfm_data())).to_frame(),
                                  scorer.summary(scorer.transform(rfm_data())).to_frame())
    seg, _ = fitted("NeedsSegmenter")
    back = NeedsSegmenter.load(seg.save(tmp_path / "needs.json"))
    pd.testing.assert_frame_equal(back.profile(), seg.profile())
    pd.testing.assert_frame_equal(back.selection_, seg.selection_)
    pd.testing.assert_frame_equal(back.centers_, seg.centers_)
    assert back.k_range == [2, 3] and back.criterion_ == seg.criterion_


def test_no_scikit_learn_object_is_kept_or_written(tmp_path):
    from sklearn.base import BaseEstimator

    for name in ESTIMATORS:
        est, _ = make(name)
        kept = [k for k, v in vars(est).items() if isinstance(v, BaseEstimator)]
        assert kept == [], f"{name} keeps scikit-learn objects {kept}"
        text = est.save(tmp_path / f"{name}.json").read_text()
        assert "_n_threads" not in text and "precisions_cholesky" not in text


def test_a_refit_with_another_method_keeps_only_its_own_arrays(tmp_path):
    seg = NeedsSegmenter(n_segments=2, n_init=2).fit(needs_data())
    assert hasattr(seg, "kmeans_centers_")
    seg.set_params(method="gmm").fit(needs_data())
    assert not hasattr(seg, "kmeans_centers_") and seg.mixture_weights_.shape == (2,)
    again = NeedsSegmenter.load(seg.save(tmp_path / "gmm.json"))
    pd.testing.assert_series_equal(again.predict(needs_data()), seg.predict(needs_data()))


# ------------------------------------------------------------------------------- tampered files
def tampered(path, edit):
    """A copy of the saved file ``path`` with ``edit`` applied to its fitted state."""
    doc = json.loads(path.read_text())
    edit(doc["fitted"])
    out = path.with_name("tampered.json")
    out.write_text(json.dumps(doc))
    return out


def nd(values):
    return encode(np.asarray(values, dtype=float))


def test_tampered_rfm_files_are_refused(tmp_path):
    est, _ = make("RFMScorer")
    path = est.save(tmp_path / "rfm.json")
    cases = [
        (lambda f: f["edges"].update(f=nd([3.0, 2.0, 1.0, 0.0])), "fitted.edges.f must never decrease"),
        (lambda f: f["edges"].update(r=nd([1.0, 2.0, 3.0, 4.0])), "fitted.edges.r must never increase"),
        (lambda f: f["edges"].update(m=nd([1.0, 2.0, -np.inf, 4.0])), "fitted.edges.m may hold inf"),
        (lambda f: f["edges"].update(f=nd([1.0, 2.0, 3.0])), r"fitted.edges.f must have shape \(4,\)"),
        (lambda f: f["edges"].update(f=nd([1.0, np.nan, 3.0, 4.0])), "fitted.edges.f must not hold NaN"),
        (lambda f: f["edges"].update(f=nd([-2.0, 1.0, 3.0, 4.0])), "fitted.edges.f must not be negative"),
        (lambda f: f["edges"].update(f=[1.0, "two", 3.0, 4.0]), "fitted.edges.f must be a list"),
        (lambda f: f["edges"].pop("m"), "fitted.edges.m is missing"),
        (lambda f: f.update(n_customers="forty"), "fitted.n_customers must be a number"),
        (lambda f: f.update(n_customers=2), "fitted.n_customers must be >= 5"),
    ]
    for edit, message in cases:
        with pytest.raises(ModelFileError, match=message):
            RFMScorer.load(tampered(path, edit))
    doc = json.loads(path.read_text())
    doc["hyper_parameters"]["rules"] = {"$frame": {"index": [0], "index_name": None, "columns": ["segment", "r_min"],
                                                   "data": [["Everyone", 2]]}}
    (tmp_path / "rules.json").write_text(json.dumps(doc))
    with pytest.raises(ModelFileError, match="hyper_parameters are not valid for RFMScorer: .*match no rule"):
        RFMScorer.load(tmp_path / "rules.json")


def test_tampered_value_tier_files_are_refused(tmp_path):
    est, _ = make("ValueTiers")
    path = est.save(tmp_path / "tiers.json")
    cases = [
        (lambda f: f.update(potential=nd([1.0, "nan", 3.0])), "fitted.potential must be finite|fitted.potential"),
        (lambda f: f.update(potential=[1.0, "lots", 3.0]), "fitted.potential must be a list"),
        (lambda f: f.update(groups=["odd", "even", "odd"]), "fitted.groups must not repeat"),
        (lambda f: f.update(groups=["odd", "even", "everyone"]), "fitted.groups must include '__all__'"),
        (lambda f: f.update(mvc_threshold={"$float": "-inf"}), "fitted.mvc_threshold must be a number or inf"),
        (lambda f: f.update(mvc_threshold="high"), "fitted.mvc_threshold must be a number"),
        (lambda f: f.update(growth_threshold=-1.0), "fitted.growth_threshold must be >= 0"),
    ]
    for edit, message in cases:
        with pytest.raises(ModelFileError, match=message):
            ValueTiers.load(tampered(path, edit))
    doc = json.loads(path.read_text())
    doc["hyper_parameters"]["top_share"] = 1.5
    (tmp_path / "hp.json").write_text(json.dumps(doc))
    with pytest.raises(ModelFileError, match="top_share must be a number in"):
        ValueTiers.load(tmp_path / "hp.json")


def test_tampered_needs_files_are_refused(tmp_path):
    km, _ = make("NeedsSegmenter")
    gmm, _ = make("NeedsSegmenter-gmm")
    k, p = km.n_segments_, len(km.features_)
    kmeans_cases = [
        (lambda f: f.update(feature_scales=nd([1.0, -0.5, 1.0])),
         "fitted.feature_scales must hold standard deviations > 0"),
        (lambda f: f.update(feature_means=nd([1.0, "inf", 1.0])), "fitted.feature_means must hold finite numbers"),
        (lambda f: f.update(kmeans_centers=nd(np.zeros((k + 1, p)))), "fitted.kmeans_centers must have shape"),
        (lambda f: f.update(relabel=nd([0] * k)), "fitted.relabel must be a permutation"),
        (lambda f: f.update(segments=["N1"] * k), "fitted.segments must not repeat"),
        (lambda f: f.update(features=["cat_books", "avg_ticket", 3]), "fitted.features must be a list of strings"),
        (lambda f: f.update(log_columns=["nowhere"]), "fitted.log_columns must be among the features"),
        (lambda f: f.update(n_segments="3"), "fitted.n_segments must be a number"),
        (lambda f: f.update(sizes=nd([1.5] + [1.0] * (k - 1))), "fitted.sizes must hold whole numbers"),
        (lambda f: f.update(mixture_weights=nd([1.0])), "fitted.mixture_weights does not belong to a kmeans"),
        (lambda f: f.update(criterion="bic"), "fitted.criterion may be 'bic' only"),
    ]
    kg = gmm.n_segments_
    gmm_cases = [
        (lambda f: f.update(mixture_weights=nd(np.full(kg, 0.6))), "fitted.mixture_weights must be positive and sum to 1"),
        (lambda f: f.update(mixture_weights=nd(np.r_[1.0, np.zeros(kg - 1)])), "fitted.mixture_weights must be positive"),
        (lambda f: f.update(mixture_variances=nd(-np.ones((kg, p)))),
         "fitted.mixture_variances must hold variances > 0"),
        (lambda f: f.update(mixture_means=nd(np.zeros((kg, p + 1)))), "fitted.mixture_means must have shape"),
        (lambda f: f.pop("mixture_variances"), "fitted.mixture_variances is missing"),
    ]
    for est, cases in ((km, kmeans_cases), (gmm, gmm_cases)):
        path = est.save(tmp_path / f"{est.method}.json")
        for edit, message in cases:
            with pytest.raises(ModelFileError, match=message):
                NeedsSegmenter.load(tampered(path, edit))


def test_a_file_of_another_class_is_refused(tmp_path):
    tiers, _ = make("ValueTiers")
    path = tiers.save(tmp_path / "tiers.json")
    with pytest.raises(ModelFileError, match="field class holds a ValueTiers, not a NeedsSegmenter"):
        NeedsSegmenter.load(path)
    with pytest.raises(ModelFileError, match="field class holds a ValueTiers, not a RFMScorer"):
        RFMScorer.load(path)
    doc = json.loads(path.read_text())
    doc["class"] = "RFMScorer"  # the body of one class under the name of another
    (tmp_path / "swapped.json").write_text(json.dumps(doc))
    with pytest.raises(ModelFileError):
        crm_models.load(tmp_path / "swapped.json")


# ---------------------------------------------------------------------------------- vocabulary
def public_callables():
    modules = [segment, plotting]
    seen = {}
    for module in modules:
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if inspect.isclass(obj):
                seen[f"{name}.__init__"] = obj
                for meth_name, meth in vars(obj).items():
                    if callable(meth) and not meth_name.startswith("_"):
                        seen[f"{name}.{meth_name}"] = meth
            elif callable(obj):
                seen[name] = obj
    return seen


def test_every_public_parameter_is_in_the_vocabulary():
    problems = []
    for where, fn in public_callables().items():
        for pname in inspect.signature(fn).parameters:
            if pname in RETIRED:
                problems.append(f"{where}: {pname} (retired: use {RETIRED[pname]})")
            if pname.endswith("_col") and pname not in COLUMNS:
                problems.append(f"{where}: {pname} is not in vocabulary.COLUMNS")
    assert problems == []


def test_every_public_callable_has_a_docstring_with_examples():
    missing = []
    for where, fn in public_callables().items():
        doc = inspect.getdoc(fn) or ""  # for "X.__init__" fn is the class, whose docstring documents __init__
        if "Examples" not in doc:
            missing.append(where)
    assert missing == []
