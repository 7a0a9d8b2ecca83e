"""Tests of crm_models.interact: single customer view, context card, queue priority and simulation."""

from __future__ import annotations

import inspect

import numpy as np
import pandas as pd
import pytest

import crm_models.interact as interact
from crm_models.errors import DataError
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
    ctx = customer_context("A", tl, scores, observation_period_end="2024-03-25", horizon=(90, "D"))
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
    assert customer_context("A", tl, scores, observation_period_end="2024-05-01")["open complaints"] == 0
    early = customer_context("A", tl, scores, observation_period_end="2024-01-10")
    assert early["complaints to date"] == 0 and early["purchases to date"] == 1
    # unknown scores show as missing, not as an error
    assert customer_context("A", tl)["P(alive)"] is None
    assert "scores in words" not in f


def test_context_card_explains_the_scores_in_words(company):
    from crm_models import rfm_summary
    from crm_models.clv import ModifiedBetaGeo, explain_customer
    from crm_models.datasets import load_cdnow

    crosswalk, records, tx, it = company
    tl = customer_timeline("A", crosswalk, tx, it, records=records)
    rfm = rfm_summary(load_cdnow(), observation_period_end="1997-09-30", after_end="drop")
    why = explain_customer(ModifiedBetaGeo().fit(rfm), rfm, 4)
    card = customer_context("A", tl, explanation=why, observation_period_end="2024-03-25")
    assert card["scores in words"] == why.text and why.text in str(card) and "P(alive) at" in card._repr_html_()


def test_context_complaint_closed_by_a_later_purchase(company):
    crosswalk, records, tx, it = company
    later = pd.concat([tx, pd.DataFrame({"transaction_id": ["T9"], "record_id": ["WEB-1"],
                                         "timestamp": [pd.Timestamp("2024-03-22")], "channel": ["web"],
                                         "category": ["books"], "amount": [12.0]})], ignore_index=True)
    tl = customer_timeline("A", crosswalk, later, it, records=records)
    assert customer_context("A", tl, observation_period_end="2024-03-25")["open complaints"] == 0


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
    # the rule reads the columns it is told to
    renamed = scores.rename(columns={"clv": "value_usd", "p_alive": "alive"})
    custom = QueuePriority("value_at_risk", value_col="value_usd", p_alive_col="alive")
    assert list(prioritise_queue(waiting, renamed, custom)["customer_id"]) == ["c", "b", "a", "d"]
    assert "alive" in custom.describe() and custom.needed_columns() == ["value_usd", "alive"]


def _base(n=2000, seed=1):
    rng = np.random.default_rng(seed)
    clv = rng.lognormal(3.5, 1.0, n)
    tiers = pd.qcut(pd.Series(clv).rank(method="first"), [0, 0.5, 0.8, 1], labels=["Bronze", "Silver", "Gold"])
    return pd.DataFrame({"clv": clv, "p_alive": rng.uniform(0, 1, n), "value_tier": tiers.to_numpy()},
                        index=[f"C{i}" for i in range(n)])


def test_simulation_priority_shortens_top_tier_waits_and_conserves_the_total():
    scores = _base()
    res = simulate_queue(scores, QueuePriority("tier", tier_order=("Gold", "Silver", "Bronze")), n_calls=8000,
                         calls_per_hour=50, mean_service_minutes=6, n_agents=6, random_state=3)
    assert list(res.index) == ["Gold", "Silver", "Bronze", "all"]
    assert res.loc["all", "calls"] == 8000 and res.loc[["Bronze", "Silver", "Gold"], "calls"].sum() == 8000
    assert res.loc["Gold", "priority_mean_wait"] < 0.5 * res.loc["Gold", "fifo_mean_wait"]
    assert res.loc["Bronze", "priority_mean_wait"] > res.loc["Bronze", "fifo_mean_wait"]
    # priority moves waiting between callers; it does not create capacity
    assert res.loc["all", "priority_mean_wait"] == pytest.approx(res.loc["all", "fifo_mean_wait"], rel=0.1)
    assert (res[["fifo_mean_wait", "priority_mean_wait"]] >= 0).all().all()
    again = simulate_queue(scores, QueuePriority("tier", tier_order=("Gold", "Silver", "Bronze")), n_calls=8000,
                           calls_per_hour=50, mean_service_minutes=6, n_agents=6, random_state=3)
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
    with pytest.raises(DataError, match="probability") as err:
        customer_context("A", tl, pd.DataFrame({"p_alive": [1.5]}, index=["A"]))
    assert err.value.column == "p_alive" and err.value.rows.index.tolist() == ["A"]
    with pytest.raises(DataError, match="must be 'B' on every row") as err:
        customer_context("B", tl)
    assert err.value.column == "customer_id" and (err.value.rows["customer_id"] == "A").all()
    with pytest.raises(DataError, match="once") as err:
        customer_context("A", tl, pd.DataFrame({"p_alive": [0.5, 0.6]}, index=["A", "A"]))
    assert err.value.column == "index"
    with pytest.raises(DataError, match="empty"):
        customer_context("A", tl.iloc[:0])
    with pytest.raises(ValueError, match="rule must be one of"):
        QueuePriority("vip")
    with pytest.raises(ValueError, match="tier_order"):
        QueuePriority("tier")
    scores = _base(50)
    with pytest.raises(DataError, match="customer id in the scores") as err:
        prioritise_queue(pd.DataFrame({"customer_id": ["nobody"], "arrival": [1.0]}), scores)
    assert err.value.rows["customer_id"].tolist() == ["nobody"]
    with pytest.raises(DataError, match="each customer id once"):
        prioritise_queue(pd.DataFrame({"customer_id": ["C1"], "arrival": [1.0]}), pd.concat([scores, scores.iloc[[1]]]))
    with pytest.raises(DataError, match="empty"):
        simulate_queue(scores.iloc[:0])
    with pytest.raises(ValueError, match="load"):
        simulate_queue(scores, calls_per_hour=100, mean_service_minutes=10, n_agents=2)
    with pytest.raises(ValueError, match="missing column"):
        simulate_queue(scores.drop(columns="p_alive"))
    nan_clv = scores.copy()
    nan_clv.iloc[3, 0] = np.nan
    with pytest.raises(DataError, match="'clv'") as err:
        simulate_queue(nan_clv)
    assert err.value.rows.index.tolist() == ["C3"]


