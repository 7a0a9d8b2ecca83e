"""Needs features and clusters: features by hand, ARI on a small simulated world, reuse, bad input."""

import numpy as np
import pandas as pd
import pytest

from crm_models.datasets import make_crm_world
from crm_models.segment import NeedsSegmenter, NotFittedError, behaviour_features, needs_agreement


def hand_made():
    tx = pd.DataFrame({
        "customer_id": ["a", "a", "a", "b"],
        "timestamp": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01", "2024-12-04"]),
        "category": ["books", "books", "toys", "toys"],
        "channel": ["web", "store", "web", "mail"],
        "amount": [10.0, 20.0, 30.0, 5.0],
    })
    it = pd.DataFrame({
        "customer_id": ["a", "a", "b", "zz"],
        "timestamp": pd.to_datetime(["2024-01-05", "2024-06-01", "2024-12-10", "2024-05-01"]),
        "type": ["call", "call", "web_visit", "call"],
        "reason": ["complaint", "inquiry", None, "inquiry"],
    })
    return tx, it


def test_behaviour_features_by_hand():
    tx, it = hand_made()
    X = behaviour_features(tx, it, observation_period_end="2024-12-30")
    assert X.loc["a", "cat_books"] == pytest.approx(2 / 3) and X.loc["b", "cat_toys"] == 1.0
    assert X.loc["a", "chan_web"] == pytest.approx(2 / 3) and X.loc["a", "chan_mail"] == 0.0
    assert X.loc["a", "avg_ticket"] == 20.0
    weeks_a = (pd.Timestamp("2024-12-30") - pd.Timestamp("2024-01-01")) / pd.Timedelta(weeks=1)
    assert X.loc["a", "call_complaint_per_year"] == pytest.approx(52 / weeks_a)
    # b's first purchase is under 4 weeks before the end: the rate uses the 4-week floor
    assert X.loc["b", "web_visit_per_year"] == pytest.approx(52 / 4)
    assert X.attrs["customers_without_transactions"] == 1  # "zz" has touchpoints only
    assert list(X.index) == ["a", "b"]


def test_bad_input_gets_clear_errors():
    tx, it = hand_made()
    with pytest.raises(ValueError, match=r"missing column\(s\) \['channel'\]"):
        behaviour_features(tx.drop(columns="channel"))
    with pytest.raises(ValueError, match="'amount' must hold an amount"):
        behaviour_features(tx.assign(amount=[1.0, np.nan, 2.0, 3.0]))
    with pytest.raises(ValueError, match="'timestamp' must not be after observation_period_end"):
        behaviour_features(tx, it, observation_period_end="2024-12-06")
    X = behaviour_features(tx, it)
    with pytest.raises(ValueError, match="too few for 3 segments"):
        NeedsSegmenter(n_segments=3).fit(X)
    with pytest.raises(ValueError, match="'avg_ticket' must not be missing"):
        NeedsSegmenter(n_segments=1).fit(X.assign(avg_ticket=[np.nan, 1.0]))
    with pytest.raises(NotFittedError):
        NeedsSegmenter().predict(X)
    with pytest.raises(ValueError, match="criterion='bic' needs method='gmm'"):
        NeedsSegmenter(criterion="bic").fit(X)


@pytest.fixture(scope="module")
def small_world():
    w = make_crm_world(600, random_state=4, campaign={"enabled": False})
    rt = w.record_truth[["record_id", "person_id"]]
    tx = w.transactions.merge(rt, on="record_id")
    it = w.interactions.merge(rt, on="record_id")
    X = behaviour_features(tx, it, customer_id_col="person_id")
    truth = w.people.set_index("person_id")["needs_segment"].reindex(X.index)
    return X, truth


def test_needs_segments_agree_with_truth_above_a_floor(small_world):
    X, truth = small_world
    seg = NeedsSegmenter(n_segments=5, random_state=0).fit(X)
    found = seg.predict(X)
    agree = needs_agreement(found, truth)
    # most people have 1-3 purchases, so behaviour reveals needs only partly (about 0.15 here);
    # a random labelling scores about 0
    assert agree["adjusted_rand_index"] > 0.08
    shuffled = pd.Series(np.random.default_rng(0).permutation(found.to_numpy()), index=found.index)
    assert abs(needs_agreement(shuffled, truth)["adjusted_rand_index"]) < 0.03
    assert found.index.equals(X.index) and set(found) == {f"N{i}" for i in range(1, 6)}
    prof = seg.profile()
    assert prof["customers"].sum() == len(X) and prof["customers"].is_monotonic_decreasing
    assert prof["profile"].str.contains(" more | less ").all()


def test_number_of_segments_chosen_by_stated_criterion_and_reused(small_world):
    X, _ = small_world
    seg = NeedsSegmenter(k_range=[2, 3, 4], n_init=3).fit(X)
    sel = seg.selection_["silhouette"]
    assert seg.n_segments_ == int(sel.idxmax()) and list(sel.index) == [2, 3, 4]
    # reuse on a later period: a category nobody bought then is a share of 0, not an error
    later = X.iloc[:50].drop(columns="cat_garden")
    pred = seg.predict(later)
    assert pred.index.equals(later.index)
    assert (pred == seg.predict(X.iloc[:50].assign(cat_garden=0.0))).all()
    gmm = NeedsSegmenter(method="gmm", k_range=[2, 3], n_init=5).fit(X)
    assert gmm.criterion_ == "bic" and gmm.n_segments_ == int(gmm.selection_["bic"].idxmin())


def test_segmenters_round_trip_through_json(small_world, tmp_path):
    X, _ = small_world
    fitted = {}
    for method in ("kmeans", "gmm"):
        seg = fitted[method] = NeedsSegmenter(n_segments=3, method=method, n_init=5).fit(X)
        seg.save(tmp_path / f"{method}.json")
        again = NeedsSegmenter.load(tmp_path / f"{method}.json")
        pd.testing.assert_series_equal(again.predict(X), seg.predict(X))
        pd.testing.assert_frame_equal(again.profile(), seg.profile())
    assert not hasattr(fitted["kmeans"].model_, "labels_")  # no per-row training labels kept
