"""Needs features and clusters: features by hand, ARI on a small simulated world, reuse, bad input."""

import numpy as np
import pandas as pd
import pytest

from sklearn.cluster import KMeans
from sklearn.mixture import GaussianMixture
from threadpoolctl import threadpool_limits

from crm_models.datasets import make_crm_world
from crm_models.errors import DataError, NotFittedError
from crm_models.segment import NeedsSegmenter, behaviour_features
from crm_models.truth import needs_agreement


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
    assert list(X.index) == ["a", "b"] and X.index.name == "customer_id"
    # the floor is a (length, unit) pair: 28 days is 4 weeks; 2 weeks doubles b's rate
    pd.testing.assert_frame_equal(behaviour_features(tx, it, observation_period_end="2024-12-30",
                                                     min_tenure=(28, "D")), X)
    short = behaviour_features(tx, it, observation_period_end="2024-12-30", min_tenure=(2, "W"))
    weeks_b = (pd.Timestamp("2024-12-30") - pd.Timestamp("2024-12-04")) / pd.Timedelta(weeks=1)
    assert short.loc["b", "web_visit_per_year"] == pytest.approx(52 / weeks_b)


def test_behaviour_features_column_names_are_configurable():
    tx, it = hand_made()
    names = {"customer_id": "person", "timestamp": "when", "amount": "spend", "category": "cat", "channel": "via"}
    renamed = behaviour_features(
        tx.rename(columns=names), it.rename(columns={"customer_id": "person", "timestamp": "when", "type": "kind"}),
        customer_id_col="person", datetime_col="when", monetary_value_col="spend", category_col="cat",
        channel_col="via", type_col="kind", observation_period_end="2024-12-30")
    expected = behaviour_features(tx, it, observation_period_end="2024-12-30")
    pd.testing.assert_frame_equal(renamed, expected.rename_axis("person"))


def test_bad_input_gets_clear_errors():
    tx, it = hand_made()
    with pytest.raises(DataError, match=r"missing column\(s\) \['channel'\]") as err:
        behaviour_features(tx.drop(columns="channel"))
    assert err.value.column == "channel"
    with pytest.raises(DataError, match="'amount' must hold an amount") as err:
        behaviour_features(tx.assign(amount=[1.0, np.nan, 2.0, 3.0]))
    assert err.value.column == "amount" and err.value.rows.index.tolist() == [1]
    with pytest.raises(DataError, match="'timestamp' must not be after observation_period_end") as err:
        behaviour_features(tx, it, observation_period_end="2024-12-06")
    assert err.value.rows.index.tolist() == [2]
    with pytest.raises(DataError, match="interactions is missing column"):
        behaviour_features(tx, it.drop(columns="type"))
    with pytest.raises(DataError, match="has no rows"):
        behaviour_features(tx.iloc[:0])
    with pytest.raises(ValueError, match=r"min_tenure must be a \(length, unit\) pair"):
        behaviour_features(tx, it, min_tenure=4)
    X = behaviour_features(tx, it)
    with pytest.raises(DataError, match="too few for 3 segments"):
        NeedsSegmenter(n_segments=3).fit(X)
    with pytest.raises(DataError, match="'avg_ticket' must not be missing") as err:
        NeedsSegmenter(n_segments=1).fit(X.assign(avg_ticket=[np.nan, 1.0]))
    assert err.value.column == "avg_ticket" and err.value.rows.index.tolist() == ["a"]
    with pytest.raises(DataError, match="'avg_ticket' must not be negative") as err:
        NeedsSegmenter(n_segments=1).fit(X.assign(avg_ticket=[-1.0, 1.0]))
    assert err.value.rows.index.tolist() == ["a"]
    with pytest.raises(DataError, match="'cat_books' must be numeric"):
        NeedsSegmenter(n_segments=1).fit(X.assign(cat_books=["most", "none"]))
    with pytest.raises(NotFittedError):
        NeedsSegmenter().predict(X)
    with pytest.raises(ValueError, match="criterion='bic' needs method='gmm'"):
        NeedsSegmenter(criterion="bic").fit(X)
    for params, message in (({"method": "dbscan"}, "method must be"), ({"k_range": []}, "k_range must hold"),
                            ({"k_range": "2-8"}, "k_range must be"), ({"n_segments": 0}, "n_segments must be"),
                            ({"random_state": "seven"}, "random_state must be"),
                            ({"features": "avg_ticket"}, "features must be a list"),
                            ({"log_columns": ["nowhere"]}, "not among the features")):
        with pytest.raises(ValueError, match=message):
            NeedsSegmenter(**params).fit(X)


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
    for method in ("kmeans", "gmm"):
        seg = NeedsSegmenter(n_segments=3, method=method, n_init=5).fit(X)
        seg.save(tmp_path / f"{method}.json")
        again = NeedsSegmenter.load(tmp_path / f"{method}.json")
        pd.testing.assert_series_equal(again.predict(X), seg.predict(X))
        pd.testing.assert_frame_equal(again.profile(), seg.profile())
        pd.testing.assert_frame_equal(again.scaled_centers_, seg.scaled_centers_)
        pd.testing.assert_series_equal(again.sizes_, seg.sizes_)


