"""KPIs of crm_models.measure on hand-made data whose answers are known, CDNOW cohort sanity, campaign tests."""

from __future__ import annotations

import inspect

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

import crm_models.measure as measure
from crm_models.base import Summary
from crm_models.datasets import load_cdnow
from crm_models.errors import DataError
from crm_models.measure import (
    churn_rate,
    cohort_retention,
    customer_equity,
    customer_equity_by_segment,
    customer_movement,
    evaluate_campaign,
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
    return customer_movement(tx, BEFORE, AFTER, customer_id_col="cust", datetime_col="when", monetary_value_col="value", **kw)


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
    summary = m.summary()
    assert isinstance(summary, Summary)
    s = summary.to_frame()
    assert s.loc["grown", "spend_before"] == 100 and s.loc["grown", "spend_after"] == 300
    assert s.loc["lost", "spend_change"] == -80
    assert s["customers"].to_dict() == m.counts.to_dict()
    assert summary.stats == {"base": 4, "retained": 3, "retention rate": 0.75, "churn rate": 0.25}
    assert any("no purchase in the 184 days" in note for note in summary.notes)
    assert "no purchase in the 184 days" in m.definitions["lost"]
    assert "retention_rate=0.750" in repr(m) and "<table" in m._repr_html_()
    empty_base = customer_movement(tx, ("2020-01-01", "2020-02-01"), AFTER, customer_id_col="cust",
                                   datetime_col="when", monetary_value_col="value").summary()
    assert empty_base.stats["retention rate"] == "undefined" and empty_base.stats["base"] == 0


def test_longer_inactivity_window_keeps_recent_buyers(tx):
    # 'gone' bought on 2024-06-30, 185 days before 2025-01-01: a 200-day window keeps them (declined to 0)
    m = movement(tx, inactivity=(200, "D"))
    assert m.customers.loc["gone", "status"] == "declined"
    assert m.retention_rate == 1.0
    # the same window in weeks
    assert movement(tx, inactivity=(200 / 7, "W")).customers.loc["gone", "status"] == "declined"
    assert "200 days" in m.definitions["lost"]


def test_lost_by_p_alive(tx):
    p = pd.Series({"grow": 0.9, "keep": 0.2, "drop": 0.6, "gone": 0.7, "new": 0.1})
    m = movement(tx, lost_by="p_alive", p_alive=p, p_alive_threshold=0.5)
    st = m.customers["status"].astype(str)
    assert st["keep"] == "lost" and st["gone"] == "declined" and st["grow"] == "grown"
    assert st["new"] == "won"  # not in the base: P(alive) does not make a new customer lost
    assert m.retention_rate == pytest.approx(0.75)
    assert "P(alive)" in m.definitions["lost"]


def test_growth_by_transaction_counts(tx):
    m = customer_movement(tx, BEFORE, AFTER, customer_id_col="cust", datetime_col="when", monetary_value_col=None)
    # 'grow' has 1 then 2 purchases over periods of 182 and 184 days
    assert m.customers.loc["grow", "status"] == "grown"
    assert m.customers.loc["keep", "status"] == "stable"


def test_retention_and_churn_functions(tx):
    kw = dict(customer_id_col="cust", datetime_col="when", monetary_value_col="value")
    assert retention_rate(tx, BEFORE, AFTER, **kw) == pytest.approx(0.75)
    assert churn_rate(tx, BEFORE, AFTER, **kw) == pytest.approx(0.25)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(customer_id_col="customer"), r"missing column\(s\) \['customer'\].*'cust', 'when', 'value'"),
        (dict(lost_by="magic"), "lost_by must be"),
        (dict(lost_by="p_alive"), "needs p_alive"),
        (dict(lost_by="p_alive", p_alive=pd.Series({"grow": 0.5})), r"must give a P\(alive\) for every customer"),
        (
            dict(lost_by="p_alive", p_alive=pd.Series({"grow": 1.5, "keep": 0.5, "drop": 0.5, "gone": 0.5})),
            r"must lie in \[0, 1\]",
        ),
        (dict(inactivity=(0, "D")), "inactivity: the length must be > 0"),
        (dict(inactivity=90), r"inactivity must be a \(length, unit\) pair"),
        (dict(inactivity=(90, "days")), "inactivity's unit must be one of"),
        (dict(inactivity=(float("nan"), "D")), "inactivity: the length must be finite"),
    ],
)
def test_movement_bad_input(tx, kwargs, message):
    kw = dict(customer_id_col="cust", datetime_col="when", monetary_value_col="value") | kwargs
    with pytest.raises(ValueError, match=message):
        customer_movement(tx, BEFORE, AFTER, **kw)


