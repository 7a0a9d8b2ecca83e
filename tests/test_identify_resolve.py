"""resolve_customers: every record once, stable ids, incremental linking, accuracy, bad input."""

import numpy as np
import pandas as pd
import pytest
from identify_fixture import make_fixture

from crm_models.errors import DataError
from crm_models.identify import (
    evaluate,
    explain_pair,
    resolve_customers,
    resolve_exact,
    threshold_sweep,
)


@pytest.fixture(scope="module")
def world():
    records, truth = make_fixture(n_people=150, random_state=3)
    return records, truth


@pytest.fixture(scope="module")
def result(world):
    records, _ = world
    return resolve_customers(records, default_region="GB", random_state=1)


def test_every_record_exactly_once(world, result):
    records, _ = world
    cw = result.crosswalk
    assert list(cw.index) == list(records["record_id"])  # input order, nothing lost or added
    assert cw.index.is_unique and cw["customer_id"].notna().all()
    assert set(result.golden.index) == set(cw["customer_id"])
    assert result.golden["n_records"].sum() == len(records)


def test_accuracy_on_small_world_beats_exact_keys(world, result):
    records, truth = world
    m = evaluate(result, truth)["value"]
    assert m["pairwise_f1"] >= 0.85 and m["bcubed_f1"] >= 0.9
    baseline = evaluate(resolve_exact(records), truth)["value"]
    assert m["bcubed_f1"] > baseline["bcubed_f1"]


def test_same_input_in_any_row_order_gives_same_ids(world, result):
    records, _ = world
    shuffled = records.sample(frac=1.0, random_state=np.random.default_rng(5).integers(1 << 31))
    again = resolve_customers(shuffled, default_region="GB", random_state=1)
    pd.testing.assert_series_equal(again.crosswalk["customer_id"].sort_index(),
                                   result.crosswalk["customer_id"].sort_index())
    # ids come from the smallest record id of each customer
    for cid, group in result.crosswalk.groupby("customer_id"):
        assert cid == "C-" + min(map(str, group.index))


