"""rfm_summary and calibration_holdout_split against lifetimes, across engines, and on bad input."""

import duckdb
import numpy as np
import pandas as pd
import pytest
from lifetimes.utils import calibration_and_holdout_data, summary_data_from_transaction_data

from crm_models import calibration_holdout_split, rfm_summary
from crm_models.datasets import load_cdnow

CAL_END, OBS_END = "1997-09-30", "1998-06-30"


@pytest.fixture(scope="module")
def sample():
    return load_cdnow(sample=True)


@pytest.fixture(scope="module")
def master():
    return load_cdnow(sample=False)


def lifetimes_summary(log, end, freq="D", mult=7, **kw):
    return summary_data_from_transaction_data(
        log, "customer_id", "timestamp", "amount", observation_period_end=end, freq=freq, freq_multiplier=mult, **kw
    )


def assert_same(ours, theirs):
    pd.testing.assert_frame_equal(
        ours.astype(float), theirs[ours.columns].astype(float), check_names=False, check_index_type=False, rtol=1e-9
    )


# --- the published CDNOW figures ------------------------------------------------------------


def test_published_cdnow_calibration_figures(sample):
    s = rfm_summary(sample, "customer_id", "timestamp", "amount", observation_period_end=CAL_END, after_end="drop")
    assert len(s) == 2357
    assert (s["frequency"] > 0).sum() == 946
    assert s["frequency"].sum() == 2457
    assert s["T"].max() == pytest.approx(272 / 7)  # 38.86 weeks
    assert s["frequency"].dtype == "int64"


def test_calendar_week_grain_is_a_different_biased_convention(sample):
    s = rfm_summary(sample, "customer_id", "timestamp", None, observation_period_end=CAL_END, after_end="drop", grain="W")
    assert (s["frequency"] > 0).sum() < 946
    theirs = summary_data_from_transaction_data(sample, "customer_id", "timestamp", observation_period_end=CAL_END, freq="W")
    assert_same(s, theirs)


# --- agreement with lifetimes ---------------------------------------------------------------


@pytest.mark.parametrize("which", ["sample", "master"])
@pytest.mark.parametrize("engine", ["pandas", "duckdb"])
def test_matches_lifetimes_in_weeks(which, engine, request):
    log = request.getfixturevalue(which)
    ours = rfm_summary(log, "customer_id", "timestamp", "amount", observation_period_end=CAL_END, after_end="drop",
                       engine=engine)
    assert_same(ours, lifetimes_summary(log, CAL_END))


@pytest.mark.parametrize("include_first", [False, True])
def test_matches_lifetimes_in_days_over_whole_log(sample, include_first):
    ours = rfm_summary(sample, "customer_id", "timestamp", "amount", time_unit="D", include_first_transaction=include_first)
    assert_same(ours, lifetimes_summary(sample, None, mult=1, include_first_transaction=include_first))


def test_hourly_grain_matches_lifetimes():
    rng = np.random.default_rng(0)
    n = 500
    log = pd.DataFrame({
        "customer_id": rng.integers(0, 60, n),
        "timestamp": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 24 * 90, n), unit="h")
        + pd.to_timedelta(rng.integers(0, 60, n), unit="min"),
        "amount": rng.gamma(2.0, 10.0, n).round(2),
    })
    ours = rfm_summary(log, "customer_id", "timestamp", "amount", time_unit="h")
    assert_same(ours, lifetimes_summary(log, None, freq="h", mult=1))
    assert (ours["frequency"] > 0).any()


