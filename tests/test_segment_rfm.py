"""RFM scoring: tie handling, score direction, rule table completeness, reuse on a new period."""

from itertools import product

import numpy as np
import pandas as pd
import pytest

from crm_models import rfm_summary
from crm_models.base import Summary
from crm_models.datasets import load_cdnow
from crm_models.errors import DataError, NotFittedError
from crm_models.segment import RFMScorer, assign_segments, check_segment_rules, default_segment_rules


def summary(frequency, recency, T, monetary, index=None):
    return pd.DataFrame({"frequency": frequency, "recency": recency, "T": T, "monetary_value": monetary},
                        index=index if index is not None else [f"c{i}" for i in range(len(frequency))])


def test_ties_are_never_split_and_scores_follow_min_rank():
    # 60 of 100 customers share frequency 0: all must get the same (lowest) F score
    freq = np.r_[np.zeros(60), np.ones(20), np.full(10, 2), np.full(10, 5)]
    s = summary(freq, np.where(freq > 0, 10.0, 0.0), np.full(100, 20.0), np.where(freq > 0, 30.0, 0.0))
    out = RFMScorer(monetary="mean").fit_transform(s)
    by_value = out.groupby("frequency")["f"].agg(["min", "max"])
    assert (by_value["min"] == by_value["max"]).all()  # one score per value
    # min-rank: score = 1 + floor(5 * share strictly below): 0 -> 1, 1 -> 1+3=4, 2 -> 1+4=5, 5 -> 5
    assert by_value["min"].to_dict() == {0.0: 1, 1.0: 4, 2.0: 5, 5.0: 5}


def test_score_direction_five_is_best():
    n = 50
    rng = np.random.default_rng(0)
    T = np.full(n, 52.0)
    recency = rng.uniform(0, 52, n)  # BTYD recency: time of last purchase
    s = summary(rng.integers(1, 30, n).astype(float), recency, T, rng.uniform(5, 100, n))
    out = RFMScorer(rules=False).fit_transform(s)
    assert np.allclose(out["recency"], T - recency)  # RFM recency is time since last purchase
    # the most recent buyer scores r = 5, the least recent r = 1; more purchases / spend score higher
    assert out.loc[out["recency"].idxmin(), "r"] == 5 and out.loc[out["recency"].idxmax(), "r"] == 1
    assert out.loc[out["frequency"].idxmax(), "f"] == 5 and out.loc[out["frequency"].idxmin(), "f"] == 1
    for col, sc in (("frequency", "f"), ("monetary", "m")):
        o = out.sort_values(col)
        assert (np.diff(o[sc].to_numpy()) >= 0).all()
    o = out.sort_values("recency")
    assert (np.diff(o["r"].to_numpy()) <= 0).all()
    # equal-sized groups without ties
    assert (out["m"].value_counts() == 10).all()


def test_default_rules_cover_every_combination_exactly_once():
    table = check_segment_rules(default_segment_rules(), 5)
    assert len(table) == 125
    combos = set(map(tuple, table[["r", "f", "m"]].to_numpy()))
    assert combos == set(product(range(1, 6), repeat=3))
    assert set(table["segment"]) == {
        "Champions", "Loyal Customers", "Potential Loyalist", "New Customers", "Promising", "Need Attention",
        "About to Sleep", "At Risk", "Can't Lose Them", "Hibernating", "Lost"}
    assert table.set_index(["r", "f", "m"]).loc[(5, 5, 5), "segment"] == "Champions"
    assert table.set_index(["r", "f", "m"]).loc[(1, 1, 1), "segment"] == "Lost"
    assert table.set_index(["r", "f", "m"]).loc[(1, 5, 5), "segment"] == "Can't Lose Them"


def test_rule_table_gaps_and_overlaps_are_reported():
    rules = default_segment_rules()
    with pytest.raises(ValueError, match="match no rule"):
        check_segment_rules(rules[rules["segment"] != "Lost"])
    overlap = pd.concat([rules, pd.DataFrame([{"segment": "VIP", "r_min": 5, "r_max": 5, "fm_min": 5, "fm_max": 5}])])
    with pytest.raises(ValueError, match="several segments"):
        check_segment_rules(overlap)
    with pytest.raises(ValueError, match="made for n_groups=5"):
        RFMScorer(n_groups=4).fit(summary([1.0] * 10, [1.0] * 10, [2.0] * 10, [1.0] * 10))