def test_movement_p_alive_errors_carry_the_rows(tx):
    kw = dict(customer_id_col="cust", datetime_col="when", monetary_value_col="value", lost_by="p_alive")
    with pytest.raises(DataError) as err:
        customer_movement(tx, BEFORE, AFTER, p_alive=pd.Series({"grow": 0.5, "keep": 0.5}), **kw)
    assert err.value.column == "p_alive" and sorted(err.value.rows.index) == ["drop", "gone"]
    with pytest.raises(DataError) as err:
        customer_movement(tx, BEFORE, AFTER, p_alive=pd.Series({"grow": 1.5, "keep": 0.5, "drop": -0.1, "gone": 0.5}),
                          **kw)
    assert sorted(err.value.rows.index) == ["drop", "grow"] and err.value.n_rows == 2
    with pytest.raises(DataError, match="each customer id once"):
        customer_movement(tx, BEFORE, AFTER, p_alive=pd.Series([0.5, 0.6], index=["grow", "grow"]), **kw)
    with pytest.raises(TypeError, match="Series"):
        customer_movement(tx, BEFORE, AFTER, p_alive={"grow": 0.5}, **kw)


def test_movement_bad_periods_and_rows(tx):
    kw = dict(customer_id_col="cust", datetime_col="when", monetary_value_col="value")
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
    with pytest.raises(DataError, match="retention is undefined"):
        customer_movement(tx, ("2020-01-01", "2020-02-01"), AFTER, **kw).retention_rate
    with pytest.raises(DataError, match="retention is undefined"):
        churn_rate(tx, ("2020-01-01", "2020-02-01"), AFTER, **kw)


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
    later = cohort_retention(tx, customer_id_col="id", datetime_col="date", observation_period_end="2024-04-15")
    assert later.loc[pd.Period("2024-02", "M"), 2] == 0.0 and later.shape[1] == 1 + 4
    with pytest.raises(DataError, match="must not lie after observation_period_end") as err:
        cohort_retention(tx, customer_id_col="id", datetime_col="date", observation_period_end="2024-02-15")
    assert err.value.rows.index.tolist() == [2, 6, 7]
    with pytest.raises(ValueError, match=r"missing column\(s\) \['customer_id', 'timestamp'\]"):
        cohort_retention(tx)
    with pytest.raises(DataError, match="empty"):
        cohort_retention(tx.iloc[:0], customer_id_col="id", datetime_col="date")
    ax = plot_cohort_heatmap(tab)
    assert ax.get_xlabel() == "months since first purchase"
    with pytest.raises(DataError, match="expects shares"):
        plot_cohort_heatmap(counts)
    with pytest.raises(DataError, match="cohort_size"):
        plot_cohort_heatmap(tab.drop(columns="cohort_size"))


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


def test_customer_equity_is_always_a_float():
    clv = pd.Series({"a": 10.0, "b": 30.0, "c": 60.0})
    total = customer_equity(clv)
    assert type(total) is float and total == 100.0
    assert type(customer_equity(pd.Series({"a": 3}))) is float
    with pytest.raises(TypeError):
        customer_equity(clv, pd.Series({"a": "low", "b": "low", "c": "high"}))  # per segment has its own function
    with pytest.raises(DataError, match="finite numbers") as err:
        customer_equity(pd.Series({"a": 1.0, "b": np.nan, "c": np.inf}))
    assert err.value.rows.index.tolist() == ["b", "c"]
    with pytest.raises(DataError, match="empty"):
        customer_equity(pd.Series([], dtype=float))
    with pytest.raises(DataError, match="each customer id once"):
        customer_equity(pd.Series([1.0, 2.0], index=["a", "a"]))
    with pytest.raises(TypeError, match="Series"):
        customer_equity([1.0, 2.0])


def test_customer_equity_by_segment_is_always_a_table():
    clv = pd.Series({"a": 10.0, "b": 30.0, "c": 60.0})
    seg = pd.Series({"a": "low", "b": "low", "c": "high"}, name="tier")
    tab = customer_equity_by_segment(clv, seg)
    assert isinstance(tab, pd.DataFrame) and tab.index.name == "tier"
    assert list(tab.columns) == ["customers", "equity", "share_of_equity", "mean_clv"]
    assert list(tab.index) == ["high", "low"]  # largest equity first
    assert tab.loc["high", "equity"] == 60 and tab.loc["low", "customers"] == 2
    assert tab["share_of_equity"].sum() == pytest.approx(1.0)
    assert tab.loc["low", "mean_clv"] == 20
    assert tab["equity"].sum() == customer_equity(clv)
    one = customer_equity_by_segment(clv, seg.replace("high", "low").rename(None))
    assert isinstance(one, pd.DataFrame) and one.index.name == "segment" and len(one) == 1
    zero = customer_equity_by_segment(clv * 0, seg)
    assert (zero["share_of_equity"] == 0).all()
    with pytest.raises(DataError, match="must name a segment for every customer") as err:
        customer_equity_by_segment(clv, seg.drop("c"))
    assert err.value.rows.index.tolist() == ["c"]
    with pytest.raises(DataError, match="finite numbers"):
        customer_equity_by_segment(pd.Series({"a": 1.0, "b": np.nan}), seg)


