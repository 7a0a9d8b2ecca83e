"""The pandas and DuckDB engines read every log by the same rules and give the same answer.

A property test generates transaction logs (ids as numbers, text or a mix; dates as datetimes,
aware datetimes, ISO text with and without zones, day-first text, numbers; amounts with edge
values) and checks that on every log either both engines refuse it with the same rule, or both
return the same summary.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm_models import calibration_holdout_split, rfm_summary
from crm_models.errors import DataError

START = pd.Timestamp("2024-01-01")


@st.composite
def logs(draw):
    n = draw(st.integers(0, 25))
    n_customers = draw(st.integers(1, 6))
    ids_kind = draw(st.sampled_from(["int", "int", "text", "text", "padded", "mixed", "missing"]))
    raw_ids = [draw(st.integers(0, n_customers - 1)) for _ in range(n)]
    if ids_kind == "int":
        ids = raw_ids
    elif ids_kind == "text":
        ids = [f"c{i}" for i in raw_ids]
    elif ids_kind == "padded":
        ids = [str(i).zfill(3) for i in raw_ids]
    elif ids_kind == "mixed":
        ids = [i if k % 2 else str(i) for k, i in enumerate(raw_ids)]
    else:
        ids = [None if k == n // 2 else i for k, i in enumerate(raw_ids)]
    minutes = [draw(st.integers(0, 60 * 24 * 60)) for _ in range(n)]
    when = [START + pd.Timedelta(minutes=m) for m in minutes]
    dates_kind = draw(st.sampled_from(
        ["datetime", "aware", "iso_day", "iso_time", "iso_zone", "iso_mixed_zone", "day_first", "yyyymmdd",
         "objects", "bad_day"]))
    fmt = None
    if dates_kind == "datetime":
        dates = pd.Series(pd.to_datetime(when), dtype="datetime64[ns]")
    elif dates_kind == "aware":
        zone = draw(st.sampled_from(["UTC", "America/New_York", "Asia/Kolkata"]))
        dates = pd.Series(pd.to_datetime(when)).dt.tz_localize(zone)
    elif dates_kind == "iso_day":
        dates = [w.strftime("%Y-%m-%d") for w in when]
    elif dates_kind == "iso_time":
        sep = draw(st.sampled_from(["T", " "]))
        dates = [w.strftime(f"%Y-%m-%d{sep}%H:%M:%S") for w in when]
    elif dates_kind in ("iso_zone", "iso_mixed_zone"):
        offset = draw(st.sampled_from(["Z", "+05:30", "-05:00", "+0100"]))
        dates = [w.strftime("%Y-%m-%dT%H:%M") + offset for w in when]
        if dates_kind == "iso_mixed_zone" and n:
            dates[0] = when[0].strftime("%Y-%m-%d %H:%M")
    elif dates_kind == "day_first":
        dates = [w.strftime("%d/%m/%Y") for w in when]
        if draw(st.booleans()):
            fmt = "%d/%m/%Y"
    elif dates_kind == "yyyymmdd":
        dates = [int(w.strftime("%Y%m%d")) for w in when]
        if draw(st.booleans()):
            fmt = "%Y%m%d"
    elif dates_kind == "objects":
        dates = pd.Series([w.to_pydatetime() for w in when], dtype=object)
    else:
        dates = [w.strftime("%Y-%m-%d") for w in when]
        if n:
            dates[-1] = "2024-02-30"
    amount_kind = draw(st.sampled_from(["plain"] * 5 + ["negative", "huge", "nan", "none"]))
    amounts = [float(draw(st.integers(0, 10_000))) / 100 for _ in range(n)]
    if n and amount_kind == "negative":
        amounts[0] = -1.0
    elif n and amount_kind == "huge":
        amounts[0] = 1e308
    elif n and amount_kind == "nan":
        amounts[0] = np.nan
    log = pd.DataFrame({"customer_id": pd.Series(ids, dtype=object if ids_kind != "int" else "int64"),
                        "timestamp": dates, "amount": amounts})
    options = {
        "time_unit": draw(st.sampled_from(["D", "W", "M", "h"])),
        "include_first_transaction": draw(st.booleans()),
        "monetary_value_col": None if amount_kind == "none" else "amount",
        "datetime_format": fmt,
    }
    if draw(st.booleans()):
        options["grain"] = "W"
    end_kind = draw(st.sampled_from(["none", "iso", "aware", "late"]))
    if end_kind == "iso":
        options["observation_period_end"] = (START + pd.Timedelta(days=draw(st.integers(30, 70)))).strftime("%Y-%m-%d")
        options["after_end"] = "drop"
    elif end_kind == "aware":
        options["observation_period_end"] = pd.Timestamp("2024-03-01 02:00", tz="Asia/Tokyo")
        options["after_end"] = draw(st.sampled_from(["drop", "raise"]))
    elif end_kind == "late":
        options["observation_period_end"] = "2024-04-01"
    return log, options


def outcome(function, log, **options):
    """("ok", frame) or ("refused", (column, rule, n_rows)) for DataError, ("error", type, first line) else."""
    try:
        return "ok", function(log, **options)
    except DataError as err:
        return "refused", (err.column, err.rule, err.n_rows)
    except (ValueError, TypeError) as err:
        return "error", (type(err).__name__, str(err).splitlines()[0])


def assert_same_outcome(a, b):
    assert a[0] == b[0], (a, b)
    if a[0] != "ok":
        assert a[1] == b[1]
        return
    x, y = a[1], b[1]
    assert list(x.columns) == list(y.columns)
    assert x.index.tolist() == y.index.tolist()
    assert x.index.name == y.index.name
    for col in x.columns:
        if col.startswith("frequency"):
            assert x[col].dtype == y[col].dtype == "int64"
            assert x[col].tolist() == y[col].tolist()
        else:
            np.testing.assert_allclose(x[col].to_numpy(float), y[col].to_numpy(float), rtol=1e-12, atol=1e-12)
    assert x.attrs == y.attrs


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(logs())
def test_rfm_summary_engines_agree_on_every_log(case):
    log, options = case
    assert_same_outcome(outcome(rfm_summary, log, engine="pandas", **options),
                        outcome(rfm_summary, log, engine="duckdb", **options))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(logs())
def test_calibration_holdout_split_engines_agree_on_every_log(case):
    log, options = case
    options.pop("grain", None)
    options["calibration_period_end"] = "2024-01-31"
    assert_same_outcome(outcome(calibration_holdout_split, log, engine="pandas", **options),
                        outcome(calibration_holdout_split, log, engine="duckdb", **options))


def test_the_generator_reaches_both_outcomes():
    """The strategy produces logs both engines accept and logs both refuse (else the property is hollow)."""
    seen = set()

    @settings(max_examples=80, deadline=None, database=None)
    @given(logs())
    def collect(case):
        log, options = case
        seen.add(outcome(rfm_summary, log, engine="pandas", **options)[0])

    collect()
    assert {"ok", "refused"} <= seen


@pytest.mark.parametrize("engine", ["pandas", "duckdb"])
def test_engines_agree_above_the_auto_switch(engine):
    """The same log on either side of the 200,000-row switch: same customers, ids as given."""
    rng = np.random.default_rng(0)
    n = 1000
    log = pd.DataFrame({
        "customer_id": rng.integers(0, 80, n).astype(str),
        "timestamp": (START + pd.to_timedelta(rng.integers(0, 90, n), unit="D")).strftime("%Y-%m-%d"),
        "amount": rng.gamma(2.0, 10.0, n).round(2),
    })
    log.loc[0, "customer_id"] = "00021"
    log.loc[1, "customer_id"] = "21"
    got = rfm_summary(log, engine=engine)
    assert {"00021", "21"} <= set(got.index)
    assert got.index.tolist() == sorted(got.index.tolist())