def test_swapped_rule_table_on_r_f_m():
    rules = pd.DataFrame({"segment": ["Best", "Rest", "Rest"], "r_min": [3, 1, 3], "r_max": [3, 2, 3],
                          "f_min": [2, 1, 1], "f_max": [3, 3, 1]})
    assert check_segment_rules(rules, 3)["segment"].value_counts().to_dict() == {"Rest": 21, "Best": 6}
    scores = pd.DataFrame({"r": [3, 1], "f": [3, 3], "m": [1, 2]}, index=["a", "b"])
    assert assign_segments(scores, rules).to_dict() == {"a": "Best", "b": "Rest"}


def test_transform_on_a_new_period_uses_edges_learned_at_fit(tmp_path):
    rng = np.random.default_rng(1)
    n = 200
    s1 = summary(rng.poisson(2, n).astype(float), rng.uniform(0, 20, n), np.full(n, 20.0), rng.gamma(2, 20, n))
    scorer = RFMScorer().fit(s1)
    edges = {k: v.copy() for k, v in scorer.edges_.items()}
    # the next period: everyone buys twice as often; scores move up against the old edges
    s2 = s1.assign(frequency=2 * s1["frequency"] + 1)
    out2 = scorer.transform(s2)
    assert all(np.array_equal(edges[k], scorer.edges_[k]) for k in edges)
    assert out2["f"].mean() > scorer.transform(s1)["f"].mean()
    assert out2.index.equals(s2.index)
    # a value between two edges gets the score of the edge below it
    e = scorer.edges_["f"]
    probe = summary([e[1] + 0.5 if np.isfinite(e[1]) else 1.0], [0.0], [1.0], [1.0], index=["new"])
    assert scorer.transform(probe).loc["new", "f"] >= 3
    scorer.save(tmp_path / "rfm.json")
    again = RFMScorer.load(tmp_path / "rfm.json")
    pd.testing.assert_frame_equal(again.transform(s2), out2)
    assert all(np.array_equal(again.edges_[k], edges[k]) for k in edges)


def test_total_versus_mean_monetary():
    s = summary([2.0, 4.0, 1.0, 0.0, 3.0], [5.0, 6.0, 2.0, 0.0, 7.0], [8.0] * 5, [50.0, 10.0, 60.0, 0.0, 20.0])
    total = RFMScorer(rules=False).fit(s).rfm_values(s)["monetary"]
    assert total.tolist() == [100.0, 40.0, 60.0, 0.0, 60.0]
    mean = RFMScorer(rules=False, monetary="mean").fit(s).rfm_values(s)["monetary"]
    assert mean.tolist() == [50.0, 10.0, 60.0, 0.0, 20.0]


def test_bad_input_gets_clear_errors():
    s = summary([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], [4.0, 4.0, 4.0], [5.0, 6.0, 7.0])
    with pytest.raises(NotFittedError, match="not fitted"):
        RFMScorer().transform(s)
    with pytest.raises(DataError, match="too few for n_groups=5"):
        RFMScorer().fit(s)
    with pytest.raises(DataError, match=r"missing column\(s\) \['monetary_value'\]") as err:
        RFMScorer().fit(s.drop(columns="monetary_value"))
    assert err.value.column == "monetary_value"
    with pytest.raises(DataError, match="'frequency' must not be missing") as err:
        RFMScorer(n_groups=2, rules=False).fit(s.assign(frequency=[1.0, np.nan, 3.0]))
    assert err.value.column == "frequency" and err.value.rows.index.tolist() == ["c1"]
    with pytest.raises(DataError, match="'recency' must not exceed 'T'") as err:
        RFMScorer(n_groups=2, rules=False).fit(s.assign(recency=[1.0, 9.0, 3.0]))
    assert err.value.column == "recency" and err.value.rows.index.tolist() == ["c1"]
    with pytest.raises(DataError, match="'monetary_value' must be numeric") as err:
        RFMScorer(n_groups=2, rules=False).fit(s.assign(monetary_value=["5", "six", "7"]))
    assert err.value.rows.index.tolist() == ["c1"]
    with pytest.raises(DataError, match="'T' must be finite"):
        RFMScorer(n_groups=2, rules=False).fit(s.assign(T=[4.0, np.inf, 4.0]))
    with pytest.raises(DataError, match="repeated customer ids") as err:
        RFMScorer(n_groups=2, rules=False).fit(s.set_axis(["a", "a", "b"]))
    assert err.value.rows.index.tolist() == ["a", "a"]
    # configurable column names
    renamed = s.rename(columns={"frequency": "n", "recency": "last", "T": "age", "monetary_value": "avg"})
    out = RFMScorer(n_groups=2, rules=False, frequency_col="n", recency_col="last", T_col="age",
                    monetary_value_col="avg").fit_transform(renamed)
    assert out["f"].tolist() == [1, 1, 2]  # min-rank: 1 + floor(2 * share below) = 1, 1, 2


