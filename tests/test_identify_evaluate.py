"""Evaluation metrics on hand-made clusterings."""

import numpy as np
import pandas as pd
import pytest

from crm_models.identify import bcubed_metrics, cluster_metrics, pairwise_metrics

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
    pred = pd.Series(["x"], index=["unknown"])
    with pytest.raises(ValueError, match="truth has no entity"):
        pairwise_metrics(pred, TRUTH)
