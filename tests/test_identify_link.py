"""Splink through its public API: the deterministic prior, trained models, and the Splink behaviour relied on."""

import logging
import re
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import splink.comparison_level_library as cll
import splink.comparison_library as cl
from identify_fixture import make_fixture
from splink import Linker, SettingsCreator, block_on
from splink.backends.duckdb import DuckDBAPI

import crm_models.identify as identify
from crm_models.identify.link import (
    DEFAULT_PRIOR,
    EM_PROBABILITY_FLOOR,
    _em_session,
    _is_probability_underflow,
    _model_for_batch,
    deterministic_prior,
    deterministic_rules,
    model_parameters,
    predict_pairs,
    train_model,
    usable_columns,
)
from crm_models.identify.resolve import _prepare

IDENTIFY = Path(identify.__file__).parent


@pytest.fixture(scope="module")
def prepared():
    records, _ = make_fixture(n_people=60, random_state=4)
    data, _, _, _ = _prepare(records, "record_id", "source", None, "GB", None)
    return data


@pytest.fixture(scope="module")
def model(prepared):
    return train_model(prepared, random_state=0)


# ------------------------------------------------------------------ public API only
def test_identify_uses_no_private_splink_state():
    for path in sorted(IDENTIFY.glob("*.py")):
        text = path.read_text(encoding="utf-8")
        for private in ("splink.internals", "_settings_obj", "populate_m_u_from_lookup", "._con", "._db_api"):
            assert private not in text, f"{path.name} uses Splink's private {private}"


def test_resolving_leaves_splink_unpatched():
    from splink.internals import expectation_maximisation as em

    before = {name: getattr(em, name) for name in dir(em) if callable(getattr(em, name))}
    records, _ = make_fixture(n_people=20, random_state=5)
    identify.resolve_customers(records, default_region="GB")
    assert {name: getattr(em, name) for name in before} == before


# ------------------------------------------------------------- the Splink behaviour relied on
def _tiny_linker(m_else: float, blocking_column: str = "phone"):
    df = pd.DataFrame({"_rid": range(8), "city": list("aabbccdd"), "name": ["x", "x", "y", "y", "z", "z", "w", "q"],
                       "phone": ["1", "1", "2", "2", "3", "3", "4", "4"]})
    settings = SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="_rid",
        comparisons=[
            cl.CustomComparison(output_column_name="name", comparison_levels=[
                cll.NullLevel("name"),
                cll.ExactMatchLevel("name").configure(m_probability=0.9, u_probability=0.1),
                cll.ElseLevel().configure(m_probability=m_else, u_probability=0.9),
            ]),
            cl.ExactMatch("phone").configure(m_probabilities=[0.9, 0.1], u_probabilities=[0.1, 0.9]),
        ],
        blocking_rules_to_generate_predictions=[block_on("city")],
        probability_two_random_records_match=0.1,
    )
    records = DuckDBAPI(connection=duckdb.connect()).register(df)

    def make_linker(model):
        return Linker(records, {k: v for k, v in model.items() if k != "linker_uid"}, log_level=logging.ERROR)

    return Linker(records, settings, log_level=logging.ERROR), make_linker


def test_splink_refuses_an_em_estimate_of_zero_with_the_error_we_recognise():
    """EM drives a level's m towards 0 when no matching pair falls in it; Splink 5 refuses an
    estimate below 1e-300 with a ValueError naming m_probability. link._em_session recognises
    exactly that error: if Splink changes it (clamps, renames, another exception), this fails."""
    linker, _ = _tiny_linker(m_else=1e-300)
    with pytest.raises(ValueError) as info:
        linker.training.estimate_parameters_using_expectation_maximisation(
            block_on("phone"), estimate_without_term_frequencies=True)
    assert re.search(r"m_probability value .* is below the minimum allowed value", str(info.value))
    assert _is_probability_underflow(info.value)
    assert not _is_probability_underflow(ValueError("another problem"))


