"""Any reasonable schema: column subsets, roles, identical records, dtypes, names from everywhere, FEBRL."""

import itertools

import numpy as np
import pandas as pd
import pytest
from identify_fixture import make_fixture

from crm_models.datasets import load_febrl
from crm_models.errors import DataError
from crm_models.identify import (
    ROLES,
    column_roles,
    evaluate,
    resolve_customers,
    standardise_records,
    suggested_threshold,
    threshold_guidance,
    threshold_sweep,
)
from crm_models.identify.standardise import clean_gender, clean_identifier, clean_name, transliterate

IDENTIFYING = ["first_name", "last_name", "email", "phone", "date_of_birth", "street", "city", "postcode"]


@pytest.fixture(scope="module")
def small():
    records, truth = make_fixture(n_people=24, random_state=11)
    return records, truth


def _check_every_record_once(result, records):
    cw = result.crosswalk
    assert list(cw.index) == list(records["record_id"]) and cw["customer_id"].notna().all()
    assert result.golden["n_records"].sum() == len(records)


@pytest.mark.parametrize(
    "columns",
    [[c] for c in IDENTIFYING] + [list(p) for p in itertools.combinations(IDENTIFYING, 2)] + [IDENTIFYING],
    ids=lambda cols: "+".join(cols),
)
def test_every_identifying_column_subset_resolves(small, columns):
    """Singles, pairs and all columns: no exception from Splink, every record exactly once."""
    records, truth = small
    subset = records[["record_id", "source", *columns]]
    result = resolve_customers(subset, default_region="GB")
    _check_every_record_once(result, subset)
    assert evaluate(result, truth)["value"]["bcubed_precision"] >= 0.9  # one weak column must not merge strangers


@pytest.mark.parametrize(
    "frame, columns",
    [
        (pd.DataFrame({"name": ["Ann Lee", "Ann Lee", "Bob Kim"]}), {"full_name": "name"}),
        (pd.DataFrame({"ssn": ["123-45", "12345", "999"]}), {"identifier": "ssn"}),
        (pd.DataFrame({"loyalty_id": ["L1", "l 1", "L2"]}), None),
        (pd.DataFrame({"email": ["a@x.com", "a@x.com", "b@y.org"], "sex": ["F", "female", "M"]}),
         {"gender": "sex"}),
    ],
    ids=["full name only", "identifier only", "loyalty id only", "e-mail and gender"],
)
def test_other_roles_resolve_alone(frame, columns):
    records = frame.assign(record_id=["r1", "r2", "r3"], source="web")
    result = resolve_customers(records, columns=columns)
    assert result.crosswalk["customer_id"].tolist() == ["C-r1", "C-r1", "C-r3"]


@pytest.mark.parametrize("columns", [["email"], ["phone"], ["first_name", "last_name"],
                                     ["first_name", "last_name", "date_of_birth", "postcode"], IDENTIFYING])
@pytest.mark.parametrize("copies", [2, 5])
def test_identical_records_collapse_to_one_customer(small, columns, copies):
    records, _ = small
    one = records.loc[records[columns].notna().all(axis=1), ["source", *columns]].iloc[[0]]
    same = pd.concat([one] * copies, ignore_index=True).assign(record_id=[f"d{i}" for i in range(copies)])
    result = resolve_customers(same, default_region="GB")
    assert result.n_customers == 1
    # and among other people, the copies still collapse while the others stay apart
    others = records[["record_id", "source", *columns]].iloc[1:15]
    mixed = pd.concat([same, others], ignore_index=True)
    cw = resolve_customers(mixed, default_region="GB").crosswalk["customer_id"]
    assert cw.loc[[f"d{i}" for i in range(copies)]].nunique() == 1


def test_a_lone_weak_column_does_not_link_strangers():
    """Two different people sharing only a date of birth stay two customers."""
    records = pd.DataFrame({"record_id": ["a", "b", "c"], "source": "web",
                            "date_of_birth": ["1980-01-01", "1980-01-01", "1990-05-05"]})
    assert resolve_customers(records).n_customers == 3