def scaled(seg: NeedsSegmenter, X: pd.DataFrame) -> np.ndarray:
    """The scaled features scikit-learn clusters (log1p of the skewed columns, then standardised)."""
    M = X[seg.features_].astype(float).copy()
    for c in seg.log_columns_:
        M[c] = np.log1p(M[c])
    return (M.to_numpy() - seg.feature_means_) / seg.feature_scales_


@pytest.mark.parametrize("method", ["kmeans", "gmm"])
def test_own_prediction_gives_scikit_learns_labels(small_world, method):
    X, _ = small_world
    seg = NeedsSegmenter(n_segments=5, method=method, n_init=5).fit(X)
    Z = scaled(seg, X)
    np.testing.assert_allclose(Z.mean(axis=0), 0.0, atol=1e-12)  # the scaling is the training scaling
    with threadpool_limits(limits=1):  # the same fit scikit-learn ran inside NeedsSegmenter.fit
        if method == "kmeans":
            model = KMeans(n_clusters=5, n_init=5, random_state=0).fit(Z)
            np.testing.assert_array_equal(model.cluster_centers_, seg.kmeans_centers_)
        else:
            model = GaussianMixture(n_components=5, covariance_type="diag", n_init=1, random_state=0).fit(Z)
            np.testing.assert_array_equal(model.weights_, seg.mixture_weights_)
            np.testing.assert_array_equal(model.covariances_, seg.mixture_variances_)
    rng = np.random.default_rng(1)
    shaken = X * rng.uniform(0.5, 1.5, X.shape)  # other customers than the training ones
    for data in (X, shaken):
        expected = np.array(seg.segments_)[seg.relabel_[model.predict(scaled(seg, data))]]
        np.testing.assert_array_equal(seg.predict(data).to_numpy(), expected)
    assert len(set(seg.predict(X))) == 5


def test_random_state_default_and_generator(small_world):
    X, _ = small_world
    a = NeedsSegmenter(n_segments=4, n_init=3).fit(X)
    b = NeedsSegmenter(n_segments=4, n_init=3, random_state=0).fit(X)
    pd.testing.assert_series_equal(a.predict(X), b.predict(X))
    g1 = NeedsSegmenter(k_range=[2, 3], n_init=2, random_state=np.random.default_rng(3)).fit(X)
    g2 = NeedsSegmenter(k_range=[2, 3], n_init=2, random_state=np.random.default_rng(3)).fit(X)
    pd.testing.assert_frame_equal(g1.selection_, g2.selection_)
    pd.testing.assert_series_equal(g1.predict(X), g2.predict(X))