@pytest.mark.parametrize(
    "params, message",
    [
        ({"n_groups": 1, "rules": False}, "n_groups must be an integer >= 2"),
        ({"n_groups": 2.0, "rules": False}, "n_groups must be an integer >= 2"),
        ({"monetary": "median"}, "monetary must be 'total' or 'mean'"),
        ({"rules": True}, "rules must be a DataFrame"),
        ({"rules": "default"}, "rules must be a DataFrame"),
        ({"rules": pd.DataFrame({"segment": ["All"], "r_min": ["one"]})}, "'r_min' must hold numbers"),
    ],
)
def test_bad_hyper_parameters_are_refused_at_fit(params, message):
    s = summary([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], [4.0, 4.0, 4.0], [5.0, 6.0, 7.0])
    scorer = RFMScorer(**params)  # __init__ only stores
    assert scorer.get_params()[next(iter(params))] is params[next(iter(params))]
    with pytest.raises(ValueError, match=message):
        scorer.fit(s)


def test_assign_segments_refuses_bad_scores_with_rows():
    scores = pd.DataFrame({"r": [5, 0, 1], "f": [5, 1, 1], "m": [5, 1, 1]}, index=["a", "b", "c"])
    with pytest.raises(DataError, match="'r' must hold whole numbers >= 1") as err:
        assign_segments(scores)
    assert err.value.column == "r" and err.value.rows.index.tolist() == ["b"]
    with pytest.raises(DataError, match="missing column"):
        assign_segments(scores.drop(columns="m"))
    partial = pd.DataFrame({"segment": ["Top"], "r_min": [5]})
    with pytest.raises(DataError, match="match no segment") as err:
        assign_segments(scores.assign(r=[5, 1, 1]), partial)
    assert err.value.rows.index.tolist() == ["b", "c"]


def test_summary_is_a_summary_with_the_segment_table():
    rng = np.random.default_rng(2)
    n = 300
    s = summary(rng.poisson(2, n).astype(float), rng.uniform(0, 20, n), np.full(n, 20.0), rng.gamma(2, 20, n))
    scorer = RFMScorer().fit(s)
    scores = scorer.transform(s)
    result = scorer.summary(scores)
    assert isinstance(result, Summary)
    table = result.to_frame()
    assert table["customers"].sum() == n and np.isclose(table["share"].sum(), 1.0)
    assert list(table.index) == [seg for seg in default_segment_rules()["segment"] if seg in table.index]
    assert table.loc["Champions", "mean_recency"] == scores.loc[scores["segment"] == "Champions", "recency"].mean()
    assert "RFM segments" in repr(result) and "<table>" in result._repr_html_()
    with pytest.raises(DataError, match="'segment' is missing"):
        RFMScorer(rules=False).fit(s).summary(RFMScorer(rules=False).fit_transform(s))


def test_cdnow_scores_are_unchanged():
    """CDNOW calibration period (to 1997-09-30): the numbers the course notebook reads."""
    tx = load_cdnow()
    cal = rfm_summary(tx[tx["timestamp"] <= "1997-09-30"], observation_period_end="1997-09-30")
    scorer = RFMScorer().fit(cal)
    scores = scorer.transform(cal)
    assert sorted(scores["f"].unique()) == [1, 3, 4, 5]  # the big tie at frequency 0 empties score 2
    np.testing.assert_allclose(scorer.edges_["f"], [1.0, 1.0, 2.0, 3.0])
    np.testing.assert_allclose(scorer.edges_["m"], [2.99, 2.99, 5.78, 49.89])
    np.testing.assert_allclose(scorer.edges_["r"], [34.428571, 31.285714, 28.142857, 14.142857], rtol=1e-6)
    assert scores["segment"].value_counts().to_dict() == {
        "Champions": 468, "Lost": 458, "Hibernating": 416, "Loyal Customers": 391, "About to Sleep": 390,
        "Promising": 147, "At Risk": 74, "Can't Lose Them": 9, "Potential Loyalist": 4}
