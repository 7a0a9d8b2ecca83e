"""Value tiers, concentration numbers, value x needs matrix and migration on hand-made data."""

import numpy as np
import pandas as pd
import pytest

from crm_models.base import Summary
from crm_models.errors import DataError, NotFittedError
from crm_models.segment import (
    ValueTiers,
    concentration_curve,
    concentration_table,
    migration_matrix,
    segment_matrix,
)

IDS = [f"c{i:02d}" for i in range(10)]


def test_concentration_numbers_on_hand_made_values():
    v = pd.Series([50.0, 20, 10, 5, 5, 4, 3, 2, 1, 0], index=IDS)  # total 100
    t = concentration_table(v, shares=(0.1, 0.2, 0.5, 1.0))
    assert t["customers"].tolist() == [1, 2, 5, 10]
    assert np.allclose(t["value_share"], [0.50, 0.70, 0.90, 1.00])
    c = concentration_curve(v)
    assert c.iloc[0].tolist() == [0.0, 0.0] and c.iloc[-1].tolist() == [1.0, 1.0]
    assert np.isclose(c.loc[3, "value_share"], 0.8)  # top 30% hold 80%
    equal = concentration_table(pd.Series(np.ones(10), index=IDS))
    assert np.isclose(equal.attrs["gini"], 0.0)
    one = concentration_table(pd.Series(np.r_[1.0, np.zeros(9)], index=IDS))
    assert np.isclose(one.attrs["gini"], 0.9)  # 1 - 1/n
    with pytest.raises(DataError, match="'values' must not be negative") as err:
        concentration_table(pd.Series(np.r_[-1.0, np.ones(9)], index=IDS))
    assert err.value.rows.index.tolist() == ["c00"]
    with pytest.raises(DataError, match="sum to zero"):
        concentration_curve(pd.Series(np.zeros(10), index=IDS))
    with pytest.raises(ValueError, match=r"shares must lie in \(0, 1\]"):
        concentration_table(v, shares=(0.0,))


def test_tiers_on_hand_made_data():
    clv = pd.Series([100.0, 90, 10, 12, 8, 60, 5, 3, 1, 0.5], index=IDS)
    group = pd.Series(["a"] * 5 + ["b"] * 5, index=IDS)
    vt = ValueTiers(top_share=0.2, growable_share=0.2, potential_quantile=1.0, min_group_size=2)
    out = vt.fit_transform(clv, group, cost_to_serve=2.0)
    assert out.index.equals(clv.index)
    # potential = the group's maximum (quantile 1.0): 100 in a, 60 in b
    assert out.loc["c02", "potential_value"] == 100.0 and out.loc["c06", "potential_value"] == 60.0
    assert np.allclose(out["headroom"], out["potential_value"] - out["actual_value"])
    tiers = out["tier"].astype(str).to_dict()
    assert [k for k, t in tiers.items() if t == "Most Valuable"] == ["c00", "c01"]  # top 2 by net value
    assert sorted(k for k, t in tiers.items() if t == "Below Zero") == ["c08", "c09"]  # clv < cost 2
    # most growable: largest headroom among the rest: c04 (92), c02 (90) in group a
    assert sorted(k for k, t in tiers.items() if t == "Most Growable") == ["c02", "c04"]
    assert set(tiers.values()) == {"Most Valuable", "Most Growable", "Low Maintenance", "Below Zero"}
    assert out["strategy"].str.len().gt(10).all()
    summary = vt.summary(out)
    assert isinstance(summary, Summary)
    s = summary.to_frame()
    assert list(s.index) == ["Most Valuable", "Most Growable", "Low Maintenance", "Below Zero"]
    assert s["customers"].tolist() == [2, 2, 4, 2] and np.isclose(s["share_of_value"].sum(), 1.0)
    assert np.isclose(s.loc["Most Valuable", "share_of_value"], 190 / clv.sum())
    assert np.isclose(s.loc["Most Growable", "share_of_headroom"], (90 + 92) / out["headroom"].sum())
    assert summary.stats["MVC threshold"] == vt.mvc_threshold_ == 88.0
    assert "Value tiers" in repr(summary)