# --------------------------------------------------------------------------------- column roles
def test_column_roles_map_any_names():
    records = pd.DataFrame(columns=["id", "mail", "Vorname", "ssn", "loyalty", "last_name"])
    roles = column_roles(records, {"email": "mail", "first_name": "Vorname", "identifier": ["ssn", "loyalty"]})
    assert roles == {"first_name": "Vorname", "last_name": "last_name", "email": "mail",
                     "identifier": ["ssn", "loyalty"]}
    assert set(ROLES) >= {"first_name", "last_name", "full_name", "email", "phone", "date_of_birth", "street",
                          "city", "postcode", "gender", "identifier"}
    with pytest.raises(ValueError, match="unknown standard column"):
        column_roles(records, {"mobile": "mail"})
    with pytest.raises(DataError, match="not a column of records") as info:
        column_roles(records, {"identifier": ["ssn", "passport"]})
    assert info.value.column == "passport"
    with pytest.raises(ValueError, match="a column name or a list"):
        column_roles(records, {"identifier": 5})


def test_identifiers_are_standardised_compared_and_decisive():
    records = pd.DataFrame({"record_id": ["a", "b", "c", "d"], "source": ["web", "store", "web", "store"],
                            "name": ["Ann Lee", "A. Lee", "Bob Kim", "Rob Kim"],
                            "Loyalty No": ["ab-123", "AB 123", "X9", None], "ssn": ["1", None, None, "2"]})
    result = resolve_customers(records, columns={"full_name": "name", "identifier": ["Loyalty No", "ssn"]})
    std = result.standardised.set_index("record_id")
    assert std.loc["a", "id_loyalty_no"] == std.loc["b", "id_loyalty_no"] == "AB123"
    assert "id_ssn" in std.columns
    assert result.crosswalk.loc["b", "customer_id"] == "C-a"
    assert {"id_loyalty_no", "id_ssn"} <= set(result.parameters["comparison"])
    assert result.golden.loc["C-a", "id_loyalty_no"] == "AB123"


def test_placeholder_values_are_left_out_and_reported():
    n = 60
    records = pd.DataFrame({"record_id": [f"r{i}" for i in range(n)], "source": "web",
                            "email": ["none@none.com"] * n, "last_name": [f"name{i}" for i in range(n)]})
    result = resolve_customers(records)
    assert result.n_customers == n  # 60 strangers, not one customer
    assert result.standardised["email"].isna().all()
    assert result.problems["reason"].str.contains("placeholder").sum() == n


# ------------------------------------------------------------------------------------ dtypes
def _febrl_records(febrl: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "record_id": febrl["record_id"], "first_name": febrl["given_name"], "last_name": febrl["surname"],
        "street": (febrl["street_number"].astype("string").fillna("") + " "
                   + febrl["address_1"].astype("string").fillna("")).str.strip(),
        "city": febrl["suburb"], "postcode": febrl["postcode"], "date_of_birth": febrl["date_of_birth"],
        "ssn": febrl["soc_sec_id"],
    })


def test_numbers_read_as_floats_are_recovered(tmp_path):
    """FEBRL read with pandas' defaults: dates of birth become floats (19151111.0), postcodes integers
    without their leading zeros, ids floats; the standardised values are the same as from text."""
    text = load_febrl(1)
    path = tmp_path / "febrl.csv"
    text.drop(columns="entity_id").to_csv(path, index=False)
    numbers = pd.read_csv(path)
    assert numbers["date_of_birth"].dtype == float and numbers["postcode"].dtype.kind in "if"
    assert numbers["postcode"].min() < 1000  # "0800" was read as 800
    cols = {"identifier": ["ssn"]}
    from_text = standardise_records(_febrl_records(text), source_col=None, columns=cols)
    from_numbers = standardise_records(_febrl_records(numbers), source_col=None, columns=cols)
    for col in ("date_of_birth", "postcode", "id_ssn"):
        pd.testing.assert_series_equal(from_numbers.data[col], from_text.data[col], check_dtype=False)
    assert (from_text.data["postcode"].str.len() == 4).all()
    restored = from_numbers.changes.loc[from_numbers.changes["column"] == "postcode"]
    assert len(restored) and restored["change"].str.contains("leading zeros").all()
    assert (restored["standardised"].str.len() == 4).all()


