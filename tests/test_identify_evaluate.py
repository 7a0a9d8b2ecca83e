"""Evaluation metrics on hand-made clusterings."""

import numpy as np
import pandas as pd
import pytest

from crm_models.errors import DataError
from crm_models.identify import bcubed_metrics, cluster_metrics, evaluate, pairwise_metrics

TRUTH = pd.Series(["A", "A", "A", "B", "B", "C"], index=list("123456"))


def test_perfect_clustering_scores_one():
    pred = pd.Series(["x", "x", "x", "y", "y", "z"], index=list("123456"))
    assert pairwise_metrics(pred, TRUTH)["f1"] == 1.0
    assert bcubed_metrics(pred, TRUTH)["f1"] == 1.0
    assert cluster_metrics(pred, TRUTH)["exactly_right_clusters"] == 3


def test_hand_computed_example():
    # predicted {1,2} {3,4,5} {6}: true pairs 12 13 23 45 (4); predicted pairs 12 34 35 45 (4); correct 12 45
    pred = pd.Series(["x", "x", "y", "y", "y", "z"], index=list("123456"))
    pw = pairwise_metrics(pred, TRUTH)
    assert (pw["precision"], pw["recall"], pw["f1"]) == (0.5, 0.5, 0.5)
    b3 = bcubed_metrics(pred, TRUTH)
    # precision per record: 1,1,1/3,2/3,2/3,1 ; recall: 2/3,2/3,1/3,1,1,1
    assert b3["precision"] == pytest.approx((1 + 1 + 1 / 3 + 2 / 3 + 2 / 3 + 1) / 6)
    assert b3["recall"] == pytest.approx((2 / 3 + 2 / 3 + 1 / 3 + 1 + 1 + 1) / 6)
    cm = cluster_metrics(pred, TRUTH)
    assert cm["predicted_clusters"] == 3 and cm["true_clusters"] == 3 and cm["exactly_right_clusters"] == 1


def test_all_singletons_and_one_big_cluster():
    singletons = pd.Series(np.arange(6), index=list("123456"))
    pw = pairwise_metrics(singletons, TRUTH)
    assert pw["precision"] == 1.0 and pw["recall"] == 0.0 and pw["f1"] == 0.0
    assert bcubed_metrics(singletons, TRUTH)["precision"] == 1.0
    lump = pd.Series(0, index=list("123456"))
    pw = pairwise_metrics(lump, TRUTH)
    assert pw["recall"] == 1.0 and pw["precision"] == pytest.approx(4 / 15)


def test_order_of_records_does_not_matter():
    pred = pd.Series(["x", "x", "y", "y", "y", "z"], index=list("123456"))
    shuffled = pred.iloc[[5, 2, 0, 4, 1, 3]]
    assert pairwise_metrics(shuffled, TRUTH) == pairwise_metrics(pred, TRUTH)


def test_records_missing_from_truth_are_an_error():
    pred = pd.Series(["x", "y"], index=["1", "unknown"])
    with pytest.raises(DataError, match="missing from truth") as info:
        pairwise_metrics(pred, TRUTH)
    assert info.value.rows.index.tolist() == ["unknown"]


def test_repeated_or_missing_ids_are_an_error():
    twice = pd.Series(["x", "x"], index=["1", "1"])
    with pytest.raises(DataError, match="each record id once") as info:
        bcubed_metrics(twice, TRUTH)
    assert len(info.value.rows) == 2
    with pytest.raises(DataError, match="must hold an id") as info:
        cluster_metrics(pd.Series(["x", None], index=["1", "2"]), TRUTH)
    assert info.value.rows.index.tolist() == ["2"]
    with pytest.raises(TypeError, match="pandas Series"):
        pairwise_metrics(["x"], TRUTH)


def test_evaluate_reads_a_crosswalk_or_a_series():
    pred = pd.Series(["x", "x", "x", "y", "y", "z"], index=list("123456"))
    table = evaluate(pred.rename("customer_id").to_frame(), TRUTH)["value"]
    assert table["pairwise_f1"] == 1.0 and table["exactly_right_clusters"] == 3.0
