"""``crm-models resolve BATCH.csv --register FILE.duckdb``: batches into a register, column roles, errors."""

from __future__ import annotations

import pandas as pd
import pytest
from identify_fixture import make_fixture

from crm_models.cli import main
from crm_models.identify import CustomerRegister


@pytest.fixture(scope="module")
def batches(tmp_path_factory):
    records, _ = make_fixture(n_people=60, random_state=31)
    records = records.rename(columns={"email": "mail", "postcode": "zip"})
    folder = tmp_path_factory.mktemp("cli")
    half = len(records) // 2
    a, b = folder / "monday.csv", folder / "tuesday.csv"
    records.iloc[:half].to_csv(a, index=False)
    records.iloc[half:].to_csv(b, index=False)
    return records, a, b


def _err(capsys) -> str:
    return capsys.readouterr().err.strip()


def test_batches_go_into_a_register(batches, tmp_path, capsys):
    records, monday, tuesday = batches
    register = tmp_path / "customers.duckdb"
    out = tmp_path / "cw.csv"
    base = ["--register", str(register), "--no-progress"]
    assert main(["resolve", str(monday), *base, "--out", str(out), "--column", "email=mail", "--column", "postcode=zip"]) == 0
    assert "new customers" in _err(capsys)
    first = pd.read_csv(out)
    assert list(first.columns) == ["record_id", "customer_id", "source", "status"]
    # the next file: the register remembers the column roles and links to the customers it knows
    golden = tmp_path / "golden.csv"
    # an existing crosswalk is replaced only when asked (the register itself is added to, never replaced)
    assert main(["resolve", str(tuesday), *base, "--out", str(out), "--golden", str(golden)]) == 2
    assert "--overwrite" in _err(capsys)
    assert main(["resolve", str(tuesday), *base, "--out", str(out), "--golden", str(golden), "--overwrite"]) == 0
    message = _err(capsys)
    assert "joined existing customers" in message and f"holds {len(records):,} records" in message
    second = pd.read_csv(out)
    assert (second["status"] == "joined").any() and len(second) == len(records) - len(first)
    with CustomerRegister(register, read_only=True) as reg:
        assert reg.n_records == len(records) and reg.model_version == 1
        assert reg.records()["email"].notna().any() and reg.records()["postcode"].notna().any()
        assert len(pd.read_csv(golden)) == reg.n_customers
        assert reg.batches()["label"].tolist() == ["monday.csv", "tuesday.csv"]
    # running the same file again changes nothing
    assert main(["resolve", str(tuesday), *base, "--out", str(out), "--overwrite"]) == 0
    assert f"{len(second):,} already registered" in _err(capsys)
    assert main(["resolve", str(tuesday), *base, "--out", str(out), "--retrain", "--overwrite"]) == 0
    with CustomerRegister(register, read_only=True) as reg:
        assert reg.model_version == 1  # nothing new to link: nothing retrained


def test_column_roles_without_a_register(batches, tmp_path, capsys):
    _, monday, _ = batches
    out = tmp_path / "cw.csv"
    assert main(["resolve", str(monday), "--out", str(out), "--column", "email=mail", "--no-progress"]) == 0
    assert pd.read_csv(out)["customer_id"].nunique() < len(pd.read_csv(monday))


@pytest.mark.parametrize(
    "column, message",
    [
        ("mail", "expected ROLE=COLUMN"),
        ("shoe=size", "expected ROLE=COLUMN with ROLE one of"),
        ("email=nope", "'nope'"),
    ],
)
def test_bad_column_roles_are_one_line_errors(batches, tmp_path, capsys, column, message):
    _, monday, _ = batches
    rc = main(["resolve", str(monday), "--out", str(tmp_path / "cw.csv"), "--column", column, "--no-progress"])
    err = _err(capsys)
    assert rc == 2 and message in err and len(err.splitlines()) == 1


def test_a_register_that_is_not_one(batches, tmp_path, capsys):
    _, monday, _ = batches
    other = tmp_path / "notes.duckdb"
    other.write_text("not a database")
    rc = main(["resolve", str(monday), "--register", str(other), "--out", str(tmp_path / "cw.csv"), "--no-progress"])
    err = _err(capsys)
    assert rc == 2 and "not a crm_models register" in err and len(err.splitlines()) == 1
