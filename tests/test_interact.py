"""Tests of crm_models.interact: single customer view, context card, queue priority and simulation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crm_models.interact import (
    TIMELINE_COLUMNS,
    QueuePriority,
    attach_customer,
    customer_context,
    customer_timeline,
    prioritise_queue,
    simulate_queue,
)


@pytest.fixture
def company():
    """Two customers, four source systems; customer A has records in three of them."""
    crosswalk = pd.DataFrame({
        "record_id": ["WEB-1", "STR-1", "CC-1", "WEB-2", "ML-2"],
        "customer_id": ["A", "A", "A", "B", "B"],
    })
    records = pd.DataFrame({"record_id": crosswalk["record_id"],
                            "source": ["web", "store", "call_centre", "web", "mail"]})
    transactions = pd.DataFrame({
        "transaction_id": ["T1", "T2", "T3", "T4", "T5"],
        "record_id": ["STR-1", "WEB-1", "WEB-2", "CC-1", "ML-2"],
        "timestamp": pd.to_datetime(["2024-01-05 10:00", "2024-02-01 09:00", "2024-02-02", "2024-03-01 12:00",
                                     "2024-03-02"], format="ISO8601"),
        "channel": ["store", "web", "web", "call_centre", "mail"],
        "category": ["home", "books", "toys", "garden", "home"],
        "amount": [20.0, 35.5, 10.0, 50.0, 5.0],
    })
    interactions = pd.DataFrame({
        "interaction_id": ["I1", "I2", "I3", "I4", "I5", "I6", "I7"],
        "record_id": ["WEB-1", "CC-1", "CC-1", "WEB-1", "WEB-2", "CC-1", "STR-1"],
        "timestamp": pd.to_datetime(["2024-01-20", "2024-03-01 12:00", "2024-03-10", "2024-01-06", "2024-02-03",
                                     "2024-03-20", "2024-02-10"], format="ISO8601"),
        "type": ["web_visit", "call", "call", "survey", "web_visit", "call", "survey"],
        "reason": [None, "order", "inquiry", None, None, "complaint", None],
        "satisfaction": [np.nan, np.nan, np.nan, 5, np.nan, np.nan, 3],
        "nps": [np.nan, np.nan, np.nan, 9, np.nan, np.nan, 6],
        "channel": ["web", "call_centre", "call_centre", "email", "web", "call_centre", "email"],
    })
    return crosswalk, records, transactions, interactions


def test_timeline_holds_every_event_of_the_customer_once_in_time_order(company):
    crosswalk, records, tx, it = company
    tl = customer_timeline("A", crosswalk, tx, it, records=records)
    assert list(tl.columns) == TIMELINE_COLUMNS
    mine = crosswalk.loc[crosswalk["customer_id"] == "A", "record_id"]
    expected_ids = set(tx.loc[tx["record_id"].isin(mine), "transaction_id"]) | set(
        it.loc[it["record_id"].isin(mine), "interaction_id"])
    assert sorted(tl["event_id"]) == sorted(expected_ids)  # each exactly once
    assert tl["timestamp"].is_monotonic_increasing
    assert (tl["customer_id"] == "A").all()
    assert set(tl["source"]) == {"web", "store", "call_centre"}
    # a call-centre order and its purchase at the same instant: the purchase comes first
    same = tl[tl["timestamp"] == pd.Timestamp("2024-03-01 12:00")]
    assert list(same["kind"]) == ["transaction", "interaction"]
    assert tl.loc[tl["event_id"] == "T2", "amount"].item() == 35.5
    assert tl.loc[tl["event_id"] == "I6", "detail"].item() == "complaint"
    assert tl["amount"].sum() == pytest.approx(105.5)


def test_timeline_accepts_a_series_crosswalk_and_no_interactions(company):
    crosswalk, _, tx, _ = company
    cw = crosswalk.set_index("record_id")["customer_id"]
    tl = customer_timeline("B", cw, tx)
    assert list(tl["event_id"]) == ["T3", "T5"]
    assert tl["source"].isna().all()
    # identify's crosswalk is indexed by record id, and its Resolution carries it as .crosswalk
    indexed = crosswalk.set_index("record_id").assign(source="x")
    pd.testing.assert_frame_equal(customer_timeline("B", indexed, tx), tl)

    class Resolution:
        def __init__(self, crosswalk):
            self.crosswalk = crosswalk

    pd.testing.assert_frame_equal(customer_timeline("B", Resolution(indexed), tx), tl)


def test_context_card_fields(company):
    crosswalk, records, tx, it = company
    tl = customer_timeline("A", crosswalk, tx, it, records=records)
    scores = pd.DataFrame({"clv": [120.0, 10.0], "p_alive": [0.8, 0.2], "expected_purchases": [2.0, 0.1],
                           "value_tier": ["Gold", "Bronze"], "segment": ["Loyal", "Lost"]}, index=["A", "B"])
    ctx = customer_context("A", tl, scores, as_of="2024-03-25", horizon_days=90)
    f = ctx.fields
    assert f["value tier"] == "Gold" and f["segment"] == "Loyal"
    assert f["P(alive)"] == 0.8 and f["CLV (USD)"] == 120.0
    assert f["expected next purchase"] == pd.Timestamp("2024-03-25") + pd.Timedelta(days=45)
    assert f["purchases to date"] == 3 and f["spend to date (USD)"] == pytest.approx(105.5)
    assert f["last purchase"] == pd.Timestamp("2024-03-01")
    assert f["last contact"] == pd.Timestamp("2024-03-20") and f["last contact reason"] == "complaint"
    assert f["open complaints"] == 1 and f["complaints to date"] == 1
    assert f["last satisfaction (1-5)"] == 3.0 and f["mean satisfaction (1-5)"] == 4.0
    assert f["satisfaction trend"].startswith("falling")
    assert f["source systems"] == "call_centre, store, web"
    html = ctx._repr_html_()
    assert "open complaint" in html and "Gold" in html
    assert "A" in str(ctx)
    # a month later the complaint is no longer open; before it happened it did not exist
    assert customer_context("A", tl, scores, as_of="2024-05-01")["open complaints"] == 0
    early = customer_context("A", tl, scores, as_of="2024-01-10")
    assert early["complaints to date"] == 0 and early["purchases to date"] == 1
    # unknown scores show as missing, not as an error
    assert customer_context("A", tl)["P(alive)"] is None


def test_context_complaint_closed_by_a_later_purchase(company):
    crosswalk, records, tx, it = company
    later = pd.concat([tx, pd.DataFrame({"transaction_id": ["T9"], "record_id": ["WEB-1"],
                                         "timestamp": [pd.Timestamp("2024-03-22")], "channel": ["web"],
                                         "category": ["books"], "amount": [12.0]})], ignore_index=True)
    tl = customer_timeline("A", crosswalk, later, it, records=records)
    assert customer_context("A", tl, as_of="2024-03-25")["open complaints"] == 0


def test_queue_order_follows_the_stated_rule():
    scores = pd.DataFrame({"clv": [100.0, 100.0, 500.0, 10.0], "p_alive": [0.9, 0.3, 0.95, 0.1],
                           "value_tier": ["Silver", "Silver", "Gold", "Bronze"]}, index=["a", "b", "c", "d"])
    waiting = pd.DataFrame({"customer_id": ["d", "a", "b", "c"], "arrival": [1.0, 2.0, 3.0, 4.0]})
    out = prioritise_queue(waiting, scores)  # value x (1 + (1 - p_alive))
    assert list(out["customer_id"]) == ["c", "b", "a", "d"]
    assert list(out["position"]) == [1, 2, 3, 4]
    assert out["priority"].tolist() == pytest.approx([525.0, 170.0, 110.0, 19.0])
    assert "clv" in out.attrs["rule"]
    assert list(prioritise_queue(waiting, scores, "fifo")["customer_id"]) == ["d", "a", "b", "c"]
    # equal value: the earlier arrival goes first
    assert list(prioritise_queue(waiting, scores, "value")["customer_id"]) == ["c", "a", "b", "d"]
    tier = QueuePriority("tier", tier_order=("Bronze", "Silver", "Gold"))
    assert list(prioritise_queue(waiting, scores, tier)["customer_id"]) == ["d", "b", "a", "c"]


def _base(n=2000, seed=1):
    rng = np.random.default_rng(seed)
    clv = rng.lognormal(3.5, 1.0, n)
    tiers = pd.qcut(pd.Series(clv).rank(method="first"), [0, 0.5, 0.8, 1], labels=["Bronze", "Silver", "Gold"])
    return pd.DataFrame({"clv": clv, "p_alive": rng.uniform(0, 1, n), "value_tier": tiers.to_numpy()},
                        index=[f"C{i}" for i in range(n)])


def test_simulation_priority_shortens_top_tier_waits_and_conserves_the_total():
    scores = _base()
    res = simulate_queue(scores, QueuePriority("tier", tier_order=("Gold", "Silver", "Bronze")), n_calls=8000,
                         calls_per_hour=50, mean_service_minutes=6, n_agents=6, seed=3)
    assert list(res.index) == ["Gold", "Silver", "Bronze", "all"]
    assert res.loc["all", "calls"] == 8000 and res.loc[["Bronze", "Silver", "Gold"], "calls"].sum() == 8000
    assert res.loc["Gold", "priority_mean_wait"] < 0.5 * res.loc["Gold", "fifo_mean_wait"]
    assert res.loc["Bronze", "priority_mean_wait"] > res.loc["Bronze", "fifo_mean_wait"]
    # priority moves waiting between callers; it does not create capacity
    assert res.loc["all", "priority_mean_wait"] == pytest.approx(res.loc["all", "fifo_mean_wait"], rel=0.1)
    assert (res[["fifo_mean_wait", "priority_mean_wait"]] >= 0).all().all()
    again = simulate_queue(scores, QueuePriority("tier", tier_order=("Gold", "Silver", "Bronze")), n_calls=8000,
                           calls_per_hour=50, mean_service_minutes=6, n_agents=6, seed=3)
    pd.testing.assert_frame_equal(res, again)  # seeded
    fifo = simulate_queue(scores, "fifo", n_calls=3000)
    assert np.allclose(fifo["fifo_mean_wait"], fifo["priority_mean_wait"])


def test_light_load_means_almost_no_waiting():
    res = simulate_queue(_base(), "value", calls_per_hour=5, mean_service_minutes=5, n_agents=4, n_calls=2000)
    assert res.loc["all", "fifo_mean_wait"] < 0.05


def test_bad_input_gets_clear_errors(company):
    crosswalk, records, tx, it = company
    with pytest.raises(ValueError, match="not in the crosswalk"):
        customer_timeline("Z", crosswalk, tx, it)
    dup = pd.concat([crosswalk, crosswalk.iloc[[0]].assign(customer_id="B")])
    with pytest.raises(ValueError, match="each record once"):
        customer_timeline("A", dup, tx, it)
    with pytest.raises(ValueError, match="missing column"):
        customer_timeline("A", crosswalk, tx.drop(columns="amount"), it)
    bad_dates = tx.astype({"timestamp": object})
    bad_dates.loc[0, "timestamp"] = "not a date"
    with pytest.raises(ValueError, match="'timestamp'"):
        customer_timeline("A", crosswalk, bad_dates, it)
    with pytest.raises(ValueError, match="listed in records"):
        customer_timeline("A", crosswalk, tx, it, records=records.iloc[1:])
    orphan = pd.concat([tx, tx.iloc[[0]].assign(record_id="XX-9")])
    with pytest.raises(ValueError, match="listed in the crosswalk"):
        attach_customer(orphan, crosswalk)
    tl = customer_timeline("A", crosswalk, tx, it, records=records)
    with pytest.raises(ValueError, match="probability"):
        customer_context("A", tl, pd.DataFrame({"p_alive": [1.5]}, index=["A"]))
    with pytest.raises(ValueError, match="other customers"):
        customer_context("B", tl)
    with pytest.raises(ValueError, match="rule must be one of"):
        QueuePriority("vip")
    with pytest.raises(ValueError, match="tier_order"):
        QueuePriority("tier")
    scores = _base(50)
    with pytest.raises(ValueError, match="customer id in the scores"):
        prioritise_queue(pd.DataFrame({"customer_id": ["nobody"], "arrival": [1.0]}), scores)
    with pytest.raises(ValueError, match="load"):
        simulate_queue(scores, calls_per_hour=100, mean_service_minutes=10, n_agents=2)
    with pytest.raises(ValueError, match="missing column"):
        simulate_queue(scores.drop(columns="p_alive"))
    nan_clv = scores.copy()
    nan_clv.iloc[3, 0] = np.nan
    with pytest.raises(ValueError, match="'clv'"):
        simulate_queue(nan_clv)


def test_call_weights_decide_who_calls():
    scores = _base(300).assign(calls=0.0)
    scores.loc[scores["value_tier"] == "Gold", "calls"] = 1.0
    res = simulate_queue(scores, "value", call_weights="calls", n_calls=500)
    assert list(res.index) == ["Gold", "all"]
    with pytest.raises(ValueError, match="must be one of tier_order"):
        simulate_queue(scores, QueuePriority("tier", tier_order=("Gold", "Silver")), n_calls=100)