def test_incremental_linking_keeps_existing_ids(world):
    records, truth = world
    first_half = records.iloc[: len(records) // 2]
    before = resolve_customers(first_half, default_region="GB", random_state=1)
    # a crosswalk DataFrame works as well as a Resolution; unknown records are reported, not kept
    crosswalk = pd.concat([before.crosswalk.reset_index(),
                           pd.DataFrame({"record_id": ["GONE"], "customer_id": ["C-GONE"], "source": ["web"]})])
    with pytest.warns(UserWarning, match="not in records"):
        after = resolve_customers(records, default_region="GB", random_state=1, existing=crosswalk)
    assert "GONE" not in after.crosswalk.index
    old = before.crosswalk["customer_id"]
    assert (after.crosswalk.loc[old.index, "customer_id"] == old).all()  # nobody renumbered or moved
    # existing customers are never merged together
    assert after.crosswalk.loc[old.index].groupby("customer_id").size().sum() == len(old)
    assert after.crosswalk.loc[old.index, "customer_id"].nunique() == old.nunique()
    new = after.crosswalk.drop(index=old.index)
    assert new["customer_id"].isin(set(old)).any()  # some new records joined existing customers
    assert (~new["customer_id"].isin(set(old))).any()  # and some started new ones
    assert evaluate(after, truth)["value"]["bcubed_f1"] >= 0.85


def test_golden_record_keeps_provenance(result):
    golden = result.golden
    std = result.standardised.set_index("record_id")
    row = golden.loc[golden["n_records"].idxmax()]
    for field in ("email", "phone", "date_of_birth", "last_name"):
        if pd.notna(row[field]):
            assert std.loc[row[f"{field}_record"], field] == row[field]
            assert std.loc[row[f"{field}_record"], "source"] == row[f"{field}_source"]
    # most recent valid e-mail wins
    cid = golden.index[golden["n_records"] >= 2][0]
    members = result.crosswalk.index[result.crosswalk["customer_id"] == cid]
    emails = std.loc[members].dropna(subset=["email"]).sort_values("created_at")
    if len(emails):
        assert golden.loc[cid, "email"] == emails["email"].iloc[-1]


def test_threshold_sweep_and_explanation(world, result):
    _, truth = world
    sweep = threshold_sweep(result, truth, thresholds=[0.1, 0.5, 0.9, 0.999])
    assert sweep["customers"].is_monotonic_increasing
    linked = result.pairs.loc[result.pairs["match_probability"] > 0.5].iloc[0]
    table = explain_pair(result, linked["record_id_l"], linked["record_id_r"])
    assert table["field"].iloc[0] == "prior" and table["field"].iloc[-1] == "total"
    assert np.isclose(table["weight"].iloc[-1], linked["match_weight"], atol=1e-6)
    with pytest.raises(ValueError, match="not scored"):
        explain_pair(result, "nope", "neither")
    with pytest.raises(ValueError, match=r"must lie in \[0, 1\], got \[1.5\]"):
        threshold_sweep(result, truth, thresholds=[0.5, 1.5])


def test_bad_input_errors_carry_the_offending_rows():
    ok = pd.DataFrame({"record_id": [1, 2], "source": ["web", "store"], "email": ["a@b.com", "a@b.com"]})
    with pytest.raises(DataError, match="missing column") as info:
        resolve_customers(ok.drop(columns="record_id"))
    assert info.value.column == "record_id"
    with pytest.raises(DataError, match="unique") as info:
        resolve_customers(ok.assign(record_id=[1, 1]))
    assert info.value.column == "record_id" and info.value.rows.index.tolist() == [0, 1]
    with pytest.raises(DataError, match="missing ids") as info:
        resolve_customers(ok.assign(record_id=[1, None]))
    assert info.value.rows.index.tolist() == [1]
    with pytest.raises(DataError, match="no usable identifying column") as info:
        resolve_customers(ok[["record_id", "source"]].assign(note=["x", "y"]))
    assert len(info.value.rows) == 2
    with pytest.raises(DataError, match="holds no usable value") as info:
        resolve_customers(ok.assign(email=["broken", None]))
    assert info.value.column == "email" and info.value.rows["value"].tolist() == ["broken"]
    with pytest.raises(DataError, match="empty"):
        resolve_customers(ok.iloc[:0])
    with pytest.raises(DataError, match="'zip'"):
        resolve_customers(ok, columns={"postcode": "zip"})
    with pytest.raises(ValueError, match="threshold"):
        resolve_customers(ok, threshold=1.5)
    with pytest.raises(ValueError, match="random_state"):
        resolve_customers(ok, random_state="seven")
    with pytest.raises(TypeError, match="DataFrame"):
        resolve_customers(ok.to_dict())


def test_bad_existing_crosswalks_are_refused(world):
    records, _ = world
    small = records.iloc[:30]
    with pytest.raises(DataError, match="customer_id"):
        resolve_customers(small, existing=pd.DataFrame({"record_id": ["x"]}))
    twice = pd.Series(["C-1", "C-2"], index=[small["record_id"].iloc[0]] * 2)
    with pytest.raises(DataError, match="each record id once") as info:
        resolve_customers(small, existing=twice)
    assert len(info.value.rows) == 2
    with pytest.raises(TypeError, match="existing must be"):
        resolve_customers(small, existing=["C-1"])


def test_other_column_names_and_no_source_column(world):
    records, truth = world
    renamed = records.iloc[:80].rename(columns={"record_id": "key", "email": "mail", "postcode": "zip"})
    res = resolve_customers(renamed.drop(columns="source"), record_id_col="key", source_col=None,
                            columns={"email": "mail", "postcode": "zip"}, default_region="GB")
    assert list(res.crosswalk.index) == list(renamed["key"]) and res.crosswalk.index.name == "key"
    assert res.standardised["email"].notna().any() and res.standardised["postcode"].notna().any()
    assert evaluate(res, truth)["value"]["bcubed_f1"] >= 0.85


def test_single_record_is_its_own_customer():
    one = pd.DataFrame({"record_id": ["x1"], "source": ["web"], "last_name": ["Lee"]})
    res = resolve_customers(one)
    assert res.crosswalk["customer_id"].tolist() == ["C-x1"]
    assert res.resolver is None and res.pairs.empty and res.parameters.empty


@pytest.fixture(scope="module")
def company():
    from crm_models.datasets import load_crm_world

    world = load_crm_world()
    truth = world.record_truth.set_index("record_id")["person_id"]
    return world.records, truth, resolve_customers(world.records)


def test_accuracy_on_the_simulated_company(company):
    """The default world (6,071 records of 3,000 people): what notebook 01 reports."""
    records, truth, result = company
    scores = evaluate(result, truth)["value"]
    assert scores["pairwise_f1"] >= 0.981 and scores["bcubed_f1"] >= 0.991
    assert abs(result.n_customers - truth.nunique()) / truth.nunique() < 0.03
    baseline = evaluate(resolve_exact(records), truth)["value"]
    assert scores["pairwise_f1"] > baseline["pairwise_f1"] + 0.2


def test_a_model_fitted_on_everything_resolves_a_small_slice(company):
    """A slice of one system with a single true pair and no shared e-mail: a model learned from
    120 records cannot tell, the company's model (prior rescaled to the slice) links the pair."""
    records, truth, result = company
    head = records.head(120)
    sliced = result.resolver.resolve(head)
    scores = evaluate(sliced, truth.loc[head["record_id"]])["value"]
    assert scores["pairwise_precision"] == 1.0 and scores["pairwise_recall"] == 1.0
    assert sliced.model["probability_two_random_records_match"] > result.model["probability_two_random_records_match"]


@pytest.mark.parametrize("n", [40, 120])
def test_small_samples_without_shared_emails_still_resolve(n):
    """A slice of a company with no shared e-mail once drove Splink's prior to 0 ("math domain
    error"); it must resolve, every record exactly once, and never merge different people."""
    from crm_models.datasets import load_crm_world

    world = load_crm_world()
    records = world.records.head(n)
    result = resolve_customers(records)
    assert result.crosswalk.index.tolist() == records["record_id"].tolist()
    truth = world.record_truth.set_index("record_id").loc[records["record_id"], "person_id"]
    scores = evaluate(result, truth)["value"]
    assert scores["bcubed_precision"] >= 0.99
    assert scores["bcubed_f1"] >= 0.95
