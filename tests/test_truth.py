"""crm_models.truth: grading against the simulated company's truth, and nothing else reads the truth."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import crm_models
import crm_models.truth as truth_module
from crm_models.datasets import load_crm_world
from crm_models.errors import DataError
from crm_models.truth import (
    best_possible_contacts,
    compare_policies,
    customer_truth,
    evaluate_policy,
    needs_agreement,
    plot_policy_comparison,
    true_contact_effect,
    uplift_capture,
)


@pytest.fixture(scope="module")
def world():
    return load_crm_world()


@pytest.fixture(scope="module")
def perfect_crosswalk(world):
    """Identification by the truth: one customer per real person."""
    return world.record_truth[["record_id", "person_id"]].rename(columns={"person_id": "customer_id"})


def test_true_contact_effect(world):
    eff = true_contact_effect(world)
    assert len(eff) == len(world.people)
    assert (eff.loc[~eff["alive_at_end"], "uplift"] == 0).all()
    assert eff["uplift"].between(0, world.config["campaign"]["max_uplift"]).all()
    # agrees with the campaign's own truth for people alive at the campaign and at the end
    camp = world.campaign.set_index("person_id")
    both = camp.index[camp["alive_at_sent"]].intersection(eff.index[eff["alive_at_end"]])
    np.testing.assert_allclose(eff.loc[both, "extra_revenue"], camp.loc[both, "true_revenue_uplift"], rtol=1e-9)


def test_evaluate_policy_do_nothing_vs_everyone(world, perfect_crosswalk):
    nothing = evaluate_policy(world, perfect_crosswalk, [], name="nothing")
    assert nothing.name == "nothing"
    assert nothing["cost"] == 0 and nothing["extra_purchases"] == 0 and nothing["expected_value_created"] == 0
    assert nothing["holdout_revenue"] == pytest.approx(world.future_transactions["amount"].sum())
    everyone = evaluate_policy(world, perfect_crosswalk, perfect_crosswalk["customer_id"].unique(), name="all")
    assert everyone["contacts"] == everyone["persons_reached"] == len(world.people)
    assert everyone["cost"] == pytest.approx(len(world.people) * world.config["campaign"]["cost_per_contact"])
    assert everyone["expected_extra_revenue"] == pytest.approx(true_contact_effect(world)["extra_revenue"].sum())
    assert everyone["lost"] < nothing["lost"] and everyone["retention_rate"] > nothing["retention_rate"]


def test_evaluate_policy_common_random_numbers(world, perfect_crosswalk):
    eff = true_contact_effect(world)
    best = eff.sort_values("extra_revenue", ascending=False).index
    small = evaluate_policy(world, perfect_crosswalk, best[:300])
    large = evaluate_policy(world, perfect_crosswalk, best[:900])
    assert small["extra_purchases"] <= large["extra_purchases"]
    # best-first targeting of a few beats contacting everyone at 30% margin
    everyone = evaluate_policy(world, perfect_crosswalk, perfect_crosswalk["customer_id"].unique())
    assert small["expected_value_created"] > 0 > everyone["expected_value_created"]


def test_evaluate_policy_random_state(world, perfect_crosswalk):
    ids = perfect_crosswalk["customer_id"].unique()[:1500]
    default = evaluate_policy(world, perfect_crosswalk, ids)
    pd.testing.assert_series_equal(default, evaluate_policy(world, perfect_crosswalk, ids, random_state=0))
    draws = {evaluate_policy(world, perfect_crosswalk, ids, random_state=s)["extra_purchases"] for s in range(1, 6)}
    assert len(draws) > 1  # other seeds, other simulated responses
    # the truth (expected values) does not depend on the draws
    other = evaluate_policy(world, perfect_crosswalk, ids, random_state=7)
    assert other["expected_extra_revenue"] == default["expected_extra_revenue"]
    with pytest.raises(ValueError, match="random_state"):
        evaluate_policy(world, perfect_crosswalk, ids, random_state="seven")


@pytest.mark.parametrize("random_state", [0, 42])
def test_simulated_responses_are_independent_of_the_world_draws(world, perfect_crosswalk, random_state):
    """The frozen world was generated with random_state=42: grading with the same integer must not replay
    its random numbers (that correlated the response draws with the true uplift and inflated the count)."""
    everyone = evaluate_policy(world, perfect_crosswalk, perfect_crosswalk["customer_id"].unique(),
                               random_state=random_state)
    u = true_contact_effect(world)["uplift"]
    expected, sd = u.sum(), np.sqrt((u * (1 - u)).sum())
    assert abs(everyone["extra_purchases"] - expected) < 4 * sd


def test_duplicates_cost_twice(world, perfect_crosswalk):
    sizes = perfect_crosswalk["customer_id"].value_counts()
    person = sizes.index[sizes >= 2][0]
    cw = perfect_crosswalk.copy()
    rows = cw.index[cw["customer_id"] == person]
    cw.loc[rows, "customer_id"] = ["A"] + ["B"] * (len(rows) - 1)  # one person seen as two customers
    res = evaluate_policy(world, cw, ["A", "B"])
    assert res["contacts"] == 2 and res["persons_reached"] == 1
    assert res["cost"] == 2 * world.config["campaign"]["cost_per_contact"]
    assert evaluate_policy(world, cw, ["A"], cost_per_contact=4.0)["cost"] == 4.0


def test_crosswalk_in_every_form_identify_produces(world, perfect_crosswalk):
    ids = perfect_crosswalk["customer_id"].unique()[:200]
    frame = evaluate_policy(world, perfect_crosswalk, ids)
    indexed = perfect_crosswalk.set_index("record_id")  # resolve_customers(...).crosswalk
    series = indexed["customer_id"]

    class Resolution:
        crosswalk = indexed

    for cw in (indexed, series, Resolution()):
        pd.testing.assert_series_equal(evaluate_policy(world, cw, ids), frame)
    pd.testing.assert_frame_equal(customer_truth(world, series), customer_truth(world, perfect_crosswalk))


def test_evaluate_policy_bad_input(world, perfect_crosswalk):
    with pytest.raises(DataError, match="not customers of the crosswalk") as err:
        evaluate_policy(world, perfect_crosswalk, ["nobody", perfect_crosswalk["customer_id"].iloc[0]])
    assert err.value.what == "contacted" and err.value.rows["customer_id"].tolist() == ["nobody"]
    with pytest.raises(ValueError, match="margin"):
        evaluate_policy(world, perfect_crosswalk, [], margin=2)
    with pytest.raises(ValueError, match="cost_per_contact"):
        evaluate_policy(world, perfect_crosswalk, [], cost_per_contact=-1)
    with pytest.raises(ValueError, match="cost_per_contact"):
        evaluate_policy(world, perfect_crosswalk, [], cost_per_contact="1.5")
    with pytest.raises(DataError, match=r"missing column\(s\) \['customer_id'\]"):
        evaluate_policy(world, perfect_crosswalk.rename(columns={"customer_id": "cid"}), [])
    # a crosswalk that misses records of the world would grade a different company: refused
    with pytest.raises(DataError, match="listed in the crosswalk") as err:
        evaluate_policy(world, perfect_crosswalk.iloc[10:], [])
    assert err.value.what == "world.record_truth" and err.value.n_rows == 10


def test_customer_truth_and_best_possible(world, perfect_crosswalk):
    truth = customer_truth(world, perfect_crosswalk)
    assert len(truth) == len(world.people) and (truth.index == truth["person_id"]).all()
    fut = world.future.set_index("person_id")
    assert (truth["alive_at_end"] == fut.loc[truth.index, "alive_at_end"]).all()
    assert truth["holdout_spend"].sum() == pytest.approx(world.future_transactions["amount"].sum())
    assert (truth["holdout_purchases"] <= fut.loc[truth.index, "n_purchases"]).all()  # days <= purchases
    best = best_possible_contacts(world, perfect_crosswalk, 100)
    effect = true_contact_effect(world)["extra_revenue"]
    assert len(best) == 100 and effect.loc[best].min() >= effect.drop(best).max()
    assert len(best_possible_contacts(world, perfect_crosswalk, 0)) == 0
    with pytest.raises(ValueError, match="whole number"):
        best_possible_contacts(world, perfect_crosswalk, 2.5)


def test_customer_truth_names_the_main_person_of_a_merged_customer(world, perfect_crosswalk):
    sizes = perfect_crosswalk["customer_id"].value_counts()
    big, small = sizes.index[sizes >= 2][0], sizes.index[sizes == 1][0]
    cw = perfect_crosswalk.copy()
    cw.loc[cw["customer_id"].isin([big, small]), "customer_id"] = "merged"  # a false merge of two people
    truth = customer_truth(world, cw)
    assert truth.loc["merged", "person_id"] == big  # the person behind most records
    both = customer_truth(world, perfect_crosswalk).loc[[big, small], "holdout_spend"].sum()
    assert truth.loc["merged", "holdout_spend"] == pytest.approx(both)


def test_compare_policies_and_plot(world, perfect_crosswalk):
    import matplotlib

    matplotlib.use("Agg")
    table = compare_policies(world, perfect_crosswalk,
                             {"none": [], "some": perfect_crosswalk["customer_id"].iloc[:50]}, margin=0.5)
    assert list(table.index) == ["none", "some"] and table.loc["none", "cost"] == 0
    one = evaluate_policy(world, perfect_crosswalk, perfect_crosswalk["customer_id"].iloc[:50], margin=0.5)
    assert table.loc["some", "expected_value_created"] == pytest.approx(one["expected_value_created"])
    axes = plot_policy_comparison(table)
    assert len(axes[0].patches) == 2
    with pytest.raises(ValueError, match="policies is empty"):
        compare_policies(world, perfect_crosswalk, {})


def test_uplift_capture_grades_policies_against_the_truth():
    truth = pd.Series([0.5, 0.1, 0.0, 0.3], index=list("abcd"))
    out = uplift_capture({"best": ["a", "d"], "worst": ["c", "b"], "none": []}, truth,
                         value=pd.Series([10.0, 1.0, 0.0, 5.0], index=list("abcd")))
    assert out.loc["best", "share_of_best"] == pytest.approx(1.0)
    assert out.loc["worst", "true_extra_responses"] == pytest.approx(0.1)
    assert out.loc["worst", "share_of_best"] == pytest.approx(0.1 / 0.8)
    assert out.loc["best", "true_extra_value"] == pytest.approx(15.0)
    assert out.loc["none", "n_targeted"] == 0


def test_uplift_capture_bad_input():
    truth = pd.Series([0.5, 0.1], index=["a", "b"])
    with pytest.raises(DataError, match="without a true uplift") as err:
        uplift_capture({"p": ["zz", "a"]}, truth)
    assert err.value.what == "policies['p']" and err.value.rows["customer_id"].tolist() == ["zz"]
    with pytest.raises(ValueError, match="twice"):
        uplift_capture({"p": ["a", "a"]}, truth)
    with pytest.raises(DataError, match="each customer id once"):
        uplift_capture({"p": ["a"]}, pd.Series([0.5, 0.1], index=["a", "a"]))
    with pytest.raises(DataError, match="must not be missing"):
        uplift_capture({"p": ["a"]}, pd.Series([0.5, np.nan], index=["a", "b"]))
    with pytest.raises(DataError, match="must cover every customer") as err:
        uplift_capture({"p": ["a"]}, truth, value=pd.Series([1.0], index=["a"]))
    assert err.value.rows.index.tolist() == ["b"]
    with pytest.raises(TypeError, match="Series"):
        uplift_capture({"p": ["a"]}, [0.5, 0.1])


def test_needs_agreement_is_label_free_and_refuses_misaligned_input():
    found = pd.Series(["x", "x", "y", "y", "z", "z"], index=range(6))
    truth = pd.Series(["b", "b", "a", "a", "c", "c"], index=range(6))
    agree = needs_agreement(found, truth)
    assert agree.to_dict() == {"customers": 6.0, "adjusted_rand_index": 1.0, "adjusted_mutual_info": 1.0}
    # the order of the index does not matter, only the customer ids
    assert needs_agreement(found, truth.iloc[::-1])["adjusted_rand_index"] == 1.0
    rng = np.random.default_rng(0)
    big_truth = pd.Series(rng.integers(0, 5, 5000))
    shuffled = pd.Series(rng.permutation(big_truth.to_numpy()))
    assert abs(needs_agreement(shuffled, big_truth)["adjusted_rand_index"]) < 0.01
    with pytest.raises(DataError, match="same customers") as err:
        needs_agreement(found.iloc[:5], truth)
    assert err.value.rows.index.tolist() == [5]
    with pytest.raises(DataError, match="must not be missing"):
        needs_agreement(found.where(found.index != 2), truth)
    with pytest.raises(DataError, match="each customer id once"):
        needs_agreement(pd.Series(["x", "y"], index=[1, 1]), pd.Series(["a", "b"], index=[1, 1]))


def test_needs_agreement_lives_only_in_truth():
    import crm_models.segment as segment

    assert not hasattr(segment, "needs_agreement")


def test_public_signatures_follow_the_vocabulary():
    from crm_models.vocabulary import COLUMNS, RETIRED

    for name in truth_module.__all__:
        for param in inspect.signature(getattr(truth_module, name)).parameters:
            assert param not in RETIRED, f"{name}({param}): use {RETIRED[param]}"
            assert not param.endswith("_col") or param in COLUMNS, f"{name}({param}) is not in the vocabulary"


#: Attributes of the simulated company that hold its truth.
TRUTH_ATTRIBUTES = {"record_truth", "future", "future_transactions", "transactions_by_person", "truth_params"}


def test_nothing_outside_truth_reads_the_simulated_truth():
    """Only crm_models.truth (and the simulator itself) touch the world's truth tables, in code.

    The course's exercise checks (``crm_models/course/checks/``) grade a student's answer about the
    simulated company, so they may read its truth too; nothing an analyst calls on real data does."""
    root = Path(crm_models.__file__).parent
    readers = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if rel == "truth.py" or rel.startswith(("datasets/", "course/checks/")):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in TRUTH_ATTRIBUTES:
                readers.append(f"{rel}:{node.lineno} .{node.attr}")
    assert readers == []
    # and the truth module does read it (the scan would catch a reader)
    source = ast.parse(Path(truth_module.__file__).read_text(encoding="utf-8"))
    assert {n.attr for n in ast.walk(source) if isinstance(n, ast.Attribute)} >= {"record_truth", "future"}
