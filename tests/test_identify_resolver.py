"""CustomerResolver: the estimator contract, one JSON file, and a loaded model that resolves the same way."""

import copy
import json

import numpy as np
import pandas as pd
import pytest
from identify_fixture import make_fixture
from sklearn.base import clone

import crm_models
from crm_models.base import Summary
from crm_models.errors import DataError, ModelFileError, NotFittedError
from crm_models.identify import CustomerResolver, Resolution, resolve_customers


@pytest.fixture(scope="module")
def records():
    return make_fixture(n_people=60, random_state=8)[0]


@pytest.fixture(scope="module")
def fitted(records):
    return CustomerResolver(default_region="GB").fit(records)


@pytest.fixture(scope="module")
def saved(fitted, tmp_path_factory):
    return fitted.save(tmp_path_factory.mktemp("model") / "resolver.json")


def test_hyper_parameters_clone_and_set():
    resolver = CustomerResolver(threshold=0.8, random_state=3, default_region="GB", dob_formats={"store": "%d/%m/%Y"},
                                max_pairs_u=1e5)
    params = resolver.get_params()
    assert params == {"threshold": 0.8, "random_state": 3, "default_region": "GB",
                      "dob_formats": {"store": "%d/%m/%Y"}, "max_pairs_u": 1e5, "backend": "duckdb"}
    twin = clone(resolver)
    assert twin is not resolver and twin.get_params() == params
    assert twin.set_params(threshold=0.95).threshold == 0.95 and resolver.threshold == 0.8
    assert CustomerResolver().get_params()["random_state"] == 0


def test_fit_learns_a_model_and_keeps_the_parameters(records, fitted):
    assert fitted.get_params()["threshold"] == 0.9  # fit does not touch hyper-parameters
    assert fitted.n_records_ == len(records)
    assert 0 < fitted.model_["probability_two_random_records_match"] < 1
    assert list(fitted.parameters_.columns) == ["comparison", "level", "gamma", "m_probability", "u_probability",
                                                "match_weight"]
    summary = fitted.summary()
    assert isinstance(summary, Summary) and summary.stats["records learned from"] == len(records)
    assert summary.to_frame().shape[0] == len(fitted.parameters_)
    assert "match_weight" in repr(summary)


def test_one_call_is_fit_then_resolve(records, fitted):
    one_call = resolve_customers(records, default_region="GB")
    two_steps = fitted.resolve(records)
    pd.testing.assert_frame_equal(one_call.crosswalk, two_steps.crosswalk)
    pd.testing.assert_frame_equal(one_call.pairs, two_steps.pairs)
    assert isinstance(one_call.resolver, CustomerResolver) and one_call.resolver.model_ == fitted.model_
    assert two_steps.resolver is fitted
    assert isinstance(two_steps.summary(), Summary)


def test_save_load_resolve_round_trip(records, fitted, saved):
    doc = json.loads(saved.read_text())
    assert doc["class"] == "CustomerResolver" and doc["hyper_parameters"]["default_region"] == "GB"
    assert doc["fitted"]["model"]["comparisons"][0]["output_column_name"] == "name"  # Splink's settings, as JSON
    for loaded in (CustomerResolver.load(saved), crm_models.load(saved)):
        assert type(loaded) is CustomerResolver
        assert loaded.get_params() == fitted.get_params()
        assert loaded.model_ == fitted.model_ and loaded.n_records_ == fitted.n_records_
        pd.testing.assert_frame_equal(loaded.parameters_, fitted.parameters_)
        again = loaded.resolve(records)
        pd.testing.assert_frame_equal(again.crosswalk, fitted.resolve(records).crosswalk)


def test_a_loaded_model_links_a_new_batch_without_retraining(records, saved):
    loaded = CustomerResolver.load(saved)
    first, second = records.iloc[:60], records.iloc[60:]
    before = loaded.resolve(first)
    after = loaded.resolve(records, existing=before)
    assert (after.crosswalk.loc[first["record_id"], "customer_id"] == before.crosswalk["customer_id"]).all()
    assert after.crosswalk.loc[second["record_id"], "customer_id"].isin(set(before.crosswalk["customer_id"])).any()
    # the prior is rescaled to each batch's size; the m and u probabilities are the saved ones
    prior = loaded.model_["probability_two_random_records_match"]
    assert before.model["probability_two_random_records_match"] == pytest.approx(
        prior * (len(records) - 1) / (len(first) - 1))
    assert before.model["comparisons"] == loaded.model_["comparisons"]


def test_not_fitted_is_one_clear_error(records, tmp_path):
    resolver = CustomerResolver()
    for call in (lambda: resolver.resolve(records), resolver.summary, lambda: resolver.save(tmp_path / "x.json")):
        with pytest.raises(NotFittedError, match="CustomerResolver is not fitted yet"):
            call()


@pytest.mark.parametrize(
    "params, message",
    [
        ({"threshold": 1.0}, "threshold .* strictly between 0 and 1"),
        ({"threshold": 0}, "threshold"),
        ({"threshold": True}, "threshold"),
        ({"threshold": "0.9"}, "threshold"),
        ({"random_state": "seven"}, "random_state"),
        ({"random_state": 1.5}, "random_state"),
        ({"default_region": "Britain"}, "default_region"),
        ({"dob_formats": {"store": 5}}, "dob_formats"),
        ({"dob_formats": "%d/%m/%Y"}, "dob_formats"),
        ({"max_pairs_u": 0}, "max_pairs_u"),
        ({"max_pairs_u": float("inf")}, "max_pairs_u"),
        ({"backend": "sqlite"}, "backend must be one of"),
    ],
)
def test_bad_hyper_parameters_are_refused_at_fit(records, params, message):
    with pytest.raises(ValueError, match=message):
        CustomerResolver(**params).fit(records)