def test_tiers_round_trip_through_json(tmp_path):
    clv = pd.Series([100.0, 90, 10, 12, 8, 60, 5, 3, 1, 0.5], index=IDS)
    group = pd.Series(["a"] * 5 + ["b"] * 5, index=IDS)
    vt = ValueTiers(min_group_size=2).fit(clv, group, cost_to_serve=2.0)
    vt.save(tmp_path / "tiers.json")
    again = ValueTiers.load(tmp_path / "tiers.json")
    pd.testing.assert_frame_equal(again.transform(clv, group, cost_to_serve=2.0),
                                  vt.transform(clv, group, cost_to_serve=2.0))
    pd.testing.assert_series_equal(again.potential_, vt.potential_)
    assert (again.mvc_threshold_, again.growth_threshold_) == (vt.mvc_threshold_, vt.growth_threshold_)
    # nobody Most Valuable or Most Growable: the infinite thresholds survive the file
    none = ValueTiers(top_share=0.0, growable_share=0.0).fit(clv)
    back = ValueTiers.load(none.save(tmp_path / "none.json"))
    assert back.mvc_threshold_ == np.inf and back.growth_threshold_ == np.inf
    pd.testing.assert_frame_equal(back.transform(clv), none.transform(clv))


def test_tier_thresholds_are_reused_on_a_new_period_and_cost_can_vary():
    clv = pd.Series(np.arange(10, dtype=float) * 10, index=IDS)
    vt = ValueTiers(top_share=0.3, growable_share=0.0).fit(clv)
    assert vt.mvc_threshold_ == 70.0
    later = vt.transform(clv / 2)  # values halve: nobody reaches the old MVC line of 70
    assert (later["tier"] != "Most Valuable").all()
    cost = pd.Series(np.r_[np.full(9, 5.0), 200.0], index=IDS)  # the biggest customer costs more than he brings
    out = vt.transform(clv, cost_to_serve=cost)
    assert out.loc["c09", "tier"] == "Below Zero" and out.loc["c09", "net_value"] == -110.0


def test_a_per_customer_cost_goes_through_fit_and_transform():
    clv = pd.Series(np.arange(10, dtype=float) * 10, index=IDS)
    cost = pd.Series(np.r_[np.zeros(8), 85.0, 0.0], index=IDS)[::-1]  # any order: aligned on customer id
    vt = ValueTiers(top_share=0.2, growable_share=0.0)
    out = vt.fit_transform(clv, cost_to_serve=cost)
    # net values 0..70, -5 (c08) and 90: the top 2 by net value are c09 (90) and c07 (70)
    assert vt.mvc_threshold_ == 70.0
    assert out["cost_to_serve"].tolist() == cost.reindex(IDS).tolist()
    assert out.loc["c08", "tier"] == "Below Zero" and out.loc["c08", "net_value"] == -5.0
    assert sorted(out.index[out["tier"] == "Most Valuable"]) == ["c07", "c09"]
    # the same thresholds with a number: everyone pays 5
    flat = vt.transform(clv, cost_to_serve=5.0)
    assert (flat["net_value"] == clv - 5.0).all() and flat.loc["c00", "tier"] == "Below Zero"
    # a cost Series covering more customers is fine; one missing a customer is not
    vt.transform(clv.drop("c00"), cost_to_serve=cost)
    with pytest.raises(DataError, match="'cost_to_serve' has no value for 1 customer") as err:
        vt.transform(clv, cost_to_serve=cost.drop("c03"))
    assert err.value.column == "cost_to_serve" and err.value.rows.index.tolist() == ["c03"]