def test_a_failed_em_session_is_retried_from_the_saved_model():
    linker, make_linker = _tiny_linker(m_else=1e-300)
    before = linker.misc.save_model_to_json()
    after_linker, trained = _em_session(linker, make_linker, "phone", 1e5, 25)
    after = after_linker.misc.save_model_to_json()
    assert not trained
    # the session fails at every length, so it is skipped: the model is the one before it, whole
    assert [c["output_column_name"] for c in after["comparisons"]] == ["name", "phone"]
    assert after["probability_two_random_records_match"] == before["probability_two_random_records_match"]
    assert after["max_iterations"] == 25


class _FakeLinker:
    """Fails EM like Splink when it may run more than ``limit`` iterations."""

    def __init__(self, model, limit, calls):
        self.model, self.limit, self.calls = dict(model), limit, calls
        self.training, self.misc = self, self

    def save_model_to_json(self):
        return dict(self.model)

    def estimate_parameters_using_expectation_maximisation(self, *args, **kwargs):
        self.calls.append(self.model["max_iterations"])
        if self.model["max_iterations"] > self.limit:
            raise ValueError("m_probability value 0.0 is below the minimum allowed value of 1e-300.")
        self.model["trained"] = True


def test_em_session_halves_the_iterations_until_it_succeeds():
    calls = []
    start = _FakeLinker({"max_iterations": 25}, limit=6, calls=calls)
    result, trained = _em_session(start, lambda model: _FakeLinker(model, 6, calls), "phone", 1e5, 25)
    assert calls == [25, 12, 6] and trained
    assert result.model == {"max_iterations": 25, "trained": True}  # later sessions get 25 again

    def other_error(*args, **kwargs):
        raise ValueError("another problem")

    failing = _FakeLinker({"max_iterations": 25}, 0, [])
    failing.estimate_parameters_using_expectation_maximisation = other_error
    with pytest.raises(ValueError, match="another problem"):  # any other error is not swallowed
        _em_session(failing, None, "phone", 1e5, 25)


def test_level_numbering_matches_splink_predictions(prepared, model):
    """model_parameters numbers levels as Splink's gamma columns do (k - 1 .. 0, -1 missing)."""
    pairs = predict_pairs(prepared, model, min_match_probability=0.0)
    params = model_parameters(model).set_index(["comparison", "level"])["gamma"]
    both = (pairs["first_name_l"] == pairs["first_name_r"]) & (pairs["last_name_l"] == pairs["last_name_r"])
    assert both.any() and (pairs.loc[both, "gamma_name"] == params[("name", "Both names exact")]).all()
    no_phone = pairs["phone_l"].isna() | pairs["phone_r"].isna()
    assert no_phone.any() and (pairs.loc[no_phone, "gamma_phone"] == -1).all()
    exact = ~no_phone & (pairs["phone_l"] == pairs["phone_r"])
    assert (pairs.loc[exact, "gamma_phone"] == params[("phone", "Exact match on phone")]).all()
    # and each pair's weights are log2(m/u) of its levels (term frequencies aside)
    weights = model_parameters(model).set_index(["comparison", "gamma"])["match_weight"]
    row = pairs.loc[exact].iloc[0]
    assert row["mw_phone"] == pytest.approx(weights[("phone", row["gamma_phone"])])


# -------------------------------------------------------------------------- the prior
def test_deterministic_prior_equals_splinks_own_estimate(prepared):
    """The same rules (e-mail; names + birth date; names + postcode; names + phone) give Splink's number."""
    rules = deterministic_rules(usable_columns(prepared))
    assert rules == [("email",), ("first_name", "last_name", "date_of_birth"), ("first_name", "last_name", "postcode"),
                     ("first_name", "last_name", "phone")]
    columns = ["_rid", "email", "first_name", "last_name", "date_of_birth", "postcode", "phone"]
    linker = Linker(DuckDBAPI(connection=duckdb.connect()).register(prepared[columns]),
                    SettingsCreator(link_type="dedupe_only", unique_id_column_name="_rid",
                                    comparisons=[cl.ExactMatch("email")]), log_level=logging.ERROR)
    linker.training.estimate_probability_two_random_records_match([block_on(*r) for r in rules], recall=0.6)
    splink_prior = linker.misc.save_model_to_json()["probability_two_random_records_match"]
    assert deterministic_prior(prepared, recall=0.6) == pytest.approx(splink_prior, rel=1e-12)
    email_only = deterministic_prior(prepared[["email"]], recall=0.6)
    assert deterministic_prior(prepared, recall=0.6) > email_only  # the names rules find more pairs


