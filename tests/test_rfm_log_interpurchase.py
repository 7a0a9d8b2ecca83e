"""The optional ``log_interpurchase`` column of rfm_summary / calibration_holdout_split (BTYDplus's litt)."""

import duckdb
import numpy as np
import pandas as pd
import pytest

from crm_models import calibration_holdout_split, rfm_summary
from crm_models.datasets import load_cdnow

CAL_END, OBS_END = "1997-09-30", "1998-06-30"


@pytest.fixture(scope="module")
def sample():
    return load_cdnow(sample=True)


def hand_log():
    # customer 1 buys on days 0, 0 (same day: one purchase period), 14, 35; customer 2 once; customer 3 on 3, 10
    days = pd.to_datetime("2024-01-01") + pd.to_timedelta([0, 0, 14, 35, 7, 3, 10], unit="D")
    return pd.DataFrame({"customer_id": [1, 1, 1, 1, 2, 3, 3], "timestamp": days,
                         "amount": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]})


@pytest.mark.parametrize("engine", ["pandas", "duckdb"])
def test_hand_computed_values(engine):
    out = rfm_summary(hand_log(), observation_period_end="2024-02-15", include_log_interpurchase=True,
                      engine=engine)
    # weeks: customer 1 gaps 2 and 3 weeks; customer 3 one gap of 1 week (log 1 = 0)
    expected = pd.Series([np.log(2.0) + np.log(3.0), 0.0, 0.0], index=[1, 2, 3])
    np.testing.assert_allclose(out["log_interpurchase"].to_numpy(), expected.to_numpy(), rtol=1e-14, atol=1e-15)
    days = rfm_summary(hand_log(), observation_period_end="2024-02-15", include_log_interpurchase=True,
                       engine=engine, time_unit="D")
    np.testing.assert_allclose(days["log_interpurchase"].to_numpy(),
                               [np.log(14.0) + np.log(21.0), 0.0, np.log(7.0)], rtol=1e-14)


def test_column_is_optional_and_last(sample):
    plain = rfm_summary(sample, observation_period_end=CAL_END, after_end="drop")
    extra = rfm_summary(sample, observation_period_end=CAL_END, after_end="drop", include_log_interpurchase=True)
    assert "log_interpurchase" not in plain.columns
    assert list(extra.columns) == [*plain.columns, "log_interpurchase"]
    pd.testing.assert_frame_equal(extra[plain.columns], plain)
    assert (extra.loc[extra["frequency"] == 0, "log_interpurchase"] == 0).all()


@pytest.mark.parametrize("grain,time_unit", [("D", "W"), ("D", "D"), ("h", "h"), ("W", "W"), ("D", "Y")])
def test_engines_agree(sample, grain, time_unit):
    kw = dict(observation_period_end=CAL_END, after_end="drop", include_log_interpurchase=True, grain=grain,
              time_unit=time_unit)
    a = rfm_summary(sample, engine="pandas", **kw)
    b = rfm_summary(sample, engine="duckdb", **kw)
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-12, atol=1e-12)


def test_duckdb_sources_agree_with_pandas(sample, tmp_path):
    log = sample.copy()
    log["customer_id"] = "C-" + log["customer_id"].astype(str).str.zfill(6)
    expected = rfm_summary(log, engine="pandas", include_log_interpurchase=True)
    parquet = tmp_path / "log.parquet"
    log.to_parquet(parquet)
    for source in (parquet, duckdb.connect().read_parquet(str(parquet))):
        got = rfm_summary(source, engine="duckdb", include_log_interpurchase=True)
        pd.testing.assert_frame_equal(got, expected, check_exact=False, rtol=1e-12, atol=1e-12)


def test_matches_the_btydplus_definition(sample):
    # elog2cbs: litt = sum(log(itt[itt > 0])) over the same-day de-duplicated purchases, in weeks
    log = sample[sample["timestamp"] <= CAL_END]
    days = log[["customer_id", "timestamp"]].drop_duplicates().sort_values(["customer_id", "timestamp"])
    itt = days.groupby("customer_id")["timestamp"].diff().dt.days / 7.0
    expected = np.log(itt[itt > 0]).groupby(days["customer_id"]).sum()
    out = rfm_summary(sample, observation_period_end=CAL_END, after_end="drop", include_log_interpurchase=True)
    got = out.loc[expected.index, "log_interpurchase"]
    np.testing.assert_allclose(got.to_numpy(), expected.to_numpy(), rtol=1e-13)
    assert round(float(out["log_interpurchase"].sum()), 4) == round(float(expected.sum()), 4)


def test_calibration_split_carries_the_calibration_value(sample):
    split = calibration_holdout_split(sample, calibration_period_end=CAL_END, observation_period_end=OBS_END,
                                      include_log_interpurchase=True)
    cal = rfm_summary(sample, observation_period_end=CAL_END, after_end="drop", include_log_interpurchase=True)
    np.testing.assert_allclose(split["log_interpurchase_cal"].to_numpy(),
                               cal.loc[split.index, "log_interpurchase"].to_numpy(), rtol=1e-14)
    plain = calibration_holdout_split(sample, calibration_period_end=CAL_END, observation_period_end=OBS_END)
    assert "log_interpurchase_cal" not in plain.columns