def test_value_tier_bad_input():
    clv = pd.Series([1.0, 2.0, np.nan], index=["a", "b", "c"])
    with pytest.raises(NotFittedError):
        ValueTiers().transform(clv.fillna(0))
    with pytest.raises(DataError, match="'clv' must not be missing") as err:
        ValueTiers().fit(clv)
    assert err.value.column == "clv" and err.value.rows.index.tolist() == ["c"]
    with pytest.raises(DataError, match="'clv' must be finite"):
        ValueTiers().fit(clv.fillna(np.inf))
    with pytest.raises(DataError, match="'clv' must be numeric") as err:
        ValueTiers().fit(pd.Series(["1", "two", "3"], index=["a", "b", "c"]))
    assert err.value.rows.index.tolist() == ["b"]
    with pytest.raises(DataError, match="'groups' has no value for 1 customer") as err:
        ValueTiers().fit(clv.fillna(0), pd.Series(["x", "y"], index=["a", "b"]))
    assert err.value.column == "groups" and err.value.rows.index.tolist() == ["c"]
    with pytest.raises(DataError, match="'clv' must be a pandas Series") as err:
        ValueTiers().fit([1.0, 2.0])
    assert err.value.column == "clv"
    with pytest.raises(DataError, match="'clv' must identify each customer once") as err:
        ValueTiers().fit(pd.Series([1.0, 2.0, 3.0], index=["a", "a", "b"]))
    assert err.value.rows.index.tolist() == ["a", "a"]
    with pytest.raises(DataError, match="'cost_to_serve' must be a finite number"):
        ValueTiers().fit(clv.fillna(0), cost_to_serve="free")
    with pytest.raises(DataError, match="'cost_to_serve' must be a finite number"):
        ValueTiers().fit(clv.fillna(0), cost_to_serve=np.nan)
    with pytest.raises(DataError, match="'cost_to_serve' must not be missing") as err:
        ValueTiers().fit(clv.fillna(0), cost_to_serve=pd.Series([1.0, np.nan, 1.0], index=["a", "b", "c"]))
    assert err.value.rows.index.tolist() == ["b"]
    with pytest.raises(DataError, match="at least 2 customers"):
        ValueTiers().fit(clv.iloc[:1])
    with pytest.raises(TypeError):
        ValueTiers(cost_to_serve=1.0)  # data, not a hyper-parameter
    for params, message in (({"top_share": 1.2}, "top_share must be a number in"),
                            ({"top_share": 0.7, "growable_share": 0.5}, "must not exceed 1"),
                            ({"potential_quantile": 0.0}, "potential_quantile"),
                            ({"min_group_size": 0}, "min_group_size")):
        with pytest.raises(ValueError, match=message):
            ValueTiers(**params).fit(clv.fillna(0))


def test_value_needs_matrix_counts_and_values():
    tier = pd.Series(["hi", "hi", "lo", "lo", "lo"], index=list("abcde"), name="tier")
    needs = pd.Series(["N1", "N2", "N1", "N1", "N2"], index=list("edcba")[::-1], name="needs")
    value = pd.Series([10.0, 20, 1, 2, 3], index=list("abcde"))
    m = segment_matrix(tier, needs, value)
    assert m.counts.loc["hi", "N1"] == 1 and m.counts.loc["lo", "N1"] == 2 and m.counts.loc["All", "All"] == 5
    assert m.value.loc["lo", "N1"] == 3.0 and m.value.loc["All", "All"] == 36.0
    assert m.mean_value.loc["lo", "N1"] == 1.5
    assert np.isclose(m.value_share.loc["hi", "N2"], 20 / 36)
    assert m.table().loc[("lo", "N2"), "customers"] == 1
    with pytest.raises(DataError, match="must hold the same customers") as err:
        segment_matrix(tier, needs.drop("a"))
    assert err.value.rows.index.tolist() == ["a"]
    with pytest.raises(DataError, match="'value' has no value for 1 customer") as err:
        segment_matrix(tier, needs, value.drop("e"))
    assert err.value.rows.index.tolist() == ["e"]
    with pytest.raises(DataError, match="'value' must be finite") as err:
        segment_matrix(tier, needs, value.replace(3.0, np.inf))
    assert err.value.rows.index.tolist() == ["e"]
    with pytest.raises(DataError, match="'rows' must be a pandas Series"):
        segment_matrix(list(tier), needs)


def test_migration_rows_sum_to_one_and_nobody_is_lost():
    before = pd.Series(["Champions", "Champions", "At Risk", "Lost", "Champions"], index=list("abcde"))
    after = pd.Series(["Champions", "At Risk", "Lost", "Lost", "Champions", "Lost"], index=list("abcdgh"))
    mig = migration_matrix(before, after, order=["Champions", "At Risk", "Lost"])
    assert mig.counts.to_numpy().sum() == 7  # a..e, g, h: the union of customers; e is gone, g and h are new
    assert mig.counts.loc["Champions", "At Risk"] == 1 and mig.counts.loc["Champions", "(gone)"] == 1
    assert mig.counts.loc["(new)", "Champions"] == 1 and mig.counts.loc["(new)", "Lost"] == 1
    rows = mig.counts.sum(axis=1) > 0
    assert np.allclose(mig.shares[rows].sum(axis=1), 1.0)
    assert np.isclose(mig.shares.loc["Champions", "Champions"], 1 / 3)
    assert np.isclose(mig.stayed, 2 / 4)  # a, d kept their segment among a, b, c, d
    assert mig.flows().iloc[0]["customers"] == 1
    with pytest.raises(DataError, match="not in order") as err:
        migration_matrix(before, after, order=["Champions", "Lost"])
    assert err.value.column == "before" and err.value.rows.index.tolist() == ["c"]
    with pytest.raises(DataError, match="'after' must not be missing"):
        migration_matrix(before, after.replace("Lost", None))