@pytest.mark.parametrize(
    "column, values, rule",
    [
        ("date_of_birth", [19151111.5, 19800101.0], "fractional part"),
        ("postcode", [2600.25, 2000.0], "fractional part"),
        ("phone", [2.0**60, 2125550123.0], "too large to keep every digit"),
    ],
)
def test_numbers_that_cannot_be_recovered_are_refused_naming_the_column(column, values, rule):
    records = pd.DataFrame({"record_id": ["a", "b"], "source": "web", "last_name": ["Lee", "Kim"], column: values})
    with pytest.raises(DataError, match=rule) as info:
        resolve_customers(records)
    assert info.value.column == column and info.value.rows.index.tolist() == [0]
    assert "dtype" in info.value.hint


def test_a_whole_float_identifier_is_its_digits():
    assert clean_identifier(6988048.0) == "6988048"
    records = pd.DataFrame({"record_id": ["a", "b"], "source": "web", "ssn": [6988048.0, np.nan]})
    data = standardise_records(records, columns={"identifier": "ssn"}).data
    assert data["id_ssn"].tolist() == ["6988048", None]


# --------------------------------------------------------------------------- names from everywhere
@pytest.mark.parametrize(
    "raw, cleaned",
    [
        ("Søren Ødegård", "soren odegard"),
        ("Ægir", "aegir"),
        ("Straße", "strasse"),
        ("Þórunn", "thorunn"),
        ("Ðorđe", "dorde"),
        ("Łukasz", "lukasz"),
        ("Zoë Šťastná", "zoe stastna"),
        ("Nguyễn Văn An", "nguyen van an"),
        ("Иван Петров", "ivan petrov"),
        ("Γιώργος", "giorgos"),
        ("王小明", "wangxiaoming"),
        ("김민준", "gimminjun"),
        ("O’Brien", "obrien"),
    ],
)
def test_transliteration_table(raw, cleaned):
    assert clean_name(raw) == cleaned
    assert transliterate(raw).isascii()


def test_non_latin_names_stay_comparable_and_changes_are_reported():
    records = pd.DataFrame({
        "record_id": ["a", "b", "c", "d"], "source": ["web", "store", "web", "store"],
        "first_name": ["Søren", "Soren", "Иван", "Ivan"], "last_name": ["Ødegård", "Odegard", "Петров", "Petrov"],
        "email": ["s@x.dk", "s@x.dk", "ivan@x.ru", "ivan@x.ru"],
    })
    result = resolve_customers(records)
    assert result.crosswalk["customer_id"].tolist() == ["C-a", "C-a", "C-c", "C-c"]
    assert result.standardised["first_name"].notna().all()
    changes = result.changes.set_index(["record_id", "column"])
    assert changes.loc[("a", "first_name"), "standardised"] == "soren"
    assert changes.loc[("c", "last_name"), "standardised"] == "petrov"
    assert set(changes["change"]) == {"transliterated to Latin letters"}
    assert len(changes) == 4  # the Latin spellings are not changes
    assert result.summary().stats["values transliterated or restored"] == 4


def test_gender_spellings():
    assert [clean_gender(v) for v in ["Male", "F", "woman", "Frau", "x", None]] == ["m", "f", "f", "f", "x", None]


# ------------------------------------------------------------------- public person data: FEBRL
@pytest.fixture(scope="module")
def febrl1():
    febrl = load_febrl(1)
    records = _febrl_records(febrl).drop(columns="ssn")
    return records, febrl.set_index("record_id")["entity_id"], resolve_customers(records, source_col=None)


def test_febrl_without_email_high_precision_and_recall(febrl1):
    """FEBRL 1 (500 people, one duplicate each with typing errors; no e-mail, no phone)."""
    records, truth, result = febrl1
    scores = evaluate(result, truth)["value"]
    assert scores["pairwise_precision"] >= 0.995 and scores["pairwise_recall"] >= 0.94
    # the prior the data support: 500 true pairs among 499,500
    assert result.model["probability_two_random_records_match"] == pytest.approx(500 / 499_500, rel=0.1)


def test_threshold_guidance_tracks_the_truth_on_febrl(febrl1):
    records, truth, result = febrl1
    guide = threshold_guidance(result)
    measured = threshold_sweep(result, truth, thresholds=list(guide.index))
    assert (guide["estimated_precision"] - measured["pairwise_precision"]).abs().max() < 0.02
    chosen = suggested_threshold(guide)
    assert chosen < result.threshold
    at = measured.loc[chosen]
    assert at["pairwise_precision"] >= 0.995 and at["pairwise_recall"] >= 0.965
    assert at["pairwise_recall"] > measured.loc[result.threshold, "pairwise_recall"]
