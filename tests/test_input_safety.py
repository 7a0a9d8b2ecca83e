"""Unusual input gets one answer in every engine, or a clear refusal: dates, time zones, ids,
numbers at the edges, and logs too small for plain maximum likelihood."""

from __future__ import annotations

import time
import warnings

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

from crm_models import calibration_holdout_split, rfm_summary
from crm_models.datasets import load_cdnow
from crm_models.errors import ConvergenceError, DataError

ENGINES = ["pandas", "duckdb"]


def log_of(ids, dates, amounts=None):
    return pd.DataFrame({"customer_id": ids, "timestamp": dates,
                         "amount": amounts if amounts is not None else [10.0] * len(ids)})


# --- dates -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_day_first_dates_are_refused_with_the_format_to_pass(engine):
    log = log_of(["a", "a", "b"], ["01/02/2024", "13/02/2024", "05/03/2024"])
    with pytest.raises(DataError) as err:
        rfm_summary(log, engine=engine)
    e = err.value
    assert e.column == "timestamp" and e.n_rows == 3 and len(e.rows) == 3
    assert "datetime_format='%d/%m/%Y'" in e.hint
    got = rfm_summary(log, engine=engine, datetime_format="%d/%m/%Y", time_unit="D")
    assert got.loc["a", "recency"] == 12.0  # 1 to 13 February, never 2 January to 2 December


@pytest.mark.parametrize("engine", ENGINES)
def test_ambiguous_dates_are_refused(engine):
    log = log_of(["a", "a", "b"], ["01/02/2024", "03/04/2024", "05/06/2024"])
    with pytest.raises(DataError, match="ambiguous dates") as err:
        rfm_summary(log, engine=engine)
    assert err.value.column == "timestamp"
    assert "'%d/%m/%Y'" in err.value.rule and "'%m/%d/%Y'" in err.value.rule
    assert "datetime_format" in err.value.hint


@pytest.mark.parametrize("engine", ENGINES)
def test_one_bad_spelling_is_never_read_one_by_one(engine):
    """A column of ISO dates with one US-style date is refused, never parsed value by value."""
    log = log_of(["a", "a", "b"], ["2024-01-02", "01/13/2024", "2024-01-05"])
    with pytest.raises(DataError) as err:
        rfm_summary(log, engine=engine)
    assert err.value.rows["timestamp"].tolist() == ["01/13/2024"]


@pytest.mark.parametrize("engine", ENGINES)
def test_the_cdnow_log_written_day_first_is_refused(engine):
    cd = load_cdnow(sample=True)
    dmy = cd.assign(timestamp=cd["timestamp"].dt.strftime("%d/%m/%Y"))
    with pytest.raises(DataError, match="parseable dates"):
        rfm_summary(dmy, engine=engine)
    pd.testing.assert_frame_equal(rfm_summary(dmy, datetime_format="%d/%m/%Y", engine=engine),
                                  rfm_summary(cd, engine=engine), check_index_type=False)


# --- time zones ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_aware_timestamps_are_read_in_utc_by_every_engine(engine):
    """23:30 in New York on 1 January is 04:30 UTC on 2 January: the same day in every engine."""
    text = log_of(["a", "a"], ["2024-01-01T23:30-05:00", "2024-01-02T01:00-05:00"])
    aware = text.assign(timestamp=pd.to_datetime(text["timestamp"], format="ISO8601", utc=True)
                        .dt.tz_convert("America/New_York"))
    for log in (text, aware):
        got = rfm_summary(log, engine=engine, observation_period_end="2024-01-10", time_unit="D")
        assert got.loc["a", "frequency"] == 0  # both purchases fall on 2 January UTC
        assert got.loc["a", "T"] == 8.0


@pytest.mark.parametrize("engine", ENGINES)
def test_a_column_mixing_aware_and_naive_times_is_refused(engine):
    log = log_of(["a", "a", "b"], ["2024-01-01T10:00+01:00", "2024-01-02 10:00", "2024-01-03 12:00"])
    with pytest.raises(DataError, match="mixes time-zone-aware and naive") as err:
        rfm_summary(log, engine=engine)
    assert err.value.rows["timestamp"].tolist() == ["2024-01-01T10:00+01:00"]


@pytest.mark.parametrize("engine", ENGINES)
def test_an_aware_end_of_observation_follows_the_same_rule(engine):
    log = log_of(["a", "a", "b"], ["2024-01-01", "2024-01-08", "2024-01-03"])
    aware = rfm_summary(log, engine=engine, observation_period_end=pd.Timestamp("2024-01-29 08:00", tz="Asia/Tokyo"))
    assert aware.equals(rfm_summary(log, engine=engine, observation_period_end="2024-01-28"))
    text = rfm_summary(log, engine=engine, observation_period_end="2024-01-28T23:30-02:00")
    assert text.equals(rfm_summary(log, engine=engine, observation_period_end="2024-01-29"))


def test_an_integer_end_is_never_read_as_1970():
    log = log_of(["a", "a", "b"], ["2024-01-01", "2024-01-08", "2024-01-03"])
    with pytest.raises(ValueError, match="20240129 is a number, not a date.*datetime_format='%Y%m%d'"):
        rfm_summary(log, observation_period_end=20240129)
    with pytest.raises(ValueError, match="not a date"):
        calibration_holdout_split(log, calibration_period_end=20240105)
    numeric = log.assign(timestamp=[20240101, 20240108, 20240103])
    got = rfm_summary(numeric, observation_period_end=20240129, datetime_format="%Y%m%d")
    assert got.loc["a", "T"] == 4.0