@pytest.mark.parametrize("which", ["sample", "master"])
def test_calibration_holdout_matches_lifetimes(which, request):
    log = request.getfixturevalue(which)
    ours = calibration_holdout_split(log, "customer_id", "timestamp", CAL_END, OBS_END, "amount")
    theirs = calibration_and_holdout_data(log, "customer_id", "timestamp", calibration_period_end=CAL_END,
                                          observation_period_end=OBS_END, freq="D", freq_multiplier=7,
                                          monetary_value_col="amount")
    same = [c for c in ours.columns if c != "monetary_value_holdout"]
    assert_same(ours[same], theirs)
    assert ours["duration_holdout"].iloc[0] == pytest.approx(39.0)
    # lifetimes averages raw holdout lines; we average per-day totals like the calibration value.
    # On a log already aggregated per day the two conventions agree exactly.
    daily = log.groupby(["customer_id", "timestamp"], as_index=False)["amount"].sum()
    theirs_daily = calibration_and_holdout_data(daily, "customer_id", "timestamp", calibration_period_end=CAL_END,
                                                observation_period_end=OBS_END, freq="D", freq_multiplier=7,
                                                monetary_value_col="amount")
    assert_same(ours[["monetary_value_holdout"]], theirs_daily)


def test_calibration_holdout_counts_new_customers(master):
    late = master[master["timestamp"] > "1997-02-15"]
    out = calibration_holdout_split(late, "customer_id", "timestamp", "1997-03-01", OBS_END, "amount")
    assert out.attrs["new_in_holdout"] > 0
    assert out.attrs["new_in_holdout"] + len(out) == late["customer_id"].nunique()


# --- the DuckDB engine agrees with the pandas engine, whatever the source -----------------------


@pytest.fixture(scope="module")
def string_id_log(sample):
    log = sample.copy()
    log["customer_id"] = "C-" + log["customer_id"].astype(str).str.zfill(6)
    return log


def test_duckdb_sources_agree_with_pandas(string_id_log, tmp_path):
    expected = rfm_summary(string_id_log, "customer_id", "timestamp", "amount", engine="pandas")
    parquet = tmp_path / "log.parquet"
    csv = tmp_path / "log.csv"
    string_id_log.to_parquet(parquet)
    string_id_log.to_csv(csv, index=False)
    con = duckdb.connect()
    sources = {
        "frame": string_id_log,
        "parquet": parquet,
        "csv path as str": str(csv),
        "relation": con.read_parquet(str(parquet)),
    }
    for name, source in sources.items():
        got = rfm_summary(source, "customer_id", "timestamp", "amount", engine="duckdb")
        assert list(got.index) == list(expected.index), name
        assert_same(got, expected)


def test_duckdb_reads_text_dates_with_a_format(sample, tmp_path):
    raw = sample.assign(timestamp=sample["timestamp"].dt.strftime("%Y%m%d").astype(int))
    path = tmp_path / "raw.csv"
    raw.to_csv(path, index=False)
    got = rfm_summary(path, "customer_id", "timestamp", "amount", datetime_format="%Y%m%d",
                      observation_period_end=CAL_END, after_end="drop")
    assert (got["frequency"] > 0).sum() == 946
    pandas_got = rfm_summary(raw, "customer_id", "timestamp", "amount", datetime_format="%Y%m%d",
                             observation_period_end=CAL_END, after_end="drop", engine="pandas")
    assert_same(got, pandas_got)


def test_auto_engine_uses_duckdb_for_paths_only_when_needed(sample):
    small = rfm_summary(sample, "customer_id", "timestamp", engine="auto")
    assert_same(small, rfm_summary(sample, "customer_id", "timestamp", engine="duckdb"))


# --- bad input: a clear ValueError naming the column and showing offending rows ----------------


def small_log():
    return pd.DataFrame({
        "cid": [1, 1, 2, 3],
        "when": pd.to_datetime(["2024-01-01", "2024-01-09", "2024-01-03", "2024-01-05"]),
        "amt": [10.0, 12.5, 3.0, 8.0],
    })


def run(log, engine, **kw):
    args = dict(customer_id_col="cid", datetime_col="when", monetary_value_col="amt", engine=engine)
    args.update(kw)
    return rfm_summary(log, **args)


ENGINES = ["pandas", "duckdb"]


@pytest.mark.parametrize("engine", ENGINES)
def test_missing_column(engine):
    with pytest.raises(ValueError, match=r"missing column\(s\) \['amount'\].*columns present"):
        run(small_log(), engine, monetary_value_col="amount")


