"""Standardisation of contact fields: names, e-mails, phones, postcodes, dates of birth."""

import pandas as pd
import pytest

from crm_models.errors import DataError

from crm_models.identify.standardise import (
    canonical_first_name,
    clean_date_of_birth,
    clean_email,
    clean_name,
    clean_phone,
    clean_postcode,
    first_name_variants,
    infer_dob_formats,
    split_full_name,
    standardise_records,
)


@pytest.mark.parametrize(
    "raw, expected",
    [("  JOHN ", "john"), ("Zoë", "zoe"), ("O'Brien", "obrien"), ("Smith-Jones", "smithjones"), ("J.", "j"),
     ("Dr. Ann", "ann"), (None, None), ("", None), ("n/a", None), ("...", None)],
)
def test_clean_name(raw, expected):
    assert clean_name(raw) == expected


def test_split_combined_names():
    assert split_full_name("Smith, John") == ("john", "smith")
    assert split_full_name("John A. Smith") == ("john", "smith")
    assert split_full_name("Smith") == (None, "smith")


def test_nicknames_share_a_canonical_name():
    assert canonical_first_name("bob") == canonical_first_name("robert") == "robert"
    assert canonical_first_name("liz") == "elizabeth"
    assert canonical_first_name("zzyzx") == "zzyzx"
    assert "robert" in first_name_variants("bob")


@pytest.mark.parametrize(
    "raw, expected",
    [(" Jane.Doe@Example.COM ", "jane.doe@example.com"), ("mailto:a@b.org", "a@b.org"), ("not-an-email", None),
     ("a@b", None), ("a..b@c.com", None), (None, None)],
)
def test_clean_email(raw, expected):
    assert clean_email(raw) == expected


@pytest.mark.parametrize(
    "raw, region, expected",
    [("(212) 555-0123", "US", "+12125550123"), ("+1 212-555-0123", "US", "+12125550123"),
     ("2125550123", "US", "+12125550123"), (2125550123, "US", "+12125550123"),
     ("07700 900123", "GB", "+447700900123"), ("+44 20 7946 0958", "US", "+442079460958"),
     ("12345", "US", None), ("call me", "US", None), (None, "US", None)],
)
def test_clean_phone_to_e164(raw, region, expected):
    assert clean_phone(raw, region) == expected


@pytest.mark.parametrize("raw, expected", [("sw1a1aa", "SW1A 1AA"), ("SW1A  1AA", "SW1A 1AA"), ("02134", "02134"),
                                           (" 90210-1234", "902101234"), (None, None), ("--", None)])
def test_clean_postcode(raw, expected):
    assert clean_postcode(raw) == expected


def test_dates_of_birth_in_several_formats():
    for raw in ("1980-03-24", "24/03/1980", "24.03.1980", "24 Mar 1980", "March 24, 1980", "19800324"):
        assert clean_date_of_birth(raw) == "1980-03-24", raw
    assert clean_date_of_birth("03/24/1980", ("%m/%d/%Y",)) == "1980-03-24"
    assert clean_date_of_birth("31/02/1980") is None
    assert clean_date_of_birth("1850-01-01") is None  # impossible birth year
    assert clean_date_of_birth("2999-01-01") is None  # in the future


def test_month_first_source_is_recognised():
    values = pd.Series(["03/24/1960", "10/09/1973", "01/21/1958", "12/31/1999"])
    assert infer_dob_formats(values)[0] == "%m/%d/%Y"
    assert infer_dob_formats(pd.Series(["24/03/1960", "10/09/1973"]))[0] == "%d/%m/%Y"


def test_standardise_reports_problems_and_keeps_every_record():
    records = pd.DataFrame(
        {
            "id": [1, 2, 3, 4],
            "src": ["web", "store", "store", "web"],
            "fname": ["Bob", None, "Ann", "West"],
            "surname": ["Smith", "Jones, Mary", "Lee", "Erin"],
            "mail": ["BOB@X.COM", "broken@", None, "e@x.com"],
            "tel": ["(212) 555-0123", "42", None, "+1 212 555 0199"],
            "dob": ["1980-03-24", "yesterday", "24.03.1980", None],
        }
    )
    std = standardise_records(
        records,
        record_id_col="id",
        source_col="src",
        columns={"first_name": "fname", "last_name": "surname", "email": "mail", "phone": "tel",
                 "date_of_birth": "dob"},
    )
    data = std.data
    assert list(data["record_id"]) == [1, 2, 3, 4]
    assert data.loc[1, ["first_name", "last_name"]].tolist() == ["mary", "jones"]
    assert data.loc[0, "first_name_canon"] == "robert"
    assert data.loc[0, "email"] == "bob@x.com" and data.loc[0, "phone"] == "+12125550123"
    assert data.loc[2, "date_of_birth"] == "1980-03-24"
    problems = std.problems.set_index("column")
    assert sorted(std.problems["column"]) == ["dob", "mail", "tel"]
    assert problems.loc["mail", "value"] == "broken@" and problems.loc["tel", "record_id"] == 2


def test_unknown_column_mapping_is_an_error():
    records = pd.DataFrame({"record_id": [1], "source": ["web"], "email": ["a@b.com"]})
    with pytest.raises(DataError, match="not a column of records") as info:
        standardise_records(records, columns={"phone": "telephone"})
    assert info.value.column == "telephone"
    with pytest.raises(DataError, match="missing column"):
        standardise_records(records, record_id_col="id")
    with pytest.raises(ValueError, match="unknown standard column"):
        standardise_records(records, columns={"mobile": "email"})