# --- ids -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_ids_mixing_numbers_and_text_are_refused_by_every_engine(engine):
    log = log_of(pd.Series([1, "1", 2], dtype=object), ["2024-01-01", "2024-01-08", "2024-01-03"])
    with pytest.raises(DataError, match="mixes text and numbers") as err:
        rfm_summary(log, engine=engine)
    assert err.value.column == "customer_id" and err.value.n_rows == 1


@pytest.mark.parametrize("engine", ENGINES)
def test_padded_ids_stay_themselves(engine):
    log = log_of(["00021", "21", "00021"], ["2024-01-01", "2024-01-08", "2024-01-03"])
    got = rfm_summary(log, engine=engine)
    assert got.index.tolist() == ["00021", "21"]
    assert got.loc["00021", "frequency"] == 1


# --- numbers at the edges ----------------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_amounts_whose_sums_overflow_are_refused(engine):
    log = log_of(["a", "a", "b"], ["2024-01-01", "2024-01-08", "2024-01-03"], [1e308, 1e308, 5.0])
    with pytest.raises(DataError, match="at most 1e\\+15") as err:
        rfm_summary(log, engine=engine)
    assert err.value.column == "amount" and err.value.n_rows == 2


def test_nothing_happens_in_no_time_and_endless_horizons_are_refused():
    from crm_models.clv import BetaGeo, GammaGamma, ModifiedBetaGeo, customer_lifetime_value

    summary = rfm_summary(load_cdnow())
    for cls in (BetaGeo, ModifiedBetaGeo):
        assert cls().fit(summary).probability_of_n_purchases(0, [0, 1]).tolist() == [1.0, 0.0]
    bg, gg = BetaGeo().fit(summary), GammaGamma().fit(summary)
    start = time.perf_counter()
    with pytest.raises(ValueError, match="horizon"):
        customer_lifetime_value(bg, gg, summary, horizon=(1e6, "Y"), time_unit="W", discount_rate=(0.1, "Y"))
    assert time.perf_counter() - start < 5  # refused, not computed


# --- small data ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def forty_customers():
    """A real log of 40 CDNOW customers on which plain maximum likelihood does not identify BG/NBD."""
    cd = load_cdnow(sample=True)
    ids = cd["customer_id"].drop_duplicates().to_numpy()[80:120]
    return cd[cd["customer_id"].isin(ids)].reset_index(drop=True)


def test_a_small_log_gets_a_stated_penalised_fit(forty_customers, tmp_path):
    from crm_models.clv import BetaGeo
    from crm_models.pipeline import FALLBACK_PENALIZERS, CustomerScorer
    from crm_models.report import write_report

    with pytest.raises(ConvergenceError):
        BetaGeo().fit(rfm_summary(forty_customers))
    with pytest.warns(UserWarning, match=r"BG/NBD: plain maximum likelihood does not identify .* penalizer=0.001"):
        # BG/NBD named: the backtest's choice here (MBG/NBD) happens to be identified without a penalty
        scorer = CustomerScorer(transaction_model="BG/NBD").fit(forty_customers)
    assert scorer.penalizers_ == {"transaction_model": FALLBACK_PENALIZERS[0], "spend_model": 0.0}
    summary = scorer.summary()
    assert summary.stats["Penalizer (BG/NBD)"] == 0.001
    assert any("Small data" in note for note in summary.notes)
    scores = scorer.transform(forty_customers)
    assert len(scores) == 40 and np.isfinite(scores[["p_alive", "clv"]].to_numpy()).all()
    page = write_report(tmp_path / "r.html", scores, models=summary, notes=summary.notes).read_text(encoding="utf-8")
    assert "Small data" in page and "penalizer=0.001" in page
    loaded = CustomerScorer.load(scorer.save(tmp_path / "scorer.json"))
    assert loaded.penalizers_ == scorer.penalizers_


def test_the_cli_says_so_in_one_line(forty_customers, tmp_path, capsys):
    from crm_models.cli import main

    src = tmp_path / "tx.csv"
    forty_customers.to_csv(src, index=False)
    assert main(["score", str(src), "--out", str(tmp_path / "s.csv"), "--report", str(tmp_path / "r.html"),
                 "--no-progress", "--transaction-model", "BG/NBD"]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert err and all(line.startswith("crm-models: warning: ") for line in err)  # one line per warning
    assert err[0].startswith("crm-models: warning: BG/NBD: plain maximum likelihood")
    assert "Small data" in (tmp_path / "r.html").read_text(encoding="utf-8")


def test_a_fit_that_is_meaningless_even_penalised_is_refused():
    """No customer observed for any time at all: no penalty makes the likelihood say anything."""
    from crm_models.clv import BetaGeo
    from crm_models.pipeline import fit_with_fallback

    data = pd.DataFrame({"frequency": [0] * 30, "recency": [0.0] * 30, "T": [0.0] * 30})
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        with pytest.raises(ConvergenceError, match="cannot be fitted to this log, even with an L2 penalty"):
            fit_with_fallback(BetaGeo(), data, "BG/NBD")


def test_logs_below_the_minimums_are_refused_not_penalised(forty_customers):
    from crm_models.pipeline import CustomerScorer

    one_timers = forty_customers.drop_duplicates("customer_id")
    with pytest.raises(DataError, match="the spend model .* needs at least 10"):
        CustomerScorer().fit(one_timers)