@pytest.mark.parametrize("engine", ENGINES)
def test_unparseable_dates(engine):
    log = small_log().astype({"when": str})
    log.loc[2, "when"] = "not a date"
    with pytest.raises(ValueError, match=r"(?s)'when' must hold parseable dates.*1 of 4 rows.*not a date"):
        run(log, engine)


@pytest.mark.parametrize("engine", ENGINES)
def test_missing_dates(engine):
    log = small_log()
    log.loc[1, "when"] = pd.NaT
    with pytest.raises(ValueError, match=r"'when' must hold a date for every row"):
        run(log, engine)


@pytest.mark.parametrize("engine", ENGINES)
def test_negative_amounts(engine):
    log = small_log()
    log.loc[3, "amt"] = -8.0
    with pytest.raises(ValueError, match=r"(?s)'amt' must not be negative; 1 of 4 rows.*-8\.0"):
        run(log, engine)


@pytest.mark.parametrize("engine", ENGINES)
def test_non_numeric_amounts(engine):
    log = small_log().astype({"amt": object})
    log.loc[0, "amt"] = "ten"
    with pytest.raises(ValueError, match=r"(?s)'amt' must be numeric.*ten"):
        run(log, engine)


@pytest.mark.parametrize("engine", ENGINES)
def test_missing_customer_ids(engine):
    log = small_log().astype({"cid": "Int64"})
    log.loc[0, "cid"] = pd.NA
    with pytest.raises(ValueError, match=r"'cid' must not be missing"):
        run(log, engine)


@pytest.mark.parametrize("engine", ENGINES)
def test_observation_end_before_first_purchase(engine):
    with pytest.raises(ValueError, match=r"before the first purchase"):
        run(small_log(), engine, observation_period_end="2023-12-01", after_end="drop")


@pytest.mark.parametrize("engine", ENGINES)
def test_transactions_after_end_raise_then_drop_explicitly(engine):
    with pytest.raises(ValueError, match=r"(?s)must not lie after observation_period_end.*after_end='drop'"):
        run(small_log(), engine, observation_period_end="2024-01-04")
    got = run(small_log(), engine, observation_period_end="2024-01-04", after_end="drop")
    assert got.index.tolist() == [1, 2]
    assert got.loc[1, "frequency"] == 0


@pytest.mark.parametrize("engine", ENGINES)
def test_empty_log(engine):
    with pytest.raises(ValueError, match="empty"):
        run(small_log().iloc[:0], engine)


def test_numeric_dates_without_format_are_refused():
    log = small_log().assign(when=[20240101, 20240109, 20240103, 20240105])
    with pytest.raises(ValueError, match="datetime_format"):
        run(log, "pandas")
    assert run(log, "pandas", datetime_format="%Y%m%d")["frequency"].tolist() == [1, 0, 0]


def test_bad_options():
    with pytest.raises(ValueError, match="time_unit"):
        run(small_log(), "pandas", time_unit="fortnight")
    with pytest.raises(ValueError, match="grain"):
        run(small_log(), "pandas", grain="Q")
    with pytest.raises(ValueError, match="engine"):
        run(small_log(), "polars")
    with pytest.raises(ValueError, match="not a date"):
        run(small_log(), "pandas", observation_period_end="someday")
    with pytest.raises(FileNotFoundError):
        rfm_summary("/nonexistent/log.parquet", "cid", "when")


def test_calibration_holdout_bad_dates():
    with pytest.raises(ValueError, match="must be after calibration_period_end"):
        calibration_holdout_split(small_log(), "cid", "when", "2024-01-05", "2024-01-04", "amt")
    with pytest.raises(ValueError, match="calibration_period_end is required"):
        calibration_holdout_split(small_log(), "cid", "when")


def test_same_day_purchases_count_once_and_sum():
    log = pd.DataFrame({"cid": ["a", "a", "a", "a"],
                        "when": pd.to_datetime(["2024-01-01 09:00", "2024-01-01 17:00", "2024-01-08", "2024-01-08"], format="mixed"),
                        "amt": [1.0, 2.0, 3.0, 4.0]})
    for engine in ENGINES:
        got = run(log, engine, observation_period_end="2024-01-15")
        assert got.loc["a"].tolist() == [1, 1.0, 2.0, 7.0]