def test_call_weights_decide_who_calls():
    scores = _base(300).assign(calls=0.0)
    scores.loc[scores["value_tier"] == "Gold", "calls"] = 1.0
    res = simulate_queue(scores, "value", call_weights="calls", n_calls=500)
    assert list(res.index) == ["Gold", "all"]
    with pytest.raises(ValueError, match="must be one of tier_order"):
        simulate_queue(scores, QueuePriority("tier", tier_order=("Gold", "Silver")), n_calls=100)


def test_simulation_is_reproducible_by_random_state_and_differs_across_states():
    scores = _base(200)
    a = simulate_queue(scores, "value", n_calls=1500)  # random_state defaults to 0
    pd.testing.assert_frame_equal(a, simulate_queue(scores, "value", n_calls=1500, random_state=0))
    assert a.attrs["random_state"] == 0
    b = simulate_queue(scores, "value", n_calls=1500, random_state=np.random.default_rng(1))
    assert not np.allclose(a["fifo_mean_wait"], b["fifo_mean_wait"])
    with pytest.raises(ValueError, match="random_state"):
        simulate_queue(scores, "value", n_calls=100, random_state="seven")


def test_context_horizon_and_complaint_window_are_duration_pairs(company):
    crosswalk, records, tx, it = company
    tl = customer_timeline("A", crosswalk, tx, it, records=records)
    scores = pd.DataFrame({"expected_purchases": [3.0]}, index=["A"])
    # the default horizon is 91 days: the next purchase is expected 91 / 3 days after the call
    card = customer_context("A", tl, scores, observation_period_end="2024-03-25")
    assert card["expected purchases next 91 days"] == 3.0
    assert card["expected next purchase"] == (pd.Timestamp("2024-03-25") + pd.Timedelta(days=91 / 3)).normalize()
    quarter = customer_context("A", tl, scores, observation_period_end="2024-03-25", horizon=(3, "M"))
    assert quarter["expected purchases next 3 months"] == 3.0
    assert quarter["expected next purchase"] == (pd.Timestamp("2024-03-25")
                                                 + pd.Timedelta(days=365.25 / 12)).normalize()
    # the complaint of 2024-03-20 is open 5 days later with a 1-week window, closed with a 3-day one
    assert customer_context("A", tl, observation_period_end="2024-03-25", complaint_open=(1, "W"))[
        "open complaints"] == 1
    closed = customer_context("A", tl, observation_period_end="2024-03-25", complaint_open=(3, "D"))
    assert closed["open complaints"] == 0 and "3 days" in closed.rules["open complaint"]
    assert customer_context("A", tl, observation_period_end="2024-03-20", complaint_open=(0, "D"))[
        "open complaints"] == 1
    for bad, message in [(dict(horizon=90), "horizon must be a .length, unit. pair"),
                         (dict(horizon=(90, "days")), "horizon's unit must be one of"),
                         (dict(horizon=(0, "D")), "horizon: the length must be > 0"),
                         (dict(complaint_open=(-1, "D")), "complaint_open: the length must be >= 0"),
                         (dict(complaint_open="30D"), "complaint_open must be a .length, unit. pair")]:
        with pytest.raises(ValueError, match=message):
            customer_context("A", tl, scores, **bad)


def test_card_as_text_and_as_a_series(company):
    crosswalk, records, tx, it = company
    tl = customer_timeline("A", crosswalk, tx, it, records=records)
    card = customer_context("A", tl, observation_period_end="2024-03-25")
    assert card.observation_period_end == pd.Timestamp("2024-03-25")
    assert str(card).startswith("Customer A (as of 2024-03-25)")
    assert card.to_series().name == "A" and card.to_series()["purchases to date"] == 3
    assert list(card.recent["timestamp"]) == sorted(card.recent["timestamp"], reverse=True)


def test_attach_customer_adds_the_resolved_id_and_keeps_rows(company):
    crosswalk, _, tx, _ = company
    out = attach_customer(tx.rename(columns={"record_id": "rec"}), crosswalk.rename(columns={"record_id": "rec"}),
                          record_id_col="rec")
    assert out["customer_id"].tolist() == ["A", "A", "B", "A", "B"] and out.index.equals(tx.index)
    with pytest.raises(DataError, match="each record once") as err:
        attach_customer(tx, pd.concat([crosswalk, crosswalk.iloc[[0]]]))
    assert err.value.what == "crosswalk" and len(err.value.rows) == 2


def test_public_signatures_follow_the_vocabulary():
    from crm_models.vocabulary import COLUMNS, RETIRED

    for name in interact.__all__:
        obj = getattr(interact, name)
        if not callable(obj):
            continue
        for param in inspect.signature(obj).parameters:
            assert param not in RETIRED, f"{name}({param}): use {RETIRED[param]}"
            assert not param.endswith("_col") or param in COLUMNS, f"{name}({param}) is not in the vocabulary"