def test_deterministic_prior_counts_each_pair_once_and_stays_in_range():
    both = pd.DataFrame({"email": ["a", "a", "b", None], "loyalty_id": ["L1", "L1", "L2", "L2"]})
    assert deterministic_prior(both, recall=1.0) == pytest.approx(2 / 6)  # (0,1) by both keys, (2,3) by loyalty
    none_shared = pd.DataFrame({"email": ["a", "b", "c"]})
    assert deterministic_prior(none_shared) == pytest.approx(1 / 3)  # one match among the 3 pairs
    everyone = pd.DataFrame({"email": ["a"] * 4})
    assert deterministic_prior(everyone) == 0.5
    no_keys = pd.DataFrame({"phone": ["1"] * 500})
    assert deterministic_prior(no_keys) == DEFAULT_PRIOR
    with pytest.raises(ValueError, match="recall"):
        deterministic_prior(none_shared, recall=0.0)


def test_prior_scales_with_the_batch():
    model = {"probability_two_random_records_match": 0.01}
    assert _model_for_batch(model, 101, 101) == model
    assert _model_for_batch(model, 101, 11)["probability_two_random_records_match"] == pytest.approx(0.1)
    assert _model_for_batch(model, 101, 3)["probability_two_random_records_match"] == 0.5
    assert _model_for_batch(model, 11, 10_001)["probability_two_random_records_match"] == pytest.approx(0.01 * 10 / 10_000)


# ------------------------------------------------------------------------ trained model
def test_trained_model_is_complete_and_floored(prepared, model):
    assert model["probability_two_random_records_match"] == deterministic_prior(prepared)
    params = model_parameters(model)
    assert set(params["comparison"]) == {"name", "email", "phone", "date_of_birth", "address"}
    assert params[["m_probability", "u_probability"]].ge(EM_PROBABILITY_FLOOR).all().all()
    assert params[["m_probability", "u_probability"]].le(1.0).all().all()
    # the same seed gives the same model; Splink reads it back as it is
    assert train_model(prepared, random_state=0) == model
    pairs = predict_pairs(prepared, model)
    assert {"_rid_l", "_rid_r", "match_weight", "match_probability"} <= set(pairs.columns)


def test_training_needs_pairs(prepared):
    with pytest.raises(ValueError, match="at least 2 records"):
        train_model(prepared.iloc[:1])


def test_estimates_splink_could_not_make_are_filled_by_stated_rules():
    from crm_models.identify.link import _complete

    def levels(*pairs):
        return [{"label_for_charts": "null", "is_null_level": True}] + [
            {"label_for_charts": f"level {i}", **({"m_probability": m} if m is not None else {}),
             **({"u_probability": u} if u is not None else {})} for i, (m, u) in enumerate(pairs)]

    canonical = {"comparisons": [{"output_column_name": "phone", "comparison_levels": levels(*[(None, None)] * 4)},
                                 {"output_column_name": "name", "comparison_levels": levels((None, None))}]}
    learned = {"comparisons": [
        {"output_column_name": "phone", "comparison_levels": levels((0.9, None), (None, 0.02), (1e-40, 0.3), (0.1, 0.7))},
        {"output_column_name": "name", "comparison_levels": levels((0.8, 0.1))},
    ]}
    model = _complete(canonical, learned, 0.01, trained={"phone"})
    phone = [(lv["m_probability"], lv["u_probability"]) for lv in model["comparisons"][0]["comparison_levels"][1:]]
    assert phone == [(0.9, EM_PROBABILITY_FLOOR),  # no random pair fell in it: rarer than the sample shows
                     (0.02, 0.02),  # no EM pair fell in it: no evidence
                     (EM_PROBABILITY_FLOOR, 0.3),  # EM's zero, floored
                     (0.1, 0.7)]
    name = model["comparisons"][1]["comparison_levels"][1]
    assert (name["m_probability"], name["u_probability"]) == (0.1, 0.1)  # never trained by EM: weight 0
    assert model["probability_two_random_records_match"] == 0.01
    assert canonical["comparisons"][0]["comparison_levels"][1] == {"label_for_charts": "level 0"}  # not modified