def test_random_state_semantics(records):
    small = records.iloc[:40]
    a = CustomerResolver(random_state=5, default_region="GB").fit(small).model_
    assert CustomerResolver(random_state=5, default_region="GB").fit(small).model_ == a
    generated = CustomerResolver(random_state=np.random.default_rng(5), default_region="GB").fit(small)
    assert generated.model_["comparisons"]  # a Generator draws Splink's seed
    assert CustomerResolver(random_state=None, default_region="GB").fit(small).n_records_ == 40


def test_fit_needs_two_records(records):
    with pytest.raises(DataError, match="at least 2 records") as info:
        CustomerResolver().fit(records.iloc[:1])
    assert info.value.column == "record_id" and len(info.value.rows) == 1


# --------------------------------------------------------------------- tampered files
def _edit(doc, path, value=None, delete=False):
    *head, last = path
    node = doc
    for key in head:
        node = node[key]
    if delete:
        del node[last]
    elif callable(value):
        node[last] = value(node[last])
    else:
        node[last] = value


LEVEL = ["fitted", "model", "comparisons", 1, "comparison_levels", 1]


@pytest.mark.parametrize(
    "path, value, delete, message",
    [
        ([*LEVEL, "m_probability"], 0.0, False, r"comparisons\[1\]\.comparison_levels\[1\]\.m_probability must be > 0"),
        ([*LEVEL, "u_probability"], 1.5, False, r"comparison_levels\[1\]\.u_probability must be <= 1"),
        ([*LEVEL, "m_probability"], "0.5", False, "m_probability must be a number"),
        ([*LEVEL, "m_probability"], "nan", False, "m_probability must be a number"),
        ([*LEVEL, "u_probability"], None, True, r"comparison_levels\[1\] must hold exactly the keys"),
        ([*LEVEL, "sql_condition"], "1 = 1; drop table x", False, r"comparison_levels\[1\]\.sql_condition must be"),
        (["fitted", "model", "comparisons", 1, "comparison_levels"], lambda v: v[:-1], False,
         "must hold the 6 levels of comparison 'email'"),
        (["fitted", "model", "comparisons", 0, "output_column_name"], "shoe_size", False,
         r"comparisons\[0\]\.output_column_name must be one of"),
        (["fitted", "model", "comparisons"], lambda v: v[::-1], False, "each once, in this order"),
        (["fitted", "model", "comparisons"], [], False, "must be a non-empty list of comparisons"),
        (["fitted", "model", "probability_two_random_records_match"], 1.0, False,
         "probability_two_random_records_match must be < 1"),
        (["fitted", "model", "probability_two_random_records_match"], 0.0, False,
         "probability_two_random_records_match must be > 0"),
        (["fitted", "model", "blocking_rules_to_generate_predictions"],
         lambda v: v + [{"blocking_rule": "1 = 1", "sql_dialect": "duckdb", "arrays_to_explode": None}], False,
         "is not one of crm_models' blocking rules"),
        (["fitted", "model", "link_type"], "link_only", False, "link_type must be 'dedupe_only'"),
        (["fitted", "model", "extra"], 1, False, r"fitted\.model must hold exactly the keys .*unknown \['extra'\]"),
        (["fitted", "model"], "a model", False, r"fitted\.model must be a JSON object"),
        (["fitted", "n_records"], -3, False, "fitted.n_records must be >= 2"),
        (["fitted", "n_records"], 2.5, False, "fitted.n_records must be a whole number"),
        (["fitted", "notes"], "x", False, "must be exactly 'model' and 'n_records'"),
        (["hyper_parameters", "threshold"], 1.5, False, "hyper_parameters are not valid for CustomerResolver"),
        (["hyper_parameters", "backend"], "spark", False, "not one of crm_models' blocking rules"),
    ],
)
def test_tampered_model_files_are_refused(saved, tmp_path, path, value, delete, message):
    doc = json.loads(saved.read_text())
    _edit(doc, path, value, delete)
    bad = tmp_path / "tampered.json"
    bad.write_text(json.dumps(doc))
    with pytest.raises(ModelFileError, match=message):
        CustomerResolver.load(bad)


def test_an_untouched_copy_loads(saved, tmp_path):
    doc = json.loads(saved.read_text())
    copy_path = tmp_path / "copy.json"
    copy_path.write_text(json.dumps(copy.deepcopy(doc)))
    assert CustomerResolver.load(copy_path).model_ == doc["fitted"]["model"]


def test_resolution_is_the_one_result_type(records, fitted):
    result = fitted.resolve(records)
    assert isinstance(result, Resolution) and repr(result).startswith("Resolution(")
    summary = result.summary()
    assert summary.stats["records"] == len(records) and summary.stats["customers"] == result.n_customers
    assert summary.to_frame()["records"].sum() == len(records)
    assert "<table>" in result._repr_html_()
