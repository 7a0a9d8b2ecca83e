"""KPIs of crm_models.measure on hand-made data whose answers are known, plus CDNOW cohort sanity."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

from crm_models.datasets import load_cdnow
from crm_models.measure import (
    cohort_retention,
    customer_equity,
    customer_movement,
    churn_rate,
    net_promoter_score,
    plot_cohort_heatmap,
    retention_rate,
    satisfaction_by_segment,
)

BEFORE = ("2024-01-01", "2024-07-01")
AFTER = ("2024-07-01", "2025-01-01")


@pytest.fixture
def tx() -> pd.DataFrame:
    rows = [
        # grown: 100 before, 300 after
        ("grow", "2024-02-01", 100.0),
        ("grow", "2024-08-01", 150.0),
        ("grow", "2024-09-01", 150.0),
        # stable: 100 and 100
        ("keep", "2024-03-01", 100.0),
        ("keep", "2024-10-01", 100.0),
        # declined: 200 then 50
        ("drop", "2024-03-01", 200.0),
        ("drop", "2024-07-15", 50.0),
        # lost: active before, nothing after
        ("gone", "2024-06-30", 80.0),
        # won: first purchase in the second period
        ("new", "2024-11-11", 40.0),
        # won back: bought in 2023, silent in the first period, back in the second
        ("back", "2023-05-01", 20.0),
        ("back", "2024-12-01", 60.0),
        # dormant: 2023 only, not reported
        ("old", "2023-03-01", 10.0),
        # after the second period: ignored
        ("late", "2025-02-01", 10.0),
    ]
    return pd.DataFrame(rows, columns=["cust", "when", "value"])


def movement(tx, **kw):
    return customer_movement(tx, BEFORE, AFTER, customer_id_col="cust", datetime_col="when", amount_col="value", **kw)


def test_won_lost_grown_by_inactivity(tx):
    m = movement(tx)
    status = m.customers["status"].astype(str).to_dict()
    assert status == {
        "back": "won back",
        "drop": "declined",
        "gone": "lost",
        "grow": "grown",
        "keep": "stable",
        "new": "won",
    }
    assert m.base == 4 and m.retained == 3
    assert m.retention_rate == pytest.approx(0.75)
    assert m.churn_rate == pytest.approx(0.25)
    assert m.counts.to_dict() == {"won": 1, "won back": 1, "grown": 1, "stable": 1, "declined": 1, "lost": 1}
    s = m.summary()
    assert s.loc["grown", "spend_before"] == 100 and s.loc["grown", "spend_after"] == 300
    assert s.loc["lost", "spend_change"] == -80
    assert "no purchase in the 184 days" in m.definitions["lost"]
    assert "retention_rate=0.750" in repr(m) and "<table" in m._repr_html_()


def test_longer_inactivity_window_keeps_recent_buyers(tx):
    # 'gone' bought on 2024-06-30, 185 days before 2025-01-01: a 200-day window keeps them (declined to 0)
    m = movement(tx, inactivity_days=200)
    assert m.customers.loc["gone", "status"] == "declined"
    assert m.retention_rate == 1.0


def test_lost_by_p_alive(tx):
    p = pd.Series({"grow": 0.9, "keep": 0.2, "drop": 0.6, "gone": 0.7, "new": 0.1})
    m = movement(tx, lost_by="p_alive", p_alive=p, p_alive_threshold=0.5)
    st = m.customers["status"].astype(str)
    assert st["keep"] == "lost" and st["gone"] == "declined" and st["grow"] == "grown"
    assert st["new"] == "won"  # not in the base: P(alive) does not make a new customer lost
    assert m.retention_rate == pytest.approx(0.75)
    assert "P(alive)" in m.definitions["lost"]


def test_growth_by_transaction_counts(tx):
    m = customer_movement(tx, BEFORE, AFTER, customer_id_col="cust", datetime_col="when", amount_col=None)
    # 'grow' has 1 then 2 purchases over periods of 182 and 184 days
    assert m.customers.loc["grow", "status"] == "grown"
    assert m.customers.loc["keep", "status"] == "stable"


def test_retention_and_churn_functions(tx):
    kw = dict(customer_id_col="cust", datetime_col="when", amount_col="value")
    assert retention_rate(tx, BEFORE, AFTER, **kw) == pytest.approx(0.75)
    assert churn_rate(tx, BEFORE, AFTER, **kw) == pytest.approx(0.25)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(customer_id_col="customer"), r"missing column\(s\) \['customer'\].*'cust', 'when', 'value'"),
        (dict(lost_by="magic"), "lost_by must be"),
        (dict(lost_by="p_alive"), "needs p_alive"),
        (dict(lost_by="p_alive", p_alive=pd.Series({"grow": 0.5})), r"no valid value for 3 customer\(s\)"),
        (
            dict(lost_by="p_alive", p_alive=pd.Series({"grow": 1.5, "keep": 0.5, "drop": 0.5, "gone": 0.5})),
            r"must lie in \[0, 1\]",
        ),
        (dict(inactivity_days=0), "inactivity_days must be > 0"),
    ],
)
def test_movement_bad_input(tx, kwargs, message):
    kw = dict(customer_id_col="cust", datetime_col="when", amount_col="value") | kwargs
    with pytest.raises(ValueError, match=message):
        customer_movement(tx, BEFORE, AFTER, **kw)


def test_movement_bad_periods_and_rows(tx):
    kw = dict(customer_id_col="cust", datetime_col="when", amount_col="value")
    with pytest.raises(ValueError, match="overlap"):
        customer_movement(tx, BEFORE, ("2024-06-01", "2025-01-01"), **kw)
    with pytest.raises(ValueError, match="must start before it ends"):
        customer_movement(tx, ("2024-07-01", "2024-01-01"), AFTER, **kw)
    with pytest.raises(ValueError, match="not a date"):
        customer_movement(tx, ("someday", "2024-07-01"), AFTER, **kw)
    bad = tx.copy()
    bad.loc[2, "value"] = -5
    with pytest.raises(ValueError, match="'value' must not be negative"):
        customer_movement(bad, BEFORE, AFTER, **kw)
    bad = tx.copy()
    bad.loc[3, "when"] = "31/31/2024"
    with pytest.raises(ValueError, match="'when' must hold parseable dates"):
        customer_movement(bad, BEFORE, AFTER, **kw)
    with pytest.raises(ValueError, match="retention is undefined"):
        customer_movement(tx, ("2020-01-01", "2020-02-01"), AFTER, **kw).retention_rate


def test_cohort_table_known_answer():
    tx = pd.DataFrame(
        {
            "id": [1, 1, 1, 2, 2, 3, 4, 4],
            "date": pd.to_datetime(
                ["2024-01-05", "2024-01-20", "2024-03-02", "2024-01-31", "2024-02-01", "2024-02-10", "2024-02-28", "2024-03-30"]
            ),
        }
    )
    tab = cohort_retention(tx, customer_id_col="id", datetime_col="date")
    assert list(tab.index.astype(str)) == ["2024-01", "2024-02"]
    assert tab["cohort_size"].tolist() == [2, 2]
    # January cohort (1, 2): month 1 only customer 2, month 2 only customer 1
    assert tab.loc[pd.Period("2024-01", "M"), [0, 1, 2]].tolist() == [1.0, 0.5, 0.5]
    # February cohort (3, 4): month 1 only customer 4; month 2 (April) is after the data: not observed
    feb = tab.loc[pd.Period("2024-02", "M")]
    assert feb[0] == 1.0 and feb[1] == 0.5 and np.isnan(feb[2])
    counts = cohort_retention(tx, customer_id_col="id", datetime_col="date", counts=True)
    assert counts.loc[pd.Period("2024-01", "M"), 1] == 1
    later = cohort_retention(tx, customer_id_col="id", datetime_col="date", observation_end="2024-04-15")
    assert later.loc[pd.Period("2024-02", "M"), 2] == 0.0 and later.shape[1] == 1 + 4
    with pytest.raises(ValueError, match="must not lie after observation_end"):
        cohort_retention(tx, customer_id_col="id", datetime_col="date", observation_end="2024-02-15")
    with pytest.raises(ValueError, match=r"missing column\(s\) \['customer_id', 'timestamp'\]"):
        cohort_retention(tx)
    with pytest.raises(ValueError, match="empty"):
        cohort_retention(tx.iloc[:0], customer_id_col="id", datetime_col="date")
    ax = plot_cohort_heatmap(tab)
    assert ax.get_xlabel() == "months since first purchase"
    with pytest.raises(ValueError, match="expects shares"):
        plot_cohort_heatmap(counts)


def test_cdnow_cohorts_sanity():
    cd = load_cdnow(sample=True)
    tab = cohort_retention(cd)
    # CDNOW's customers all made their first purchase in the first quarter of 1997
    assert list(tab.index.astype(str)) == ["1997-01", "1997-02", "1997-03"]
    assert tab["cohort_size"].sum() == 2357
    shares = tab.drop(columns="cohort_size")
    assert (shares[0] == 1.0).all()
    assert shares.shape[1] == 18  # Jan 1997 .. Jun 1998
    observed = shares.to_numpy()[np.isfinite(shares.to_numpy())]
    assert ((observed >= 0) & (observed <= 1)).all()
    # after the first month only a minority of each cohort buys in any month
    assert (shares.loc[:, 2:].max(axis=1) < 0.25).all()
    # March 1997 cohort is observed for 16 months after its start month (to June 1998)
    assert shares.loc[pd.Period("1997-03", "M")].notna().sum() == 16


def test_customer_equity():
    clv = pd.Series({"a": 10.0, "b": 30.0, "c": 60.0})
    assert customer_equity(clv) == 100.0
    seg = pd.Series({"a": "low", "b": "low", "c": "high"}, name="tier")
    tab = customer_equity(clv, seg)
    assert tab.index.name == "tier"
    assert tab.loc["high", "equity"] == 60 and tab.loc["low", "customers"] == 2
    assert tab["share_of_equity"].sum() == pytest.approx(1.0)
    assert tab.loc["low", "mean_clv"] == 20
    with pytest.raises(ValueError, match="finite numbers"):
        customer_equity(pd.Series({"a": 1.0, "b": np.nan}))
    with pytest.raises(ValueError, match=r"no segment for 1 customer\(s\)"):
        customer_equity(clv, seg.drop("c"))


def test_net_promoter_score():
    # 4 promoters, 3 passives, 3 detractors of 10 -> 40% - 30% = 10
    answers = [10, 9, 9, 10, 7, 8, 8, 0, 6, 5]
    assert net_promoter_score(answers) == pytest.approx(10.0)
    assert net_promoter_score([10, 10]) == 100.0 and net_promoter_score([0, 6]) == -100.0
    with pytest.raises(ValueError, match="whole numbers from 0 to 10"):
        net_promoter_score([3, 11])
    with pytest.raises(ValueError, match="whole numbers from 0 to 10"):
        net_promoter_score([7.5])
    with pytest.raises(ValueError, match="finite numbers"):
        net_promoter_score([7, None])
    with pytest.raises(ValueError, match="at least one"):
        net_promoter_score([])


def test_satisfaction_by_segment():
    surveys = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b", "c", "d"],
            "when": ["2024-01-01", "2024-06-01", "2024-03-01", "2024-03-01", "2024-03-01"],
            "satisfaction": [1, 5, 4, 2, 3],
            "recommend": [0, 10, 9, 3, 7],
        }
    )
    seg = pd.Series({"a": "gold", "b": "gold", "c": "basic", "d": "basic"})
    tab = satisfaction_by_segment(surveys, seg)
    assert tab.loc["gold", "answers"] == 3 and tab.loc["gold", "customers"] == 2
    assert tab.loc["gold", "nps"] == pytest.approx(100 * (2 / 3 - 1 / 3))
    assert tab.loc["basic", "nps"] == pytest.approx(-50.0)
    assert tab.loc["basic", "mean_satisfaction"] == 2.5
    assert tab.loc["all", "answers"] == 5
    latest = satisfaction_by_segment(surveys, seg, datetime_col="when")
    assert latest.loc["gold", "nps"] == 100.0 and latest.loc["gold", "mean_satisfaction"] == 4.5
    assert latest.loc["all", "nps"] == pytest.approx(100 * (2 / 4 - 1 / 4))
    no_sat = satisfaction_by_segment(surveys, seg, satisfaction_col=None)
    assert "mean_satisfaction" not in no_sat.columns
    with pytest.raises(ValueError, match="has no segment"):
        satisfaction_by_segment(surveys, seg.drop("d"))
    with pytest.raises(ValueError, match=r"missing column\(s\) \['nps'\]"):
        satisfaction_by_segment(surveys, seg, recommend_col="nps")
    bad = surveys.assign(recommend=[0, 10, 12, 3, 7])
    with pytest.raises(ValueError, match="recommend must be whole numbers"):
        satisfaction_by_segment(bad, seg)