def test_net_promoter_score():
    # 4 promoters, 3 passives, 3 detractors of 10 -> 40% - 30% = 10
    answers = [10, 9, 9, 10, 7, 8, 8, 0, 6, 5]
    assert net_promoter_score(answers) == pytest.approx(10.0)
    assert net_promoter_score([10, 10]) == 100.0 and net_promoter_score([0, 6]) == -100.0
    with pytest.raises(DataError, match="whole numbers from 0 to 10") as err:
        net_promoter_score([3, 11])
    assert err.value.rows["answers"].tolist() == [11]
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
    latest = satisfaction_by_segment(surveys, seg, datetime_col="when", latest_only=True)
    assert latest.loc["gold", "nps"] == 100.0 and latest.loc["gold", "mean_satisfaction"] == 4.5
    assert latest.loc["all", "nps"] == pytest.approx(100 * (2 / 4 - 1 / 4))
    no_sat = satisfaction_by_segment(surveys, seg, satisfaction_col=None)
    assert "mean_satisfaction" not in no_sat.columns
    # the time column is read only for latest_only
    assert satisfaction_by_segment(surveys.drop(columns="when"), seg).equals(tab)
    with pytest.raises(DataError, match=r"missing column\(s\) \['timestamp'\]"):
        satisfaction_by_segment(surveys, seg, latest_only=True)
    with pytest.raises(DataError, match="with a segment") as err:
        satisfaction_by_segment(surveys, seg.drop("d"))
    assert err.value.rows["customer_id"].tolist() == ["d"]
    with pytest.raises(DataError, match="each customer id once"):
        satisfaction_by_segment(surveys, pd.concat([seg, seg.iloc[[0]]]))
    with pytest.raises(ValueError, match=r"missing column\(s\) \['nps'\]"):
        satisfaction_by_segment(surveys, seg, recommend_col="nps")
    bad = surveys.assign(recommend=[0, 10, 12, 3, 7])
    with pytest.raises(DataError, match="'recommend' must hold whole numbers") as err:
        satisfaction_by_segment(bad, seg)
    assert err.value.rows.index.tolist() == [2]


def _simulated_test(n=60_000, seed=11):
    """A randomised campaign with known response rates per segment."""
    rng = np.random.default_rng(seed)
    base = {"a": 0.05, "b": 0.20, "c": 0.10}
    lift = {"a": 0.04, "b": 0.00, "c": 0.10}
    seg = rng.choice(list(base), n)
    treated = rng.random(n) < 0.5
    p = np.array([base[s] for s in seg]) + treated * np.array([lift[s] for s in seg])
    responded = rng.random(n) < p
    revenue = responded * rng.gamma(4.0, 10.0, n)  # mean 40 USD per responder
    return pd.DataFrame({"group": np.where(treated, "treatment", "control"), "segment": seg,
                         "responded": responded, "revenue": revenue}), lift


def test_uplift_intervals_cover_the_truth_on_a_large_simulated_campaign():
    camp, lift = _simulated_test()
    res = evaluate_campaign(camp, segment_col="segment")
    assert list(res.index) == ["a", "b", "c", "all"]
    assert res.attrs["kind"] == "proportion"
    for s, true in lift.items():
        assert res.loc[s, "ci_low"] <= true <= res.loc[s, "ci_high"], s
        assert res.loc[s, "ci_high"] - res.loc[s, "ci_low"] < 0.03
    assert res.loc["c", "p_value"] < 1e-6 and res.loc["b", "p_value"] > 0.001
    assert res["n_treatment"].iloc[:3].sum() == res.loc["all", "n_treatment"]
    boot = evaluate_campaign(camp, segment_col="segment", method="bootstrap", n_boot=1000, random_state=5)
    for s, true in lift.items():
        assert boot.loc[s, "ci_low"] <= true <= boot.loc[s, "ci_high"], s
    assert np.allclose(boot["ci_low"], res["ci_low"], atol=0.004)
    again = evaluate_campaign(camp, segment_col="segment", method="bootstrap", n_boot=1000, random_state=5)
    pd.testing.assert_frame_equal(boot, again)
    # revenue: difference of means, 40 USD x the response uplift
    rev = evaluate_campaign(camp, outcome_col="revenue", segment_col="segment", method="bootstrap", n_boot=300)
    assert rev.attrs["kind"] == "mean"
    for s, true in lift.items():
        assert rev.loc[s, "ci_low"] <= 40 * true <= rev.loc[s, "ci_high"], s


def test_hand_computed_difference_in_proportions():
    camp = pd.DataFrame({"group": ["treatment"] * 10 + ["control"] * 20,
                         "responded": [1] * 4 + [0] * 6 + [1] * 2 + [0] * 18})
    res = evaluate_campaign(camp, alpha=0.1)
    se = np.sqrt(0.4 * 0.6 / 10 + 0.1 * 0.9 / 20)
    assert res.loc["all", "uplift"] == pytest.approx(0.3)
    assert res.loc["all", "se"] == pytest.approx(se)
    assert res.loc["all", "ci_low"] == pytest.approx(0.3 - 1.6448536 * se, rel=1e-6)


def test_uplift_intervals_cover_the_simulated_companys_true_effect():
    """On a generated company (8,000 people) the test's intervals cover the true mean uplift."""
    from crm_models.datasets import make_crm_world

    camp = make_crm_world(8000, random_state=1).campaign
    res = evaluate_campaign(camp, segment_col="needs_segment")
    truth = camp.groupby("needs_segment")["true_uplift"].mean()
    truth["all"] = camp["true_uplift"].mean()
    covered = (res["ci_low"] <= truth[res.index]) & (truth[res.index] <= res["ci_high"])
    assert covered["all"]
    # five 95% intervals: two or more misses would happen about 2% of the time
    assert covered.drop("all").sum() >= 4
    assert res.loc["all", "ci_high"] - res.loc["all", "ci_low"] < 0.06


def test_alpha_sets_the_interval_level():
    camp, _ = _simulated_test(n=4000)
    wide = evaluate_campaign(camp, alpha=0.01)
    narrow = evaluate_campaign(camp, alpha=0.2)
    default = evaluate_campaign(camp)
    assert default.attrs["alpha"] == 0.05 and wide.attrs["alpha"] == 0.01
    half = (default["ci_high"] - default["ci_low"]) / 2
    assert half.to_numpy() == pytest.approx(1.959964 * default["se"].to_numpy(), rel=1e-6)
    assert ((wide["ci_high"] - wide["ci_low"]) > (narrow["ci_high"] - narrow["ci_low"])).all()
    boot90 = evaluate_campaign(camp, method="bootstrap", alpha=0.1, n_boot=500)
    boot99 = evaluate_campaign(camp, method="bootstrap", alpha=0.01, n_boot=500)
    assert (boot99.loc["all", "ci_low"] < boot90.loc["all", "ci_low"] < boot90.loc["all", "ci_high"]
            < boot99.loc["all", "ci_high"])
    for bad in (0, 1, 1.5, -0.1, 0.95 * 2, "0.05", True):
        with pytest.raises(ValueError, match="alpha must lie strictly between 0 and 1"):
            evaluate_campaign(camp, alpha=bad)


def test_campaign_bad_input_gets_clear_errors():
    camp, _ = _simulated_test(n=400)
    with pytest.raises(DataError, match="'group'"):
        evaluate_campaign(camp.assign(group=camp["group"].replace("control", "holdout")))
    with pytest.raises(DataError, match="'responded'") as err:
        evaluate_campaign(camp.assign(responded=camp["responded"].astype(object).where(camp.index != 3, "yes")))
    assert err.value.rows.index.tolist() == [3]
    with pytest.raises(DataError, match="at least 2") as err:
        evaluate_campaign(camp.assign(segment=np.where(camp.index == 0, "tiny", "big")), segment_col="segment")
    assert err.value.column == "segment" and err.value.rows.index.tolist() == [0]
    with pytest.raises(ValueError, match="method"):
        evaluate_campaign(camp, method="bayes")
    with pytest.raises(ValueError, match="n_boot"):
        evaluate_campaign(camp, method="bootstrap", n_boot=10)
    with pytest.raises(ValueError, match="random_state"):
        evaluate_campaign(camp, method="bootstrap", random_state="x")


def test_public_signatures_follow_the_vocabulary():
    from crm_models.vocabulary import COLUMNS, RETIRED

    for name in measure.__all__:
        obj = getattr(measure, name)
        if not callable(obj):
            continue
        for param in inspect.signature(obj).parameters:
            assert param not in RETIRED, f"{name}({param}): use {RETIRED[param]}"
            assert not param.endswith("_col") or param in COLUMNS, f"{name}({param}) is not in the vocabulary"
